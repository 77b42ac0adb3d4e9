//! Which data plane runs an execution: the execution cluster label admin
//! gives it (request, then `EXECUTION_CLUSTER_LABEL` attributes from the
//! workflow up to the project, then the configured default, then none), the
//! propellers that may claim it, the cluster recorded when one does, and the
//! placement the console reads to say an execution waits for a data plane.

mod common;

use std::time::Duration;

use common::*;
use sqlx::Row;
use tonic::Code;
use tonic::transport::Channel;
use updraft_admin::store::{Dialect, PropellerRepo, claim_candidate_sql, now_micros};
use updraft_admin::{AdminApi, AdminSettings};
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::admin::matching_attributes::Target;
use updraft_proto::flyteidl::core::workflow_execution::Phase;
use updraft_proto::flyteidl::service::admin_service_client::AdminServiceClient;
use updraft_proto::updraft::admin::v1::execution_queue_service_client::ExecutionQueueServiceClient;
use updraft_proto::updraft::admin::v1::{
    ClaimExecutionRequest, ClaimedExecution, GetExecutionPlacementRequest,
    GetExecutionPlacementResponse, RenewLeaseRequest,
};

type QueueClient = ExecutionQueueServiceClient<Channel>;

async fn queue_client(app: &TestApp) -> QueueClient {
    ExecutionQueueServiceClient::connect(app.http_base.clone())
        .await
        .expect("connect to the execution queue")
}

/// A second admin over the same database and object store, configured with
/// `default_label`, served on its own port as a replica would be.
async fn admin_with_default_label(
    app: &TestApp,
    default_label: &str,
) -> (AdminServiceClient<Channel>, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("local address"));
    let replica = AdminApi::new(
        app.api.store().clone(),
        app.api.blobs().clone(),
        AdminSettings {
            default_execution_cluster_label: Some(default_label.to_string()),
            ..AdminSettings::new(endpoint.clone())
        },
    );
    let router = tonic::service::Routes::new(replica.into_service()).into_axum_router();
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serve");
    });
    let client = AdminServiceClient::connect(endpoint)
        .await
        .expect("connect to the replica");
    (client, server)
}

fn cluster_label(value: &str) -> admin::MatchingAttributes {
    admin::MatchingAttributes {
        target: Some(Target::ExecutionClusterLabel(
            admin::ExecutionClusterLabel {
                value: value.to_string(),
            },
        )),
    }
}

/// A launch of the fixture launch plan asking for `label` (none when empty).
fn labelled_launch(name: &str, label: &str) -> admin::ExecutionCreateRequest {
    let mut request = launch_request(name);
    if !label.is_empty() {
        request
            .spec
            .as_mut()
            .expect("the fixture launch has a spec")
            .execution_cluster_label = Some(admin::ExecutionClusterLabel {
            value: label.to_string(),
        });
    }
    request
}

async fn get_execution(admin: &mut AdminServiceClient<Channel>, name: &str) -> admin::Execution {
    admin
        .get_execution(admin::WorkflowExecutionGetRequest {
            id: Some(workflow_execution_id(name)),
        })
        .await
        .unwrap_or_else(|status| panic!("get execution {name}: {status:?}"))
        .into_inner()
}

/// The execution cluster label the execution came back with.
fn label_of(execution: &admin::Execution) -> Option<String> {
    execution
        .spec
        .as_ref()?
        .execution_cluster_label
        .as_ref()
        .map(|label| label.value.clone())
}

/// The cluster the execution says ran it.
fn cluster_of(execution: &admin::Execution) -> Option<String> {
    execution
        .spec
        .as_ref()?
        .metadata
        .as_ref()?
        .system_metadata
        .as_ref()
        .map(|system| system.execution_cluster.clone())
}

async fn launched_label(admin: &mut AdminServiceClient<Channel>, name: &str) -> Option<String> {
    admin
        .create_execution(launch_request(name))
        .await
        .unwrap_or_else(|status| panic!("create execution {name}: {status:?}"));
    label_of(&get_execution(admin, name).await)
}

