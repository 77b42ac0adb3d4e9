//! Task caching in the console: cache statuses on node rows, map indexes and
//! the drawer, read from a scripted admin, and the evict actions through
//! the BFF against a real `updraft catalog`.

use std::collections::HashMap;

use tonic::{Request, Response, Status};
use updraft::config::{CommandLineOverrides, Config};
use updraft::startup::{Application, Components};
use updraft_proto::datacatalog;
use updraft_proto::datacatalog::data_catalog_client::DataCatalogClient;
use updraft_proto::flyteidl::service::admin_service_server::{AdminService, AdminServiceServer};
use updraft_proto::flyteidl::{admin, core, event};

use crate::helpers::TestApp;

const PROJECT: &str = "flytesnacks";
const DOMAIN: &str = "development";
const DATASET: &str = "flyte_task-myapp.cached.double";
const DATASET_VERSION: &str = "1.0-abc-def";

fn execution_id(name: &str) -> core::WorkflowExecutionIdentifier {
    core::WorkflowExecutionIdentifier {
        project: PROJECT.into(),
        domain: DOMAIN.into(),
        name: name.into(),
        ..Default::default()
    }
}

fn task_id() -> core::Identifier {
    core::Identifier {
        resource_type: core::ResourceType::Task as i32,
        project: PROJECT.into(),
        domain: DOMAIN.into(),
        name: "myapp.cached.uncached".into(),
        version: "v1".into(),
        ..Default::default()
    }
}

/// Propeller's cache metadata of a node keyed `tag`; a hit names the
/// execution that produced the entry.
fn task_node_metadata(
    status: core::CatalogCacheStatus,
    tag: Option<&str>,
    source: Option<&str>,
) -> admin::node_execution_closure::TargetMetadata {
    let catalog_key = tag.map(|tag| core::CatalogMetadata {
        dataset_id: Some(core::Identifier {
            resource_type: core::ResourceType::Dataset as i32,
            project: PROJECT.into(),
            domain: DOMAIN.into(),
            name: DATASET.into(),
            version: DATASET_VERSION.into(),
            ..Default::default()
        }),
        artifact_tag: Some(core::CatalogArtifactTag {
            artifact_id: "a1".into(),
            name: tag.into(),
        }),
        source_execution: source.map(|name| {
            core::catalog_metadata::SourceExecution::SourceTaskExecution(
                core::TaskExecutionIdentifier {
                    task_id: Some(task_id()),
                    node_execution_id: Some(core::NodeExecutionIdentifier {
                        node_id: "n0".into(),
                        execution_id: Some(execution_id(name)),
                    }),
                    retry_attempt: 0,
                },
            )
        }),
    });
    admin::node_execution_closure::TargetMetadata::TaskNodeMetadata(admin::TaskNodeMetadata {
        cache_status: status as i32,
        catalog_key,
        ..Default::default()
    })
}

