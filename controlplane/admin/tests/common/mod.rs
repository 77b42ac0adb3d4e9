//! The test harness: a real admin (gRPC and the signed-URL HTTP routes on one
//! port, routed by content type as the server does) on `127.0.0.1:0`, over a
//! fresh database per test.
//!
//! Every test runs on both backends: [`on_every_backend!`] turns each test
//! function into a `sqlite` and a `postgres` test (the latter on the server
//! named by `UPDRAFT_TEST_POSTGRES`, skipped when it is not set), and
//! [`TestApp::spawn`] opens the admin on the backend of the test it runs in.

// Each test binary uses a different part of the harness.
#![allow(dead_code, unused_macros, unused_imports)]

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::Request;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tonic::transport::Channel;
use tower::ServiceExt;
use updraft_admin::{AdminApi, AdminSettings};
use updraft_proto::flyteidl::core::ResourceType;
use updraft_proto::flyteidl::service::admin_service_client::AdminServiceClient;
use updraft_proto::flyteidl::service::auth_metadata_service_client::AuthMetadataServiceClient;
use updraft_proto::flyteidl::service::data_proxy_service_client::DataProxyServiceClient;
use updraft_proto::flyteidl::service::identity_service_client::IdentityServiceClient;
use updraft_proto::flyteidl::service::signal_service_client::SignalServiceClient;
use updraft_proto::flyteidl::{admin, core};

/// Project and domain every fixture registers into.
pub const PROJECT: &str = "flytesnacks";
/// The domain fixtures use.
pub const DOMAIN: &str = "development";

/// The AdminService client the harness hands out.
pub type AdminClient = AdminServiceClient<Channel>;

/// A running admin and clients for it.
pub struct TestApp {
    /// AdminService client.
    pub admin: AdminServiceClient<Channel>,
    /// DataProxyService client.
    pub data_proxy: DataProxyServiceClient<Channel>,
    /// SignalService client.
    pub signals: SignalServiceClient<Channel>,
    /// AuthMetadataService client.
    pub auth_metadata: AuthMetadataServiceClient<Channel>,
    /// IdentityService client.
    pub identity: IdentityServiceClient<Channel>,
    /// `http://127.0.0.1:port`.
    pub http_base: String,
    /// The admin itself, to reach its stores.
    pub api: AdminApi,
    /// The database the admin uses, for a second process's pool on it.
    pub database_url: String,
    _directory: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub(crate) use updraft_database::on_every_backend;
pub use updraft_database::testing::{Backend, fresh_database_url, run_on};

/// Routes gRPC (by content type) to `grpc` and everything else to `http`.
fn route_by_content_type(grpc: Router, http: Router) -> Router {
    Router::new().fallback(move |request: Request| {
        let is_grpc = request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|value| value.as_bytes().starts_with(b"application/grpc"));
        let target = if is_grpc { grpc.clone() } else { http.clone() };
        async move {
            target
                .oneshot(request)
                .await
                .unwrap_or_else(|never| match never {})
        }
    })
}

impl TestApp {
    /// Starts an admin on a fresh database of the running test's backend
    /// and connects clients to it.
    pub async fn spawn() -> Self {
        Self::spawn_on(&Backend::of_this_test()).await
    }

    /// Starts an admin on a fresh database of `backend`.
    pub async fn spawn_on(backend: &Backend) -> Self {
        Self::spawn_with(backend, updraft_admin::auth::AuthSettings::NoLogin).await
    }

    /// Starts an admin with login settings `auth`, with its token checks in
    /// front of the gRPC services as the server mounts them.
    pub async fn spawn_with_auth(auth: updraft_admin::auth::AuthSettings) -> Self {
        Self::spawn_with(&Backend::of_this_test(), auth).await
    }

