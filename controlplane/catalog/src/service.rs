//! The `datacatalog.DataCatalog` gRPC methods: each parses nothing itself,
//! calls one handler, records datacatalog's metrics and maps the error once.

use tonic::{Request, Response, Status};
use updraft_proto::datacatalog;
use updraft_proto::datacatalog::data_catalog_server::DataCatalog;

use crate::CatalogApi;
use crate::error::CatalogError;
use crate::metrics::{Operation, measured};

/// Answers one RPC: runs the handler, records it, maps its error once.
async fn answer<T>(
    operation: Operation,
    handler: impl Future<Output = Result<T, CatalogError>>,
) -> Result<Response<T>, Status> {
    measured(operation, handler)
        .await
        .map(Response::new)
        .map_err(Status::from)
}

#[tonic::async_trait]
impl DataCatalog for CatalogApi {
    #[tracing::instrument(skip_all)]
    async fn create_dataset(
        &self,
        request: Request<datacatalog::CreateDatasetRequest>,
    ) -> Result<Response<datacatalog::CreateDatasetResponse>, Status> {
        answer(
            Operation::CreateDataset,
            self.create_dataset_impl(request.into_inner()),
        )
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn get_dataset(
        &self,
        request: Request<datacatalog::GetDatasetRequest>,
    ) -> Result<Response<datacatalog::GetDatasetResponse>, Status> {
        answer(
            Operation::GetDataset,
            self.get_dataset_impl(request.into_inner()),
        )
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn create_artifact(
        &self,
        request: Request<datacatalog::CreateArtifactRequest>,
    ) -> Result<Response<datacatalog::CreateArtifactResponse>, Status> {
        answer(
            Operation::CreateArtifact,
            self.create_artifact_impl(request.into_inner()),
        )
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn get_artifact(
        &self,
        request: Request<datacatalog::GetArtifactRequest>,
    ) -> Result<Response<datacatalog::GetArtifactResponse>, Status> {
        answer(
            Operation::GetArtifact,
            self.get_artifact_impl(request.into_inner()),
        )
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn add_tag(
        &self,
        request: Request<datacatalog::AddTagRequest>,
    ) -> Result<Response<datacatalog::AddTagResponse>, Status> {
        answer(Operation::AddTag, self.add_tag_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_artifacts(
        &self,
        request: Request<datacatalog::ListArtifactsRequest>,
    ) -> Result<Response<datacatalog::ListArtifactsResponse>, Status> {
        answer(
            Operation::ListArtifacts,
            self.list_artifacts_impl(request.into_inner()),
        )
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn list_datasets(
        &self,
        request: Request<datacatalog::ListDatasetsRequest>,
    ) -> Result<Response<datacatalog::ListDatasetsResponse>, Status> {
        answer(
            Operation::ListDatasets,
            self.list_datasets_impl(request.into_inner()),
        )
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn update_artifact(
        &self,
        request: Request<datacatalog::UpdateArtifactRequest>,
    ) -> Result<Response<datacatalog::UpdateArtifactResponse>, Status> {
        answer(
            Operation::UpdateArtifact,
            self.update_artifact_impl(request.into_inner()),
        )
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn get_or_extend_reservation(
        &self,
        request: Request<datacatalog::GetOrExtendReservationRequest>,
    ) -> Result<Response<datacatalog::GetOrExtendReservationResponse>, Status> {
        self.get_or_extend_reservation_impl(request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    #[tracing::instrument(skip_all)]
    async fn release_reservation(
        &self,
        request: Request<datacatalog::ReleaseReservationRequest>,
    ) -> Result<Response<datacatalog::ReleaseReservationResponse>, Status> {
        self.release_reservation_impl(request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }
}
