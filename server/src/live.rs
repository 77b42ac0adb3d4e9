//! Push for the console: server-sent events that tell a page its data changed.
//!
//! The BFF watches the admin on the page's behalf, the same way for updraft's
//! admin and for any flyteadmin, and sends a `change` event whenever what the
//! page shows differs from what it last saw; the browser then refetches. The
//! browser never polls. A stream ends with `end` once an execution is terminal
//! and its last change has been sent. Every event carries data: browsers drop
//! events whose data is empty.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures::Stream;
use tonic::transport::Channel;
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core::{self, workflow_execution::Phase};
use updraft_proto::flyteidl::service::admin_service_client::AdminServiceClient;

/// How often the BFF looks at the admin for a watching page.
const WATCH_INTERVAL: Duration = Duration::from_millis(500);
/// How many executions the watched list covers (the console's first page).
const LIST_WINDOW: u32 = 25;

type AdminClient = AdminServiceClient<Channel>;

/// `GET /api/live/executions/{project}/{domain}[/{name}]`.
pub fn live_router<S: Clone + Send + Sync + 'static>(admin: AdminClient) -> Router<S> {
    Router::new()
        .route(
            "/api/live/executions/{project}/{domain}/{name}",
            get(watch_execution),
        )
        .route("/api/live/executions/{project}/{domain}", get(watch_list))
        .with_state(admin)
}

/// What a watch saw in one look.
enum Look {
    /// A fingerprint of what the page shows, and whether it can still change.
    Seen { fingerprint: String, settled: bool },
    /// The watched thing does not exist.
    Gone,
}

async fn watch_execution(
    State(admin): State<AdminClient>,
    Path((project, domain, name)): Path<(String, String, String)>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let id = core::WorkflowExecutionIdentifier {
        project,
        domain,
        name,
        org: String::new(),
    };
    watch(admin, move |admin| look_at_execution(admin, id.clone()))
}

async fn watch_list(
    State(admin): State<AdminClient>,
    Path((project, domain)): Path<(String, String)>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    watch(admin, move |admin| {
        look_at_list(admin, project.clone(), domain.clone())
    })
}

fn watch<F, Fut>(admin: AdminClient, look: F) -> Sse<impl Stream<Item = Result<Event, Infallible>>>
where
    F: Fn(AdminClient) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Look, tonic::Status>> + Send,
{
    let stream = async_stream(move |sender| async move {
        let mut last: Option<String> = None;
        let mut stale = false;
        let mut ticker = tokio::time::interval(WATCH_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match look(admin.clone()).await {
                Ok(Look::Seen {
                    fingerprint,
                    settled,
                }) => {
                    if last.as_deref() != Some(fingerprint.as_str()) || stale {
                        stale = false;
                        last = Some(fingerprint);
                        if !sender
                            .send(Event::default().event("change").data("changed"))
                            .await
                        {
                            return;
                        }
                    }
                    if settled {
                        let _ = sender
                            .send(Event::default().event("end").data("ended"))
                            .await;
                        return;
                    }
                }
                Ok(Look::Gone) => {
                    let _ = sender
                        .send(Event::default().event("gone").data("gone"))
                        .await;
                    return;
                }
                Err(status) => {
                    // The page keeps what it has and says it may be out of
                    // date; the watch resumes when the admin answers again.
                    tracing::debug!(code = ?status.code(), message = status.message(), "live watch could not reach the admin");
                    if !stale {
                        stale = true;
                        if !sender
                            .send(Event::default().event("stale").data("stale"))
                            .await
                        {
                            return;
                        }
                    }
                }
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// A stream fed by `produce` through a small channel; it stops producing as
/// soon as the client goes away (the send fails).
fn async_stream<P, Fut>(produce: P) -> impl Stream<Item = Result<Event, Infallible>>
where
    P: FnOnce(EventSender) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    tokio::spawn(produce(EventSender(sender)));
    futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|event| (Ok(event), receiver))
    })
}

struct EventSender(tokio::sync::mpsc::Sender<Event>);

impl EventSender {
    /// Whether the client is still there.
    async fn send(&self, event: Event) -> bool {
        self.0.send(event).await.is_ok()
    }
}

fn is_terminal(phase: i32) -> bool {
    matches!(
        Phase::try_from(phase),
        Ok(Phase::Succeeded | Phase::Failed | Phase::Aborted | Phase::TimedOut)
    )
}

fn stamp(timestamp: Option<&prost_types::Timestamp>) -> String {
    timestamp
        .map(|t| format!("{}.{:09}", t.seconds, t.nanos))
        .unwrap_or_default()
}

async fn look_at_execution(
    mut admin: AdminClient,
    id: core::WorkflowExecutionIdentifier,
) -> Result<Look, tonic::Status> {
    let execution = match admin
        .get_execution(admin::WorkflowExecutionGetRequest {
            id: Some(id.clone()),
        })
        .await
    {
        Ok(response) => response.into_inner(),
        Err(status) if status.code() == tonic::Code::NotFound => return Ok(Look::Gone),
        Err(status) => return Err(status),
    };
    let closure = execution.closure.unwrap_or_default();
    let nodes = admin
        .list_node_executions(admin::NodeExecutionListRequest {
            workflow_execution_id: Some(id),
            limit: 10_000,
            ..Default::default()
        })
        .await?
        .into_inner();
    let mut fingerprint = format!("{}@{}", closure.phase, stamp(closure.updated_at.as_ref()));
    for node in &nodes.node_executions {
        let node_closure = node.closure.clone().unwrap_or_default();
        fingerprint.push_str(&format!(
            ";{}={}@{}",
            node.id
                .as_ref()
                .map(|id| id.node_id.as_str())
                .unwrap_or_default(),
            node_closure.phase,
            stamp(node_closure.updated_at.as_ref())
        ));
    }
    Ok(Look::Seen {
        fingerprint,
        settled: is_terminal(closure.phase),
    })
}

async fn look_at_list(
    mut admin: AdminClient,
    project: String,
    domain: String,
) -> Result<Look, tonic::Status> {
    let page = admin
        .list_executions(admin::ResourceListRequest {
            id: Some(admin::NamedEntityIdentifier {
                project,
                domain,
                ..Default::default()
            }),
            limit: LIST_WINDOW,
            sort_by: Some(admin::Sort {
                key: "created_at".into(),
                direction: admin::sort::Direction::Descending as i32,
            }),
            ..Default::default()
        })
        .await?
        .into_inner();
    let fingerprint = page
        .executions
        .iter()
        .map(|execution| {
            let closure = execution.closure.clone().unwrap_or_default();
            format!(
                "{}={}@{}",
                execution
                    .id
                    .as_ref()
                    .map(|id| id.name.as_str())
                    .unwrap_or_default(),
                closure.phase,
                stamp(closure.updated_at.as_ref())
            )
        })
        .collect::<Vec<_>>()
        .join(";");
    Ok(Look::Seen {
        fingerprint,
        settled: false,
    })
}