/// One claim by `propeller` of cluster `cluster` serving `labels`, not waiting.
async fn claim(
    queue: &mut QueueClient,
    propeller: &str,
    cluster: &str,
    labels: &[&str],
) -> Option<ClaimedExecution> {
    claim_with_lease(queue, propeller, cluster, labels, Duration::from_secs(30)).await
}

async fn claim_with_lease(
    queue: &mut QueueClient,
    propeller: &str,
    cluster: &str,
    labels: &[&str],
    lease: Duration,
) -> Option<ClaimedExecution> {
    queue
        .claim_execution(ClaimExecutionRequest {
            propeller_id: propeller.to_string(),
            lease_duration: Some(prost_types::Duration::try_from(lease).unwrap()),
            wait: None,
            cluster: cluster.to_string(),
            labels: labels.iter().map(ToString::to_string).collect(),
        })
        .await
        .unwrap_or_else(|status| panic!("claim by {propeller}: {status:?}"))
        .into_inner()
        .claimed
}

fn claimed_name(claimed: &Option<ClaimedExecution>) -> Option<String> {
    claimed
        .as_ref()?
        .execution
        .as_ref()?
        .id
        .as_ref()
        .map(|id| id.name.clone())
}

async fn placement(queue: &mut QueueClient, name: &str) -> GetExecutionPlacementResponse {
    queue
        .get_execution_placement(GetExecutionPlacementRequest {
            id: Some(workflow_execution_id(name)),
        })
        .await
        .unwrap_or_else(|status| panic!("placement of {name}: {status:?}"))
        .into_inner()
}

