//! Push for the console: server-sent events that tell a page its data changed.
//!
//! The BFF watches on the page's behalf and sends a `change` event whenever
//! what the page shows differs from what it last saw; the browser then
//! refetches. The browser never polls. With a propeller that serves
//! `WatchExecution`, its change stream tells the BFF when to look at the
//! admin again, and a slow look keeps catching what the propeller does not
//! see (a terminate, a run still queued). In front of a plain flyteadmin the
//! BFF looks every half second instead. A stream ends with `end` once an
//! execution is terminal and its last change has been sent. Every event
//! carries data: browsers drop events whose data is empty.

use std::convert::Infallible;
use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures::Stream;
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core::{self, workflow_execution::Phase};

use crate::login::TokenSource;
use updraft_app::api::{
    AdminClient, ApiClients, BearerToken, EntityKind, ExecutionQuery, PropellerClient,
    SignedInUser, executions_page_request, now_millis,
};
use updraft_app::error::ConsoleError;
use updraft_proto::updraft::propeller::v1::{
    ExecutionChange, TailLogsRequest, WatchExecutionRequest, WatchExecutionsRequest,
};

/// How often the BFF looks at the admin for a watching page when nothing
/// tells it about changes.
const WATCH_INTERVAL: Duration = Duration::from_millis(500);
/// How often it looks anyway while the propeller's change stream is open.
const FED_WATCH_INTERVAL: Duration = Duration::from_secs(5);
/// The least time between two `change` events of one stream: a burst of
/// changes (a wide map starting) becomes a few refetches, not one per event.
const CHANGE_SPACING: Duration = Duration::from_millis(500);
/// How many extra calls one look at an execution may make to see inside its
/// running nodes (subworkflow children, retries, map indexes).
const INSIDE_LOOKS: usize = 16;

/// `GET /api/live/executions/{project}/{domain}[/{name}]` (a list's with its
/// page's query), and
/// `GET /api/live/logs/{project}/{domain}/{name}/{node}/{attempt}[?index=N]`.
pub fn live_router<S: Clone + Send + Sync + 'static>(
    clients: ApiClients,
    stopping: Stopping,
) -> Router<S> {
    Router::new()
        .route(
            "/api/live/executions/{project}/{domain}/{name}",
            get(watch_execution),
        )
        .route("/api/live/executions/{project}/{domain}", get(watch_list))
        .route(
            "/api/live/logs/{project}/{domain}/{name}/{node}/{attempt}",
            get(tail_task_log),
        )
        .layer(Extension(stopping))
        // A reverse proxy (nginx, an ingress) buffers responses by default,
        // which holds events back until its buffer fills.
        .layer(axum::middleware::map_response(
            |mut response: axum::response::Response| async move {
                response.headers_mut().insert(
                    axum::http::HeaderName::from_static("x-accel-buffering"),
                    axum::http::HeaderValue::from_static("no"),
                );
                response
            },
        ))
        .with_state(clients)
}

/// Tells the live streams that the server is stopping. An open page holds
/// its stream for as long as it stays open, so without this a graceful
/// shutdown would wait on every console tab left open.
#[derive(Clone)]
pub struct Stopping(tokio::sync::watch::Receiver<bool>);

impl Stopping {
    /// The signal to send (`true`) when stopping, and what the streams watch.
    pub fn channel() -> (tokio::sync::watch::Sender<bool>, Self) {
        let (sender, receiver) = tokio::sync::watch::channel(false);
        (sender, Self(receiver))
    }

    async fn wait(mut self) {
        if self.0.wait_for(|stopping| *stopping).await.is_err() {
            // Nobody is left to stop the server: streams run to their end.
            std::future::pending::<()>().await;
        }
    }
}

/// The APIs as the person watching may call them: with a current access
/// token each time when they signed in, since a stream outlives tokens.
#[derive(Clone)]
struct Watcher {
    clients: ApiClients,
    tokens: Option<TokenSource>,
}

