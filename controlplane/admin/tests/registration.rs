//! Registering and reading tasks, workflows, launch plans and named entities.

mod common;

use common::*;
use tonic::Code;
use updraft_proto::flyteidl::core::ResourceType;
use updraft_proto::flyteidl::{admin, core};

async fn tasks_register_read_and_list() {
    let mut app = TestApp::spawn().await;
    app.admin
        .create_task(task_request("add", "v1"))
        .await
        .unwrap();
    app.admin
        .create_task(task_request("add", "v2"))
        .await
        .unwrap();
    app.admin
        .create_task(task_request("mul", "v1"))
        .await
        .unwrap();

    let task = app
        .admin
        .get_task(get_request(identifier(ResourceType::Task, "add", "v1")))
        .await
        .unwrap()
        .into_inner();
    let template = task
        .closure
        .unwrap()
        .compiled_task
        .unwrap()
        .template
        .unwrap();
    assert_eq!(template.r#type, "python-task");
    assert_eq!(
        template,
        task_request("add", "v1").spec.unwrap().template.unwrap()
    );

    let listed = app
        .admin
        .list_tasks(list_request("add", 10))
        .await
        .unwrap()
        .into_inner();
    let versions: Vec<String> = listed
        .tasks
        .iter()
        .map(|task| task.id.as_ref().unwrap().version.clone())
        .collect();
    assert_eq!(versions, vec!["v2", "v1"], "newest first by default");

    let filtered = app
        .admin
        .list_tasks(admin::ResourceListRequest {
            filters: "eq(version,v1)".to_string(),
            ..list_request("", 10)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(filtered.tasks.len(), 2);

    let page = app
        .admin
        .list_tasks(list_request("", 2))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.tasks.len(), 2);
    let rest = app
        .admin
        .list_tasks(admin::ResourceListRequest {
            token: page.token.clone(),
            ..list_request("", 2)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.tasks.len(), 1);
    assert!(rest.token.is_empty());

    let ids = app
        .admin
        .list_task_ids(admin::NamedEntityIdentifierListRequest {
            project: PROJECT.to_string(),
            domain: DOMAIN.to_string(),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<&str> = ids.entities.iter().map(|id| id.name.as_str()).collect();
    assert_eq!(names, vec!["add", "mul"]);
}

async fn reregistration_is_already_exists_or_names_the_difference() {
    let mut app = TestApp::spawn().await;
    app.admin
        .create_task(task_request("add", "v1"))
        .await
        .unwrap();
    assert_status(
        app.admin.create_task(task_request("add", "v1")).await,
        Code::AlreadyExists,
        "identical structure",
    );
    let mut changed = task_request("add", "v1");
    if let Some(core::task_template::Target::Container(container)) = changed
        .spec
        .as_mut()
        .unwrap()
        .template
        .as_mut()
        .unwrap()
        .target
        .as_mut()
    {
        container.image = "other:latest".to_string();
    }
    assert_status(
        app.admin.create_task(changed).await,
        Code::InvalidArgument,
        "template.target",
    );

    app.admin
        .create_workflow(workflow_request("wf", "add", "v1"))
        .await
        .unwrap();
    assert_status(
        app.admin
            .create_workflow(workflow_request("wf", "add", "v1"))
            .await,
        Code::AlreadyExists,
        "workflow with identical structure",
    );
    // flytekit lists a node's upstream ids in a different order on each
    // `pyflyte register`; that is still the same workflow.
    let with_upstream = |upstream: &[&str]| {
        let mut request = workflow_request("wf-upstream", "add", "v1");
        request
            .spec
            .as_mut()
            .unwrap()
            .template
            .as_mut()
            .unwrap()
            .nodes[1]
            .upstream_node_ids = upstream.iter().map(|id| id.to_string()).collect();
        request
    };
    app.admin
        .create_workflow(with_upstream(&["start-node", "n0"]))
        .await
        .unwrap();
    assert_status(
        app.admin
            .create_workflow(with_upstream(&["n0", "start-node"]))
            .await,
        Code::AlreadyExists,
        "workflow with identical structure",
    );
    let mut changed = workflow_request("wf", "add", "v1");
    changed
        .spec
        .as_mut()
        .unwrap()
        .template
        .as_mut()
        .unwrap()
        .nodes[1]
        .inputs[1] = promise("b", "n0", "o0");
    assert_status(
        app.admin.create_workflow(changed).await,
        Code::InvalidArgument,
        "template.nodes[n1]",
    );

    app.admin
        .create_launch_plan(launch_plan_request("wf", "v1"))
        .await
        .unwrap();
    assert_status(
        app.admin
            .create_launch_plan(launch_plan_request("wf", "v1"))
            .await,
        Code::AlreadyExists,
        "launch plan with identical structure",
    );
    let mut changed = launch_plan_request("wf", "v1");
    changed.spec.as_mut().unwrap().max_parallelism = 3;
    assert_status(
        app.admin.create_launch_plan(changed).await,
        Code::InvalidArgument,
        "max_parallelism",
    );
}

async fn registration_validates_ids_projects_and_types() {
    let mut app = TestApp::spawn().await;
    let mut missing_version = task_request("add", "v1");
    missing_version.id.as_mut().unwrap().version.clear();
    assert_status(
        app.admin.create_task(missing_version).await,
        Code::InvalidArgument,
        "missing version",
    );
    let mut wrong_type = task_request("add", "v1");
    wrong_type.id.as_mut().unwrap().resource_type = ResourceType::Workflow as i32;
    assert_status(
        app.admin.create_task(wrong_type).await,
        Code::InvalidArgument,
        "unexpected resource type",
    );
    let mut unknown_project = task_request("add", "v1");
    unknown_project.id.as_mut().unwrap().project = "nowhere".to_string();
    assert_status(
        app.admin.create_task(unknown_project).await,
        Code::InvalidArgument,
        "nowhere",
    );
    let mut no_template = task_request("add", "v1");
    no_template.spec.as_mut().unwrap().template = None;
    assert_status(
        app.admin.create_task(no_template).await,
        Code::InvalidArgument,
        "missing task template",
    );
    assert_status(
        app.admin
            .get_task(get_request(identifier(ResourceType::Task, "ghost", "v1")))
            .await,
        Code::NotFound,
        "ghost",
    );
    assert_status(
        app.admin.list_tasks(list_request("", 0)).await,
        Code::InvalidArgument,
        "limit",
    );
    assert_status(
        app.admin
            .list_tasks(admin::ResourceListRequest {
                filters: "eq(version".to_string(),
                ..list_request("", 5)
            })
            .await,
        Code::InvalidArgument,
        "malformed filter",
    );
}

async fn workflows_compile_with_connections_and_tasks() {
    let mut app = TestApp::spawn().await;
    app.admin
        .create_task(task_request("add", "v1"))
        .await
        .unwrap();
    app.admin
        .create_workflow(workflow_request("wf", "add", "v1"))
        .await
        .unwrap();
    let workflow = app
        .admin
        .get_workflow(get_request(identifier(ResourceType::Workflow, "wf", "v1")))
        .await
        .unwrap()
        .into_inner();
    let compiled = workflow.closure.unwrap().compiled_workflow.unwrap();
    assert_eq!(compiled.tasks.len(), 1);
    assert_eq!(
        compiled.tasks[0].template.as_ref().unwrap().id,
        Some(identifier(ResourceType::Task, "add", "v1"))
    );
    let primary = compiled.primary.unwrap();
    let connections = primary.connections.unwrap();
    assert_eq!(connections.upstream["n1"].ids, vec!["n0", "start-node"]);
    assert_eq!(connections.upstream["end-node"].ids, vec!["n1"]);
    assert_eq!(connections.downstream["start-node"].ids, vec!["n0", "n1"]);
    let template = primary.template.unwrap();
    let node_ids: Vec<&str> = template.nodes.iter().map(|node| node.id.as_str()).collect();
    assert_eq!(node_ids, vec!["start-node", "end-node", "n0", "n1"]);
    for node in &template.nodes {
        assert!(!node.upstream_node_ids.iter().any(|id| id == "start-node"));
    }
    assert_eq!(template.nodes[3].upstream_node_ids, vec!["n0"]);

    let listed = app
        .admin
        .list_workflows(list_request("wf", 5))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.workflows.len(), 1);
    let ids = app
        .admin
        .list_workflow_ids(admin::NamedEntityIdentifierListRequest {
            project: PROJECT.to_string(),
            domain: DOMAIN.to_string(),
            limit: 5,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ids.entities.len(), 1);
    assert_eq!(ids.entities[0].name, "wf");
}

async fn workflows_with_unknown_nodes_or_tasks_are_rejected_naming_the_node() {
    let mut app = TestApp::spawn().await;
    assert_status(
        app.admin
            .create_workflow(workflow_request("wf", "add", "v1"))
            .await,
        Code::InvalidArgument,
        "node n0 references task flytesnacks/development/add/v1, which is not registered",
    );
    app.admin
        .create_task(task_request("add", "v1"))
        .await
        .unwrap();
    let mut broken = workflow_request("wf", "add", "v1");
    broken
        .spec
        .as_mut()
        .unwrap()
        .template
        .as_mut()
        .unwrap()
        .nodes[1]
        .inputs[0] = promise("a", "n9", "o0");
    assert_status(
        app.admin.create_workflow(broken).await,
        Code::InvalidArgument,
        "node n1 depends on node n9",
    );
    assert_status(
        app.admin
            .get_workflow(get_request(identifier(ResourceType::Workflow, "wf", "v1")))
            .await,
        Code::NotFound,
        "wf",
    );
}

async fn launch_plans_register_activate_and_list() {
    let mut app = TestApp::spawn().await;
    app.register_fixtures("v1").await;
    app.admin
        .create_task(task_request("add", "v2"))
        .await
        .unwrap();
    app.admin
        .create_workflow(workflow_request("wf", "add", "v2"))
        .await
        .unwrap();
    app.admin
        .create_launch_plan(launch_plan_request("wf", "v2"))
        .await
        .unwrap();

    let launch_plan = app
        .admin
        .get_launch_plan(get_request(identifier(
            ResourceType::LaunchPlan,
            "wf",
            "v1",
        )))
        .await
        .unwrap()
        .into_inner();
    let closure = launch_plan.closure.unwrap();
    assert_eq!(closure.state, admin::LaunchPlanState::Inactive as i32);
    let expected = closure.expected_inputs.unwrap().parameters;
    assert!(matches!(
        expected["b"].behavior,
        Some(core::parameter::Behavior::Default(_))
    ));
    assert!(
        closure
            .expected_outputs
            .unwrap()
            .variables
            .contains_key("o0")
    );

    let active_request = admin::ActiveLaunchPlanRequest {
        id: Some(admin::NamedEntityIdentifier {
            project: PROJECT.to_string(),
            domain: DOMAIN.to_string(),
            name: "wf".to_string(),
            org: String::new(),
        }),
    };
    assert_status(
        app.admin
            .get_active_launch_plan(active_request.clone())
            .await,
        Code::NotFound,
        "no active launch plan",
    );

    for version in ["v1", "v2"] {
        app.admin
            .update_launch_plan(admin::LaunchPlanUpdateRequest {
                id: Some(identifier(ResourceType::LaunchPlan, "wf", version)),
                state: admin::LaunchPlanState::Active as i32,
            })
            .await
            .unwrap();
    }
    let active = app
        .admin
        .get_active_launch_plan(active_request.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(active.id.unwrap().version, "v2");
    let v1 = app
        .admin
        .get_launch_plan(get_request(identifier(
            ResourceType::LaunchPlan,
            "wf",
            "v1",
        )))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        v1.closure.unwrap().state,
        admin::LaunchPlanState::Inactive as i32,
        "activating v2 deactivates v1"
    );
    let actives = app
        .admin
        .list_active_launch_plans(admin::ActiveLaunchPlanListRequest {
            project: PROJECT.to_string(),
            domain: DOMAIN.to_string(),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(actives.launch_plans.len(), 1);

    let all = app
        .admin
        .list_launch_plans(list_request("wf", 10))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.launch_plans.len(), 2);
    let by_state = app
        .admin
        .list_launch_plans(admin::ResourceListRequest {
            filters: "eq(state,INACTIVE)".to_string(),
            ..list_request("", 10)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_state.launch_plans.len(), 1);
    let ids = app
        .admin
        .list_launch_plan_ids(admin::NamedEntityIdentifierListRequest {
            project: PROJECT.to_string(),
            domain: DOMAIN.to_string(),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ids.entities.len(), 1);

    app.admin
        .update_launch_plan(admin::LaunchPlanUpdateRequest {
            id: Some(identifier(ResourceType::LaunchPlan, "wf", "v2")),
            state: admin::LaunchPlanState::Inactive as i32,
        })
        .await
        .unwrap();
    assert_status(
        app.admin.get_active_launch_plan(active_request).await,
        Code::NotFound,
        "wf",
    );
}

async fn launch_plan_errors() {
    let mut app = TestApp::spawn().await;
    assert_status(
        app.admin
            .create_launch_plan(launch_plan_request("wf", "v1"))
            .await,
        Code::NotFound,
        "workflow flytesnacks/development/wf/v1",
    );
    assert_status(
        app.admin
            .update_launch_plan(admin::LaunchPlanUpdateRequest {
                id: Some(identifier(ResourceType::LaunchPlan, "ghost", "v1")),
                state: admin::LaunchPlanState::Active as i32,
            })
            .await,
        Code::NotFound,
        "ghost",
    );
    assert_status(
        app.admin
            .get_launch_plan(get_request(identifier(
                ResourceType::LaunchPlan,
                "ghost",
                "v1",
            )))
            .await,
        Code::NotFound,
        "ghost",
    );
}

async fn named_entities_follow_registration() {
    let mut app = TestApp::spawn().await;
    app.register_fixtures("v1").await;
    let id = admin::NamedEntityIdentifier {
        project: PROJECT.to_string(),
        domain: DOMAIN.to_string(),
        name: "wf".to_string(),
        org: String::new(),
    };
    let entity = app
        .admin
        .get_named_entity(admin::NamedEntityGetRequest {
            resource_type: ResourceType::Workflow as i32,
            id: Some(id.clone()),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(entity.id.unwrap().name, "wf");
    assert_eq!(entity.metadata.unwrap().state, 0);

    app.admin
        .update_named_entity(admin::NamedEntityUpdateRequest {
            resource_type: ResourceType::Workflow as i32,
            id: Some(id.clone()),
            metadata: Some(admin::NamedEntityMetadata {
                description: "adds twice".to_string(),
                state: admin::NamedEntityState::NamedEntityArchived as i32,
            }),
        })
        .await
        .unwrap();
    let listed = app
        .admin
        .list_named_entities(admin::NamedEntityListRequest {
            resource_type: ResourceType::Workflow as i32,
            project: PROJECT.to_string(),
            domain: DOMAIN.to_string(),
            limit: 10,
            filters: "eq(state,NAMED_ENTITY_ARCHIVED)".to_string(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.entities.len(), 1);
    assert_eq!(
        listed.entities[0].metadata.as_ref().unwrap().description,
        "adds twice"
    );
    let tasks = app
        .admin
        .list_named_entities(admin::NamedEntityListRequest {
            resource_type: ResourceType::Task as i32,
            project: PROJECT.to_string(),
            domain: DOMAIN.to_string(),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(tasks.entities.len(), 1);
    assert_eq!(tasks.entities[0].id.as_ref().unwrap().name, "add");

    let ghost = admin::NamedEntityIdentifier {
        name: "ghost".to_string(),
        ..id
    };
    assert_status(
        app.admin
            .get_named_entity(admin::NamedEntityGetRequest {
                resource_type: ResourceType::Task as i32,
                id: Some(ghost.clone()),
            })
            .await,
        Code::NotFound,
        "ghost",
    );
    assert_status(
        app.admin
            .update_named_entity(admin::NamedEntityUpdateRequest {
                resource_type: ResourceType::Task as i32,
                id: Some(ghost.clone()),
                metadata: Some(admin::NamedEntityMetadata::default()),
            })
            .await,
        Code::NotFound,
        "ghost",
    );
    assert_status(
        app.admin
            .get_named_entity(admin::NamedEntityGetRequest {
                resource_type: ResourceType::Dataset as i32,
                id: Some(ghost),
            })
            .await,
        Code::InvalidArgument,
        "resource type",
    );
}

/// `admin.TaskSpec` as a newer client might send it: with a field this
/// server's IDL does not have.
#[derive(Clone, PartialEq, prost::Message)]
struct FutureTaskSpec {
    #[prost(message, optional, tag = "1")]
    template: Option<core::TaskTemplate>,
    #[prost(string, tag = "99")]
    added_later: String,
}

/// `admin.TaskCreateRequest` carrying a [`FutureTaskSpec`].
#[derive(Clone, PartialEq, prost::Message)]
struct FutureTaskCreateRequest {
    #[prost(message, optional, tag = "1")]
    id: Option<core::Identifier>,
    #[prost(message, optional, tag = "2")]
    spec: Option<FutureTaskSpec>,
}

async fn specs_are_stored_as_sent_so_unknown_fields_survive() {
    use prost::Message;
    use updraft_admin::store::TaskRepo;

    let app = TestApp::spawn().await;
    let template = task_request("future", "v1").spec.unwrap().template;
    let request = FutureTaskCreateRequest {
        id: Some(identifier(ResourceType::Task, "future", "v1")),
        spec: Some(FutureTaskSpec {
            template,
            added_later: "from a newer flytekit".to_string(),
        }),
    };
    let channel = tonic::transport::Endpoint::from_shared(app.http_base.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    grpc.unary::<_, admin::TaskCreateResponse, _>(
        tonic::Request::new(request.clone()),
        http::uri::PathAndQuery::from_static("/flyteidl.service.AdminService/CreateTask"),
        tonic_prost::ProstCodec::default(),
    )
    .await
    .unwrap();

    let stored = app
        .api
        .store()
        .get_task(&updraft_admin::store::DefinitionKey {
            project: PROJECT.to_string(),
            domain: DOMAIN.to_string(),
            name: "future".to_string(),
            version: "v1".to_string(),
        })
        .await
        .unwrap()
        .unwrap();
    let decoded = FutureTaskSpec::decode(stored.spec.as_slice()).unwrap();
    assert_eq!(decoded.added_later, "from a newer flytekit");
    assert_eq!(stored.spec, request.spec.unwrap().encode_to_vec());
}

async fn parallel_registrations_all_land_and_duplicates_are_already_exists() {
    // flytekit registers tasks in parallel and retries failed calls, so the
    // same request can arrive several times at once.
    let app = TestApp::spawn().await;
    let mut calls = Vec::new();
    for index in 0..16 {
        let mut client = app.admin.clone();
        calls.push(tokio::spawn(async move {
            client
                .create_task(task_request(&format!("task{index}"), "v1"))
                .await
                .map(|_| ())
        }));
    }
    let mut duplicates = Vec::new();
    for _ in 0..4 {
        let mut client = app.admin.clone();
        duplicates.push(tokio::spawn(async move {
            client
                .create_task(task_request("same", "v1"))
                .await
                .map(|_| ())
        }));
    }
    for call in calls {
        call.await.unwrap().unwrap();
    }
    let mut succeeded = 0;
    for duplicate in duplicates {
        match duplicate.await.unwrap() {
            Ok(()) => succeeded += 1,
            Err(status) => assert_eq!(status.code(), Code::AlreadyExists, "{status:?}"),
        }
    }
    assert_eq!(succeeded, 1);
    let mut admin = app.admin.clone();
    let listed = admin
        .list_task_ids(admin::NamedEntityIdentifierListRequest {
            project: PROJECT.to_string(),
            domain: DOMAIN.to_string(),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.entities.len(), 17);
}

common::on_every_backend!(
    tasks_register_read_and_list,
    reregistration_is_already_exists_or_names_the_difference,
    registration_validates_ids_projects_and_types,
    workflows_compile_with_connections_and_tasks,
    workflows_with_unknown_nodes_or_tasks_are_rejected_naming_the_node,
    launch_plans_register_activate_and_list,
    launch_plan_errors,
    named_entities_follow_registration,
    specs_are_stored_as_sent_so_unknown_fields_survive,
    parallel_registrations_all_land_and_duplicates_are_already_exists,
);