/// second1's nodes: n0 read from the cache first1 filled, n1 wrote to it,
/// n2 is a map task, n3 runs a task declared `cache=False`.
fn node(execution: &core::WorkflowExecutionIdentifier, node_id: &str) -> admin::NodeExecution {
    use core::CatalogCacheStatus::{CacheDisabled, CacheHit, CachePopulated};
    let target_metadata = match node_id {
        "n0" => Some(task_node_metadata(
            CacheHit,
            Some("flyte_cached-xyz"),
            Some("first1"),
        )),
        "n1" => Some(task_node_metadata(
            CachePopulated,
            Some("flyte_cached-own"),
            None,
        )),
        "n3" => Some(task_node_metadata(CacheDisabled, None, None)),
        _ => None,
    };
    admin::NodeExecution {
        id: Some(core::NodeExecutionIdentifier {
            node_id: node_id.into(),
            execution_id: Some(execution.clone()),
        }),
        closure: Some(admin::NodeExecutionClosure {
            phase: core::node_execution::Phase::Succeeded as i32,
            target_metadata,
            ..Default::default()
        }),
        metadata: Some(admin::NodeExecutionMetaData {
            is_array: node_id == "n2",
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[derive(Clone, Default)]
struct CachingAdmin;

#[tonic::async_trait]
impl AdminService for CachingAdmin {
    async fn get_execution(
        &self,
        request: Request<admin::WorkflowExecutionGetRequest>,
    ) -> Result<Response<admin::Execution>, Status> {
        let id = request.into_inner().id.unwrap_or_default();
        Ok(Response::new(admin::Execution {
            id: Some(id),
            closure: Some(admin::ExecutionClosure {
                phase: core::workflow_execution::Phase::Succeeded as i32,
                ..Default::default()
            }),
            ..Default::default()
        }))
    }

    async fn list_node_executions(
        &self,
        request: Request<admin::NodeExecutionListRequest>,
    ) -> Result<Response<admin::NodeExecutionList>, Status> {
        let execution = request
            .into_inner()
            .workflow_execution_id
            .unwrap_or_default();
        Ok(Response::new(admin::NodeExecutionList {
            node_executions: ["n0", "n1", "n2", "n3"]
                .into_iter()
                .map(|id| node(&execution, id))
                .collect(),
            token: String::new(),
        }))
    }

    async fn get_node_execution(
        &self,
        request: Request<admin::NodeExecutionGetRequest>,
    ) -> Result<Response<admin::NodeExecution>, Status> {
        let id = request.into_inner().id.unwrap_or_default();
        Ok(Response::new(node(
            &id.execution_id.unwrap_or_default(),
            &id.node_id,
        )))
    }

    async fn list_task_executions(
        &self,
        request: Request<admin::TaskExecutionListRequest>,
    ) -> Result<Response<admin::TaskExecutionList>, Status> {
        let node = request.into_inner().node_execution_id.unwrap_or_default();
        let external_resources = if node.node_id == "n2" {
            use core::CatalogCacheStatus::{CacheHit, CachePopulated};
            [(0, CacheHit), (1, CachePopulated), (2, CacheHit)]
                .into_iter()
                .map(|(index, status)| event::ExternalResourceInfo {
                    index,
                    phase: core::task_execution::Phase::Succeeded as i32,
                    cache_status: status as i32,
                    ..Default::default()
                })
                .collect()
        } else {
            Vec::new()
        };
        // A hit runs no task: n0 has no attempt.
        let task_executions = if node.node_id == "n0" {
            Vec::new()
        } else {
            vec![admin::TaskExecution {
                id: Some(core::TaskExecutionIdentifier {
                    task_id: Some(task_id()),
                    node_execution_id: Some(node),
                    retry_attempt: 0,
                }),
                closure: Some(admin::TaskExecutionClosure {
                    phase: core::task_execution::Phase::Succeeded as i32,
                    metadata: Some(event::TaskExecutionMetadata {
                        external_resources,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }]
        };
        Ok(Response::new(admin::TaskExecutionList {
            task_executions,
            token: String::new(),
        }))
    }

    async fn get_task(
        &self,
        request: Request<admin::ObjectGetRequest>,
    ) -> Result<Response<admin::Task>, Status> {
        let id = request.into_inner().id;
        let integer = core::Variable {
            r#type: Some(core::LiteralType {
                r#type: Some(core::literal_type::Type::Simple(
                    core::SimpleType::Integer as i32,
                )),
                ..Default::default()
            }),
            ..Default::default()
        };
        Ok(Response::new(admin::Task {
            id: id.clone(),
            closure: Some(admin::TaskClosure {
                compiled_task: Some(core::CompiledTask {
                    template: Some(core::TaskTemplate {
                        id,
                        r#type: "python-task".into(),
                        metadata: Some(core::TaskMetadata {
                            discoverable: false,
                            ..Default::default()
                        }),
                        interface: Some(core::TypedInterface {
                            outputs: Some(core::VariableMap {
                                variables: HashMap::from([("o0".to_string(), integer)]),
                            }),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                }),
                ..Default::default()
            }),
            ..Default::default()
        }))
    }
}

/// Serves the scripted admin on a free loopback port; answers its URL.
async fn serve_admin() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router =
        tonic::service::Routes::new(AdminServiceServer::new(CachingAdmin)).into_axum_router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

/// A console in front of the scripted admin, evicting through `catalog`
/// (or, without one, through the admin's address).
async fn console(admin: &str, catalog: Option<&str>) -> TestApp {
    let mut environment = vec![
        (
            "UPDRAFT_CONSOLE__ADMIN_ENDPOINT".to_string(),
            admin.to_string(),
        ),
        (
            "UPDRAFT_PROPELLER__ENABLED".to_string(),
            "false".to_string(),
        ),
    ];
    if let Some(catalog) = catalog {
        environment.push((
            "UPDRAFT_CONSOLE__CATALOG_ENDPOINT".to_string(),
            catalog.to_string(),
        ));
    }
    TestApp::spawn_with_environment(environment).await
}

async fn page(app: &TestApp, path: &str) -> String {
    app.http
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn call(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let response = app
        .http
        .post(app.url(path))
        .header("accept", "application/json")
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

const SECOND: &str = "/console/projects/flytesnacks/domains/development/executions/second1";

#[tokio::test]
async fn node_rows_show_what_the_cache_did_with_its_meaning() {
    let app = console(&serve_admin().await, None).await;

    let html = page(&app, SECOND).await;

    assert!(html.contains(">Cache</th>"), "{html}");
    assert!(html.contains("data-cache-status=\"HIT\""), "{html}");
    assert!(html.contains("data-cache-status=\"POPULATED\""), "{html}");
    assert!(html.contains("data-cache-status=\"DISABLED\""), "{html}");
    assert!(
        html.contains("The outputs were read from the cache"),
        "a hit says what it means: {html}"
    );
    // Contributors (everyone, without login) are offered the execution's eviction.
    assert!(
        html.contains("Evict all cached results of this execution"),
        "{html}"
    );
}

#[tokio::test]
async fn a_hits_drawer_links_to_the_execution_that_produced_it() {
    let app = console(&serve_admin().await, None).await;

    let html = page(&app, &format!("{SECOND}?node=n0")).await;

    assert!(html.contains("View source execution"), "{html}");
    assert!(
        html.contains(
            "href=\"/console/projects/flytesnacks/domains/development/executions/first1\""
        ),
        "{html}"
    );
    assert!(
        html.contains("flyte_cached-xyz"),
        "the tag is shown: {html}"
    );
    assert!(html.contains("Evict cached result"), "{html}");
}

#[tokio::test]
async fn the_drawer_says_why_a_task_is_never_cached() {
    let app = console(&serve_admin().await, None).await;

    let html = page(&app, &format!("{SECOND}?node=n3")).await;

    assert!(html.contains("Not cacheable: cache=False."), "{html}");
    assert!(
        !html.contains("Evict cached result"),
        "nothing to evict: {html}"
    );
}

#[tokio::test]
async fn each_map_index_shows_its_own_cache_status() {
    let app = console(&serve_admin().await, None).await;

    let rows = page(&app, &format!("{SECOND}?expand=n2")).await;
    let drawer = page(&app, &format!("{SECOND}?node=n2")).await;

    assert_eq!(
        rows.matches("data-cache-status=\"HIT\"").count(),
        3,
        "n0 and indexes 0 and 2: {rows}"
    );
    assert!(drawer.contains("Cache: 2 from cache, 1 cached"), "{drawer}");
    assert!(drawer.contains("index 1: succeeded, cached"), "{drawer}");
}

/// Starts `updraft catalog` on a free port; answers its URL and a stopper.
async fn spawn_catalog() -> (String, tokio::sync::oneshot::Sender<()>, tempfile::TempDir) {
    let data_dir = tempfile::tempdir().unwrap();
    let overrides = CommandLineOverrides {
        addr: Some("127.0.0.1:0".parse().unwrap()),
        data_dir: Some(data_dir.path().to_path_buf()),
        ..CommandLineOverrides::default()
    };
    let config = Config::load(None, Vec::new(), &overrides).unwrap();
    let application = Application::build_components(config, Components::Catalog)
        .await
        .expect("the catalog starts");
    let address = format!("http://{}", application.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(application.run_until(async move {
        let _ = stopped.await;
    }));
    (address, stop, data_dir)
}

fn dataset() -> datacatalog::DatasetId {
    datacatalog::DatasetId {
        project: PROJECT.into(),
        name: DATASET.into(),
        domain: DOMAIN.into(),
        version: DATASET_VERSION.into(),
        ..Default::default()
    }
}

/// Caches artifact `id` under `tag`, produced by execution `produced_by`,
/// as propeller's put records it.
async fn cache(
    catalog: &mut DataCatalogClient<tonic::transport::Channel>,
    id: &str,
    tag: &str,
    produced_by: &str,
) {
    let seven = core::Literal {
        value: Some(core::literal::Value::Scalar(Box::new(core::Scalar {
            value: Some(core::scalar::Value::Primitive(core::Primitive {
                value: Some(core::primitive::Value::Integer(7)),
            })),
        }))),
        ..Default::default()
    };
    let key_map = HashMap::from([
        ("exec-project".to_string(), PROJECT.to_string()),
        ("exec-domain".to_string(), DOMAIN.to_string()),
        ("execution-name".to_string(), produced_by.to_string()),
    ]);
    catalog
        .create_artifact(datacatalog::CreateArtifactRequest {
            artifact: Some(datacatalog::Artifact {
                id: id.into(),
                dataset: Some(dataset()),
                data: vec![datacatalog::ArtifactData {
                    name: "o0".into(),
                    value: Some(seven),
                }],
                metadata: Some(datacatalog::Metadata { key_map }),
                ..Default::default()
            }),
        })
        .await
        .expect("CreateArtifact");
    catalog
        .add_tag(datacatalog::AddTagRequest {
            tag: Some(datacatalog::Tag {
                name: tag.into(),
                artifact_id: id.into(),
                dataset: Some(dataset()),
            }),
        })
        .await
        .expect("AddTag");
}

#[tokio::test]
async fn evicting_from_the_console_goes_to_the_configured_catalog() {
    let (catalog_address, stop_catalog, _catalog_dir) = spawn_catalog().await;
    let channel = tonic::transport::Channel::from_shared(catalog_address.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut catalog = DataCatalogClient::new(channel);
    catalog
        .create_dataset(datacatalog::CreateDatasetRequest {
            dataset: Some(datacatalog::Dataset {
                id: Some(dataset()),
                ..Default::default()
            }),
        })
        .await
        .expect("CreateDataset");
    cache(&mut catalog, "a1", "flyte_cached-xyz", "first1").await;
    cache(&mut catalog, "a2", "flyte_cached-abc", "first1").await;
    let app = console(&serve_admin().await, Some(&catalog_address)).await;
    let node_form = [
        ("project", PROJECT),
        ("domain", DOMAIN),
        ("name", "second1"),
        ("node_id", "n0"),
    ];

    // n0 of second1 read a1: evicting it removes first1's entry.
    let (status, body) = call(&app, "/api/evict_cached_result", &node_form).await;
    assert_eq!((status, body.as_str()), (200, "{\"evicted\":1}"));
    let lookup = catalog
        .get_artifact(datacatalog::GetArtifactRequest {
            dataset: Some(dataset()),
            query_handle: Some(datacatalog::get_artifact_request::QueryHandle::TagName(
                "flyte_cached-xyz".into(),
            )),
        })
        .await
        .unwrap_err();
    assert_eq!(lookup.code(), tonic::Code::NotFound);
    // Gone already: nothing left, which is not an error.
    let (status, body) = call(&app, "/api/evict_cached_result", &node_form).await;
    assert_eq!((status, body.as_str()), (200, "{\"evicted\":0}"));

    let execution_form = [("project", PROJECT), ("domain", DOMAIN), ("name", "first1")];
    let (status, body) = call(&app, "/api/evict_execution_cache", &execution_form).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "{\"evicted\":1}"),
        "a2 was left"
    );
    let (status, body) = call(&app, "/api/evict_execution_cache", &execution_form).await;
    assert_eq!((status, body.as_str()), (200, "{\"evicted\":0}"));

    let _ = stop_catalog.send(());
}

#[tokio::test]
async fn a_node_without_a_cached_result_is_refused_naming_it() {
    let app = console(&serve_admin().await, None).await;

    let (status, body) = call(
        &app,
        "/api/evict_cached_result",
        &[
            ("project", PROJECT),
            ("domain", DOMAIN),
            ("name", "second1"),
            ("node_id", "n3"),
        ],
    )
    .await;

    assert_eq!(status, 500, "{body}");
    assert!(body.contains("node n3 has no cached result"), "{body}");
}

#[tokio::test]
async fn a_catalog_that_cannot_evict_names_the_setting_to_change() {
    // Without console.catalog_endpoint the console asks the admin it
    // fronts, here one that serves no eviction.
    let app = console(&serve_admin().await, None).await;

    let (status, body) = call(
        &app,
        "/api/evict_execution_cache",
        &[("project", PROJECT), ("domain", DOMAIN), ("name", "first1")],
    )
    .await;

    assert_eq!(status, 500, "{body}");
    assert!(body.contains("console.catalog_endpoint"), "{body}");
}