async fn the_label_comes_from_the_request_then_attributes_then_the_default() {
    let mut app = TestApp::spawn().await;
    app.register_fixtures("v1").await;
    let (mut replica, _server) = admin_with_default_label(&app, "fallback").await;

    // Nothing says: no label on an admin without a default, the default on one with it.
    assert_eq!(launched_label(&mut app.admin, "plain").await, None);
    assert_eq!(
        launched_label(&mut replica, "defaulted").await.as_deref(),
        Some("fallback")
    );

    // `flytectl update execution-cluster-label` at each level, least specific first.
    app.admin
        .update_project_attributes(admin::ProjectAttributesUpdateRequest {
            attributes: Some(admin::ProjectAttributes {
                project: PROJECT.to_string(),
                matching_attributes: Some(cluster_label("project-wide")),
                org: String::new(),
            }),
        })
        .await
        .expect("set the project's label");
    assert_eq!(
        launched_label(&mut replica, "by-project").await.as_deref(),
        Some("project-wide")
    );
    app.admin
        .update_project_domain_attributes(admin::ProjectDomainAttributesUpdateRequest {
            attributes: Some(admin::ProjectDomainAttributes {
                project: PROJECT.to_string(),
                domain: DOMAIN.to_string(),
                matching_attributes: Some(cluster_label("domain-wide")),
                org: String::new(),
            }),
        })
        .await
        .expect("set the domain's label");
    assert_eq!(
        launched_label(&mut replica, "by-domain").await.as_deref(),
        Some("domain-wide")
    );
    // Another workflow's attribute does not apply to this one.
    for (workflow, label) in [("other.workflow", "elsewhere"), ("wf", "workflow-own")] {
        app.admin
            .update_workflow_attributes(admin::WorkflowAttributesUpdateRequest {
                attributes: Some(admin::WorkflowAttributes {
                    project: PROJECT.to_string(),
                    domain: DOMAIN.to_string(),
                    workflow: workflow.to_string(),
                    matching_attributes: Some(cluster_label(label)),
                    org: String::new(),
                }),
            })
            .await
            .expect("set a workflow's label");
        let expected = if workflow == "wf" {
            "workflow-own"
        } else {
            "domain-wide"
        };
        assert_eq!(
            launched_label(&mut replica, &format!("by-{label}"))
                .await
                .as_deref(),
            Some(expected)
        );
    }
    // `flytectl get execution-cluster-label` reads back what was set.
    let read = app
        .admin
        .get_workflow_attributes(admin::WorkflowAttributesGetRequest {
            project: PROJECT.to_string(),
            domain: DOMAIN.to_string(),
            workflow: "wf".to_string(),
            resource_type: admin::MatchableResource::ExecutionClusterLabel as i32,
            org: String::new(),
        })
        .await
        .expect("get the workflow's label")
        .into_inner();
    assert_eq!(
        read.attributes
            .and_then(|attributes| attributes.matching_attributes),
        Some(cluster_label("workflow-own"))
    );

    // The request's own label wins over everything.
    replica
        .create_execution(labelled_launch("by-request", "gpu"))
        .await
        .expect("create a labelled execution");
    assert_eq!(
        label_of(&get_execution(&mut replica, "by-request").await).as_deref(),
        Some("gpu")
    );
    // An empty label in the request means "not given".
    replica
        .create_execution(labelled_launch("empty-request", ""))
        .await
        .expect("create an execution");
    assert_eq!(
        label_of(&get_execution(&mut replica, "empty-request").await).as_deref(),
        Some("workflow-own")
    );

    // With the attributes gone, the default again; on the admin without one, none.
    let resource_type = admin::MatchableResource::ExecutionClusterLabel as i32;
    app.admin
        .delete_workflow_attributes(admin::WorkflowAttributesDeleteRequest {
            project: PROJECT.to_string(),
            domain: DOMAIN.to_string(),
            workflow: "wf".to_string(),
            resource_type,
            org: String::new(),
        })
        .await
        .expect("delete the workflow's label");
    app.admin
        .delete_project_domain_attributes(admin::ProjectDomainAttributesDeleteRequest {
            project: PROJECT.to_string(),
            domain: DOMAIN.to_string(),
            resource_type,
            org: String::new(),
        })
        .await
        .expect("delete the domain's label");
    app.admin
        .delete_project_attributes(admin::ProjectAttributesDeleteRequest {
            project: PROJECT.to_string(),
            resource_type,
            org: String::new(),
        })
        .await
        .expect("delete the project's label");
    assert_eq!(
        launched_label(&mut replica, "defaulted-again")
            .await
            .as_deref(),
        Some("fallback")
    );
    assert_eq!(launched_label(&mut app.admin, "plain-again").await, None);
}