impl Watcher {
    fn new(clients: ApiClients, tokens: Option<Extension<TokenSource>>) -> Self {
        Self {
            clients,
            tokens: tokens.map(|Extension(tokens)| tokens),
        }
    }

    async fn token(&self) -> Result<Option<BearerToken>, tonic::Status> {
        match &self.tokens {
            None => Ok(None),
            Some(source) => source
                .bearer()
                .await
                .map(Some)
                .map_err(|error| tonic::Status::unauthenticated(error.to_string())),
        }
    }

    async fn admin(&self) -> Result<AdminClient, tonic::Status> {
        Ok(self.clients.admin(self.token().await?.as_ref()))
    }

    async fn propeller(&self) -> Result<Option<PropellerClient>, tonic::Status> {
        if self.clients.propeller.is_none() {
            return Ok(None);
        }
        Ok(self.clients.propeller(self.token().await?.as_ref()))
    }
}

/// Which log of an attempt: a map node's index has its own (`?index=3`,
/// with the index's retry as the attempt).
#[derive(serde::Deserialize)]
struct LogQuery {
    index: Option<u32>,
}

/// Streams one task attempt's log as `log` events (each a JSON string of
/// text, its id the byte offset after it, so a reconnecting browser resumes
/// where it stopped through `Last-Event-ID`), then `end` once the attempt has
/// finished and all of it was sent. `unavailable` (a JSON string saying why)
/// when there is no log to stream.
async fn tail_task_log(
    State(clients): State<ApiClients>,
    Extension(stopping): Extension<Stopping>,
    tokens: Option<Extension<TokenSource>>,
    Path((project, domain, name, node_id, attempt)): Path<(String, String, String, String, u32)>,
    Query(log_query): Query<LogQuery>,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let resume_from = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok())
        .unwrap_or(0);
    let request = TailLogsRequest {
        task_execution: Some(core::TaskExecutionIdentifier {
            task_id: None,
            node_execution_id: Some(core::NodeExecutionIdentifier {
                node_id,
                execution_id: Some(core::WorkflowExecutionIdentifier {
                    project,
                    domain,
                    name,
                    org: String::new(),
                }),
            }),
            retry_attempt: attempt,
        }),
        offset: resume_from,
        follow: true,
        map_index: log_query.index,
    };
    let stream = async_stream(stopping, move |sender| async move {
        let unavailable = |message: &str| {
            Event::default()
                .event("unavailable")
                .json_data(message)
                .unwrap_or_default()
        };
        let propeller = match Watcher::new(clients, tokens).propeller().await {
            Ok(propeller) => propeller,
            Err(_) => {
                let _ = sender
                    .send(unavailable("your session has ended; sign in again"))
                    .await;
                return;
            }
        };
        let Some(mut propeller) = propeller else {
            let _ = sender
                .send(unavailable(
                    "this console is not connected to a propeller that serves logs; use the attempt's log links",
                ))
                .await;
            return;
        };
        let mut chunks = match propeller.tail_logs(request).await {
            Ok(response) => response.into_inner(),
            Err(status) => {
                let message = match status.code() {
                    tonic::Code::NotFound => "no log was kept for this attempt".to_string(),
                    tonic::Code::Unimplemented => {
                        "the propeller does not serve logs; use the attempt's log links".to_string()
                    }
                    code => {
                        tracing::warn!(?code, message = status.message(), "cannot tail a task log");
                        "the log cannot be read right now; reopen the node to retry".to_string()
                    }
                };
                let _ = sender.send(unavailable(&message)).await;
                return;
            }
        };
        let mut text = Utf8Chunks::default();
        loop {
            match chunks.message().await {
                Ok(Some(chunk)) => {
                    let data = text.push(&chunk.data);
                    let next_offset = chunk.offset + chunk.data.len() as u64 - text.pending_len();
                    if !data.is_empty()
                        && !sender
                            .send(
                                Event::default()
                                    .event("log")
                                    .id(next_offset.to_string())
                                    .json_data(&data)
                                    .unwrap_or_default(),
                            )
                            .await
                    {
                        return;
                    }
                    if chunk.complete {
                        let _ = sender
                            .send(Event::default().event("end").data("ended"))
                            .await;
                        return;
                    }
                }
                // The stream ended without `complete`: the browser reconnects
                // and resumes from the last offset it saw.
                Ok(None) => return,
                Err(status) => {
                    tracing::debug!(code = ?status.code(), message = status.message(), "task log stream broke");
                    return;
                }
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Turns byte chunks into text without splitting a UTF-8 character across
/// two events; bytes that are not UTF-8 become U+FFFD.
#[derive(Default)]
struct Utf8Chunks {
    pending: Vec<u8>,
}

impl Utf8Chunks {
    /// The text of `bytes` (with what was held back before), holding back an
    /// incomplete character at the end.
    fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let complete = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            Err(error) if error.error_len().is_none() => error.valid_up_to(),
            Err(_) => self.pending.len(),
        };
        let text = String::from_utf8_lossy(&self.pending[..complete]).into_owned();
        self.pending.drain(..complete);
        text
    }

    /// Bytes held back, not yet sent.
    fn pending_len(&self) -> u64 {
        self.pending.len() as u64
    }
}

/// What a watch saw in one look.
enum Look {
    /// A fingerprint of what the page shows, and whether it can still change.
    Seen { fingerprint: String, settled: bool },
    /// The watched thing does not exist.
    Gone,
}

async fn watch_execution(
    State(clients): State<ApiClients>,
    Extension(stopping): Extension<Stopping>,
    tokens: Option<Extension<TokenSource>>,
    Path((project, domain, name)): Path<(String, String, String)>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let watcher = Watcher::new(clients, tokens);
    let id = core::WorkflowExecutionIdentifier {
        project,
        domain,
        name,
        org: String::new(),
    };
    let request = WatchExecutionRequest {
        execution: Some(id.clone()),
    };
    let nudges = watcher.clients.propeller.is_some().then(|| {
        let watcher = watcher.clone();
        nudge_on_changes(async move {
            let Some(mut propeller) = watcher.propeller().await? else {
                return Err(tonic::Status::unimplemented("no propeller"));
            };
            propeller.watch_execution(request).await
        })
    });
    // Without a propeller's changes, looking inside running nodes is the only
    // way to see a subworkflow's children or a retry change.
    let look_inside = watcher.clients.propeller.is_none();
    watch(watcher, stopping, nudges, NudgeIs::Change, move |admin| {
        look_at_execution(admin, id.clone(), look_inside)
    })
}

/// The executions list a page shows, from its live URL's query: the list's
/// own filters, sort and page, and the entity whose executions it lists.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct ListWatch {
    #[serde(flatten)]
    query: ExecutionQuery,
    /// An [`EntityKind`] route segment (`workflows`), with `name`.
    kind: String,
    name: String,
}

async fn watch_list(
    State(clients): State<ApiClients>,
    Extension(stopping): Extension<Stopping>,
    tokens: Option<Extension<TokenSource>>,
    user: Option<Extension<SignedInUser>>,
    Path((project, domain)): Path<(String, String)>,
    Query(list): Query<ListWatch>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let watcher = Watcher::new(clients, tokens);
    let me = user.map(|Extension(user)| user.subject);
    let request = WatchExecutionsRequest {
        project: project.clone(),
        domain: domain.clone(),
    };
    let nudges = watcher.clients.propeller.is_some().then(|| {
        let watcher = watcher.clone();
        nudge_on_changes(async move {
            let Some(mut propeller) = watcher.propeller().await? else {
                return Err(tonic::Status::unimplemented("no propeller"));
            };
            propeller.watch_executions(request).await
        })
    });
    watch(watcher, stopping, nudges, NudgeIs::Hint, move |admin| {
        let request = list_request(&project, &domain, &list, me.as_deref());
        async move {
            let request =
                request.map_err(|error| tonic::Status::invalid_argument(error.to_string()))?;
            look_at_list(admin, request).await
        }
    })
}

/// The request the list page makes, so the watch sees what the page shows.
/// A query the page itself refuses falls back to the project's newest
/// executions: the page shows its error, not a list.
fn list_request(
    project: &str,
    domain: &str,
    list: &ListWatch,
    me: Option<&str>,
) -> Result<admin::ResourceListRequest, ConsoleError> {
    let entity = EntityKind::from_route_segment(&list.kind).map(|kind| (kind, list.name.as_str()));
    let now = now_millis();
    executions_page_request(project, domain, &list.query, entity, now, me).or_else(|_| {
        executions_page_request(project, domain, &ExecutionQuery::default(), None, now, None)
    })
}

/// A receiver that gets a nudge whenever the propeller's change stream
/// (opened by `open`) carries something, and closes when that stream ends or
/// cannot be opened. Its room for one nudge folds a burst of changes into
/// one look.
fn nudge_on_changes<Open>(open: Open) -> tokio::sync::mpsc::Receiver<()>
where
    Open: Future<Output = Result<tonic::Response<tonic::Streaming<ExecutionChange>>, tonic::Status>>
        + Send
        + 'static,
{
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        let mut changes = match open.await {
            Ok(response) => response.into_inner(),
            Err(status) => {
                tracing::debug!(code = ?status.code(), message = status.message(), "no change stream from the propeller; looking at the admin instead");
                return;
            }
        };
        loop {
            tokio::select! {
                () = sender.closed() => return,
                change = changes.message() => match change {
                    Ok(Some(_)) => {
                        // Full means a look is due already.
                        let _ = sender.try_send(());
                    }
                    Ok(None) => return,
                    Err(status) => {
                        tracing::debug!(code = ?status.code(), message = status.message(), "the propeller's change stream broke");
                        return;
                    }
                },
            }
        }
    });
    receiver
}

