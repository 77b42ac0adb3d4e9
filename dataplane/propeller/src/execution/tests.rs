//! Engine tests over the in-memory admin and the scripted runtime: how a
//! scope runs its nodes, what a broken claim does, stops, and continuing
//! after a restart. Each node kind's own cases are in its file under
//! `nodes/`.

use std::time::Duration;

use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core::node_execution::Phase as NodePhase;
use updraft_proto::flyteidl::core::task_execution::Phase as TaskPhase;
use updraft_proto::flyteidl::core::workflow_execution::Phase as WorkflowPhase;
use updraft_proto::flyteidl::core::{self, workflow_metadata::OnFailurePolicy};

use super::{ExecutionEnd, StopReason};
use crate::testing::*;

#[tokio::test]
async fn a_chain_runs_each_node_once_and_returns_the_last_output() {
    let bed = TestBed::default();
    bed.runtime.script("add_one", vec![add_one()]);
    let end = bed.run(chain_claim("e1", 5, 10)).await;
    assert_eq!(end, ExecutionEnd::Succeeded);
    assert_eq!(
        bed.admin.workflow_phases("e1"),
        [WorkflowPhase::Running, WorkflowPhase::Succeeded]
    );
    assert_eq!(bed.runtime.launch_count("add_one"), 5);
    let outputs = bed.workflow_outputs("e1").await.expect("workflow outputs");
    assert_eq!(output(&outputs, "o0"), Some(15));
    for node in ["start-node", "n0", "n4", "end-node"] {
        assert_eq!(
            bed.admin.node_phases("e1", node).last(),
            Some(&NodePhase::Succeeded),
            "{node}"
        );
    }
}

#[tokio::test]
async fn each_node_sees_only_what_it_needs_and_inputs_are_written_once() {
    let bed = TestBed::default();
    bed.runtime.script("add_one", vec![add_one()]);
    let (workflow, add) = chain("chain", 3);
    bed.run(claim(
        "e1",
        workflow,
        &[add],
        &[],
        literals([("x", integer(1))]),
    ))
    .await;
    for launch in bed.runtime.launches() {
        assert_eq!(launch.inputs.literals.len(), 1, "{}", launch.attempt_key);
        let written = bed
            .storage
            .get_uri(&launch.input_path())
            .await
            .expect("the engine wrote the node's inputs");
        let written: core::LiteralMap = prost::Message::decode(written).expect("a literal map");
        assert_eq!(&written, launch.inputs.as_ref());
    }
}

#[tokio::test]
async fn a_claim_without_a_workflow_fails_the_execution_saying_so() {
    let bed = TestBed::default();
    let (workflow, add) = chain("chain", 1);
    let mut broken = claim("e1", workflow, &[add], &[], literals([]));
    broken.workflow = None;
    let end = bed.run(broken).await;
    let ExecutionEnd::Failed(error) = end else {
        panic!("expected a failure, got {end:?}");
    };
    assert_eq!(error.code, "InvalidClaim");
    assert!(
        error.message.contains("a compiled workflow"),
        "{}",
        error.message
    );
    assert_eq!(
        error.kind(),
        core::execution_error::ErrorKind::System,
        "a broken claim is not the user's fault"
    );
    assert_eq!(bed.admin.workflow_phases("e1"), [WorkflowPhase::Failed]);
    assert!(bed.runtime.launches().is_empty());
}

#[tokio::test]
async fn a_node_naming_a_task_the_closure_lacks_fails_before_anything_runs() {
    let bed = TestBed::default();
    let (workflow, _add) = chain("chain", 2);
    let end = bed
        .run(claim(
            "e1",
            workflow,
            &[],
            &[],
            literals([("x", integer(1))]),
        ))
        .await;
    let ExecutionEnd::Failed(error) = end else {
        panic!("expected a failure, got {end:?}");
    };
    assert!(
        error.message.contains("node n1 refers to task add_one")
            || error.message.contains("node n0 refers to task add_one"),
        "{}",
        error.message
    );
    assert!(bed.admin.node_ids("e1").is_empty());
}

#[tokio::test]
async fn a_claim_without_an_execution_id_is_abandoned_not_run() {
    let bed = TestBed::default();
    let (workflow, add) = chain("chain", 1);
    let mut broken = claim("e1", workflow, &[add], &[], literals([]));
    broken.execution.as_mut().expect("execution").id = None;
    assert!(matches!(bed.run(broken).await, ExecutionEnd::Abandoned(_)));
    assert!(bed.admin.workflow_phases("e1").is_empty());
}