    async fn spawn_with(backend: &Backend, auth: updraft_admin::auth::AuthSettings) -> Self {
        if std::env::var_os("TEST_LOG").is_some() {
            // Logs stay silent unless asked for; a second init in the same
            // binary fails harmlessly.
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
                .with_test_writer()
                .try_init();
        }
        let directory = tempfile::tempdir().expect("temporary directory");
        let database_url = fresh_database_url(backend, directory.path()).await;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address: SocketAddr = listener.local_addr().expect("local address");
        let http_base = format!("http://{address}");
        let api = AdminApi::open(
            &database_url,
            &directory.path().join("store"),
            AdminSettings {
                auth,
                ..AdminSettings::new(http_base.clone())
            },
        )
        .await
        .expect("open the admin");
        let grpc = tonic::service::Routes::new(api.clone().into_service())
            .add_service(api.data_proxy().into_service())
            .add_service(api.signals().into_service())
            .add_service(api.execution_queue().into_service())
            .add_service(api.auth().into_auth_metadata_service())
            .add_service(api.auth().into_identity_service())
            .into_axum_router();
        let mut grpc = updraft_admin::message_limits::refuse_oversized_requests(grpc);
        if let Some(access) = api.access() {
            grpc = updraft_admin::access::require_tokens(grpc, access);
        }
        let router = route_by_content_type(grpc, api.upload_router());
        let server = tokio::spawn(async move {
            // As the server does: no Nagle delay on responses.
            let listener = listener.tap_io(|stream| {
                let _ = stream.set_nodelay(true);
            });
            axum::serve(listener, router).await.expect("serve");
        });
        let channel = tonic::transport::Endpoint::from_shared(http_base.clone())
            .expect("endpoint")
            .connect()
            .await
            .expect("connect");
        Self {
            admin: AdminServiceClient::new(channel.clone()),
            data_proxy: DataProxyServiceClient::new(channel.clone()),
            signals: SignalServiceClient::new(channel.clone()),
            auth_metadata: AuthMetadataServiceClient::new(channel.clone()),
            identity: IdentityServiceClient::new(channel),
            http_base,
            api,
            database_url,
            _directory: directory,
            server,
        }
    }

    /// Registers the `add` task, the two-node workflow and its launch plan.
    pub async fn register_fixtures(&mut self, version: &str) {
        self.admin
            .create_task(task_request("add", version))
            .await
            .expect("create task");
        self.admin
            .create_workflow(workflow_request("wf", "add", version))
            .await
            .expect("create workflow");
        self.admin
            .create_launch_plan(launch_plan_request("wf", version))
            .await
            .expect("create launch plan");
    }
}

/// The id of execution `name` in the fixture project and domain.
pub fn workflow_execution_id(name: &str) -> core::WorkflowExecutionIdentifier {
    core::WorkflowExecutionIdentifier {
        project: PROJECT.to_string(),
        domain: DOMAIN.to_string(),
        name: name.to_string(),
        org: String::new(),
    }
}