async fn only_a_propeller_serving_the_label_claims_it_and_its_cluster_is_recorded() {
    let mut app = TestApp::spawn().await;
    app.register_fixtures("v1").await;
    let mut queue = queue_client(&app).await;
    for (name, label) in [("needs-gpu", "gpu"), ("anywhere", ""), ("needs-tpu", "tpu")] {
        app.admin
            .create_execution(labelled_launch(name, label))
            .await
            .expect("create an execution");
    }

    // A propeller without labels skips the older labelled execution.
    let plain = claim(&mut queue, "cpu-1", "cpu-cluster", &[]).await;
    assert_eq!(claimed_name(&plain).as_deref(), Some("anywhere"));
    assert_eq!(claim(&mut queue, "cpu-1", "cpu-cluster", &[]).await, None);
    assert_eq!(
        claimed_name(&claim(&mut queue, "other-1", "other", &["fpga", "arm"]).await),
        None
    );
    let untouched = get_execution(&mut app.admin, "needs-gpu").await;
    assert_eq!(cluster_of(&untouched), None);
    assert_eq!(
        untouched.closure.as_ref().map(|closure| closure.phase),
        Some(Phase::Queued as i32)
    );

    // One serving the label gets it, oldest first across its labels.
    let gpu = claim(&mut queue, "gpu-1", "gpu-cluster", &["tpu", "gpu"]).await;
    assert_eq!(claimed_name(&gpu).as_deref(), Some("needs-gpu"));
    let handed_out = gpu.as_ref().unwrap().execution.as_ref().unwrap();
    assert_eq!(cluster_of(handed_out).as_deref(), Some("gpu-cluster"));
    assert_eq!(
        claimed_name(&claim(&mut queue, "gpu-1", "gpu-cluster", &["tpu", "gpu"]).await).as_deref(),
        Some("needs-tpu")
    );

    // GetExecution says where each ran, as flyteadmin's system metadata does.
    let ran = get_execution(&mut app.admin, "needs-gpu").await;
    assert_eq!(label_of(&ran).as_deref(), Some("gpu"));
    assert_eq!(cluster_of(&ran).as_deref(), Some("gpu-cluster"));
    let ran = get_execution(&mut app.admin, "anywhere").await;
    assert_eq!(label_of(&ran), None);
    assert_eq!(cluster_of(&ran).as_deref(), Some("cpu-cluster"));
    let listed = app
        .admin
        .list_executions(list_request("", 10))
        .await
        .expect("list executions")
        .into_inner();
    let listed_gpu = listed
        .executions
        .iter()
        .find(|execution| execution.id.as_ref().unwrap().name == "needs-gpu")
        .expect("the gpu execution is listed");
    assert_eq!(cluster_of(listed_gpu).as_deref(), Some("gpu-cluster"));

    // A labelled propeller takes unlabelled work too.
    app.admin
        .create_execution(labelled_launch("anywhere-too", ""))
        .await
        .expect("create an execution");
    assert_eq!(
        claimed_name(&claim(&mut queue, "gpu-1", "gpu-cluster", &["gpu"]).await).as_deref(),
        Some("anywhere-too")
    );

    // Terminating reaches the claiming propeller through its lease renewals.
    let claimed = gpu.unwrap();
    app.admin
        .terminate_execution(admin::ExecutionTerminateRequest {
            id: Some(workflow_execution_id("needs-gpu")),
            cause: "wrong machine".to_string(),
        })
        .await
        .expect("terminate");
    let renewed = queue
        .renew_lease(RenewLeaseRequest {
            id: Some(workflow_execution_id("needs-gpu")),
            propeller_id: "gpu-1".to_string(),
            lease_generation: claimed.lease_generation,
            lease_duration: None,
        })
        .await
        .expect("renew the lease")
        .into_inner();
    assert!(renewed.abort_requested);
    assert_eq!(renewed.abort_cause, "wrong machine");

    // Labels are checked.
    let refused = queue
        .claim_execution(ClaimExecutionRequest {
            propeller_id: "bad".to_string(),
            cluster: "c".to_string(),
            labels: vec!["gpu".to_string(), String::new()],
            ..Default::default()
        })
        .await;
    assert_status(refused, Code::InvalidArgument, "invalid label");
    let refused = queue
        .claim_execution(ClaimExecutionRequest {
            propeller_id: "greedy".to_string(),
            cluster: "c".to_string(),
            labels: (0..33).map(|index| format!("label-{index}")).collect(),
            ..Default::default()
        })
        .await;
    assert_status(refused, Code::InvalidArgument, "at most 32 labels");
}

async fn relaunched_and_recovered_executions_keep_the_original_label() {
    let mut app = TestApp::spawn().await;
    app.register_fixtures("v1").await;
    app.admin
        .create_execution(labelled_launch("original", "gpu"))
        .await
        .expect("create the original");
    // An attribute set later does not move the original's relaunches.
    app.admin
        .update_project_domain_attributes(admin::ProjectDomainAttributesUpdateRequest {
            attributes: Some(admin::ProjectDomainAttributes {
                project: PROJECT.to_string(),
                domain: DOMAIN.to_string(),
                matching_attributes: Some(cluster_label("cpu")),
                org: String::new(),
            }),
        })
        .await
        .expect("set the domain's label");
    let mut queue = queue_client(&app).await;
    assert_eq!(
        claimed_name(&claim(&mut queue, "gpu-1", "gpu-cluster", &["gpu"]).await).as_deref(),
        Some("original")
    );
    app.admin
        .relaunch_execution(admin::ExecutionRelaunchRequest {
            id: Some(workflow_execution_id("original")),
            name: "relaunched".to_string(),
            overwrite_cache: false,
        })
        .await
        .expect("relaunch");
    app.admin
        .recover_execution(admin::ExecutionRecoverRequest {
            id: Some(workflow_execution_id("original")),
            name: "recovered".to_string(),
            metadata: None,
        })
        .await
        .expect("recover");
    for name in ["relaunched", "recovered"] {
        let again = get_execution(&mut app.admin, name).await;
        assert_eq!(label_of(&again).as_deref(), Some("gpu"), "{name}");
        // Not claimed yet: no cluster, whatever the original ran on.
        assert_eq!(cluster_of(&again), None, "{name}");
    }
    assert_eq!(
        launched_label(&mut app.admin, "fresh").await.as_deref(),
        Some("cpu")
    );
}