#[tokio::test]
async fn max_parallelism_bounds_the_nodes_running_at_once() {
    let bed = TestBed::default();
    let slow = task("slow", &[], &[]);
    bed.runtime.script(
        "slow",
        vec![Step::After(
            Duration::from_millis(20),
            Box::new(Step::outputs(literals([]))),
        )],
    );
    let nodes = (0..8)
        .map(|index| task_node(&format!("n{index}"), &slow, vec![]))
        .collect();
    let mut claimed = claim(
        "e1",
        workflow("wide", &[], nodes, vec![]),
        &[slow],
        &[],
        literals([]),
    );
    if let Some(spec) = claimed
        .execution
        .as_mut()
        .and_then(|execution| execution.spec.as_mut())
    {
        spec.max_parallelism = 3;
    }
    assert_eq!(bed.run(claimed).await, ExecutionEnd::Succeeded);
    assert_eq!(bed.runtime.launch_count("slow"), 8);
    assert!(
        bed.runtime.most_running() <= 3,
        "{}",
        bed.runtime.most_running()
    );
}

#[tokio::test]
async fn under_fail_immediately_a_failure_aborts_the_running_siblings() {
    let bed = TestBed::default();
    let failing = task("failing", &[], &[]);
    let hanging = task("hanging", &[], &[]);
    bed.runtime.script(
        "failing",
        vec![Step::After(
            Duration::from_millis(10),
            Box::new(Step::fail("boom", false)),
        )],
    );
    bed.runtime.script("hanging", vec![Step::Hang]);
    let nodes = vec![
        task_node("bad", &failing, vec![]),
        task_node("slow", &hanging, vec![]),
    ];
    let end = bed
        .run(claim(
            "e1",
            workflow("wf", &[], nodes, vec![]),
            &[failing, hanging],
            &[],
            literals([]),
        ))
        .await;
    let ExecutionEnd::Failed(error) = end else {
        panic!("expected a failure, got {end:?}");
    };
    assert_eq!(error.message, "boom");
    assert_eq!(
        bed.admin.node_phases("e1", "slow").last(),
        Some(&NodePhase::Aborted)
    );
    assert_eq!(bed.runtime.aborted(), 1);
}

#[tokio::test]
async fn fail_after_executable_nodes_complete_lets_the_others_finish() {
    let bed = TestBed::default();
    let failing = task("failing", &[], &[]);
    let slow = task("slow", &[], &["o0"]);
    bed.runtime
        .script("failing", vec![Step::fail("boom", false)]);
    bed.runtime.script(
        "slow",
        vec![Step::After(
            Duration::from_millis(30),
            Box::new(Step::outputs(literals([("o0", integer(1))]))),
        )],
    );
    let nodes = vec![
        task_node("bad", &failing, vec![]),
        task_node("slow", &slow, vec![]),
    ];
    let mut template = workflow("wf", &[], nodes, vec![]);
    template.metadata = Some(core::WorkflowMetadata {
        on_failure: OnFailurePolicy::FailAfterExecutableNodesComplete as i32,
        ..Default::default()
    });
    let end = bed
        .run(claim("e1", template, &[failing, slow], &[], literals([])))
        .await;
    assert!(matches!(end, ExecutionEnd::Failed(_)), "{end:?}");
    assert_eq!(
        bed.admin.node_phases("e1", "slow").last(),
        Some(&NodePhase::Succeeded)
    );
}

#[tokio::test]
async fn terminate_aborts_the_running_task_and_reports_aborted() {
    let bed = TestBed::default();
    let hanging = task("hanging", &[], &[]);
    bed.runtime.script("hanging", vec![Step::Hang]);
    let template = workflow("wf", &[], vec![task_node("n0", &hanging, vec![])], vec![]);
    let (run, stop) = bed.start(claim("e1", template, &[hanging], &[], literals([])));
    wait_until(|| bed.runtime.launch_count("hanging") == 1).await;
    stop.send_replace(Some(StopReason::Terminate("by a test".into())));
    assert_eq!(run.await.expect("run"), ExecutionEnd::Aborted);
    assert_eq!(
        bed.admin.workflow_phases("e1").last(),
        Some(&WorkflowPhase::Aborted)
    );
    assert_eq!(
        bed.admin.node_phases("e1", "n0").last(),
        Some(&NodePhase::Aborted)
    );
    assert_eq!(
        bed.admin.task_attempt_phases("e1", "n0"),
        [(0, TaskPhase::Aborted)]
    );
    assert_eq!(bed.runtime.aborted(), 1);
}

