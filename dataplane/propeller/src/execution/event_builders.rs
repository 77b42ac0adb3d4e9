//! The errors and events the engine sends, built the way flytepropeller
//! builds them.

use std::time::SystemTime;

use updraft_proto::flyteidl::core;
use updraft_proto::flyteidl::event::{self, node_execution_event, workflow_execution_event};

pub(crate) fn system_error(code: &str, message: &str) -> core::ExecutionError {
    core::ExecutionError {
        code: code.to_string(),
        message: message.to_string(),
        kind: core::execution_error::ErrorKind::System as i32,
        timestamp: Some(now()),
        ..Default::default()
    }
}

pub(crate) fn user_error(code: &str, message: &str) -> core::ExecutionError {
    core::ExecutionError {
        code: code.to_string(),
        message: message.to_string(),
        kind: core::execution_error::ErrorKind::User as i32,
        timestamp: Some(now()),
        ..Default::default()
    }
}

pub(crate) fn now() -> prost_types::Timestamp {
    prost_types::Timestamp::from(SystemTime::now())
}

pub(crate) fn workflow_event(
    execution_id: &core::WorkflowExecutionIdentifier,
    phase: core::workflow_execution::Phase,
    output: Option<workflow_execution_event::OutputResult>,
) -> event::WorkflowExecutionEvent {
    event::WorkflowExecutionEvent {
        execution_id: Some(execution_id.clone()),
        phase: phase as i32,
        occurred_at: Some(now()),
        output_result: output,
        ..Default::default()
    }
}

pub(crate) fn node_event(
    execution_id: &core::WorkflowExecutionIdentifier,
    node_id: &str,
    phase: core::node_execution::Phase,
    input_uri: Option<String>,
    output: Option<node_execution_event::OutputResult>,
) -> event::NodeExecutionEvent {
    event::NodeExecutionEvent {
        id: Some(core::NodeExecutionIdentifier {
            node_id: node_id.to_string(),
            execution_id: Some(execution_id.clone()),
        }),
        phase: phase as i32,
        occurred_at: Some(now()),
        input_value: input_uri.map(node_execution_event::InputValue::InputUri),
        output_result: output,
        spec_node_id: node_id.to_string(),
        node_name: node_id.to_string(),
        reported_at: Some(now()),
        ..Default::default()
    }
}
