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
        let admin_client = context.environment.events.admin();
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
                // Children overwrite the cache when their parent does, as in Flyte.
                overwrite_cache: context.overwrite_cache,
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
            match admin_client.get_execution(child.clone()).await {
                Ok(execution) => {
                    let closure = execution.closure.unwrap_or_default();
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
                        let cause = "the parent execution was stopped".to_string();
                        if let Err(status) = admin_client.terminate_execution(child.clone(), cause).await {
                            tracing::warn!(child = %child.name, message = status.message(), "cannot terminate the child execution");
                        }
                    }
                    return reporter.stopped(reason).await;
                }
            }
        };

        match finished.phase() {
            WorkflowPhase::Succeeded => match admin_client.execution_outputs(child.clone()).await {
                Ok(outputs) => reporter.succeed(outputs).await,
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
            },
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

#[cfg(test)]
mod tests {
    use updraft_proto::flyteidl::admin;
    use updraft_proto::flyteidl::core::node_execution::Phase as NodePhase;

    use super::core;
    use crate::execution::tests::wait_until;
    use crate::execution::{ExecutionEnd, StopReason};
    use crate::testing::*;

    fn launching(launch_plan: &str) -> core::WorkflowTemplate {
        let node = core::Node {
            id: "lp".into(),
            inputs: vec![promise("x", INPUTS, "x")],
            target: Some(core::node::Target::WorkflowNode(core::WorkflowNode {
                reference: Some(core::workflow_node::Reference::LaunchplanRef(identifier(
                    core::ResourceType::LaunchPlan,
                    launch_plan,
                ))),
            })),
            ..Default::default()
        };
        workflow("wf", &["x"], vec![node], vec![promise("o0", "lp", "o0")])
    }

    #[tokio::test(start_paused = true)]
    async fn a_child_execution_is_started_as_the_nodes_child_and_its_outputs_taken() {
        let bed = TestBed::default();
        bed.admin.child_of_launch_plan_ends(
            "child_lp",
            ChildOutcome::Succeeds(literals([("o0", integer(11))])),
        );
        let end = bed
            .run(claim(
                "e1",
                launching("child_lp"),
                &[],
                &[],
                literals([("x", integer(1))]),
            ))
            .await;
        assert_eq!(end, ExecutionEnd::Succeeded);
        assert_eq!(
            output(&bed.workflow_outputs("e1").await.expect("outputs"), "o0"),
            Some(11)
        );
        let children = bed.admin.children();
        assert_eq!(children.len(), 1);
        let metadata = children[0]
            .spec
            .as_ref()
            .and_then(|spec| spec.metadata.as_ref())
            .expect("metadata");
        assert_eq!(
            metadata.mode(),
            admin::execution_metadata::ExecutionMode::ChildWorkflow
        );
        assert_eq!(metadata.nesting, 1);
        assert_eq!(
            metadata
                .parent_node_execution
                .as_ref()
                .map(|id| id.node_id.as_str()),
            Some("lp")
        );
        assert_eq!(
            children[0]
                .inputs
                .as_ref()
                .and_then(|inputs| output(inputs, "x")),
            Some(1)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_child_fails_the_node_naming_the_child_and_why() {
        let bed = TestBed::default();
        bed.admin
            .child_of_launch_plan_ends("child_lp", ChildOutcome::Fails("it broke".into()));
        let end = bed
            .run(claim(
                "e1",
                launching("child_lp"),
                &[],
                &[],
                literals([("x", integer(1))]),
            ))
            .await;
        let ExecutionEnd::Failed(error) = end else {
            panic!("expected a failure, got {end:?}");
        };
        assert!(
            error.message.contains("failed: it broke"),
            "{}",
            error.message
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_unknown_launch_plan_fails_the_node_saying_so() {
        let bed = TestBed::default();
        let end = bed
            .run(claim(
                "e1",
                launching("missing_lp"),
                &[],
                &[],
                literals([("x", integer(1))]),
            ))
            .await;
        let ExecutionEnd::Failed(error) = end else {
            panic!("expected a failure, got {end:?}");
        };
        assert!(
            error
                .message
                .contains("cannot start launch plan missing_lp"),
            "{}",
            error.message
        );
    }

    #[tokio::test(start_paused = true)]
    async fn terminating_the_parent_terminates_the_child() {
        let bed = TestBed::default();
        bed.admin
            .child_of_launch_plan_ends("child_lp", ChildOutcome::Runs);
        let (run, stop) = bed.start(claim(
            "e1",
            launching("child_lp"),
            &[],
            &[],
            literals([("x", integer(1))]),
        ));
        wait_until(|| {
            bed.admin
                .node_phases("e1", "lp")
                .contains(&NodePhase::Running)
        })
        .await;
        stop.send_replace(Some(StopReason::Terminate("by a test".into())));
        assert_eq!(run.await.expect("run"), ExecutionEnd::Aborted);
        assert_eq!(bed.admin.terminated().len(), 1);
    }
}