#[tokio::test]
async fn a_lost_lease_or_a_shutdown_stops_the_tasks_and_reports_nothing() {
    for reason in [StopReason::LeaseLost, StopReason::Shutdown] {
        let bed = TestBed::default();
        let hanging = task("hanging", &[], &[]);
        bed.runtime.script("hanging", vec![Step::Hang]);
        let template = workflow("wf", &[], vec![task_node("n0", &hanging, vec![])], vec![]);
        let (run, stop) = bed.start(claim("e1", template, &[hanging], &[], literals([])));
        wait_until(|| bed.runtime.launch_count("hanging") == 1).await;
        stop.send_replace(Some(reason.clone()));
        assert!(matches!(
            run.await.expect("run"),
            ExecutionEnd::Abandoned(_)
        ));
        assert_eq!(
            bed.admin.workflow_phases("e1"),
            [WorkflowPhase::Running],
            "{reason:?}"
        );
        assert_eq!(
            bed.admin.node_phases("e1", "n0").last(),
            Some(&NodePhase::Running)
        );
        assert_eq!(bed.runtime.aborted(), 1);
    }
}

#[tokio::test]
async fn terminate_is_seen_while_a_task_waits_for_a_slot() {
    let bed = TestBed::new(Some(1), 8);
    let hanging = task("hanging", &[], &[]);
    bed.runtime.script("hanging", vec![Step::Hang]);
    let nodes = vec![
        task_node("first", &hanging, vec![]),
        task_node("second", &hanging, vec![]),
    ];
    let (run, stop) = bed.start(claim(
        "e1",
        workflow("wf", &[], nodes, vec![]),
        &[hanging],
        &[],
        literals([]),
    ));
    wait_until(|| bed.runtime.launch_count("hanging") == 1).await;
    stop.send_replace(Some(StopReason::Terminate("by a test".into())));
    let end = tokio::time::timeout(Duration::from_secs(5), run)
        .await
        .expect("the waiting node saw the terminate")
        .expect("run");
    assert_eq!(end, ExecutionEnd::Aborted);
    assert_eq!(
        bed.runtime.launch_count("hanging"),
        1,
        "the waiting one never started"
    );
}

#[tokio::test(start_paused = true)]
async fn a_timeout_counts_while_a_task_waits_for_a_slot() {
    let bed = TestBed::new(Some(1), 8);
    let hanging = task("hanging", &[], &[]);
    let limited = with_retries(task("limited", &[], &[]), 0, Some(Duration::from_secs(5)));
    bed.runtime.script("hanging", vec![Step::Hang]);
    bed.runtime
        .script("limited", vec![Step::outputs(literals([]))]);
    let nodes = vec![
        task_node("holder", &hanging, vec![]),
        task_node("waiter", &limited, vec![]),
    ];
    let (run, stop) = bed.start(claim(
        "e1",
        workflow("wf", &[], nodes, vec![]),
        &[hanging, limited],
        &[],
        literals([]),
    ));
    wait_until(|| bed.runtime.launch_count("hanging") == 1).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    wait_until(|| bed.admin.node_phases("e1", "waiter").last() == Some(&NodePhase::Failed)).await;
    let error = bed.admin.node_error("e1", "waiter").expect("an error");
    assert_eq!(error.code, "Timeout");
    stop.send_replace(Some(StopReason::Terminate("done".into())));
    let _ = run.await;
    assert_eq!(bed.runtime.launch_count("limited"), 0);
}

#[tokio::test(start_paused = true)]
async fn events_are_retried_while_admin_is_unreachable() {
    let bed = TestBed::default();
    bed.runtime.script("add_one", vec![add_one()]);
    bed.admin.be_unavailable_for(3);
    let end = bed.run(chain_claim("e1", 2, 1)).await;
    assert_eq!(end, ExecutionEnd::Succeeded);
    assert_eq!(
        bed.admin.workflow_phases("e1"),
        [WorkflowPhase::Running, WorkflowPhase::Succeeded]
    );
}

#[tokio::test]
async fn an_execution_admin_already_ended_is_abandoned_at_its_next_event() {
    let bed = TestBed::default();
    let slow = task("slow", &[], &[]);
    bed.runtime.script(
        "slow",
        vec![Step::After(
            Duration::from_millis(20),
            Box::new(Step::outputs(literals([]))),
        )],
    );
    let template = workflow("wf", &[], vec![task_node("n0", &slow, vec![])], vec![]);
    let (run, _stop) = bed.start(claim("e1", template, &[slow], &[], literals([])));
    wait_until(|| bed.runtime.launch_count("slow") == 1).await;
    // Terminated meanwhile in admin, by someone else.
    use crate::control_plane::ControlPlane;
    bed.admin
        .create_workflow_event(admin::WorkflowExecutionEventRequest {
            request_id: "other".into(),
            event: Some(updraft_proto::flyteidl::event::WorkflowExecutionEvent {
                execution_id: Some(execution_id("e1")),
                phase: WorkflowPhase::Aborted as i32,
                ..Default::default()
            }),
        })
        .await
        .expect("admin takes the abort");
    assert!(matches!(
        run.await.expect("run"),
        ExecutionEnd::Abandoned(_)
    ));
}

