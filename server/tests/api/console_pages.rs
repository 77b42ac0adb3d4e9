//! The console's pages rendered on the server against a scripted admin: the
//! BFF calls flyteadmin's API with Flyte's filter syntax and renders its answers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tonic::{Request, Response, Status};
use updraft_proto::flyteidl::service::admin_service_server::{AdminService, AdminServiceServer};
use updraft_proto::flyteidl::{admin, core};

use crate::helpers::{TestApp, next_event_name};

const PROJECT: &str = "flytesnacks";
const DOMAIN: &str = "development";
const WORKFLOW: &str = "myapp.greetings.hello_wf";

/// An admin that answers from fixed data and records the filters it was sent.
#[derive(Clone, Default)]
struct ScriptedAdmin {
    filters: Arc<Mutex<Vec<String>>>,
    terminated: Arc<Mutex<Vec<(String, String)>>>,
    /// The phase of the node inside nested1's running subworkflow node.
    inner_phase: Arc<Mutex<core::node_execution::Phase>>,
}

impl ScriptedAdmin {
    fn filters(&self) -> Vec<String> {
        self.filters.lock().unwrap().clone()
    }
}

fn timestamp(seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds, nanos: 0 }
}

fn simple(simple: core::SimpleType) -> core::LiteralType {
    core::LiteralType {
        r#type: Some(core::literal_type::Type::Simple(simple as i32)),
        ..Default::default()
    }
}

fn string_literal(text: &str) -> core::Literal {
    core::Literal {
        value: Some(core::literal::Value::Scalar(Box::new(core::Scalar {
            value: Some(core::scalar::Value::Primitive(core::Primitive {
                value: Some(core::primitive::Value::StringValue(text.into())),
            })),
        }))),
        ..Default::default()
    }
}

fn int_list_literal(values: &[i64]) -> core::Literal {
    core::Literal {
        value: Some(core::literal::Value::Collection(core::LiteralCollection {
            literals: values
                .iter()
                .map(|value| core::Literal {
                    value: Some(core::literal::Value::Scalar(Box::new(core::Scalar {
                        value: Some(core::scalar::Value::Primitive(core::Primitive {
                            value: Some(core::primitive::Value::Integer(*value)),
                        })),
                    }))),
                    ..Default::default()
                })
                .collect(),
        })),
        ..Default::default()
    }
}

fn identifier(resource_type: core::ResourceType, name: &str, version: &str) -> core::Identifier {
    core::Identifier {
        resource_type: resource_type as i32,
        project: PROJECT.into(),
        domain: DOMAIN.into(),
        name: name.into(),
        version: version.into(),
        ..Default::default()
    }
}

fn execution_identifier(name: &str) -> core::WorkflowExecutionIdentifier {
    core::WorkflowExecutionIdentifier {
        project: PROJECT.into(),
        domain: DOMAIN.into(),
        name: name.into(),
        ..Default::default()
    }
}

fn execution(name: &str, phase: core::workflow_execution::Phase, created: i64) -> admin::Execution {
    let failed = phase == core::workflow_execution::Phase::Failed;
    admin::Execution {
        id: Some(execution_identifier(name)),
        spec: Some(admin::ExecutionSpec {
            launch_plan: Some(identifier(core::ResourceType::LaunchPlan, WORKFLOW, "v2")),
            metadata: Some(admin::ExecutionMetadata {
                // done1 was launched without signing in, as flytekit names it.
                principal: if name == "done1" {
                    "placeholder"
                } else {
                    "ada"
                }
                .into(),
                // failed1 is a relaunch of done1, started by a node of running1.
                mode: if failed {
                    admin::execution_metadata::ExecutionMode::Relaunch as i32
                } else {
                    0
                },
                reference_execution: failed.then(|| execution_identifier("done1")),
                parent_node_execution: failed.then(|| core::NodeExecutionIdentifier {
                    node_id: "n3".into(),
                    execution_id: Some(execution_identifier("running1")),
                }),
                ..Default::default()
            }),
            labels: failed.then(|| admin::Labels {
                values: HashMap::from([
                    ("team".to_string(), "ml".to_string()),
                    ("cost-center".to_string(), "42".to_string()),
                ]),
            }),
            ..Default::default()
        }),
        closure: Some(admin::ExecutionClosure {
            phase: phase as i32,
            created_at: Some(timestamp(created)),
            started_at: Some(timestamp(created + 1)),
            duration: Some(prost_types::Duration {
                seconds: 185,
                nanos: 0,
            }),
            workflow_id: Some(identifier(core::ResourceType::Workflow, WORKFLOW, "v2")),
            output_result: failed.then(|| {
                admin::execution_closure::OutputResult::Error(core::ExecutionError {
                    code: "USER:ValueError".into(),
                    message: "name must not be empty".into(),
                    kind: core::execution_error::ErrorKind::User as i32,
                    ..Default::default()
                })
            }),
            ..Default::default()
        }),
    }
}

