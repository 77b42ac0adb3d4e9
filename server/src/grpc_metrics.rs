//! Per-RPC metrics of every gRPC service on the shared address, recorded by
//! one layer in front of them all:
//! - every service, as go-grpc-prometheus names them (flyteadmin exports
//!   these too): `grpc_server_started_total`, `grpc_server_handled_total`
//!   (by `grpc_code`) and the `grpc_server_handling_seconds` histogram, labelled
//!   `grpc_type`, `grpc_service`, `grpc_method`;
//! - `AdminService` also as flyteadmin names its own (Flyte's admin dashboard
//!   reads these): `flyte:admin:admin:<method>:duration_ms`, `…:success`,
//!   `…:errors` and `…:codes:<Code>`.
//!
//! Labels only take values from the table of served methods below; a call to
//! any other path is counted under `unknown`, so a client cannot mint series.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Body as HttpBody, Frame, SizeHint};
use metrics::{Counter, Histogram};
use tonic::Code;

use crate::metrics::GRPC_HANDLING_SECONDS;

/// How a method streams, as go-grpc-prometheus labels it (`grpc_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RpcKind {
    /// One request, one response.
    Unary,
    /// One request, a stream of responses.
    ServerStream,
}

impl RpcKind {
    fn label(self) -> &'static str {
        match self {
            Self::Unary => "unary",
            Self::ServerStream => "server_stream",
        }
    }
}

/// One method this process may serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcMethod {
    /// The fully qualified service (`flyteidl.service.AdminService`).
    pub service: &'static str,
    /// The method as the `.proto` spells it (`CreateExecution`).
    pub method: &'static str,
    /// How it streams.
    pub kind: RpcKind,
    /// The scope flyteadmin records it under (`create_execution`), for
    /// `AdminService` methods.
    pub flyteadmin_name: Option<&'static str>,
}

const ADMIN_SERVICE: &str = "flyteidl.service.AdminService";

/// `AdminService`'s methods and the names flyteadmin's metrics give them
/// (`pkg/rpc/adminservice/metrics.go`). They are not a mechanical snake_case
/// of the method (`ListExecutions` is `list_execution`, `CreateNodeEvent` is
/// `create_node_execution_event`), hence the table. Where flyteadmin records
/// one RPC under another's scope by mistake (`RecoverExecution` under
/// `relaunch_execution`, `UpdateProject` under `register_project`), each RPC
/// keeps its own; `GetVersion`, which flyteadmin does not measure, gets its
/// snake_case name.
const ADMIN_METHODS: &[(&str, &str)] = &[
    ("CreateTask", "create_task"),
    ("GetTask", "get_task"),
    ("ListTaskIds", "list_task_ids"),
    ("ListTasks", "list_task"),
    ("CreateWorkflow", "create_workflow"),
    ("GetWorkflow", "get_workflow"),
    ("ListWorkflowIds", "list_workflow_ids"),
    ("ListWorkflows", "list_workflow"),
    ("CreateLaunchPlan", "create_launch_plan"),
    ("GetLaunchPlan", "get_launch_plan"),
    ("GetActiveLaunchPlan", "get_active_launch_plan"),
    ("ListActiveLaunchPlans", "list_active_launch_plans"),
    ("ListLaunchPlanIds", "list_launch_plan_ids"),
    ("ListLaunchPlans", "list_launch_plan"),
    ("UpdateLaunchPlan", "update_launch_plan"),
    ("CreateExecution", "create_execution"),
    ("RelaunchExecution", "relaunch_execution"),
    ("RecoverExecution", "recover_execution"),
    ("GetExecution", "get_execution"),
    ("UpdateExecution", "update_execution"),
    ("GetExecutionData", "get_execution_data"),
    ("ListExecutions", "list_execution"),
    ("TerminateExecution", "terminate_execution"),
    ("GetNodeExecution", "get_node_execution"),
    ("GetDynamicNodeWorkflow", "get_dynamic_node_workflow"),
    ("ListNodeExecutions", "list_node_execution"),
    ("ListNodeExecutionsForTask", "list_children_node_executions"),
    ("GetNodeExecutionData", "get_node_execution_data"),
    ("RegisterProject", "register_project"),
    ("UpdateProject", "update_project"),
    ("GetProject", "get_project"),
    ("ListProjects", "list_projects"),
    ("GetDomains", "get_domain"),
    ("CreateWorkflowEvent", "create_execution_event"),
    ("CreateNodeEvent", "create_node_execution_event"),
    ("CreateTaskEvent", "create_task_execution_event"),
    ("GetTaskExecution", "get_task_execution"),
    ("ListTaskExecutions", "list_task_execution"),
    ("GetTaskExecutionData", "get_task_execution_data"),
    (
        "UpdateProjectDomainAttributes",
        "update_project_domain_attrs",
    ),
    ("GetProjectDomainAttributes", "get_project_domain_attrs"),
    (
        "DeleteProjectDomainAttributes",
        "delete_project_domain_attrs",
    ),
    ("UpdateProjectAttributes", "update_project_attrs"),
    ("GetProjectAttributes", "get_project_attrs"),
    ("DeleteProjectAttributes", "delete_project_attrs"),
    ("UpdateWorkflowAttributes", "update_workflow_attrs"),
    ("GetWorkflowAttributes", "get_workflow_attrs"),
    ("DeleteWorkflowAttributes", "delete_workflow_attrs"),
    ("ListMatchableAttributes", "list_matchable_resource_attrs"),
    ("ListNamedEntities", "list_named_entities"),
    ("GetNamedEntity", "get_named_entity"),
    ("UpdateNamedEntity", "update_named_entity"),
    ("GetVersion", "get_version"),
    ("GetDescriptionEntity", "get_description_entity"),
    ("ListDescriptionEntities", "list_description_entity"),
    ("GetExecutionMetrics", "get_execution_metrics"),
];

