//! Subworkflow nodes: the subworkflow's nodes run as a nested scope under
//! the node.

use std::sync::Arc;

use updraft_proto::flyteidl::core;

use crate::events::EventError;
use crate::execution::reporter::report_implicit_node;
use crate::execution::scope::{Scope, ScopeEnd, run_scope};
use crate::execution::{
    AbortSignal, BoxFuture, END_NODE, NodeEnd, NodePlace, NodeReporter, START_NODE,
};

/// Runs a subworkflow from the closure as a nested scope under this node.
pub(crate) fn run_subworkflow_node(
    reporter: NodeReporter,
    template: core::WorkflowTemplate,
    inputs: core::LiteralMap,
    place: NodePlace,
    stop: AbortSignal,
) -> BoxFuture<Result<NodeEnd, EventError>> {
    Box::pin(async move {
        reporter.running().await?;
        let child_parent = reporter.as_parent(0);
        let input_path = reporter.context.paths.node_inputs(&reporter.unique_id);
        report_implicit_node(
            &reporter.context,
            Some(&child_parent),
            START_NODE,
            &input_path,
        )
        .await?;
        let scope = Scope::of_workflow(
            &template,
            inputs,
            Some(child_parent.clone()),
            place.definitions,
        );
        match run_scope(Arc::clone(&reporter.context), scope, stop).await? {
            ScopeEnd::Succeeded(outputs) => {
                let end = reporter.succeed(outputs).await?;
                if matches!(end, NodeEnd::Succeeded(_)) {
                    report_implicit_node(
                        &reporter.context,
                        Some(&child_parent),
                        END_NODE,
                        &reporter.outputs_path(),
                    )
                    .await?;
                }
                Ok(end)
            }
            ScopeEnd::Failed(error) => reporter.fail(error).await,
            ScopeEnd::Stopped(reason) => reporter.stopped(Some(reason)).await,
        }
    })
}

#[cfg(test)]
mod tests {
    use updraft_proto::flyteidl::core::node_execution::Phase as NodePhase;

    use crate::execution::ExecutionEnd;
    use crate::testing::*;

    #[tokio::test]
    async fn a_subworkflow_runs_its_nodes_under_the_node_and_returns_their_outputs() {
        let bed = TestBed::default();
        bed.runtime.script("add_one", vec![add_one()]);
        let add = task("add_one", &["x"], &["o0"]);
        let inner = workflow(
            "inner",
            &["x"],
            vec![
                task_node("s0", &add, vec![promise("x", INPUTS, "x")]),
                task_node("s1", &add, vec![promise("x", "s0", "o0")]),
            ],
            vec![promise("o0", "s1", "o0")],
        );
        let outer = workflow(
            "outer",
            &["x"],
            vec![subworkflow_node(
                "sub",
                &inner,
                vec![promise("x", INPUTS, "x")],
            )],
            vec![promise("o0", "sub", "o0")],
        );
        let end = bed
            .run(claim(
                "e1",
                outer,
                &[add],
                &[inner],
                literals([("x", integer(1))]),
            ))
            .await;
        assert_eq!(end, ExecutionEnd::Succeeded);
        assert_eq!(
            output(&bed.workflow_outputs("e1").await.expect("outputs"), "o0"),
            Some(3)
        );
        assert_eq!(
            bed.admin.node_parent("e1", "sub-0-s1").as_deref(),
            Some("sub")
        );
        for node in ["sub-0-start-node", "sub-0-end-node", "sub"] {
            assert_eq!(
                bed.admin.node_phases("e1", node).last(),
                Some(&NodePhase::Succeeded),
                "{node}"
            );
        }
    }

    #[tokio::test]
    async fn a_failing_child_fails_the_subworkflow_node_with_its_error() {
        let bed = TestBed::default();
        bed.runtime
            .script("boom", vec![Step::fail("inner failure", false)]);
        let boom = task("boom", &[], &[]);
        let inner = workflow("inner", &[], vec![task_node("s0", &boom, vec![])], vec![]);
        let outer = workflow(
            "outer",
            &[],
            vec![subworkflow_node("sub", &inner, vec![])],
            vec![],
        );
        let end = bed
            .run(claim("e1", outer, &[boom], &[inner], literals([])))
            .await;
        let ExecutionEnd::Failed(error) = end else {
            panic!("expected a failure, got {end:?}");
        };
        assert_eq!(error.message, "inner failure");
        assert_eq!(
            bed.admin.node_phases("e1", "sub").last(),
            Some(&NodePhase::Failed)
        );
    }
}
