//! Failure nodes (`@workflow(on_failure=…)`): the handler runs once its
//! scope has failed, sees the scope's inputs and the failure, and the scope
//! still fails with the original error.

use updraft_proto::flyteidl::core::node_execution::Phase as NodePhase;
use updraft_proto::flyteidl::core::{self, workflow_metadata::OnFailurePolicy};

use super::ExecutionEnd;
use crate::testing::*;

const FAILURE_NODE: &str = "efn";

fn none() -> core::Literal {
    core::Literal {
        value: Some(core::literal::Value::Scalar(Box::new(core::Scalar {
            value: Some(core::scalar::Value::NoneType(core::Void {})),
        }))),
        ..Default::default()
    }
}

/// The failure as the handler's `err` input carries it.
fn handled_error(inputs: &core::LiteralMap) -> Option<core::Error> {
    let union = match inputs.literals.get("err")?.value.as_ref()? {
        core::literal::Value::Scalar(scalar) => match scalar.value.as_ref()? {
            core::scalar::Value::Union(union) => union.clone(),
            _ => return None,
        },
        _ => return None,
    };
    match union.value?.value? {
        core::literal::Value::Scalar(scalar) => match scalar.value? {
            core::scalar::Value::Error(error) => Some(error),
            _ => None,
        },
        _ => None,
    }
}

/// A workflow whose `bad` node fails, handled by `clean_up`, which gets the
/// workflow's input `x` and an optional `err`, as flytekit binds them.
fn failing_workflow(
    clean_up: &core::TaskTemplate,
    failing: &core::TaskTemplate,
) -> core::WorkflowTemplate {
    let mut template = workflow(
        "wf",
        &["x"],
        vec![task_node("bad", failing, vec![promise("x", INPUTS, "x")])],
        vec![],
    );
    template.failure_node = Some(task_node(
        FAILURE_NODE,
        clean_up,
        vec![promise("x", INPUTS, "x"), constant("err", none())],
    ));
    template
}

/// Runs `failing_workflow` on `x = 4`, its `bad` node doing `bad_step` and
/// the handler `clean_up_step`.
async fn run_handled(bad_step: Step, clean_up_step: Step) -> (TestBed, ExecutionEnd) {
    let bed = TestBed::default();
    let failing = task("failing", &["x"], &[]);
    let clean_up = task("clean_up", &["x", "err"], &[]);
    bed.runtime.script("failing", vec![bad_step]);
    bed.runtime.script("clean_up", vec![clean_up_step]);
    let template = failing_workflow(&clean_up, &failing);
    let run = claim(
        "e1",
        template,
        &[failing, clean_up],
        &[],
        literals([("x", integer(4))]),
    );
    let end = bed.run(run).await;
    (bed, end)
}

#[tokio::test]
async fn the_failure_node_runs_with_the_error_and_the_workflow_still_fails() {
    let (bed, end) = run_handled(Step::fail("boom", false), Step::outputs(literals([]))).await;
    let ExecutionEnd::Failed(error) = end else {
        panic!("expected a failure, got {end:?}");
    };
    assert!(
        error.message.contains("boom"),
        "the original error: {error:?}"
    );
    assert_eq!(
        bed.admin.node_phases("e1", FAILURE_NODE).last(),
        Some(&NodePhase::Succeeded)
    );
    let launch = bed
        .runtime
        .launches()
        .into_iter()
        .find(|launch| launch.attempt_key.contains(FAILURE_NODE))
        .expect("the failure node ran");
    assert_eq!(launch.inputs.literals.get("x"), Some(&integer(4)));
    let handled = handled_error(&launch.inputs).expect("an err input");
    assert_eq!(handled.failed_node_id, "bad");
    assert!(handled.message.contains("boom"), "{handled:?}");
}

#[tokio::test]
async fn a_failure_node_that_fails_fails_the_workflow_with_its_own_error() {
    let (_bed, end) = run_handled(
        Step::fail("boom", false),
        Step::fail("cannot clean up", false),
    )
    .await;
    let ExecutionEnd::Failed(error) = end else {
        panic!("expected a failure, got {end:?}");
    };
    assert!(error.message.contains("cannot clean up"), "{error:?}");
}