/// Every other service served on the address, with its methods.
const OTHER_METHODS: &[(&str, &str, RpcKind)] = &[
    (
        "flyteidl.service.DataProxyService",
        "CreateUploadLocation",
        RpcKind::Unary,
    ),
    (
        "flyteidl.service.DataProxyService",
        "CreateDownloadLocation",
        RpcKind::Unary,
    ),
    (
        "flyteidl.service.DataProxyService",
        "CreateDownloadLink",
        RpcKind::Unary,
    ),
    (
        "flyteidl.service.DataProxyService",
        "GetData",
        RpcKind::Unary,
    ),
    (
        "flyteidl.service.AuthMetadataService",
        "GetOAuth2Metadata",
        RpcKind::Unary,
    ),
    (
        "flyteidl.service.AuthMetadataService",
        "GetPublicClientConfig",
        RpcKind::Unary,
    ),
    (
        "flyteidl.service.IdentityService",
        "UserInfo",
        RpcKind::Unary,
    ),
    (
        "flyteidl.service.SignalService",
        "GetOrCreateSignal",
        RpcKind::Unary,
    ),
    (
        "flyteidl.service.SignalService",
        "ListSignals",
        RpcKind::Unary,
    ),
    (
        "flyteidl.service.SignalService",
        "SetSignal",
        RpcKind::Unary,
    ),
    (
        "updraft.admin.v1.ExecutionQueueService",
        "ClaimExecution",
        RpcKind::Unary,
    ),
    (
        "updraft.admin.v1.ExecutionQueueService",
        "RenewLease",
        RpcKind::Unary,
    ),
    (
        "updraft.admin.v1.ExecutionQueueService",
        "ReleaseExecution",
        RpcKind::Unary,
    ),
    (
        "updraft.admin.v1.ExecutionQueueService",
        "GetExecutionPlacement",
        RpcKind::Unary,
    ),
    (
        "updraft.propeller.v1.PropellerService",
        "TailLogs",
        RpcKind::ServerStream,
    ),
    (
        "updraft.propeller.v1.PropellerService",
        "WatchExecution",
        RpcKind::ServerStream,
    ),
    (
        "updraft.propeller.v1.PropellerService",
        "WatchExecutions",
        RpcKind::ServerStream,
    ),
    ("datacatalog.DataCatalog", "CreateDataset", RpcKind::Unary),
    ("datacatalog.DataCatalog", "GetDataset", RpcKind::Unary),
    ("datacatalog.DataCatalog", "CreateArtifact", RpcKind::Unary),
    ("datacatalog.DataCatalog", "GetArtifact", RpcKind::Unary),
    ("datacatalog.DataCatalog", "AddTag", RpcKind::Unary),
    ("datacatalog.DataCatalog", "ListArtifacts", RpcKind::Unary),
    ("datacatalog.DataCatalog", "ListDatasets", RpcKind::Unary),
    ("datacatalog.DataCatalog", "UpdateArtifact", RpcKind::Unary),
    (
        "datacatalog.DataCatalog",
        "GetOrExtendReservation",
        RpcKind::Unary,
    ),
    (
        "datacatalog.DataCatalog",
        "ReleaseReservation",
        RpcKind::Unary,
    ),
    (
        "updraft.catalog.v1.CacheEvictionService",
        "EvictCachedArtifact",
        RpcKind::Unary,
    ),
    (
        "updraft.catalog.v1.CacheEvictionService",
        "EvictExecutionArtifacts",
        RpcKind::Unary,
    ),
    ("grpc.health.v1.Health", "Check", RpcKind::Unary),
    ("grpc.health.v1.Health", "Watch", RpcKind::ServerStream),
];

