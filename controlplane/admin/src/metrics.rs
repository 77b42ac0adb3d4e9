//! `GetExecutionMetrics`: an execution broken down into spans (its nodes,
//! their task attempts and child nodes) for timelines, as flyteadmin serves it.

use std::future::Future;
use std::pin::Pin;

use updraft_proto::flyteidl::{admin, core};

use crate::AdminApi;
use crate::error::AdminError;
use crate::executions::execution_from_record;
use crate::filters::{MAX_PAGE_SIZE, NODE_EXECUTION_FIELDS, TASK_EXECUTION_FIELDS};
use crate::identifiers::execution_key;
use crate::runs::{node_execution_from_record, task_execution_from_record};
use crate::store::{ExecutionKey, ListQuery, NodeExecutionKey, RunRepo};

/// Levels broken down when a request leaves `depth` at zero: deep enough for
/// any hand-written nesting, bounded so one call stays cheap.
const DEFAULT_DEPTH: i32 = 10;

type SpansFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<core::Span>, AdminError>> + Send + 'a>>;

fn whole_list(order_by: crate::store::OrderBy, offset: i64) -> ListQuery {
    ListQuery {
        conditions: Vec::new(),
        order_by,
        limit: i64::from(MAX_PAGE_SIZE),
        offset,
    }
}

fn by_start(spans: &mut [core::Span]) {
    spans.sort_by_key(|span| {
        span.start_time
            .as_ref()
            .map(|time| (time.seconds, time.nanos))
    });
}

impl AdminApi {
    pub(crate) async fn get_execution_metrics_impl(
        &self,
        request: admin::WorkflowExecutionGetMetricsRequest,
    ) -> Result<admin::WorkflowExecutionGetMetricsResponse, AdminError> {
        let key = execution_key(request.id.as_ref())?;
        let depth = match request.depth {
            depth if depth < 0 => {
                return Err(AdminError::invalid(format!(
                    "invalid depth {depth}: it must be zero (the default) or positive"
                )));
            }
            0 => DEFAULT_DEPTH,
            depth => depth,
        };
        let execution = execution_from_record(&self.load_execution(&key).await?)?;
        let closure = execution.closure.unwrap_or_default();
        let spans = self.node_spans(&key, String::new(), depth - 1).await?;
        Ok(admin::WorkflowExecutionGetMetricsResponse {
            span: Some(core::Span {
                start_time: closure.started_at.or(closure.created_at),
                end_time: closure.updated_at,
                spans,
                id: execution.id.map(core::span::Id::WorkflowId),
            }),
        })
    }

    /// Spans of the nodes directly under `parent` (empty: the top level),
    /// each broken down `depth` more levels.
    fn node_spans(&self, execution: &ExecutionKey, parent: String, depth: i32) -> SpansFuture<'_> {
        let execution = execution.clone();
        Box::pin(async move {
            let mut records = Vec::new();
            loop {
                let query = whole_list(NODE_EXECUTION_FIELDS.default_order, records.len() as i64);
                let page = self
                    .state
                    .store
                    .list_node_executions(&execution, &parent, &query)
                    .await?;
                let full = page.len() as i64 == query.limit;
                records.extend(page);
                if !full {
                    break;
                }
            }
            let mut spans = Vec::with_capacity(records.len());
            for record in &records {
                let node = node_execution_from_record(record)?;
                let closure = node.closure.unwrap_or_default();
                let mut children = Vec::new();
                if depth > 0 {
                    children.extend(self.task_spans(&record.key).await?);
                    if node
                        .metadata
                        .is_some_and(|metadata| metadata.is_parent_node)
                    {
                        children.extend(
                            self.node_spans(&execution, record.key.node_id.clone(), depth - 1)
                                .await?,
                        );
                    }
                    by_start(&mut children);
                }
                spans.push(core::Span {
                    start_time: closure.started_at.or(closure.created_at),
                    end_time: closure.updated_at,
                    spans: children,
                    id: node.id.map(core::span::Id::NodeId),
                });
            }
            by_start(&mut spans);
            Ok(spans)
        })
    }

    async fn task_spans(&self, node: &NodeExecutionKey) -> Result<Vec<core::Span>, AdminError> {
        let mut spans = Vec::new();
        loop {
            let query = whole_list(TASK_EXECUTION_FIELDS.default_order, spans.len() as i64);
            let page = self.state.store.list_task_executions(node, &query).await?;
            let full = page.len() as i64 == query.limit;
            for record in &page {
                let task = task_execution_from_record(record)?;
                let closure = task.closure.unwrap_or_default();
                spans.push(core::Span {
                    start_time: closure.started_at.or(closure.created_at),
                    end_time: closure.updated_at,
                    spans: Vec::new(),
                    id: task.id.map(core::span::Id::TaskId),
                });
            }
            if !full {
                break;
            }
        }
        Ok(spans)
    }
}