#[tokio::test]
async fn claimed_again_a_run_skips_nodes_that_succeeded_and_reads_a_finished_attempt() {
    let bed = TestBed::default();
    let add = task("add_one", &["x"], &["o0"]);
    let hanging = task("second", &["x"], &["o0"]);
    bed.runtime.script("add_one", vec![add_one()]);
    bed.runtime.script("second", vec![Step::Hang]);
    let template = workflow(
        "wf",
        &["x"],
        vec![
            task_node("n0", &add, vec![promise("x", INPUTS, "x")]),
            task_node("n1", &hanging, vec![promise("x", "n0", "o0")]),
        ],
        vec![promise("o0", "n1", "o0")],
    );
    let first_claim = claim(
        "e1",
        template,
        &[add, hanging],
        &[],
        literals([("x", integer(1))]),
    );
    let (run, stop) = bed.start(first_claim.clone());
    wait_until(|| bed.runtime.launch_count("second") == 1).await;
    // The propeller dies; its task process finished meanwhile and left outputs.
    stop.send_replace(Some(StopReason::LeaseLost));
    let _ = run.await;
    let attempt = bed.runtime.launches().last().cloned().expect("a launch");
    bed.storage
        .put_uri(
            &crate::paths::file_in(&attempt.output_prefix, "outputs.pb"),
            bytes::Bytes::from(prost::Message::encode_to_vec(&literals([(
                "o0",
                integer(42),
            )]))),
        )
        .await
        .expect("write outputs");

    let end = bed.run(claimed_again(first_claim, 1)).await;
    assert_eq!(end, ExecutionEnd::Succeeded);
    assert_eq!(
        bed.runtime.launch_count("add_one"),
        1,
        "n0 is not run again"
    );
    assert_eq!(
        bed.runtime.launch_count("second"),
        1,
        "n1's finished attempt is read, not relaunched"
    );
    let outputs = bed.workflow_outputs("e1").await.expect("outputs");
    assert_eq!(output(&outputs, "o0"), Some(42));
}

#[tokio::test]
async fn claimed_again_a_lost_attempt_is_retried_as_a_system_error() {
    let bed = TestBed::default();
    let flaky = task("flaky", &[], &["o0"]);
    bed.runtime.script(
        "flaky",
        vec![Step::Hang, Step::outputs(literals([("o0", integer(7))]))],
    );
    let template = workflow(
        "wf",
        &[],
        vec![task_node("n0", &flaky, vec![])],
        vec![promise("o0", "n0", "o0")],
    );
    let first_claim = claim("e1", template, &[flaky], &[], literals([]));
    let (run, stop) = bed.start(first_claim.clone());
    wait_until(|| bed.runtime.launch_count("flaky") == 1).await;
    stop.send_replace(Some(StopReason::LeaseLost));
    let _ = run.await;

    assert_eq!(
        bed.run(claimed_again(first_claim, 1)).await,
        ExecutionEnd::Succeeded
    );
    let attempts = bed.admin.task_attempt_phases("e1", "n0");
    assert_eq!(
        attempts,
        [(0, TaskPhase::Failed), (1, TaskPhase::Succeeded)]
    );
    let lost = bed
        .admin
        .task_events()
        .into_iter()
        .find(|event| event.retry_attempt == 0 && event.phase() == TaskPhase::Failed)
        .expect("the lost attempt's failure");
    let Some(updraft_proto::flyteidl::event::task_execution_event::OutputResult::Error(error)) =
        lost.output_result
    else {
        panic!("no error on the lost attempt");
    };
    assert_eq!(error.code, "LostAttempt");
}