/// Every served method by request path (`/flyteidl.service.AdminService/GetTask`).
static METHODS_BY_PATH: LazyLock<HashMap<String, RpcMethod>> = LazyLock::new(|| {
    let admin = ADMIN_METHODS
        .iter()
        .map(|&(method, flyteadmin_name)| RpcMethod {
            service: ADMIN_SERVICE,
            method,
            kind: RpcKind::Unary,
            flyteadmin_name: Some(flyteadmin_name),
        });
    let others = OTHER_METHODS
        .iter()
        .map(|&(service, method, kind)| RpcMethod {
            service,
            method,
            kind,
            flyteadmin_name: None,
        });
    admin
        .chain(others)
        .map(|method| (format!("/{}/{}", method.service, method.method), method))
        .collect()
});

/// The method a request path calls, when it is one this process serves.
pub fn rpc_method(path: &str) -> Option<&'static RpcMethod> {
    METHODS_BY_PATH.get(path)
}

/// The name flyteadmin's metrics give the `AdminService` method at `path`
/// (`/flyteidl.service.AdminService/ListExecutions` → `list_execution`).
pub fn flyteadmin_method_name(path: &str) -> Option<&'static str> {
    rpc_method(path)?.flyteadmin_name
}

/// gRPC status codes as Go spells them (`codes.Code.String()`), which is how
/// flyteadmin and go-grpc-prometheus name them: `Canceled`, not `Cancelled`.
const CODE_NAMES: [&str; 17] = [
    "OK",
    "Canceled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
];

/// The Go name of `code` (`NotFound`).
pub fn code_name(code: Code) -> &'static str {
    usize::try_from(code as i32)
        .ok()
        .and_then(|index| CODE_NAMES.get(index))
        .copied()
        .unwrap_or("Unknown")
}

/// The series of one `AdminService` method under flyteadmin's names.
struct FlyteadminSeries {
    duration_ms: Histogram,
    success: Counter,
    errors: Counter,
    codes: [Counter; 17],
}

impl FlyteadminSeries {
    fn register(name: &str) -> Self {
        let scope = format!("flyte:admin:admin:{name}");
        Self {
            duration_ms: metrics::histogram!(format!("{scope}:duration_ms")),
            success: metrics::counter!(format!("{scope}:success")),
            errors: metrics::counter!(format!("{scope}:errors")),
            codes: std::array::from_fn(|index| {
                metrics::counter!(format!("{scope}:codes:{}", CODE_NAMES[index]))
            }),
        }
    }

