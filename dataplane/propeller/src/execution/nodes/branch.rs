//! Branch nodes: evaluate the conditions on the node's inputs and run the
//! node of the first that holds.

use std::sync::Arc;

use updraft_proto::flyteidl::core::{self, if_else_block};

use crate::events::EventError;
use crate::execution::node::run_node;
use crate::execution::{
    AbortSignal, BoxFuture, NodeEnd, NodePlace, NodeReporter, stop_reason, user_error,
};

/// Evaluates the branch's conditions on its inputs and runs the node of the
/// first that holds (or the else node); the others are reported SKIPPED.
pub(crate) fn run_branch_node(
    reporter: NodeReporter,
    branch: core::BranchNode,
    inputs: core::LiteralMap,
    place: NodePlace,
    stop: AbortSignal,
) -> BoxFuture<Result<NodeEnd, EventError>> {
    Box::pin(async move {
        reporter.running().await?;
        let Some(if_else) = branch.if_else.as_deref() else {
            return reporter
                .fail(user_error(
                    "EmptyBranch",
                    "the branch node has no conditions",
                ))
                .await;
        };
        let mut candidates: Vec<&core::Node> = Vec::new();
        let mut chosen: Option<&core::Node> = None;
        for block in if_else
            .case
            .as_deref()
            .into_iter()
            .chain(if_else.other.iter())
        {
            let Some(then_node) = block.then_node.as_deref() else {
                continue;
            };
            candidates.push(then_node);
            if chosen.is_some() {
                continue;
            }
            let condition = block.condition.clone().unwrap_or_default();
            match crate::conditions::evaluate(&condition, &inputs) {
                Ok(true) => chosen = Some(then_node),
                Ok(false) => {}
                Err(error) => {
                    return reporter
                        .fail(user_error(
                            "BranchCondition",
                            &format!("branch node {}: {error}", reporter.spec_node_id),
                        ))
                        .await;
                }
            }
        }
        let mut else_error = None;
        match &if_else.default {
            Some(if_else_block::Default::ElseNode(else_node)) => {
                candidates.push(else_node);
                if chosen.is_none() {
                    chosen = Some(else_node);
                }
            }
            Some(if_else_block::Default::Error(error)) => else_error = Some(error.message.clone()),
            None => {}
        }
        let child_parent = reporter.as_parent(0);
        for skipped in candidates
            .iter()
            .filter(|candidate| chosen.is_none_or(|chosen| !std::ptr::eq(chosen, **candidate)))
        {
            let skipped_reporter = NodeReporter::new(
                Arc::clone(&reporter.context),
                skipped,
                Some(child_parent.clone()),
            );
            let mut event = skipped_reporter.event(core::node_execution::Phase::Skipped, None);
            event.input_value = None;
            skipped_reporter.send(event).await?;
        }
        let Some(chosen) = chosen else {
            let message = else_error.unwrap_or_else(|| {
                format!(
                    "branch node {}: no condition held and it has no else",
                    reporter.spec_node_id
                )
            });
            return reporter
                .fail(user_error("UserProvidedError", &message))
                .await;
        };
        let child_place = NodePlace {
            parent: Some(child_parent),
            ..place
        };
        match run_node(
            Arc::clone(&reporter.context),
            chosen.clone(),
            child_place,
            stop.clone(),
        )
        .await?
        {
            NodeEnd::Succeeded(outputs) => reporter.succeed(outputs).await,
            NodeEnd::Failed(error) => reporter.fail(error).await,
            NodeEnd::Aborted => reporter.stopped(stop_reason(&stop)).await,
        }
    })
}

#[cfg(test)]
mod tests {
    use updraft_proto::flyteidl::core::node_execution::Phase as NodePhase;

    use crate::execution::ExecutionEnd;
    use crate::testing::*;

    fn branching(name: &str, with_else: bool) -> (core::WorkflowTemplate, Vec<core::TaskTemplate>) {
        let add = task("add_one", &["x"], &["o0"]);
        let other = task("other", &["x"], &["o0"]);
        let then = task_node("then", &add, vec![promise("x", INPUTS, "x")]);
        let otherwise =
            with_else.then(|| task_node("else", &other, vec![promise("x", INPUTS, "x")]));
        let node = branch_node(
            "b",
            vec![promise("x", INPUTS, "x")],
            "x",
            1,
            then,
            otherwise,
        );
        let template = workflow(name, &["x"], vec![node], vec![promise("o0", "b", "o0")]);
        (template, vec![add, other])
    }

    use updraft_proto::flyteidl::core;

    /// Runs the branch on input `x`, with a then node adding one and an
    /// else node (when given) answering -1.
    async fn run_branch(x: i64, with_else: bool) -> (TestBed, ExecutionEnd) {
        let bed = TestBed::default();
        bed.runtime.script("add_one", vec![add_one()]);
        bed.runtime.script(
            "other",
            vec![Step::outputs(literals([("o0", integer(-1))]))],
        );
        let (template, tasks) = branching("wf", with_else);
        let end = bed
            .run(claim(
                "e1",
                template,
                &tasks,
                &[],
                literals([("x", integer(x))]),
            ))
            .await;
        (bed, end)
    }

    #[tokio::test]
    async fn the_node_whose_condition_holds_runs_and_the_other_is_skipped() {
        let (bed, end) = run_branch(1, true).await;
        assert_eq!(end, ExecutionEnd::Succeeded);
        assert_eq!(bed.output("e1", "o0").await, Some(2));
        assert_eq!(
            bed.admin.node_phases("e1", "b-0-else"),
            [NodePhase::Skipped]
        );
        assert_eq!(
            bed.admin.node_parent("e1", "b-0-then").as_deref(),
            Some("b")
        );
        assert_eq!(bed.runtime.launch_count("other"), 0);
    }

    #[tokio::test]
    async fn the_else_runs_when_no_condition_holds() {
        let (bed, end) = run_branch(5, true).await;
        assert_eq!(end, ExecutionEnd::Succeeded);
        assert_eq!(bed.output("e1", "o0").await, Some(-1));
        assert_eq!(
            bed.admin.node_phases("e1", "b-0-then"),
            [NodePhase::Skipped]
        );
    }

    #[tokio::test]
    async fn no_condition_holding_and_no_else_fails_the_branch_saying_so() {
        let (bed, end) = run_branch(5, false).await;
        let ExecutionEnd::Failed(error) = end else {
            panic!("expected a failure, got {end:?}");
        };
        assert!(
            error.message.contains("no condition held"),
            "{}",
            error.message
        );
        assert_eq!(
            bed.admin.node_phases("e1", "b").last(),
            Some(&NodePhase::Failed)
        );
    }
}