async fn a_queued_execution_tells_when_no_live_propeller_serves_its_label() {
    let mut app = TestApp::spawn().await;
    app.register_fixtures("v1").await;
    let mut queue = queue_client(&app).await;

    // No propeller has called at all: even an unlabelled execution waits.
    app.admin
        .create_execution(labelled_launch("anywhere", ""))
        .await
        .expect("create an execution");
    let waiting = placement(&mut queue, "anywhere").await;
    assert!(waiting.awaiting_data_plane);
    assert_eq!(waiting.cluster_label, "");

    let plain = claim(&mut queue, "cpu-1", "cpu-cluster", &[]).await;
    assert_eq!(claimed_name(&plain).as_deref(), Some("anywhere"));
    let running = placement(&mut queue, "anywhere").await;
    assert!(!running.awaiting_data_plane);
    assert_eq!(running.cluster, "cpu-cluster");

    // A live propeller without the label does not help a labelled execution.
    app.admin
        .create_execution(labelled_launch("needs-gpu", "gpu"))
        .await
        .expect("create a labelled execution");
    let waiting = placement(&mut queue, "needs-gpu").await;
    assert!(waiting.awaiting_data_plane);
    assert_eq!(waiting.cluster_label, "gpu");
    assert_eq!(waiting.cluster, "");

    // Once a propeller serving it has called (here: just before it was
    // queued, with the shortest lease), it is expected to be claimed...
    assert_eq!(
        claim_with_lease(
            &mut queue,
            "gpu-1",
            "gpu-cluster",
            &["gpu-large"],
            Duration::from_secs(1)
        )
        .await,
        None
    );
    assert_eq!(
        claimed_name(
            &claim_with_lease(
                &mut queue,
                "gpu-2",
                "gpu-cluster",
                &["gpu", "gpu-large"],
                Duration::from_secs(1)
            )
            .await
        )
        .as_deref(),
        Some("needs-gpu")
    );
    app.admin
        .create_execution(labelled_launch("needs-gpu-too", "gpu"))
        .await
        .expect("create a labelled execution");
    assert!(
        !placement(&mut queue, "needs-gpu-too")
            .await
            .awaiting_data_plane
    );
    let live = app
        .api
        .store()
        .list_live_propellers(now_micros())
        .await
        .expect("list live propellers");
    let gpu = live
        .iter()
        .find(|propeller| propeller.propeller_id == "gpu-2")
        .expect("the gpu propeller is live");
    assert_eq!(gpu.cluster, "gpu-cluster");
    assert_eq!(gpu.labels, ["gpu", "gpu-large"]);

    // ...until it has not been heard from for a few of its leases.
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    let waiting = placement(&mut queue, "needs-gpu-too").await;
    assert!(waiting.awaiting_data_plane);

    // A finished execution waits for nothing.
    app.admin
        .terminate_execution(admin::ExecutionTerminateRequest {
            id: Some(workflow_execution_id("needs-gpu-too")),
            cause: "no gpu today".to_string(),
        })
        .await
        .expect("terminate");
    assert!(
        !placement(&mut queue, "needs-gpu-too")
            .await
            .awaiting_data_plane
    );
    assert_status(
        queue
            .get_execution_placement(GetExecutionPlacementRequest {
                id: Some(workflow_execution_id("ghost")),
            })
            .await,
        Code::NotFound,
        "does not exist",
    );
}