    fn record(&self, code: Code, elapsed_ms: f64) {
        self.duration_ms.record(elapsed_ms);
        if code == Code::Ok {
            self.success.increment(1);
        } else {
            self.errors.increment(1);
        }
        if let Some(counter) = self.codes.get(code as usize) {
            counter.increment(1);
        }
    }
}

/// Registered up front, every code at zero, as flyteadmin does: a counter
/// that first appears at 1 loses that first call from `rate()`.
static FLYTEADMIN_SERIES: LazyLock<HashMap<&'static str, FlyteadminSeries>> = LazyLock::new(|| {
    // Handles taken before the recorder exists would record nowhere.
    crate::metrics::install_recorder();
    ADMIN_METHODS
        .iter()
        .map(|&(_, name)| (name, FlyteadminSeries::register(name)))
        .collect()
});

/// Wraps the gRPC router so every call is counted and timed.
pub fn with_rpc_metrics(router: Router) -> Router {
    LazyLock::force(&FLYTEADMIN_SERIES);
    router.layer(axum::middleware::from_fn(record_rpc_metrics))
}

async fn record_rpc_metrics(request: Request, next: Next) -> Response {
    let call = RpcCall::start(request.uri().path());
    let response = next.run(request).await;
    // Errors come trailers-only (the status in the headers); a success, and
    // every stream, carries its status in the trailers after the body.
    match status_in_headers(response.status(), response.headers()) {
        Some(code) => {
            call.finish(code);
            response
        }
        None => response.map(|body| {
            Body::new(ObservedBody {
                inner: body,
                call: Some(call),
            })
        }),
    }
}

/// One call being measured.
struct RpcCall {
    method: Option<&'static RpcMethod>,
    started: Instant,
}

impl RpcCall {
    fn start(path: &str) -> Self {
        let method = rpc_method(path);
        let (kind, service, name) = labels(method);
        metrics::counter!(
            "grpc_server_started_total",
            "grpc_type" => kind,
            "grpc_service" => service,
            "grpc_method" => name
        )
        .increment(1);
        Self {
            method,
            started: Instant::now(),
        }
    }

    fn finish(self, code: Code) {
        let elapsed = self.started.elapsed();
        let (kind, service, name) = labels(self.method);
        metrics::counter!(
            "grpc_server_handled_total",
            "grpc_type" => kind,
            "grpc_service" => service,
            "grpc_method" => name,
            "grpc_code" => code_name(code)
        )
        .increment(1);
        metrics::histogram!(
            GRPC_HANDLING_SECONDS,
            "grpc_type" => kind,
            "grpc_service" => service,
            "grpc_method" => name
        )
        .record(elapsed.as_secs_f64());
        if let Some(series) = self
            .method
            .and_then(|method| method.flyteadmin_name)
            .and_then(|name| FLYTEADMIN_SERIES.get(name))
        {
            series.record(code, elapsed.as_secs_f64() * 1_000.0);
        }
    }
}

/// `grpc_type`, `grpc_service` and `grpc_method` of a call.
fn labels(method: Option<&'static RpcMethod>) -> (&'static str, &'static str, &'static str) {
    match method {
        Some(method) => (method.kind.label(), method.service, method.method),
        None => ("unknown", "unknown", "unknown"),
    }
}

/// The call's status when the response head already tells it: a
/// trailers-only response, or an HTTP error from before any gRPC handler (the
/// gRPC spec's mapping of HTTP statuses to codes).
fn status_in_headers(status: StatusCode, headers: &HeaderMap) -> Option<Code> {
    if headers.contains_key("grpc-status") {
        return Some(code_in(headers));
    }
    if status == StatusCode::OK {
        return None;
    }
    Some(match status {
        StatusCode::BAD_REQUEST => Code::Internal,
        StatusCode::UNAUTHORIZED => Code::Unauthenticated,
        StatusCode::FORBIDDEN => Code::PermissionDenied,
        StatusCode::NOT_FOUND => Code::Unimplemented,
        StatusCode::TOO_MANY_REQUESTS
        | StatusCode::BAD_GATEWAY
        | StatusCode::SERVICE_UNAVAILABLE
        | StatusCode::GATEWAY_TIMEOUT => Code::Unavailable,
        _ => Code::Unknown,
    })
}

