//! Matchable attributes at the project, project-domain and workflow levels.

mod common;

use common::*;
use tonic::Code;
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::admin::MatchableResource;
use updraft_proto::flyteidl::admin::matching_attributes::Target;

fn execution_queue(tag: &str) -> admin::MatchingAttributes {
    admin::MatchingAttributes {
        target: Some(Target::ExecutionQueueAttributes(
            admin::ExecutionQueueAttributes {
                tags: vec![tag.to_string()],
            },
        )),
    }
}

fn execution_config(parallelism: i32) -> admin::MatchingAttributes {
    admin::MatchingAttributes {
        target: Some(Target::WorkflowExecutionConfig(
            admin::WorkflowExecutionConfig {
                max_parallelism: parallelism,
                ..Default::default()
            },
        )),
    }
}

fn project_domain_update(
    attributes: Option<admin::MatchingAttributes>,
) -> admin::ProjectDomainAttributesUpdateRequest {
    admin::ProjectDomainAttributesUpdateRequest {
        attributes: Some(admin::ProjectDomainAttributes {
            project: PROJECT.to_string(),
            domain: DOMAIN.to_string(),
            matching_attributes: attributes,
            org: String::new(),
        }),
    }
}

fn project_domain_get(resource_type: i32) -> admin::ProjectDomainAttributesGetRequest {
    admin::ProjectDomainAttributesGetRequest {
        project: PROJECT.to_string(),
        domain: DOMAIN.to_string(),
        resource_type,
        org: String::new(),
    }
}

fn workflow_get(workflow: &str, resource_type: i32) -> admin::WorkflowAttributesGetRequest {
    admin::WorkflowAttributesGetRequest {
        project: PROJECT.to_string(),
        domain: DOMAIN.to_string(),
        workflow: workflow.to_string(),
        resource_type,
        org: String::new(),
    }
}

async fn project_domain_attributes_update_get_replace_and_delete() {
    let mut app = TestApp::spawn().await;
    let queue = MatchableResource::ExecutionQueue as i32;
    app.admin
        .update_project_domain_attributes(project_domain_update(Some(execution_queue("gpu"))))
        .await
        .unwrap();
    let got = app
        .admin
        .get_project_domain_attributes(project_domain_get(queue))
        .await
        .unwrap()
        .into_inner()
        .attributes
        .unwrap();
    assert_eq!(got.project, PROJECT);
    assert_eq!(got.domain, DOMAIN);
    assert_eq!(got.matching_attributes, Some(execution_queue("gpu")));

    // Another resource type lives beside it; the same type is replaced.
    app.admin
        .update_project_domain_attributes(project_domain_update(Some(execution_config(4))))
        .await
        .unwrap();
    app.admin
        .update_project_domain_attributes(project_domain_update(Some(execution_queue("cpu"))))
        .await
        .unwrap();
    let got = app
        .admin
        .get_project_domain_attributes(project_domain_get(queue))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        got.attributes.unwrap().matching_attributes,
        Some(execution_queue("cpu"))
    );

    app.admin
        .delete_project_domain_attributes(admin::ProjectDomainAttributesDeleteRequest {
            project: PROJECT.to_string(),
            domain: DOMAIN.to_string(),
            resource_type: queue,
            org: String::new(),
        })
        .await
        .unwrap();
    assert_status(
        app.admin
            .get_project_domain_attributes(project_domain_get(queue))
            .await,
        Code::NotFound,
        "EXECUTION_QUEUE attributes for project flytesnacks, domain development do not exist",
    );
    // The other type is untouched.
    let config = app
        .admin
        .get_project_domain_attributes(project_domain_get(
            MatchableResource::WorkflowExecutionConfig as i32,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        config.attributes.unwrap().matching_attributes,
        Some(execution_config(4))
    );
}

