//! Reporting one node's phases to admin under the id, parent and flags
//! flytepropeller gives it.

use std::sync::Arc;

use updraft_proto::flyteidl::core;
use updraft_proto::flyteidl::event::{self, node_execution_event};

use super::caching::NodeCaching;
use super::event_builders::node_event;
use super::{NodeEnd, RunContext, StopReason, system_error, write_message};
use crate::events::EventError;
use crate::node_ids::{ParentInfo, unique_node_id};

/// The start and end nodes run nothing: each succeeds with the scope's
/// inputs or outputs as its outputs, which is where admin reads them from.
pub(crate) async fn report_implicit_node(
    context: &RunContext,
    parent: Option<&ParentInfo>,
    node_id: &str,
    outputs_path: &str,
) -> Result<(), EventError> {
    let mut event = node_event(
        &context.execution_id,
        &unique_node_id(parent, node_id),
        core::node_execution::Phase::Succeeded,
        None,
        Some(node_execution_event::OutputResult::OutputUri(
            outputs_path.to_string(),
        )),
    );
    event.spec_node_id = node_id.to_string();
    event.node_name = node_id.to_string();
    if let Some(parent) = parent {
        event.parent_node_metadata = Some(event::ParentNodeExecutionMetadata {
            node_id: parent.unique_id.clone(),
        });
    }
    context.environment.events.node(event).await
}

/// Reports the phases of one node execution, under the id, parent and flags
/// flytepropeller gives it.
#[derive(Clone)]
pub(crate) struct NodeReporter {
    pub(crate) context: Arc<RunContext>,
    /// The id its events carry (prefixed when nested).
    pub(crate) unique_id: String,
    pub(crate) spec_node_id: String,
    node_name: String,
    parent: Option<ParentInfo>,
    pub(crate) input_uri: String,
    pub(crate) is_parent: bool,
    pub(crate) is_dynamic: bool,
    pub(crate) is_array: bool,
    /// The cache of a cached task node: its status goes on every event.
    pub(crate) caching: Option<Arc<NodeCaching>>,
}

impl NodeReporter {
    pub(crate) fn new(
        context: Arc<RunContext>,
        node: &core::Node,
        parent: Option<ParentInfo>,
    ) -> Self {
        let unique_id = unique_node_id(parent.as_ref(), &node.id);
        let input_uri = context.paths.node_inputs(&unique_id);
        let node_name = node
            .metadata
            .as_ref()
            .map(|metadata| metadata.name.clone())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| node.id.clone());
        Self {
            context,
            unique_id,
            spec_node_id: node.id.clone(),
            node_name,
            parent,
            input_uri,
            is_parent: false,
            is_dynamic: false,
            is_array: false,
            caching: None,
        }
    }

    pub(crate) fn node_execution_id(&self) -> core::NodeExecutionIdentifier {
        core::NodeExecutionIdentifier {
            node_id: self.unique_id.clone(),
            execution_id: Some(self.context.execution_id.clone()),
        }
    }

    /// The parent info its own children run under.
    pub(crate) fn as_parent(&self, attempt: u32) -> ParentInfo {
        ParentInfo {
            unique_id: self.unique_id.clone(),
            attempt,
        }
    }

    pub(crate) fn event(
        &self,
        phase: core::node_execution::Phase,
        output: Option<node_execution_event::OutputResult>,
    ) -> event::NodeExecutionEvent {
        let mut event = node_event(
            &self.context.execution_id,
            &self.unique_id,
            phase,
            Some(self.input_uri.clone()),
            output,
        );
        event.spec_node_id.clone_from(&self.spec_node_id);
        event.node_name.clone_from(&self.node_name);
        event.retry_group = "0".into();
        event.is_parent = self.is_parent;
        event.is_dynamic = self.is_dynamic;
        event.is_array = self.is_array;
        event.parent_node_metadata =
            self.parent
                .as_ref()
                .map(|parent| event::ParentNodeExecutionMetadata {
                    node_id: parent.unique_id.clone(),
                });
        if let Some(caching) = &self.caching {
            event.target_metadata = Some(node_execution_event::TargetMetadata::TaskNodeMetadata(
                caching.metadata(),
            ));
        }
        event
    }

    pub(crate) async fn report(
        &self,
        phase: core::node_execution::Phase,
        output: Option<node_execution_event::OutputResult>,
    ) -> Result<(), EventError> {
        self.send(self.event(phase, output)).await
    }

    pub(crate) async fn send(&self, event: event::NodeExecutionEvent) -> Result<(), EventError> {
        self.context.environment.events.node(event).await
    }

    pub(crate) async fn running(&self) -> Result<(), EventError> {
        self.report(core::node_execution::Phase::Running, None)
            .await
    }

    /// Fails the node with `error`.
    pub(crate) async fn fail(&self, error: core::ExecutionError) -> Result<NodeEnd, EventError> {
        self.report(
            core::node_execution::Phase::Failed,
            Some(node_execution_event::OutputResult::Error(error.clone())),
        )
        .await?;
        Ok(NodeEnd::Failed(error))
    }

    /// Ends the node as stopped: ABORTED on terminate, nothing when the lease is lost.
    pub(crate) async fn stopped(&self, reason: Option<StopReason>) -> Result<NodeEnd, EventError> {
        if reason.as_ref().is_none_or(StopReason::is_reported) {
            self.report(core::node_execution::Phase::Aborted, None)
                .await?;
        }
        Ok(NodeEnd::Aborted)
    }

    /// Where the node's own outputs go when it is not a task (a task writes its
    /// outputs under its attempt).
    pub(crate) fn outputs_path(&self) -> String {
        self.context.paths.attempt_outputs(&self.unique_id, 0)
    }

    /// Caches a cached node's outputs, before the event that says so.
    pub(crate) async fn cache_outputs(&self, outputs: &core::LiteralMap) {
        if let Some(caching) = &self.caching {
            caching.populate(outputs).await;
        }
    }

    /// Writes `outputs` and succeeds the node with them (caching them first
    /// for a cached node).
    pub(crate) async fn succeed(&self, outputs: core::LiteralMap) -> Result<NodeEnd, EventError> {
        let path = self.outputs_path();
        if let Err(error) = write_message(&self.context.environment.storage, &path, &outputs).await
        {
            return self
                .fail(system_error(
                    "WriteOutputs",
                    &format!("node {}: cannot write its outputs: {error}", self.unique_id),
                ))
                .await;
        }
        self.cache_outputs(&outputs).await;
        self.report(
            core::node_execution::Phase::Succeeded,
            Some(node_execution_event::OutputResult::OutputUri(path.clone())),
        )
        .await?;
        Ok(NodeEnd::Succeeded(outputs))
    }
}