async fn lease_renewals_keep_a_busy_propeller_live() {
    let mut app = TestApp::spawn().await;
    app.register_fixtures("v1").await;
    let mut queue = queue_client(&app).await;
    app.admin
        .create_execution(labelled_launch("running", "gpu"))
        .await
        .expect("create a labelled execution");
    let lease = Duration::from_secs(1);
    let claimed = claim_with_lease(&mut queue, "busy-1", "gpu-cluster", &["gpu"], lease)
        .await
        .expect("the labelled execution is handed out");
    app.admin
        .create_execution(labelled_launch("next", "gpu"))
        .await
        .expect("create another labelled execution");
    // A busy propeller claims nothing more; it only renews. Its claim made
    // it live for three leases; the renewals keep it so beyond that.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        queue
            .renew_lease(RenewLeaseRequest {
                id: Some(workflow_execution_id("running")),
                propeller_id: "busy-1".to_string(),
                lease_generation: claimed.lease_generation,
                lease_duration: Some(prost_types::Duration::try_from(lease).unwrap()),
            })
            .await
            .expect("renew the lease");
    }
    assert!(!placement(&mut queue, "next").await.awaiting_data_plane);
}

async fn the_claim_query_reads_one_index_range_per_label() {
    let app = TestApp::spawn().await;
    let store = app.api.store();
    let dialect = store.dialect();
    let mut connection = store.pool().acquire().await.expect("a connection");
    if dialect == Dialect::Postgres {
        // Tables are empty here, where a sequential scan is always cheapest.
        sqlx::query("SET enable_seqscan = off")
            .execute(&mut *connection)
            .await
            .expect("disable sequential scans");
    }
    for label_count in [0, 1, 3] {
        let sql = claim_candidate_sql(label_count);
        let explain = match dialect {
            Dialect::Sqlite => format!("EXPLAIN QUERY PLAN {sql}"),
            Dialect::Postgres => format!("EXPLAIN {sql}"),
        };
        let mut statement = sqlx::query(&explain).bind(now_micros());
        for index in 0..=label_count {
            statement = statement.bind(format!("label-{index}"));
        }
        let plan: Vec<String> = statement
            .fetch_all(&mut *connection)
            .await
            .expect("explain the claim query")
            .iter()
            .map(|row| match dialect {
                Dialect::Sqlite => row.try_get::<String, _>("detail"),
                Dialect::Postgres => row.try_get::<String, _>(0),
            })
            .collect::<Result<_, _>>()
            .expect("read the plan");
        let (index_reads, scans) = match dialect {
            Dialect::Sqlite => (
                plan.iter()
                    .filter(|line| {
                        line.contains("SEARCH executions USING INDEX executions_claimable")
                    })
                    .count(),
                plan.iter()
                    .filter(|line| line.trim().starts_with("SCAN executions"))
                    .count(),
            ),
            Dialect::Postgres => (
                plan.iter()
                    .filter(|line| line.contains("using executions_claimable on executions"))
                    .count(),
                plan.iter()
                    .filter(|line| line.contains("Seq Scan on executions"))
                    .count(),
            ),
        };
        assert_eq!(
            (index_reads, scans),
            (label_count + 1, 0),
            "{label_count} labels: {plan:#?}"
        );
    }
}

on_every_backend!(
    the_label_comes_from_the_request_then_attributes_then_the_default,
    only_a_propeller_serving_the_label_claims_it_and_its_cluster_is_recorded,
    relaunched_and_recovered_executions_keep_the_original_label,
    a_queued_execution_tells_when_no_live_propeller_serves_its_label,
    lease_renewals_keep_a_busy_propeller_live,
    the_claim_query_reads_one_index_range_per_label,
);
