//! CreateDataset, GetDataset and ListDatasets.

use prost::Message;
use updraft_proto::datacatalog;

use crate::CatalogApi;
use crate::error::CatalogError;
use crate::identifiers::{DatasetKey, path_segment};
use crate::listing;
use crate::store::{DatasetListQuery, DatasetRecord, now_micros};

/// The dataset a stored record holds.
pub(crate) fn dataset_from_record(
    record: &DatasetRecord,
) -> Result<datacatalog::Dataset, CatalogError> {
    let mut dataset = datacatalog::Dataset::decode(record.spec.as_slice())?;
    dataset.id = Some(record.key.to_dataset_id(&record.uuid));
    Ok(dataset)
}

impl CatalogApi {
    pub(crate) async fn create_dataset_impl(
        &self,
        request: datacatalog::CreateDatasetRequest,
    ) -> Result<datacatalog::CreateDatasetResponse, CatalogError> {
        let dataset = request
            .dataset
            .ok_or_else(|| CatalogError::invalid("dataset is required"))?;
        let key = DatasetKey::parse(dataset.id.as_ref(), "dataset.id")?;
        // Every part names a folder where the dataset's artifacts are kept.
        path_segment(&key.project, "dataset.id.project")?;
        path_segment(&key.domain, "dataset.id.domain")?;
        path_segment(&key.name, "dataset.id.name")?;
        path_segment(&key.version, "dataset.id.version")?;
        let requested_uuid = dataset
            .id
            .as_ref()
            .map(|id| id.uuid.trim())
            .unwrap_or_default();
        let uuid = if requested_uuid.is_empty() {
            uuid::Uuid::new_v4().to_string()
        } else {
            uuid::Uuid::parse_str(requested_uuid)
                .map_err(|_| {
                    CatalogError::invalid(format!(
                        "dataset.id.UUID {requested_uuid:?} is not a UUID; leave it empty to have one made"
                    ))
                })?
                .to_string()
        };
        for (index, partition_key) in dataset.partition_keys.iter().enumerate() {
            if partition_key.is_empty() {
                return Err(CatalogError::invalid(format!(
                    "dataset.partitionKeys[{index}] is empty"
                )));
            }
            if dataset.partition_keys[..index].contains(partition_key) {
                return Err(CatalogError::invalid(format!(
                    "dataset.partitionKeys[{index}] repeats the partition key {partition_key:?}"
                )));
            }
        }
        let spec = datacatalog::Dataset {
            id: None,
            metadata: dataset.metadata,
            partition_keys: dataset.partition_keys,
        };
        let record = DatasetRecord {
            key,
            uuid,
            spec: spec.encode_to_vec(),
            created_at: now_micros(),
        };
        if self.state.store.create_dataset(&record).await? {
            Ok(datacatalog::CreateDatasetResponse {})
        } else {
            Err(CatalogError::AlreadyExists(format!(
                "{} already exists",
                record.key
            )))
        }
    }

    /// The dataset `key`, or NOT_FOUND naming it.
    pub(crate) async fn existing_dataset(
        &self,
        key: &DatasetKey,
    ) -> Result<DatasetRecord, CatalogError> {
        self.state
            .store
            .get_dataset(key)
            .await?
            .ok_or_else(|| CatalogError::not_found(format!("{key} not found")))
    }

    pub(crate) async fn get_dataset_impl(
        &self,
        request: datacatalog::GetDatasetRequest,
    ) -> Result<datacatalog::GetDatasetResponse, CatalogError> {
        let key = DatasetKey::parse(request.dataset.as_ref(), "dataset")?;
        let record = self.existing_dataset(&key).await?;
        Ok(datacatalog::GetDatasetResponse {
            dataset: Some(dataset_from_record(&record)?),
        })
    }

    pub(crate) async fn list_datasets_impl(
        &self,
        request: datacatalog::ListDatasetsRequest,
    ) -> Result<datacatalog::ListDatasetsResponse, CatalogError> {
        let query = DatasetListQuery {
            conditions: listing::dataset_conditions(request.filter.as_ref())?,
            page: listing::page(request.pagination.as_ref())?,
        };
        let records = self.state.store.list_datasets(&query).await?;
        let datasets = records
            .iter()
            .map(dataset_from_record)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(datacatalog::ListDatasetsResponse {
            next_token: listing::next_token(&query.page, datasets.len()),
            datasets,
        })
    }
}