/// What a nudge from the propeller means to a watch.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NudgeIs {
    /// A change of the watched execution, even one its fingerprint cannot
    /// see (inside a running node).
    Change,
    /// A change somewhere in the project: look, and tell the page only if
    /// what it shows changed.
    Hint,
}

fn watch<F, Fut>(
    watcher: Watcher,
    stopping: Stopping,
    nudges: Option<tokio::sync::mpsc::Receiver<()>>,
    nudge_is: NudgeIs,
    look: F,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>>
where
    F: Fn(AdminClient) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Look, tonic::Status>> + Send,
{
    let stream = async_stream(stopping, move |sender| async move {
        let mut nudges = nudges;
        let mut last: Option<String> = None;
        let mut stale = false;
        let mut first = true;
        loop {
            // The propeller tells of a change only once admin holds it, so a
            // nudge about the watched execution is a change even where the
            // fingerprint cannot see it.
            let nudged = !first && next_look(&mut nudges).await && nudge_is == NudgeIs::Change;
            first = false;
            let admin = match watcher.admin().await {
                Ok(admin) => admin,
                Err(_) => {
                    // The session ended: the page says it is out of date
                    // until the person signs in again.
                    let _ = sender
                        .send(Event::default().event("stale").data("stale"))
                        .await;
                    return;
                }
            };
            match look(admin).await {
                Ok(Look::Seen {
                    fingerprint,
                    settled,
                }) => {
                    if nudged || last.as_deref() != Some(fingerprint.as_str()) || stale {
                        stale = false;
                        last = Some(fingerprint);
                        if !sender
                            .send(Event::default().event("change").data("changed"))
                            .await
                        {
                            return;
                        }
                        tokio::time::sleep(CHANGE_SPACING).await;
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

/// Waits until the next look at the admin is due: a nudge, or the interval
/// (short once there is no change stream any more, or never was). Whether
/// the propeller nudged.
async fn next_look(nudges: &mut Option<tokio::sync::mpsc::Receiver<()>>) -> bool {
    let Some(receiver) = nudges.as_mut() else {
        tokio::time::sleep(WATCH_INTERVAL).await;
        return false;
    };
    tokio::select! {
        () = tokio::time::sleep(FED_WATCH_INTERVAL) => false,
        nudge = receiver.recv() => {
            if nudge.is_none() {
                // The stream ended (the run is over, or the propeller went
                // away): look now, then on the short interval.
                *nudges = None;
            }
            nudge.is_some()
        }
    }
}

/// A stream fed by `produce` through a small channel; it stops producing as
/// soon as the client goes away or the server stops.
fn async_stream<P, Fut>(
    stopping: Stopping,
    produce: P,
) -> impl Stream<Item = Result<Event, Infallible>>
where
    P: FnOnce(EventSender) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let client_gone = sender.clone();
    let producing = produce(EventSender(sender));
    // A producer may wait a long time between events (a quiet execution is
    // looked at every few seconds and sends nothing), so it stops when the
    // page goes rather than at its next send; and when the server stops.
    tokio::spawn(async move {
        tokio::select! {
            () = producing => {}
            () = client_gone.closed() => {}
            () = stopping.wait() => {}
        }
    });
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
    look_inside: bool,
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
            workflow_execution_id: Some(id.clone()),
            limit: 10_000,
            ..Default::default()
        })
        .await?
        .into_inner();
    let mut fingerprint = format!("{}@{}", closure.phase, stamp(closure.updated_at.as_ref()));
    for node in &nodes.node_executions {
        add_node(&mut fingerprint, node);
    }
    if look_inside && !is_terminal(closure.phase) {
        look_inside_running_nodes(&mut admin, &id, nodes.node_executions, &mut fingerprint).await?;
    }
    Ok(Look::Seen {
        fingerprint,
        settled: is_terminal(closure.phase),
    })
}

fn add_node(fingerprint: &mut String, node: &admin::NodeExecution) {
    let closure = node.closure.as_ref();
    fingerprint.push_str(&format!(
        ";{}={}@{}",
        node.id
            .as_ref()
            .map(|id| id.node_id.as_str())
            .unwrap_or_default(),
        closure.map(|closure| closure.phase).unwrap_or_default(),
        stamp(closure.and_then(|closure| closure.updated_at.as_ref()))
    ));
}

fn node_is_settled(node: &admin::NodeExecution) -> bool {
    node.closure
        .as_ref()
        .and_then(|closure| core::node_execution::Phase::try_from(closure.phase).ok())
        .is_some_and(updraft_admin::phases::node_is_terminal)
}

/// Adds what changes inside running nodes without touching the node itself:
/// a subworkflow's or dynamic node's children, and a task node's attempts
/// (a retry, a map's indexes). A flyteadmin moves none of that onto the
/// parent. An admin without one of the listings gives nothing for it, every
/// time; any other failure fails the look, so the fingerprint never flips
/// between looks that could and could not read.
async fn look_inside_running_nodes(
    admin: &mut AdminClient,
    execution: &core::WorkflowExecutionIdentifier,
    top_level: Vec<admin::NodeExecution>,
    fingerprint: &mut String,
) -> Result<(), tonic::Status> {
    let unless_unsupported = |status: tonic::Status| {
        if status.code() == tonic::Code::Unimplemented {
            Ok(())
        } else {
            Err(status)
        }
    };
    let mut running: std::collections::VecDeque<admin::NodeExecution> = top_level
        .into_iter()
        .filter(|node| !node_is_settled(node))
        .collect();
    let mut looks_left = INSIDE_LOOKS;
    while let Some(node) = running.pop_front() {
        if looks_left == 0 {
            break;
        }
        looks_left -= 1;
        let Some(node_id) = node.id else { continue };
        let is_parent = node
            .metadata
            .as_ref()
            .is_some_and(|metadata| metadata.is_parent_node);
        if is_parent {
            let children = admin
                .list_node_executions(admin::NodeExecutionListRequest {
                    workflow_execution_id: Some(execution.clone()),
                    limit: 10_000,
                    unique_parent_id: node_id.node_id,
                    ..Default::default()
                })
                .await;
            let children = match children {
                Ok(children) => children,
                Err(status) => {
                    unless_unsupported(status)?;
                    continue;
                }
            };
            for child in children.into_inner().node_executions {
                add_node(fingerprint, &child);
                if !node_is_settled(&child) {
                    running.push_back(child);
                }
            }
        } else {
            let attempts = admin
                .list_task_executions(admin::TaskExecutionListRequest {
                    node_execution_id: Some(node_id),
                    limit: 100,
                    ..Default::default()
                })
                .await;
            let attempts = match attempts {
                Ok(attempts) => attempts,
                Err(status) => {
                    unless_unsupported(status)?;
                    continue;
                }
            };
            for attempt in attempts.into_inner().task_executions {
                let closure = attempt.closure.unwrap_or_default();
                fingerprint.push_str(&format!(
                    ";#{}={}@{}",
                    attempt.id.map(|id| id.retry_attempt).unwrap_or_default(),
                    closure.phase,
                    stamp(closure.updated_at.as_ref())
                ));
            }
        }
    }
    Ok(())
}

async fn look_at_list(
    mut admin: AdminClient,
    request: admin::ResourceListRequest,
) -> Result<Look, tonic::Status> {
    let page = admin.list_executions(request).await?.into_inner();
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

#[cfg(test)]
mod tests {
    use super::{Stopping, Utf8Chunks, async_stream};

    /// A producer that waits for ever without sending, as a watch of a
    /// quiet execution does, and whether it was let go.
    fn quiet_stream(
        stopping: Stopping,
    ) -> (impl futures::Stream, tokio::sync::oneshot::Receiver<()>) {
        let (let_go, released) = tokio::sync::oneshot::channel();
        let stream = async_stream(stopping, move |_sender| async move {
            // Dropped, and so closed, only when the producer is.
            let _held = let_go;
            std::future::pending::<()>().await;
        });
        (stream, released)
    }

    async fn within_a_minute<T>(future: impl Future<Output = T>) -> T {
        tokio::time::timeout(std::time::Duration::from_secs(60), future)
            .await
            .expect("it happens within a minute")
    }

    #[tokio::test]
    async fn a_producer_stops_when_its_page_goes_even_if_it_never_sends() {
        let (_stop, stopping) = Stopping::channel();
        let (stream, released) = quiet_stream(stopping);

        drop(stream);

        assert!(within_a_minute(released).await.is_err(), "let go");
    }

    #[tokio::test]
    async fn a_producer_stops_and_its_stream_ends_when_the_server_stops() {
        use futures::StreamExt;

        let (stop, stopping) = Stopping::channel();
        let (stream, released) = quiet_stream(stopping);
        let mut stream = Box::pin(stream);

        stop.send_replace(true);

        assert!(within_a_minute(released).await.is_err(), "let go");
        assert!(within_a_minute(stream.next()).await.is_none());
    }

    #[test]
    fn holds_back_a_character_split_across_chunks() {
        let mut text = Utf8Chunks::default();
        let bytes = "größe\n".as_bytes();
        assert_eq!(text.push(&bytes[..3]), "gr");
        assert_eq!(text.pending_len(), 1);
        assert_eq!(text.push(&bytes[3..]), "öße\n");
        assert_eq!(text.pending_len(), 0);
        assert_eq!(text.push(b"\xff ok"), "\u{fffd} ok");
    }
}