#[tokio::test]
async fn a_workflow_that_succeeds_never_runs_its_failure_node() {
    let (bed, end) = run_handled(Step::outputs(literals([])), Step::outputs(literals([]))).await;
    assert_eq!(end, ExecutionEnd::Succeeded);
    assert_eq!(bed.runtime.launch_count("clean_up"), 0);
    assert!(bed.admin.node_phases("e1", FAILURE_NODE).is_empty());
}

#[tokio::test]
async fn a_subworkflow_can_be_the_failure_node_and_a_subworkflow_can_have_one() {
    let bed = TestBed::default();
    let failing = task("failing", &["x"], &[]);
    let clean_up = task("clean_up", &["x", "err"], &[]);
    bed.runtime
        .script("failing", vec![Step::fail("boom", false)]);
    bed.runtime
        .script("clean_up", vec![Step::outputs(literals([]))]);
    // The handler is a workflow of one task, given the error.
    let mut handler = workflow(
        "handler_wf",
        &["x", "err"],
        vec![task_node(
            "n0",
            &clean_up,
            vec![promise("x", INPUTS, "x"), promise("err", INPUTS, "err")],
        )],
        vec![],
    );
    handler.id.as_mut().expect("an id").name = "handler_wf".into();
    // The failing workflow is itself a subworkflow of the execution's.
    let mut inner = workflow(
        "inner_wf",
        &["x"],
        vec![task_node("bad", &failing, vec![promise("x", INPUTS, "x")])],
        vec![],
    );
    inner.id.as_mut().expect("an id").name = "inner_wf".into();
    inner.failure_node = Some(subworkflow_node(
        FAILURE_NODE,
        &handler,
        vec![promise("x", INPUTS, "x"), constant("err", none())],
    ));
    let outer = workflow(
        "wf",
        &["x"],
        vec![subworkflow_node(
            "sub",
            &inner,
            vec![promise("x", INPUTS, "x")],
        )],
        vec![],
    );
    let end = bed
        .run(claim(
            "e1",
            outer,
            &[failing, clean_up],
            &[inner, handler],
            literals([("x", integer(2))]),
        ))
        .await;
    assert!(matches!(end, ExecutionEnd::Failed(_)), "{end:?}");
    // Nested ids as flytepropeller prefixes them.
    assert_eq!(
        bed.admin.node_phases("e1", "sub-0-efn").last(),
        Some(&NodePhase::Succeeded)
    );
    let launch = bed
        .runtime
        .launches()
        .into_iter()
        .find(|launch| {
            launch
                .template
                .id
                .as_ref()
                .is_some_and(|id| id.name == "clean_up")
        })
        .expect("the handler's task ran");
    let handled = handled_error(&launch.inputs).expect("an err input");
    assert_eq!(handled.failed_node_id, "sub-0-bad");
}

#[tokio::test]
async fn after_executable_nodes_complete_the_others_finish_before_the_failure_node() {
    let bed = TestBed::default();
    let failing = task("failing", &["x"], &[]);
    let slow = task("slow", &["x"], &["o0"]);
    let clean_up = task("clean_up", &["x", "err"], &[]);
    bed.runtime
        .script("failing", vec![Step::fail("boom", false)]);
    bed.runtime.script(
        "slow",
        vec![Step::After(
            std::time::Duration::from_millis(30),
            Box::new(Step::outputs(literals([("o0", integer(1))]))),
        )],
    );
    bed.runtime
        .script("clean_up", vec![Step::outputs(literals([]))]);
    let mut template = failing_workflow(&clean_up, &failing);
    template
        .nodes
        .push(task_node("slow", &slow, vec![promise("x", INPUTS, "x")]));
    template.metadata = Some(core::WorkflowMetadata {
        on_failure: OnFailurePolicy::FailAfterExecutableNodesComplete as i32,
        ..Default::default()
    });
    let end = bed
        .run(claim(
            "e1",
            template,
            &[failing, slow, clean_up],
            &[],
            literals([("x", integer(1))]),
        ))
        .await;
    assert!(matches!(end, ExecutionEnd::Failed(_)), "{end:?}");
    let order: Vec<String> = bed
        .runtime
        .launches()
        .iter()
        .filter_map(|launch| launch.template.id.as_ref().map(|id| id.name.clone()))
        .collect();
    assert_eq!(
        order.last().map(String::as_str),
        Some("clean_up"),
        "{order:?}"
    );
    assert_eq!(
        bed.admin.node_phases("e1", "slow").last(),
        Some(&NodePhase::Succeeded)
    );
}