/// A `CreateExecution` of the fixture launch plan `wf` at `v1` with `a = 3`,
/// named `name` (generated when empty).
pub fn launch_request(name: &str) -> admin::ExecutionCreateRequest {
    admin::ExecutionCreateRequest {
        project: PROJECT.to_string(),
        domain: DOMAIN.to_string(),
        name: name.to_string(),
        spec: Some(admin::ExecutionSpec {
            launch_plan: Some(identifier(ResourceType::LaunchPlan, "wf", "v1")),
            metadata: Some(admin::ExecutionMetadata {
                principal: "placeholder".to_string(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        inputs: Some(core::LiteralMap {
            literals: HashMap::from([("a".to_string(), integer(3))]),
        }),
        org: String::new(),
    }
}

/// An identifier in the fixture project and domain.
pub fn identifier(resource_type: ResourceType, name: &str, version: &str) -> core::Identifier {
    core::Identifier {
        resource_type: resource_type as i32,
        project: PROJECT.to_string(),
        domain: DOMAIN.to_string(),
        name: name.to_string(),
        version: version.to_string(),
        org: String::new(),
    }
}

/// The integer literal type.
pub fn integer_type() -> core::LiteralType {
    core::LiteralType {
        r#type: Some(core::literal_type::Type::Simple(
            core::SimpleType::Integer as i32,
        )),
        ..Default::default()
    }
}

/// An integer variable.
pub fn integer_variable() -> core::Variable {
    core::Variable {
        r#type: Some(integer_type()),
        ..Default::default()
    }
}

/// An integer literal.
pub fn integer(value: i64) -> core::Literal {
    core::Literal {
        value: Some(core::literal::Value::Scalar(Box::new(core::Scalar {
            value: Some(core::scalar::Value::Primitive(core::Primitive {
                value: Some(core::primitive::Value::Integer(value)),
            })),
        }))),
        ..Default::default()
    }
}

/// The integer inside a literal, if it holds one.
pub fn integer_value(literal: &core::Literal) -> Option<i64> {
    let Some(core::literal::Value::Scalar(scalar)) = &literal.value else {
        return None;
    };
    match &scalar.value {
        Some(core::scalar::Value::Primitive(core::Primitive {
            value: Some(core::primitive::Value::Integer(value)),
        })) => Some(*value),
        _ => None,
    }
}

/// `(a: int, b: int) -> o0: int`.
pub fn add_interface() -> core::TypedInterface {
    core::TypedInterface {
        inputs: Some(core::VariableMap {
            variables: HashMap::from([
                ("a".to_string(), integer_variable()),
                ("b".to_string(), integer_variable()),
            ]),
        }),
        outputs: Some(core::VariableMap {
            variables: HashMap::from([("o0".to_string(), integer_variable())]),
        }),
    }
}

/// A `CreateTask` request like flytekit's for a python task.
pub fn task_request(name: &str, version: &str) -> admin::TaskCreateRequest {
    let id = identifier(ResourceType::Task, name, version);
    admin::TaskCreateRequest {
        id: Some(id.clone()),
        spec: Some(admin::TaskSpec {
            template: Some(core::TaskTemplate {
                id: Some(id),
                r#type: "python-task".to_string(),
                interface: Some(add_interface()),
                target: Some(core::task_template::Target::Container(core::Container {
                    image: "localhost/flytekit:dev".to_string(),
                    args: vec![
                        "pyflyte-execute".to_string(),
                        "--inputs".to_string(),
                        "{{.input}}".to_string(),
                    ],
                    ..Default::default()
                })),
                ..Default::default()
            }),
            description: None,
        }),
    }
}

/// A binding of `var` to another node's output (or a workflow input when
/// `node` is empty).
pub fn promise(var: &str, node: &str, output: &str) -> core::Binding {
    core::Binding {
        var: var.to_string(),
        binding: Some(core::BindingData {
            value: Some(core::binding_data::Value::Promise(core::OutputReference {
                node_id: node.to_string(),
                var: output.to_string(),
                attr_path: vec![],
            })),
            ..Default::default()
        }),
    }
}

/// A task node calling `task`.
pub fn task_node(id: &str, task: &str, version: &str, inputs: Vec<core::Binding>) -> core::Node {
    core::Node {
        id: id.to_string(),
        inputs,
        target: Some(core::node::Target::TaskNode(core::TaskNode {
            reference: Some(core::task_node::Reference::ReferenceId(identifier(
                ResourceType::Task,
                task,
                version,
            ))),
            overrides: None,
        })),
        ..Default::default()
    }
}

/// A workflow `(a, b) -> n1.o0` with `n0 = task(a, b)` and `n1 = task(n0.o0, b)`.
pub fn workflow_request(name: &str, task: &str, version: &str) -> admin::WorkflowCreateRequest {
    let id = identifier(ResourceType::Workflow, name, version);
    admin::WorkflowCreateRequest {
        id: Some(id.clone()),
        spec: Some(admin::WorkflowSpec {
            template: Some(core::WorkflowTemplate {
                id: Some(id),
                interface: Some(add_interface()),
                nodes: vec![
                    task_node(
                        "n0",
                        task,
                        version,
                        vec![
                            promise("a", "start-node", "a"),
                            promise("b", "start-node", "b"),
                        ],
                    ),
                    task_node(
                        "n1",
                        task,
                        version,
                        vec![promise("a", "n0", "o0"), promise("b", "start-node", "b")],
                    ),
                ],
                outputs: vec![promise("o0", "n1", "o0")],
                ..Default::default()
            }),
            sub_workflows: vec![],
            description: None,
        }),
    }
}

/// The default launch plan of `workflow`: `a` required, `b` defaults to 4.
pub fn launch_plan_request(workflow: &str, version: &str) -> admin::LaunchPlanCreateRequest {
    admin::LaunchPlanCreateRequest {
        id: Some(identifier(ResourceType::LaunchPlan, workflow, version)),
        spec: Some(admin::LaunchPlanSpec {
            workflow_id: Some(identifier(ResourceType::Workflow, workflow, version)),
            default_inputs: Some(core::ParameterMap {
                parameters: HashMap::from([
                    (
                        "a".to_string(),
                        core::Parameter {
                            var: Some(integer_variable()),
                            behavior: Some(core::parameter::Behavior::Required(true)),
                        },
                    ),
                    (
                        "b".to_string(),
                        core::Parameter {
                            var: Some(integer_variable()),
                            behavior: Some(core::parameter::Behavior::Default(integer(4))),
                        },
                    ),
                ]),
            }),
            ..Default::default()
        }),
    }
}

/// `ObjectGetRequest` for an identifier.
pub fn get_request(id: core::Identifier) -> admin::ObjectGetRequest {
    admin::ObjectGetRequest { id: Some(id) }
}

/// A list request over the fixture project and domain (and `name` if not empty).
pub fn list_request(name: &str, limit: u32) -> admin::ResourceListRequest {
    admin::ResourceListRequest {
        id: Some(admin::NamedEntityIdentifier {
            project: PROJECT.to_string(),
            domain: DOMAIN.to_string(),
            name: name.to_string(),
            org: String::new(),
        }),
        limit,
        ..Default::default()
    }
}

/// Asserts the status code and that the message contains `fragment`.
#[track_caller]
pub fn assert_status<T: std::fmt::Debug>(
    result: Result<T, tonic::Status>,
    code: tonic::Code,
    fragment: &str,
) {
    let status = result.expect_err("expected an error status");
    assert_eq!(status.code(), code, "unexpected status: {status:?}");
    assert!(
        status.message().contains(fragment),
        "message {:?} does not contain {fragment:?}",
        status.message()
    );
}
