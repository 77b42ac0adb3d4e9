//! Launch-plan nodes: start a child execution through admin's
//! `CreateExecution` (marked as the child of this node), wait for it to end,
//! and take its outputs.

use std::time::Duration;

use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core::{self, workflow_execution::Phase as WorkflowPhase};
use updraft_proto::flyteidl::event::{self, node_execution_event};

use crate::events::EventError;
use crate::execution::{
    AbortSignal, BoxFuture, NodeEnd, NodeReporter, StopReason, system_error, user_error,
};
use crate::node_ids::child_execution_name;

/// How often the child execution's phase is read.
const CHILD_POLL: Duration = Duration::from_secs(1);

/// Runs a launch-plan node to its end.
pub(crate) fn run_launch_plan_node(
    reporter: NodeReporter,
    launch_plan: core::Identifier,
    inputs: core::LiteralMap,
    stop: AbortSignal,
) -> BoxFuture<Result<NodeEnd, EventError>> {
    Box::pin(async move {
        let context = &reporter.context;
        let mut admin_client = context.environment.events.admin();
        let parent = &context.execution_id;
        let child = core::WorkflowExecutionIdentifier {
            project: parent.project.clone(),
            domain: parent.domain.clone(),
            name: child_execution_name(&parent.name, &reporter.unique_id, 0),
            org: parent.org.clone(),
        };
        let parent_metadata = &context.execution_metadata;
        let request = admin::ExecutionCreateRequest {
            project: child.project.clone(),
            domain: child.domain.clone(),
            name: child.name.clone(),
            org: child.org.clone(),
            spec: Some(admin::ExecutionSpec {
                launch_plan: Some(launch_plan.clone()),
                metadata: Some(admin::ExecutionMetadata {
                    mode: admin::execution_metadata::ExecutionMode::ChildWorkflow as i32,
                    principal: parent_metadata.principal.clone(),
                    nesting: parent_metadata.nesting + 1,
                    parent_node_execution: Some(reporter.node_execution_id()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            inputs: Some(inputs),
        };
        match admin_client.create_execution(request).await {
            Ok(_) => {}
            // Started by this node before a propeller restart: watch that one.
            Err(status) if status.code() == tonic::Code::AlreadyExists => {}
            Err(status) => {
                reporter.running().await?;
                return reporter
                    .fail(user_error(
                        "LaunchPlanExecution",
                        &format!(
                            "cannot start launch plan {} version {}: {}",
                            launch_plan.name,
                            launch_plan.version,
                            status.message()
                        ),
                    ))
                    .await;
            }
        }
        let mut running = reporter.event(core::node_execution::Phase::Running, None);
        running.target_metadata = Some(node_execution_event::TargetMetadata::WorkflowNodeMetadata(
            event::WorkflowNodeMetadata {
                execution_id: Some(child.clone()),
            },
        ));
        reporter.send(running).await?;

        let finished = loop {
            match admin_client
                .get_execution(admin::WorkflowExecutionGetRequest {
                    id: Some(child.clone()),
                })
                .await
            {
                Ok(execution) => {
                    let closure = execution.into_inner().closure.unwrap_or_default();
                    if matches!(
                        closure.phase(),
                        WorkflowPhase::Succeeded
                            | WorkflowPhase::Failed
                            | WorkflowPhase::Aborted
                            | WorkflowPhase::TimedOut
                    ) {
                        break closure;
                    }
                }
                Err(status) => {
                    tracing::warn!(child = %child.name, message = status.message(), "cannot read the child execution; retrying");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(CHILD_POLL) => {}
                _ = crate::execution::wait_for_stop(&stop) => {
                    let reason = crate::execution::stop_reason(&stop);
                    if matches!(reason, Some(StopReason::Terminate(_))) {
                        let terminate = admin::ExecutionTerminateRequest {
                            id: Some(child.clone()),
                            cause: "the parent execution was stopped".into(),
                        };
                        if let Err(status) = admin_client.terminate_execution(terminate).await {
                            tracing::warn!(child = %child.name, message = status.message(), "cannot terminate the child execution");
                        }
                    }
                    return reporter.stopped(reason).await;
                }
            }
        };

        match finished.phase() {
            WorkflowPhase::Succeeded => {
                let data = admin_client
                    .get_execution_data(admin::WorkflowExecutionGetDataRequest {
                        id: Some(child.clone()),
                    })
                    .await;
                match data {
                    Ok(data) => {
                        reporter
                            .succeed(data.into_inner().full_outputs.unwrap_or_default())
                            .await
                    }
                    Err(status) => {
                        reporter
                            .fail(system_error(
                                "ChildOutputs",
                                &format!(
                                    "cannot read the outputs of child execution {}: {}",
                                    child.name,
                                    status.message()
                                ),
                            ))
                            .await
                    }
                }
            }
            phase => {
                let cause = match &finished.output_result {
                    Some(admin::execution_closure::OutputResult::Error(error)) => {
                        format!(": {}", error.message)
                    }
                    Some(admin::execution_closure::OutputResult::AbortMetadata(abort)) => {
                        format!(": {}", abort.cause)
                    }
                    _ => String::new(),
                };
                let kind = match phase {
                    WorkflowPhase::Aborted => "was aborted",
                    WorkflowPhase::TimedOut => "timed out",
                    _ => "failed",
                };
                reporter
                    .fail(user_error(
                        "ChildExecutionFailed",
                        &format!("child execution {} {kind}{cause}", child.name),
                    ))
                    .await
            }
        }
    })
}
