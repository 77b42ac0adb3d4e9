//! Description entities created from the `description` flytekit puts in task
//! and workflow specs.

mod common;

use common::*;
use tonic::Code;
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core::ResourceType;

fn docstring(summary: &str) -> admin::DescriptionEntity {
    admin::DescriptionEntity {
        id: None,
        short_description: summary.to_string(),
        long_description: Some(admin::Description {
            content: Some(admin::description::Content::Value(format!(
                "{summary}\n\nMore words."
            ))),
            format: admin::DescriptionFormat::Rst as i32,
            icon_link: String::new(),
        }),
        source_code: Some(admin::SourceCode {
            link: "https://example.com/repo/wf.py".to_string(),
        }),
        tags: vec![],
    }
}

fn list_descriptions(
    resource_type: ResourceType,
    name: &str,
    limit: u32,
    token: &str,
) -> admin::DescriptionEntityListRequest {
    admin::DescriptionEntityListRequest {
        resource_type: resource_type as i32,
        id: Some(admin::NamedEntityIdentifier {
            project: PROJECT.to_string(),
            domain: DOMAIN.to_string(),
            name: name.to_string(),
            org: String::new(),
        }),
        limit,
        token: token.to_string(),
        filters: String::new(),
        sort_by: None,
    }
}

async fn register_described(app: &mut TestApp) {
    for version in ["v1", "v2"] {
        let mut task = task_request("add", version);
        task.spec.as_mut().unwrap().description = Some(docstring(&format!("Adds, {version}")));
        app.admin.create_task(task).await.unwrap();
    }
    // A version without a description gets no entity.
    app.admin
        .create_task(task_request("add", "v3"))
        .await
        .unwrap();
    let mut workflow = workflow_request("wf", "add", "v1");
    workflow.spec.as_mut().unwrap().description = Some(docstring("Chains two additions"));
    app.admin.create_workflow(workflow).await.unwrap();
}

async fn registering_with_a_description_creates_its_entity() {
    let mut app = TestApp::spawn().await;
    register_described(&mut app).await;

    let task_description = app
        .admin
        .get_description_entity(get_request(identifier(ResourceType::Task, "add", "v2")))
        .await
        .unwrap()
        .into_inner();
    let mut expected = docstring("Adds, v2");
    expected.id = Some(identifier(ResourceType::Task, "add", "v2"));
    assert_eq!(task_description, expected);

    let workflow_description = app
        .admin
        .get_description_entity(get_request(identifier(ResourceType::Workflow, "wf", "v1")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        workflow_description.short_description,
        "Chains two additions"
    );

    let first = app
        .admin
        .list_description_entities(list_descriptions(ResourceType::Task, "add", 1, ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.description_entities.len(), 1);
    assert_eq!(first.token, "1");
    let rest = app
        .admin
        .list_description_entities(list_descriptions(ResourceType::Task, "add", 10, "1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.description_entities.len(), 1);
    assert_eq!(rest.token, "");
    let mut versions: Vec<String> = first
        .description_entities
        .iter()
        .chain(&rest.description_entities)
        .map(|entity| entity.id.clone().unwrap().version)
        .collect();
    versions.sort();
    assert_eq!(versions, ["v1", "v2"]);

    let workflows = app
        .admin
        .list_description_entities(list_descriptions(ResourceType::Workflow, "", 10, ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(workflows.description_entities.len(), 1);
    let filtered = app
        .admin
        .list_description_entities(admin::DescriptionEntityListRequest {
            filters: "eq(version,v1)".to_string(),
            ..list_descriptions(ResourceType::Task, "add", 10, "")
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(filtered.description_entities.len(), 1);
    assert_eq!(
        filtered.description_entities[0].short_description,
        "Adds, v1"
    );
}

async fn description_entity_errors() {
    let mut app = TestApp::spawn().await;
    register_described(&mut app).await;
    assert_status(
        app.admin
            .get_description_entity(get_request(identifier(ResourceType::Task, "add", "v3")))
            .await,
        Code::NotFound,
        "description entity of task flytesnacks/development/add/v3 does not exist",
    );
    assert_status(
        app.admin
            .get_description_entity(get_request(identifier(
                ResourceType::Unspecified,
                "add",
                "v1",
            )))
            .await,
        Code::InvalidArgument,
        "missing resource_type",
    );
    assert_status(
        app.admin
            .get_description_entity(get_request(identifier(
                ResourceType::LaunchPlan,
                "wf",
                "v1",
            )))
            .await,
        Code::InvalidArgument,
        "only TASK and WORKFLOW have description entities",
    );
    assert_status(
        app.admin
            .get_description_entity(get_request(identifier(ResourceType::Task, "add", "")))
            .await,
        Code::InvalidArgument,
        "missing version",
    );
    assert_status(
        app.admin
            .list_description_entities(list_descriptions(ResourceType::Task, "add", 0, ""))
            .await,
        Code::InvalidArgument,
        "invalid limit",
    );
    assert_status(
        app.admin
            .list_description_entities(admin::DescriptionEntityListRequest {
                id: None,
                ..list_descriptions(ResourceType::Task, "add", 5, "")
            })
            .await,
        Code::InvalidArgument,
        "missing id",
    );
}

common::on_every_backend!(
    registering_with_a_description_creates_its_entity,
    description_entity_errors,
);
