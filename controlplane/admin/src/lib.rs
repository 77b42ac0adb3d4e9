//! Admin, the control plane's front door: Flyte's `AdminService` and the
//! services around it, answering as flyteadmin does so flytekit works unchanged.

pub mod phases;
mod version;

pub use version::{BuildInfo, build_info};

use tonic::{Request, Response, Status};
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::service::admin_service_server::AdminService;

/// Largest request admin decodes. flytekit accepts answers up to 20 MiB, and
/// closures of big workflows come close to that.
pub const MAX_MESSAGE_BYTES: usize = 20 * 1024 * 1024;

/// The `flyteidl.service.AdminService` implementation.
#[derive(Debug, Clone, Default)]
pub struct AdminApi {}

impl AdminApi {
    /// An admin with nothing stored yet.
    pub fn new() -> Self {
        Self {}
    }

    /// This admin as a tonic service, with updraft's message-size limits.
    pub fn into_service(
        self,
    ) -> updraft_proto::flyteidl::service::admin_service_server::AdminServiceServer<Self> {
        updraft_proto::flyteidl::service::admin_service_server::AdminServiceServer::new(self)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }
}

#[tonic::async_trait]
impl AdminService for AdminApi {
    async fn get_version(
        &self,
        _request: Request<admin::GetVersionRequest>,
    ) -> Result<Response<admin::GetVersionResponse>, Status> {
        let build = build_info();
        Ok(Response::new(admin::GetVersionResponse {
            control_plane_version: Some(admin::Version {
                build: build.commit.to_string(),
                version: build.version.to_string(),
                build_time: build.build_time.to_string(),
            }),
        }))
    }
}