fn executions() -> Vec<admin::Execution> {
    use core::workflow_execution::Phase;
    vec![
        execution("running1", Phase::Running, 1_795_300_300),
        execution("failed1", Phase::Failed, 1_795_300_200),
        execution("done1", Phase::Succeeded, 1_795_300_100),
    ]
}

#[tonic::async_trait]
impl AdminService for ScriptedAdmin {
    async fn list_named_entities(
        &self,
        request: Request<admin::NamedEntityListRequest>,
    ) -> Result<Response<admin::NamedEntityList>, Status> {
        let request = request.into_inner();
        self.filters.lock().unwrap().push(request.filters.clone());
        // One archived name; the rest are active.
        let names: &[&str] = if request.filters.contains("eq(state,1)") {
            &["myapp.retired.old_wf"]
        } else {
            &[WORKFLOW, "myapp.arithmetic.sum_wf"]
        };
        let wanted = request
            .filters
            .split('+')
            .find_map(|filter| filter.strip_prefix("contains(name,"))
            .and_then(|rest| rest.strip_suffix(')'))
            .unwrap_or("");
        Ok(Response::new(admin::NamedEntityList {
            entities: names
                .iter()
                .filter(|name| name.contains(wanted))
                .map(|name| admin::NamedEntity {
                    resource_type: request.resource_type,
                    id: Some(admin::NamedEntityIdentifier {
                        project: PROJECT.into(),
                        domain: DOMAIN.into(),
                        name: (*name).into(),
                        ..Default::default()
                    }),
                    metadata: Some(admin::NamedEntityMetadata {
                        description: format!("about {name}"),
                        ..Default::default()
                    }),
                })
                .collect(),
            token: String::new(),
        }))
    }

