//! Projects and domains over gRPC.

mod common;

use common::{TestApp, assert_status};
use tonic::Code;
use updraft_proto::flyteidl::admin;

fn project(id: &str) -> admin::Project {
    admin::Project {
        id: id.to_string(),
        name: format!("{id} name"),
        description: "a project".to_string(),
        labels: Some(admin::Labels {
            values: [("team".to_string(), "ml".to_string())].into(),
        }),
        ..Default::default()
    }
}

async fn default_project_and_domains_exist_on_first_start() {
    let mut app = TestApp::spawn().await;
    let project = app
        .admin
        .get_project(admin::ProjectGetRequest {
            id: "flytesnacks".to_string(),
            org: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(project.name, "flytesnacks");
    let domains: Vec<String> = project
        .domains
        .iter()
        .map(|domain| domain.id.clone())
        .collect();
    assert_eq!(domains, vec!["development", "staging", "production"]);

    let domains = app
        .admin
        .get_domains(admin::GetDomainRequest {})
        .await
        .unwrap()
        .into_inner()
        .domains;
    assert_eq!(domains.len(), 3);
    assert_eq!(domains[0].name, "development");
}

async fn register_get_update_and_list_projects() {
    let mut app = TestApp::spawn().await;
    app.admin
        .register_project(admin::ProjectRegisterRequest {
            project: Some(project("alpha")),
        })
        .await
        .unwrap();
    let stored = app
        .admin
        .get_project(admin::ProjectGetRequest {
            id: "alpha".to_string(),
            org: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stored.name, "alpha name");
    assert_eq!(stored.labels.unwrap().values["team"], "ml");

    let mut archived = project("alpha");
    archived.state = admin::project::ProjectState::Archived as i32;
    archived.description = "old".to_string();
    app.admin.update_project(archived).await.unwrap();

    // Archived projects are hidden unless a filter asks for them.
    let listed = app
        .admin
        .list_projects(admin::ProjectListRequest::default())
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<String> = listed
        .projects
        .iter()
        .map(|project| project.id.clone())
        .collect();
    assert_eq!(ids, vec!["flytesnacks"]);
    let listed = app
        .admin
        .list_projects(admin::ProjectListRequest {
            filters: "eq(state,ARCHIVED)".to_string(),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.projects.len(), 1);
    assert_eq!(listed.projects[0].id, "alpha");
    assert_eq!(listed.projects[0].description, "old");
}

async fn list_projects_pages_with_tokens_and_sorts() {
    let mut app = TestApp::spawn().await;
    for id in ["p1", "p2", "p3"] {
        app.admin
            .register_project(admin::ProjectRegisterRequest {
                project: Some(project(id)),
            })
            .await
            .unwrap();
    }
    let sort = admin::Sort {
        key: "identifier".to_string(),
        direction: admin::sort::Direction::Ascending as i32,
    };
    let first = app
        .admin
        .list_projects(admin::ProjectListRequest {
            limit: 2,
            sort_by: Some(sort.clone()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<&str> = first
        .projects
        .iter()
        .map(|project| project.id.as_str())
        .collect();
    assert_eq!(ids, vec!["flytesnacks", "p1"]);
    assert!(!first.token.is_empty());
    let second = app
        .admin
        .list_projects(admin::ProjectListRequest {
            limit: 2,
            token: first.token,
            sort_by: Some(sort),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<&str> = second
        .projects
        .iter()
        .map(|project| project.id.as_str())
        .collect();
    assert_eq!(ids, vec!["p2", "p3"]);
}

async fn project_errors() {
    let mut app = TestApp::spawn().await;
    assert_status(
        app.admin
            .register_project(admin::ProjectRegisterRequest {
                project: Some(project("flytesnacks")),
            })
            .await,
        Code::AlreadyExists,
        "flytesnacks",
    );
    assert_status(
        app.admin
            .register_project(admin::ProjectRegisterRequest {
                project: Some(admin::Project {
                    id: String::new(),
                    ..project("x")
                }),
            })
            .await,
        Code::InvalidArgument,
        "missing project_id",
    );
    assert_status(
        app.admin
            .register_project(admin::ProjectRegisterRequest {
                project: Some(admin::Project {
                    domains: vec![admin::Domain {
                        id: "d".to_string(),
                        name: "d".to_string(),
                    }],
                    ..project("x")
                }),
            })
            .await,
        Code::InvalidArgument,
        "domains",
    );
    assert_status(
        app.admin
            .get_project(admin::ProjectGetRequest {
                id: "ghost".to_string(),
                org: String::new(),
            })
            .await,
        Code::NotFound,
        "ghost",
    );
    assert_status(
        app.admin.update_project(project("ghost")).await,
        Code::NotFound,
        "ghost",
    );
    assert_status(
        app.admin
            .list_projects(admin::ProjectListRequest {
                filters: "eq(colour,red)".to_string(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "colour",
    );
}

common::on_every_backend!(
    default_project_and_domains_exist_on_first_start,
    register_get_update_and_list_projects,
    list_projects_pages_with_tokens_and_sorts,
    project_errors,
);