#[tokio::test]
async fn a_recovered_execution_reuses_what_succeeded_in_the_original() {
    let bed = TestBed::default();
    let add = task("add_one", &["x"], &["o0"]);
    let second = task("second", &["x"], &["o0"]);
    bed.runtime.script("add_one", vec![add_one()]);
    bed.runtime
        .script("second", vec![Step::fail("first time", false)]);
    let template = workflow(
        "wf",
        &["x"],
        vec![
            task_node("n0", &add, vec![promise("x", INPUTS, "x")]),
            task_node("n1", &second, vec![promise("x", "n0", "o0")]),
        ],
        vec![promise("o0", "n1", "o0")],
    );
    let tasks = [add, second];
    let original = claim(
        "original",
        template.clone(),
        &tasks,
        &[],
        literals([("x", integer(1))]),
    );
    assert!(matches!(bed.run(original).await, ExecutionEnd::Failed(_)));

    bed.runtime.script("second", vec![add_one()]);
    let mut recovery = claim(
        "recovery",
        template,
        &tasks,
        &[],
        literals([("x", integer(1))]),
    );
    let metadata = recovery
        .execution
        .as_mut()
        .and_then(|execution| execution.spec.as_mut())
        .and_then(|spec| spec.metadata.as_mut())
        .expect("metadata");
    metadata.mode = admin::execution_metadata::ExecutionMode::Recovered as i32;
    metadata.reference_execution = Some(execution_id("original"));
    assert_eq!(bed.run(recovery).await, ExecutionEnd::Succeeded);
    assert_eq!(bed.runtime.launch_count("add_one"), 1, "n0 was recovered");
    assert_eq!(
        bed.admin.node_phases("recovery", "n0").last(),
        Some(&NodePhase::Recovered)
    );
    let outputs = bed.workflow_outputs("recovery").await.expect("outputs");
    assert_eq!(output(&outputs, "o0"), Some(3));
}

#[tokio::test]
async fn an_output_binding_to_a_missing_output_fails_naming_it() {
    let bed = TestBed::default();
    let add = task("add_one", &["x"], &["o0"]);
    bed.runtime.script("add_one", vec![add_one()]);
    let template = workflow(
        "wf",
        &["x"],
        vec![task_node("n0", &add, vec![promise("x", INPUTS, "x")])],
        vec![promise("out", "n0", "nope")],
    );
    let end = bed
        .run(claim(
            "e1",
            template,
            &[add],
            &[],
            literals([("x", integer(1))]),
        ))
        .await;
    let ExecutionEnd::Failed(error) = end else {
        panic!("expected a failure, got {end:?}");
    };
    assert!(error.message.contains("nope"), "{}", error.message);
}

/// Polls `condition` for up to five seconds (of the test clock).
pub(crate) async fn wait_until(condition: impl Fn() -> bool) {
    for _ in 0..500 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the condition did not hold in time");
}

/// The deepest nesting the suites use — a task in a subworkflow chosen by a
/// branch, in a subworkflow, in a dynamic task's generated workflow: five
/// levels — runs on tokio's default worker stacks in a debug build, so the
/// binary needs no stack margin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_levels_of_nesting_run_on_default_stacks() {
    let bed = TestBed::default();
    let add = task("add_one", &["x"], &["o0"]);
    let generator = task("generate", &["x"], &["o0"]);
    bed.runtime.script("add_one", vec![add_one()]);
    let innermost = workflow(
        "innermost",
        &["x"],
        vec![task_node("t", &add, vec![promise("x", INPUTS, "x")])],
        vec![promise("o0", "t", "o0")],
    );
    let chosen = subworkflow_node("deep", &innermost, vec![promise("x", INPUTS, "x")]);
    let middle = workflow(
        "middle",
        &["x"],
        vec![branch_node(
            "b",
            vec![promise("x", INPUTS, "x")],
            "x",
            1,
            chosen,
            None,
        )],
        vec![promise("o0", "b", "o0")],
    );
    let spec = core::DynamicJobSpec {
        nodes: vec![subworkflow_node(
            "mid",
            &middle,
            vec![promise("x", INPUTS, "x")],
        )],
        outputs: vec![promise("o0", "mid", "o0")],
        tasks: vec![add.clone()],
        subworkflows: vec![middle.clone(), innermost.clone()],
        ..Default::default()
    };
    bed.runtime.script("generate", vec![Step::Dynamic(spec)]);
    let top = workflow(
        "top",
        &["x"],
        vec![task_node(
            "dyn",
            &generator,
            vec![promise("x", INPUTS, "x")],
        )],
        vec![promise("o0", "dyn", "o0")],
    );
    let end = bed
        .run(claim(
            "e1",
            top,
            &[generator],
            &[],
            literals([("x", integer(1))]),
        ))
        .await;
    assert_eq!(end, ExecutionEnd::Succeeded);
    assert_eq!(
        output(&bed.workflow_outputs("e1").await.expect("outputs"), "o0"),
        Some(2)
    );
    assert_eq!(bed.runtime.launch_count("add_one"), 1);
    assert_eq!(
        bed.admin.node_phases("e1", "dyn-0-mid-0-b-0-deep").last(),
        Some(&NodePhase::Succeeded)
    );
}