fn code_in(headers: &HeaderMap) -> Code {
    headers
        .get("grpc-status")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<i32>().ok())
        .map_or(Code::Unknown, Code::from_i32)
}

/// A response body that finishes its call's measurement when the trailers
/// carrying the status go by, or when the body is dropped unfinished (the
/// client went away: `Canceled`, as gRPC servers report it).
struct ObservedBody {
    inner: Body,
    call: Option<RpcCall>,
}

impl ObservedBody {
    fn finish(&mut self, code: Code) {
        if let Some(call) = self.call.take() {
            call.finish(code);
        }
    }
}

impl HttpBody for ObservedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(context);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_ref() {
                    let code = code_in(trailers);
                    self.finish(code);
                }
            }
            // The stream broke, or ended without the status gRPC requires.
            Poll::Ready(Some(Err(_)) | None) => self.finish(Code::Unknown),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for ObservedBody {
    fn drop(&mut self) {
        self.finish(Code::Cancelled);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn admin_paths_map_to_flyteadmin_names() {
        let cases = [
            ("CreateExecution", "create_execution"),
            ("ListExecutions", "list_execution"),
            ("CreateWorkflowEvent", "create_execution_event"),
            ("CreateNodeEvent", "create_node_execution_event"),
            ("CreateTaskEvent", "create_task_execution_event"),
            ("ListNodeExecutionsForTask", "list_children_node_executions"),
            ("ListActiveLaunchPlans", "list_active_launch_plans"),
            ("ListMatchableAttributes", "list_matchable_resource_attrs"),
            ("GetProjectDomainAttributes", "get_project_domain_attrs"),
            ("GetDomains", "get_domain"),
            ("ListProjects", "list_projects"),
            ("ListDescriptionEntities", "list_description_entity"),
            ("GetVersion", "get_version"),
        ];
        for (method, expected) in cases {
            let path = format!("/flyteidl.service.AdminService/{method}");
            assert_eq!(flyteadmin_method_name(&path), Some(expected), "{path}");
        }
    }

    #[test]
    fn paths_outside_admin_have_no_flyteadmin_name() {
        let data_proxy = "/flyteidl.service.DataProxyService/CreateUploadLocation";
        assert_eq!(flyteadmin_method_name(data_proxy), None);
        let method = rpc_method(data_proxy).expect("a served method");
        assert_eq!(method.service, "flyteidl.service.DataProxyService");
        assert_eq!(method.method, "CreateUploadLocation");
        assert_eq!(method.kind, RpcKind::Unary);

        let tail = rpc_method("/updraft.propeller.v1.PropellerService/TailLogs").unwrap();
        assert_eq!(tail.kind, RpcKind::ServerStream);
    }

    #[test]
    fn unknown_paths_are_not_methods() {
        for path in [
            "/flyteidl.service.AdminService/NoSuchMethod",
            "/flyteidl.service.AdminService/",
            "/flyteidl.service.AdminService/CreateExecution/extra",
            "/flyteidl.service.adminservice/createexecution",
            "/no.such.Service/CreateExecution",
            "/",
            "",
        ] {
            assert_eq!(rpc_method(path), None, "{path}");
        }
        assert_eq!(labels(None), ("unknown", "unknown", "unknown"));
    }

    #[test]
    fn codes_are_named_as_go_names_them() {
        assert_eq!(code_name(Code::Ok), "OK");
        assert_eq!(code_name(Code::Cancelled), "Canceled");
        assert_eq!(code_name(Code::NotFound), "NotFound");
        assert_eq!(code_name(Code::Unauthenticated), "Unauthenticated");
    }

    #[test]
    fn statuses_are_read_from_headers_or_the_http_status() {
        let mut trailers_only = HeaderMap::new();
        trailers_only.insert("grpc-status", "5".parse().unwrap());
        assert_eq!(
            status_in_headers(StatusCode::OK, &trailers_only),
            Some(Code::NotFound)
        );
        assert_eq!(status_in_headers(StatusCode::OK, &HeaderMap::new()), None);
        assert_eq!(
            status_in_headers(StatusCode::UNAUTHORIZED, &HeaderMap::new()),
            Some(Code::Unauthenticated)
        );
        let mut garbled = HeaderMap::new();
        garbled.insert("grpc-status", "five".parse().unwrap());
        assert_eq!(code_in(&garbled), Code::Unknown);
    }

    /// The `.proto` files updraft compiles, found as `proto/build.rs` finds them.
    fn proto_file(relative: &str) -> PathBuf {
        let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        if let Some(stripped) = relative.strip_prefix("updraft/") {
            return workspace.join("proto/updraft").join(stripped);
        }
        let upstream = std::env::var_os("FLYTEIDL_PROTOS").map_or_else(
            || workspace.join("node_modules/@flyteorg/flyteidl/protos"),
            PathBuf::from,
        );
        upstream.join(relative)
    }

    /// `(service, method, kind)` of every `rpc` in a `.proto` file.
    fn declared_methods(relative: &str) -> Vec<(String, String, RpcKind)> {
        let path = proto_file(relative);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        let mut package = String::new();
        let mut service = String::new();
        let mut methods = Vec::new();
        for line in text.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("package ") {
                package = rest.trim_end_matches(';').trim().to_string();
            } else if let Some(rest) = line.strip_prefix("service ") {
                service = rest.trim_end_matches('{').trim().to_string();
            } else if let Some(rest) = line.strip_prefix("rpc ") {
                let name: String = rest
                    .chars()
                    .take_while(|character| character.is_alphanumeric() || *character == '_')
                    .collect();
                let compact: String = rest.split_whitespace().collect();
                let (request, response) = compact
                    .split_once("returns")
                    .unwrap_or_else(|| panic!("rpc {name} has no returns on its line"));
                assert!(
                    !request.contains("(stream"),
                    "{name} streams requests; RpcKind needs a variant for it"
                );
                let kind = if response.starts_with("(stream") {
                    RpcKind::ServerStream
                } else {
                    RpcKind::Unary
                };
                methods.push((format!("{package}.{service}"), name, kind));
            }
        }
        methods
    }

    #[test]
    fn the_table_lists_exactly_the_methods_the_protos_declare() {
        let files = [
            "flyteidl/service/admin.proto",
            "flyteidl/service/dataproxy.proto",
            "flyteidl/service/auth.proto",
            "flyteidl/service/identity.proto",
            "flyteidl/service/signal.proto",
            "updraft/admin/v1/queue.proto",
            "updraft/propeller/v1/propeller.proto",
            "flyteidl/datacatalog/datacatalog.proto",
            "updraft/catalog/v1/eviction.proto",
        ];
        let declared: BTreeSet<(String, String, RpcKind)> = files
            .iter()
            .flat_map(|file| declared_methods(file))
            .collect();
        let tabled: BTreeSet<(String, String, RpcKind)> = METHODS_BY_PATH
            .values()
            .filter(|method| method.service != "grpc.health.v1.Health")
            .map(|method| {
                (
                    method.service.to_string(),
                    method.method.to_string(),
                    method.kind,
                )
            })
            .collect();
        let missing: Vec<_> = declared.difference(&tabled).collect();
        let extra: Vec<_> = tabled.difference(&declared).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "grpc_metrics's table is out of date: missing {missing:?}, not in any .proto {extra:?}"
        );
    }

    #[test]
    fn flyteadmin_names_are_unique() {
        let names: BTreeSet<_> = ADMIN_METHODS.iter().map(|&(_, name)| name).collect();
        assert_eq!(names.len(), ADMIN_METHODS.len());
    }
}