    async fn list_workflows(
        &self,
        request: Request<admin::ResourceListRequest>,
    ) -> Result<Response<admin::WorkflowList>, Status> {
        let request = request.into_inner();
        let name = request.id.unwrap_or_default().name;
        if name != WORKFLOW {
            return Ok(Response::new(admin::WorkflowList::default()));
        }
        let interface = core::TypedInterface {
            inputs: Some(core::VariableMap {
                variables: HashMap::from([(
                    "name".to_string(),
                    core::Variable {
                        r#type: Some(simple(core::SimpleType::String)),
                        description: "who to greet".into(),
                        ..Default::default()
                    },
                )]),
            }),
            outputs: Some(core::VariableMap {
                variables: HashMap::from([(
                    "o0".to_string(),
                    core::Variable {
                        r#type: Some(core::LiteralType {
                            r#type: Some(core::literal_type::Type::CollectionType(Box::new(
                                simple(core::SimpleType::Integer),
                            ))),
                            ..Default::default()
                        }),
                        ..Default::default()
                    },
                )]),
            }),
        };
        // Newest first, as the console asked.
        let workflows = [("v2", 1_795_300_000), ("v1", 1_795_200_000)]
            .into_iter()
            .map(|(version, created)| admin::Workflow {
                id: Some(identifier(core::ResourceType::Workflow, WORKFLOW, version)),
                closure: Some(admin::WorkflowClosure {
                    compiled_workflow: Some(core::CompiledWorkflowClosure {
                        primary: Some(core::CompiledWorkflow {
                            template: Some(core::WorkflowTemplate {
                                interface: Some(interface.clone()),
                                ..Default::default()
                            }),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    created_at: Some(timestamp(created)),
                }),
                short_description: "Says hello".into(),
            })
            .collect();
        Ok(Response::new(admin::WorkflowList {
            workflows,
            token: String::new(),
        }))
    }

    async fn list_executions(
        &self,
        request: Request<admin::ResourceListRequest>,
    ) -> Result<Response<admin::ExecutionList>, Status> {
        let request = request.into_inner();
        self.filters.lock().unwrap().push(request.filters.clone());
        let wanted_phase = request
            .filters
            .split('+')
            .find_map(|filter| filter.strip_prefix("eq(phase,"))
            .and_then(|rest| rest.strip_suffix(')'))
            .map(str::to_string);
        let matching: Vec<admin::Execution> = executions()
            .into_iter()
            .filter(|execution| {
                let phase = core::workflow_execution::Phase::try_from(
                    execution.closure.as_ref().unwrap().phase,
                )
                .unwrap()
                .as_str_name();
                wanted_phase.as_deref().is_none_or(|wanted| wanted == phase)
            })
            .collect();
        // Two per page, so the list has a next page.
        let offset: usize = request.token.parse().unwrap_or(0);
        let page: Vec<_> = matching.iter().skip(offset).take(2).cloned().collect();
        let token = if offset + 2 < matching.len() {
            (offset + 2).to_string()
        } else {
            String::new()
        };
        Ok(Response::new(admin::ExecutionList {
            executions: page,
            token,
        }))
    }

    async fn get_execution(
        &self,
        request: Request<admin::WorkflowExecutionGetRequest>,
    ) -> Result<Response<admin::Execution>, Status> {
        let name = request.into_inner().id.unwrap_or_default().name;
        // nested1 is watched, not listed.
        let nested = execution(
            "nested1",
            core::workflow_execution::Phase::Running,
            1_795_300_400,
        );
        executions()
            .into_iter()
            .chain([nested])
            .find(|execution| execution.id.as_ref().unwrap().name == name)
            .map(Response::new)
            .ok_or_else(|| Status::not_found(format!("execution {name}")))
    }

    #[allow(deprecated)] // The URL blobs are deprecated but admins still send them.
    async fn get_execution_data(
        &self,
        request: Request<admin::WorkflowExecutionGetDataRequest>,
    ) -> Result<Response<admin::WorkflowExecutionGetDataResponse>, Status> {
        // done1 was launched without inputs: its inputs file is empty.
        if request.into_inner().id.unwrap_or_default().name == "done1" {
            return Ok(Response::new(admin::WorkflowExecutionGetDataResponse {
                inputs: Some(admin::UrlBlob {
                    url: "s3://bucket/done1/inputs.pb".into(),
                    bytes: 0,
                }),
                full_inputs: Some(core::LiteralMap::default()),
                ..Default::default()
            }));
        }
        Ok(Response::new(admin::WorkflowExecutionGetDataResponse {
            full_inputs: Some(core::LiteralMap {
                literals: HashMap::from([("name".to_string(), string_literal("world"))]),
            }),
            full_outputs: Some(core::LiteralMap {
                literals: HashMap::from([("o0".to_string(), int_list_literal(&[1, 2, 3]))]),
            }),
            ..Default::default()
        }))
    }

    async fn list_node_executions(
        &self,
        request: Request<admin::NodeExecutionListRequest>,
    ) -> Result<Response<admin::NodeExecutionList>, Status> {
        let request = request.into_inner();
        let execution_id = request.workflow_execution_id;
        let node = |id: &str, phase: core::node_execution::Phase| admin::NodeExecution {
            id: Some(core::NodeExecutionIdentifier {
                node_id: id.into(),
                execution_id: execution_id.clone(),
            }),
            closure: Some(admin::NodeExecutionClosure {
                phase: phase as i32,
                started_at: Some(timestamp(1_795_300_301)),
                duration: Some(prost_types::Duration {
                    seconds: 12,
                    nanos: 0,
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        use core::node_execution::Phase;
        // done1 is a wide run, paged the way flyteadmin pages: the token is
        // the offset of the next page.
        if execution_id.as_ref().is_some_and(|id| id.name == "done1") {
            let offset: usize = request.token.parse().unwrap_or(0);
            let end = (offset + request.limit as usize).min(WIDE_RUN_NODES);
            return Ok(Response::new(admin::NodeExecutionList {
                node_executions: (offset..end)
                    .map(|index| node(&format!("n{index:04}"), Phase::Succeeded))
                    .collect(),
                token: if end < WIDE_RUN_NODES {
                    end.to_string()
                } else {
                    String::new()
                },
            }));
        }
        // nested1 runs a subworkflow at n0; its inner node is scripted.
        if execution_id.as_ref().is_some_and(|id| id.name == "nested1") {
            let nodes = if request.unique_parent_id == "n0" {
                vec![node("n0-0-n0", *self.inner_phase.lock().unwrap())]
            } else {
                let mut subworkflow = node("n0", Phase::Running);
                subworkflow.metadata = Some(admin::NodeExecutionMetaData {
                    is_parent_node: true,
                    ..Default::default()
                });
                vec![node("start-node", Phase::Succeeded), subworkflow]
            };
            return Ok(Response::new(admin::NodeExecutionList {
                node_executions: nodes,
                token: String::new(),
            }));
        }
        let mut launch_plan_node = node("n1", Phase::Succeeded);
        if let Some(closure) = launch_plan_node.closure.as_mut() {
            closure.target_metadata = Some(
                admin::node_execution_closure::TargetMetadata::WorkflowNodeMetadata(
                    admin::WorkflowNodeMetadata {
                        execution_id: Some(execution_identifier("child1")),
                    },
                ),
            );
        }
        Ok(Response::new(admin::NodeExecutionList {
            node_executions: vec![
                node("start-node", Phase::Succeeded),
                node("n0", Phase::Succeeded),
                launch_plan_node,
                node("end-node", Phase::Succeeded),
            ],
            token: String::new(),
        }))
    }

    async fn terminate_execution(
        &self,
        request: Request<admin::ExecutionTerminateRequest>,
    ) -> Result<Response<admin::ExecutionTerminateResponse>, Status> {
        let request = request.into_inner();
        self.terminated
            .lock()
            .unwrap()
            .push((request.id.unwrap_or_default().name, request.cause));
        Ok(Response::new(admin::ExecutionTerminateResponse {}))
    }
}

/// Serves `admin` over h2c on a free loopback port and returns its URL.
async fn serve(admin: ScriptedAdmin) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = tonic::service::Routes::new(AdminServiceServer::new(admin)).into_axum_router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

async fn console_with(admin: &ScriptedAdmin) -> TestApp {
    TestApp::spawn_with_admin(&serve(admin.clone()).await).await
}

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let response = app.http.get(app.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

fn base() -> String {
    format!("/console/projects/{PROJECT}/domains/{DOMAIN}")
}

#[tokio::test]
async fn workflow_list_links_rows_and_searches_by_name() {
    let admin = ScriptedAdmin::default();
    let app = console_with(&admin).await;

    let (status, html) = page(&app, &format!("{}/workflows?q=greet", base())).await;

    assert_eq!(status, 200);
    assert!(
        admin
            .filters()
            .contains(&"eq(state,0)+contains(name,greet)".to_string()),
        "{:?}",
        admin.filters()
    );
    assert!(
        html.contains(&format!("href=\"{}/workflows/{WORKFLOW}\"", base())),
        "rows link to the detail page: {html}"
    );
    assert!(
        !html.contains(">myapp.arithmetic.sum_wf<"),
        "the search filters rows: {html}"
    );
    assert!(
        html.contains("value=\"greet\""),
        "the search box keeps the query: {html}"
    );
}

#[tokio::test]
async fn the_archived_toggle_lists_archived_names_instead() {
    let admin = ScriptedAdmin::default();
    let app = console_with(&admin).await;

    let (_, active) = page(&app, &format!("{}/workflows", base())).await;
    let (_, archived) = page(&app, &format!("{}/workflows?archived=only", base())).await;

    assert_eq!(admin.filters(), ["eq(state,0)", "eq(state,1)"]);
    assert!(active.contains(&format!(">{WORKFLOW}<")), "{active}");
    assert!(!active.contains(">myapp.retired.old_wf<"), "{active}");
    assert!(archived.contains(">myapp.retired.old_wf<"), "{archived}");
    assert!(!archived.contains(&format!(">{WORKFLOW}<")), "{archived}");
    assert!(
        archived.contains("name=\"archived\" value=\"only\" checked"),
        "{archived}"
    );
}

#[tokio::test]
async fn a_search_with_filter_syntax_is_refused_with_a_reason() {
    let admin = ScriptedAdmin::default();
    let app = console_with(&admin).await;

    let (_, html) = page(&app, &format!("{}/workflows?q=a%29%2Cb", base())).await;

    assert!(
        html.contains("names contain only letters, digits"),
        "{html}"
    );
    assert!(
        admin.filters().is_empty(),
        "nothing reached the admin: {:?}",
        admin.filters()
    );
}

#[tokio::test]
async fn workflow_detail_shows_versions_interface_and_its_executions() {
    let admin = ScriptedAdmin::default();
    let app = console_with(&admin).await;

    let (status, html) = page(&app, &format!("{}/workflows/{WORKFLOW}", base())).await;

    assert_eq!(status, 200);
    let v2 = html.find(">v2<").expect("version v2 listed");
    let v1 = html.find(">v1<").expect("version v1 listed");
    assert!(v2 < v1, "newest version first");
    assert!(html.contains(">str</code>"), "input type rendered: {html}");
    assert!(
        html.contains(">List[int]</code>"),
        "output type rendered: {html}"
    );
    assert!(html.contains("who to greet"));
    assert!(html.contains("about myapp.greetings.hello_wf") || html.contains("Says hello"));
    assert!(
        admin
            .filters()
            .contains(&format!("eq(workflow.name,{WORKFLOW})")),
        "{:?}",
        admin.filters()
    );
    assert!(
        html.contains(&format!("href=\"{}/executions/failed1\"", base())),
        "{html}"
    );
}

#[tokio::test]
async fn an_unknown_workflow_is_reported_as_not_found() {
    let app = console_with(&ScriptedAdmin::default()).await;

    let (status, html) = page(&app, &format!("{}/workflows/nope.wf", base())).await;

    assert_eq!(status, 404, "a missing workflow's page answers 404");
    assert!(
        html.contains("workflow nope.wf in flytesnacks/development was not found"),
        "{html}"
    );
}

#[tokio::test]
async fn an_unknown_execution_answers_404_and_says_so() {
    let app = console_with(&ScriptedAdmin::default()).await;

    let (status, html) = page(&app, &format!("{}/executions/nope1", base())).await;

    assert_eq!(status, 404);
    assert!(html.contains("nope1"), "{html}");
    let (status, _) = page(&app, &format!("{}/executions/done1", base())).await;
    assert_eq!(status, 200, "an execution that exists answers 200");
}

#[tokio::test]
async fn an_execution_without_inputs_says_so() {
    let app = console_with(&ScriptedAdmin::default()).await;

    let (_, html) = page(&app, &format!("{}/executions/done1", base())).await;

    assert!(html.contains("No inputs."), "{html}");
    assert!(!html.contains("Too large to show here"), "{html}");
    assert!(html.contains("anonymous (no login)"), "{html}");
    assert!(!html.contains(">placeholder<"), "{html}");
}

#[tokio::test]
async fn executions_list_filters_by_phase_from_the_url() {
    let admin = ScriptedAdmin::default();
    let app = console_with(&admin).await;

    let (status, html) = page(&app, &format!("{}/executions?phase=FAILED", base())).await;

    assert_eq!(status, 200);
    assert!(admin.filters().contains(&"eq(phase,FAILED)".to_string()));
    assert!(
        html.contains(&format!("href=\"{}/executions/failed1\"", base())),
        "{html}"
    );
    assert!(
        !html.contains(&format!("href=\"{}/executions/done1\"", base())),
        "{html}"
    );
    assert!(
        html.contains("<option value=\"FAILED\" selected"),
        "the filter shows its value: {html}"
    );
    assert!(
        html.contains("data-phase=\"FAILED\""),
        "phase badge: {html}"
    );
    assert!(html.contains("3m 5s"), "duration: {html}");
}

#[tokio::test]
async fn executions_list_links_the_next_page_with_the_api_token() {
    let app = console_with(&ScriptedAdmin::default()).await;

    let (_, first) = page(&app, &format!("{}/executions?sort=created_at.desc", base())).await;
    assert!(first.contains("running1") && first.contains("failed1"));
    let next = format!("{}/executions?sort=created_at.desc&amp;token=2", base());
    assert!(first.contains(&format!("href=\"{next}\"")), "{first}");

    let (_, second) = page(
        &app,
        &format!("{}/executions?sort=created_at.desc&token=2", base()),
    )
    .await;
    assert!(
        second.contains(&format!("href=\"{}/executions/done1\"", base())),
        "{second}"
    );
    assert!(!second.contains(&format!("href=\"{}/executions/running1\"", base())));
    assert!(second.contains(">First page<"), "{second}");
}

#[tokio::test]
async fn an_unknown_phase_is_refused_with_the_valid_choices() {
    let admin = ScriptedAdmin::default();
    let app = console_with(&admin).await;

    let (_, html) = page(&app, &format!("{}/executions?phase=DONE", base())).await;

    assert!(html.contains("unknown phase"), "{html}");
    assert!(html.contains("SUCCEEDED"), "{html}");
}

#[tokio::test]
async fn execution_page_shows_header_data_nodes_and_error() {
    let app = console_with(&ScriptedAdmin::default()).await;

    let (status, html) = page(&app, &format!("{}/executions/failed1", base())).await;

    assert_eq!(status, 200);
    assert!(
        html.contains("name must not be empty"),
        "error message: {html}"
    );
    assert!(
        html.contains("The workflow&#x27;s code failed")
            || html.contains("The workflow's code failed"),
        "{html}"
    );
    assert!(html.contains(">world</code>"), "input value: {html}");
    assert!(html.contains(">[1, 2, 3]</code>"), "output value: {html}");
    assert!(html.contains(">n0"), "node row: {html}");
    let execution_link = |name: &str| format!("href=\"{}/executions/{name}\"", base());
    assert!(html.contains("Relaunched from"), "{html}");
    assert!(html.contains(&execution_link("done1")), "{html}");
    assert!(html.contains("Started by"), "{html}");
    assert!(html.contains(&execution_link("running1")), "{html}");
    assert!(html.contains("(node n3)"), "{html}");
    assert!(
        html.find(">cost-center=42<").unwrap() < html.find(">team=ml<").unwrap(),
        "labels, by key: {html}"
    );
    assert!(
        html.contains(&execution_link("child1")),
        "a launch-plan node's child: {html}"
    );
    assert!(
        !html.contains(">start-node"),
        "bookkeeping nodes hidden: {html}"
    );
    assert!(html.contains(&format!("href=\"{}/workflows/{WORKFLOW}\"", base())));
    assert!(
        html.contains("only queued or running executions can be terminated"),
        "{html}"
    );
}

/// Top-level nodes of the scripted wide run, done1.
const WIDE_RUN_NODES: usize = 1_200;

#[tokio::test]
async fn a_wide_execution_pages_through_all_its_nodes() {
    let app = console_with(&ScriptedAdmin::default()).await;
    let execution = format!("{}/executions/done1", base());
    let row = |node: &str| format!(">{node}</a>");
    let link = |rel: &str, from: &str| format!("href=\"{execution}?from={from}\" rel=\"{rel}\"");

    let (status, html) = page(&app, &execution).await;
    assert_eq!(status, 200);
    assert!(html.contains("Rows 1–500"), "{html}");
    assert!(
        html.contains(&row("n0000")) && html.contains(&row("n0499")),
        "{html}"
    );
    assert!(!html.contains(&row("n0500")), "{html}");
    assert!(html.contains(&link("next", "500")), "{html}");
    assert!(!html.contains("rel=\"prev\""), "{html}");

    let (_, html) = page(&app, &format!("{execution}?from=500")).await;
    assert!(html.contains("Rows 501–1000"), "{html}");
    assert!(
        !html.contains(&row("n0499")) && html.contains(&row("n0500")),
        "{html}"
    );
    assert!(
        html.contains(&row("n0999")) && !html.contains(&row("n1000")),
        "{html}"
    );
    assert!(
        html.contains(&format!("href=\"{execution}\" rel=\"prev\"")),
        "{html}"
    );
    assert!(html.contains(&link("next", "1000")), "{html}");

    let (_, html) = page(&app, &format!("{execution}?from=1000")).await;
    assert!(html.contains("Rows 1001–1200"), "{html}");
    assert!(html.contains(&row("n1199")), "{html}");
    assert!(html.contains(&link("prev", "500")), "{html}");
    assert!(!html.contains("rel=\"next\""), "{html}");
}

#[tokio::test]
async fn a_running_execution_offers_terminate_and_the_server_fn_calls_admin() {
    let admin = ScriptedAdmin::default();
    let app = console_with(&admin).await;

    let (_, html) = page(&app, &format!("{}/executions/running1", base())).await;
    assert!(html.contains("Terminate execution"), "{html}");
    assert!(!html.contains("only queued or running executions can be terminated"));

    let response = app
        .http
        .post(app.url("/api/terminate_execution"))
        .header("accept", "application/json")
        .form(&[
            ("project", PROJECT),
            ("domain", DOMAIN),
            ("name", "running1"),
            ("cause", "wrong input"),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
    assert_eq!(
        admin.terminated.lock().unwrap().clone(),
        vec![("running1".to_string(), "wrong input".to_string())]
    );
}

#[tokio::test]
async fn terminating_without_a_cause_is_refused() {
    let admin = ScriptedAdmin::default();
    let app = console_with(&admin).await;

    let response = app
        .http
        .post(app.url("/api/terminate_execution"))
        .header("accept", "application/json")
        .form(&[
            ("project", PROJECT),
            ("domain", DOMAIN),
            ("name", "running1"),
            ("cause", " "),
        ])
        .send()
        .await
        .unwrap();

    assert!(!response.status().is_success());
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("say why you terminate")
    );
    assert!(admin.terminated.lock().unwrap().is_empty());
}

/// An admin that implements nothing beyond the generated `UNIMPLEMENTED` answers.
#[derive(Clone, Default)]
struct BareAdmin;

#[tonic::async_trait]
impl AdminService for BareAdmin {}

#[tokio::test]
async fn pages_say_when_the_admin_lacks_an_api() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = tonic::service::Routes::new(AdminServiceServer::new(BareAdmin)).into_axum_router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let app = TestApp::spawn_with_admin(&format!("http://{addr}")).await;

    let (status, html) = page(&app, &format!("{}/executions", base())).await;

    assert_eq!(status, 200);
    assert!(
        html.contains("the control plane does not support this yet"),
        "{html}"
    );
}

#[tokio::test]
async fn a_watched_execution_tells_of_changes_inside_a_running_subworkflow() {
    let admin = ScriptedAdmin::default();
    *admin.inner_phase.lock().unwrap() = core::node_execution::Phase::Running;
    let app = console_with(&admin).await;
    let mut stream = app
        .http
        .get(app.url(&format!("/api/live/executions/{PROJECT}/{DOMAIN}/nested1")))
        .send()
        .await
        .unwrap();
    let mut buffered = String::new();
    assert_eq!(next_event_name(&mut stream, &mut buffered).await, "change");

    // Neither the execution nor its subworkflow node changes: only the node
    // inside it does, as flyteadmin records it.
    *admin.inner_phase.lock().unwrap() = core::node_execution::Phase::Succeeded;
    let next = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        next_event_name(&mut stream, &mut buffered),
    )
    .await
    .expect("the inner node's change is pushed");
    assert_eq!(next, "change");
}

/// A private CA, and a certificate for 127.0.0.1 that it signed, made with
/// the openssl command line in `folder`: the CA's PEM file, and the server's
/// certificate and key as PEM.
fn private_ca_and_server_certificate(
    folder: &std::path::Path,
) -> (std::path::PathBuf, Vec<u8>, Vec<u8>) {
    let openssl = |arguments: &[&str]| {
        let output = std::process::Command::new("openssl")
            .args(arguments)
            .current_dir(folder)
            .output()
            .expect("openssl runs");
        assert!(
            output.status.success(),
            "openssl {arguments:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let new_key = ["-newkey", "rsa:2048", "-nodes"];
    openssl(
        &[
            &["req", "-x509", "-days", "1"][..],
            &new_key,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-subj",
                "/CN=updraft test CA",
            ],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"][..],
            &new_key,
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        folder.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
    ]);
    (
        folder.join("ca.pem"),
        std::fs::read(folder.join("server.pem")).unwrap(),
        std::fs::read(folder.join("server.key")).unwrap(),
    )
}

/// Serves `admin` over TLS with `certificate` on a free loopback port and
/// returns its `https://` URL.
async fn serve_tls(admin: ScriptedAdmin, certificate: Vec<u8>, key: Vec<u8>) -> String {
    use tonic::transport::{Identity, Server, ServerTlsConfig, server::TcpIncoming};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::builder()
        .tls_config(ServerTlsConfig::new().identity(Identity::from_pem(certificate, key)))
        .unwrap()
        .add_service(AdminServiceServer::new(admin));
    tokio::spawn(server.serve_with_incoming(TcpIncoming::from(listener)));
    format!("https://{addr}")
}

#[tokio::test]
async fn a_console_fronts_an_admin_behind_tls_signed_by_a_private_ca() {
    let certificates = tempfile::tempdir().unwrap();
    let (ca, certificate, key) = private_ca_and_server_certificate(certificates.path());
    let endpoint = serve_tls(ScriptedAdmin::default(), certificate, key).await;
    let app = TestApp::spawn_with_environment(vec![
        ("UPDRAFT_CONSOLE__ADMIN_ENDPOINT".into(), endpoint.clone()),
        (
            "UPDRAFT_CONSOLE__CA_CERTIFICATE".into(),
            ca.display().to_string(),
        ),
        ("UPDRAFT_PROPELLER__ENABLED".into(), "false".into()),
    ])
    .await;

    let running_link = format!("href=\"{}/executions/running1\"", base());
    let (status, html) = page(&app, &format!("{}/executions", base())).await;
    assert_eq!(status, 200);
    assert!(html.contains(&running_link), "{html}");

    // Without the private CA the admin's certificate is not trusted: the
    // page says the control plane cannot be reached, and shows nothing of it.
    let untrusting = TestApp::spawn_with_admin(&endpoint).await;
    let (_, html) = page(&untrusting, &format!("{}/executions", base())).await;
    assert!(
        html.contains("the control plane is unavailable right now"),
        "{html}"
    );
    assert!(!html.contains(&running_link), "{html}");
}

#[tokio::test]
async fn a_watched_list_follows_the_pages_own_filters() {
    let admin = ScriptedAdmin::default();
    let app = console_with(&admin).await;

    let mut stream = app
        .http
        .get(app.url(&format!(
            "/api/live/executions/{PROJECT}/{DOMAIN}?phase=FAILED&kind=workflows&name={WORKFLOW}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(
        next_event_name(&mut stream, &mut String::new()).await,
        "change"
    );

    // The watch asks for what a workflow's failed executions page lists, so
    // a change outside the newest executions still reaches that page.
    let filters = admin.filters();
    assert!(
        filters
            .iter()
            .any(|filter| filter.contains("eq(phase,FAILED)") && filter.contains(WORKFLOW)),
        "{filters:?}"
    );
}