async fn project_and_workflow_levels_and_the_list_across_them() {
    let mut app = TestApp::spawn().await;
    let queue = MatchableResource::ExecutionQueue as i32;
    app.admin
        .update_project_attributes(admin::ProjectAttributesUpdateRequest {
            attributes: Some(admin::ProjectAttributes {
                project: PROJECT.to_string(),
                matching_attributes: Some(execution_queue("project-queue")),
                org: String::new(),
            }),
        })
        .await
        .unwrap();
    app.admin
        .update_workflow_attributes(admin::WorkflowAttributesUpdateRequest {
            attributes: Some(admin::WorkflowAttributes {
                project: PROJECT.to_string(),
                domain: DOMAIN.to_string(),
                workflow: "wf".to_string(),
                matching_attributes: Some(execution_queue("workflow-queue")),
                org: String::new(),
            }),
        })
        .await
        .unwrap();
    let project = app
        .admin
        .get_project_attributes(admin::ProjectAttributesGetRequest {
            project: PROJECT.to_string(),
            resource_type: queue,
            org: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .attributes
        .unwrap();
    assert_eq!(
        project.matching_attributes,
        Some(execution_queue("project-queue"))
    );
    let workflow = app
        .admin
        .get_workflow_attributes(workflow_get("wf", queue))
        .await
        .unwrap()
        .into_inner()
        .attributes
        .unwrap();
    assert_eq!(workflow.workflow, "wf");
    assert_eq!(
        workflow.matching_attributes,
        Some(execution_queue("workflow-queue"))
    );

    let listed = app
        .admin
        .list_matchable_attributes(admin::ListMatchableAttributesRequest {
            resource_type: queue,
            org: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .configurations;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].project, PROJECT);
    assert_eq!(listed[0].domain, "");
    assert_eq!(listed[0].attributes, Some(execution_queue("project-queue")));
    assert_eq!(listed[1].domain, DOMAIN);
    assert_eq!(listed[1].workflow, "wf");
    let none = app
        .admin
        .list_matchable_attributes(admin::ListMatchableAttributesRequest {
            resource_type: MatchableResource::TaskResource as i32,
            org: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(none.configurations.is_empty());

    app.admin
        .delete_workflow_attributes(admin::WorkflowAttributesDeleteRequest {
            project: PROJECT.to_string(),
            domain: DOMAIN.to_string(),
            workflow: "wf".to_string(),
            resource_type: queue,
            org: String::new(),
        })
        .await
        .unwrap();
    assert_status(
        app.admin
            .get_workflow_attributes(workflow_get("wf", queue))
            .await,
        Code::NotFound,
        "EXECUTION_QUEUE attributes for project flytesnacks, domain development, workflow wf do not exist",
    );
}

async fn a_project_without_an_execution_config_gets_the_empty_default() {
    let mut app = TestApp::spawn().await;
    let config = app
        .admin
        .get_project_attributes(admin::ProjectAttributesGetRequest {
            project: PROJECT.to_string(),
            resource_type: MatchableResource::WorkflowExecutionConfig as i32,
            org: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .attributes
        .unwrap();
    assert_eq!(
        config.matching_attributes,
        Some(admin::MatchingAttributes {
            target: Some(Target::WorkflowExecutionConfig(Default::default()))
        })
    );
}

async fn matchable_attribute_errors() {
    let mut app = TestApp::spawn().await;
    let queue = MatchableResource::ExecutionQueue as i32;
    assert_status(
        app.admin
            .update_project_domain_attributes(project_domain_update(None))
            .await,
        Code::InvalidArgument,
        "missing matching_attributes",
    );
    assert_status(
        app.admin
            .update_project_domain_attributes(project_domain_update(Some(
                admin::MatchingAttributes { target: None },
            )))
            .await,
        Code::InvalidArgument,
        "missing matching_attributes",
    );
    assert_status(
        app.admin
            .update_project_domain_attributes(admin::ProjectDomainAttributesUpdateRequest {
                attributes: None,
            })
            .await,
        Code::InvalidArgument,
        "missing attributes",
    );
    assert_status(
        app.admin
            .get_project_domain_attributes(project_domain_get(99))
            .await,
        Code::InvalidArgument,
        "invalid resource_type 99",
    );
    assert_status(
        app.admin
            .list_matchable_attributes(admin::ListMatchableAttributesRequest {
                resource_type: 42,
                org: String::new(),
            })
            .await,
        Code::InvalidArgument,
        "invalid resource_type 42",
    );
    assert_status(
        app.admin
            .update_project_attributes(admin::ProjectAttributesUpdateRequest {
                attributes: Some(admin::ProjectAttributes {
                    project: "nosuch".to_string(),
                    matching_attributes: Some(execution_queue("q")),
                    org: String::new(),
                }),
            })
            .await,
        Code::InvalidArgument,
        "project nosuch is registered",
    );
    assert_status(
        app.admin
            .update_workflow_attributes(admin::WorkflowAttributesUpdateRequest {
                attributes: Some(admin::WorkflowAttributes {
                    project: PROJECT.to_string(),
                    domain: "nodomain".to_string(),
                    workflow: "wf".to_string(),
                    matching_attributes: Some(execution_queue("q")),
                    org: String::new(),
                }),
            })
            .await,
        Code::InvalidArgument,
        "domain nodomain are registered",
    );
    assert_status(
        app.admin
            .get_workflow_attributes(workflow_get("", queue))
            .await,
        Code::InvalidArgument,
        "missing workflow",
    );
    assert_status(
        app.admin
            .get_project_attributes(admin::ProjectAttributesGetRequest {
                project: PROJECT.to_string(),
                resource_type: queue,
                org: String::new(),
            })
            .await,
        Code::NotFound,
        "EXECUTION_QUEUE attributes for project flytesnacks do not exist",
    );
    assert_status(
        app.admin
            .delete_project_attributes(admin::ProjectAttributesDeleteRequest {
                project: PROJECT.to_string(),
                resource_type: queue,
                org: String::new(),
            })
            .await,
        Code::NotFound,
        "do not exist",
    );
    assert_status(
        app.admin
            .get_project_attributes(admin::ProjectAttributesGetRequest {
                project: "nosuch".to_string(),
                resource_type: MatchableResource::WorkflowExecutionConfig as i32,
                org: String::new(),
            })
            .await,
        Code::InvalidArgument,
        "project nosuch is registered",
    );
}

common::on_every_backend!(
    project_domain_attributes_update_get_replace_and_delete,
    project_and_workflow_levels_and_the_list_across_them,
    a_project_without_an_execution_config_gets_the_empty_default,
    matchable_attribute_errors,
);
