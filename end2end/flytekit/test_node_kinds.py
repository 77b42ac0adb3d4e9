"""Every kind of node flytekit produces runs on updraft, and FlyteRemote reads
the outputs and the node executions as it reads them from Flyte."""

import time
from datetime import timedelta

import pytest
from flytekit.models.core.execution import NodeExecutionPhase, WorkflowExecutionPhase

from test_execution import VERSION, launch, remote  # noqa: F401  (the fixture)


def top_level_nodes(execution):
    return {node_id: node for node_id, node in execution.node_executions.items() if node_id not in ("start-node", "end-node")}


def child_nodes(remote, execution, parent_id):
    children = remote.client.list_node_executions(execution.id, unique_parent_id=parent_id, limit=100)[0]
    return {child.id.node_id: child for child in children}


@pytest.mark.parametrize(
    ("n", "expected", "taken"),
    [(3, "positive 6", "n1-0-n0"), (-4, "negative -8", "n1-0-n1"), (0, "zero 0", "n1-0-n2")],
)
def test_a_branch_runs_the_node_of_the_condition_that_holds(remote, n, expected, taken):
    execution = launch(remote, "myapp.branches.sign_wf", {"n": n})

    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED, execution.closure.error
    assert execution.outputs["o0"] == expected
    nodes = top_level_nodes(execution)
    assert set(nodes) == {"n0", "n1"}
    assert nodes["n1"].metadata.is_parent_node
    assert nodes["n1"].outputs.get("o0", as_type=str) == expected
    children = child_nodes(remote, execution, "n1")
    assert set(children) == {"n1-0-n0", "n1-0-n1", "n1-0-n2"}
    for node_id, child in children.items():
        expected_phase = NodeExecutionPhase.SUCCEEDED if node_id == taken else NodeExecutionPhase.SKIPPED
        assert child.closure.phase == expected_phase, node_id
    # FlyteRemote maps the taken child onto the branch's node.
    underlying = {child.id.node_id: child for child in nodes["n1"].subworkflow_node_executions.values()}
    assert underlying[taken].outputs["o0"] == expected


def test_an_else_fail_branch_fails_the_node_with_its_message(remote):
    execution = launch(remote, "myapp.branches.guarded_wf", {"n": -2})

    assert execution.closure.phase == WorkflowExecutionPhase.FAILED
    assert "n must not be negative" in execution.closure.error.message


def test_a_guarded_branch_that_holds_returns_its_value(remote):
    execution = launch(remote, "myapp.branches.guarded_wf", {"n": 5})

    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED, execution.closure.error
    assert execution.outputs["o0"] == 25


def test_a_subworkflow_runs_nested_and_its_outputs_flow_back(remote):
    execution = launch(remote, "myapp.subworkflows.outer_wf", {"a": 3, "b": 4})

    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED, execution.closure.error
    assert execution.outputs["o0"] == "total 25"
    nodes = top_level_nodes(execution)
    assert set(nodes) == {"n0", "n1"}
    assert nodes["n0"].metadata.is_parent_node
    assert nodes["n0"].outputs["o0"] == 25
    children = child_nodes(remote, execution, "n0")
    assert {"n0-0-n0", "n0-0-n1", "n0-0-n2"} <= set(children)
    assert all(child.closure.phase == NodeExecutionPhase.SUCCEEDED for child in children.values())
    underlying = nodes["n0"].subworkflow_node_executions
    squares = sorted(node.outputs["o0"] for node_id, node in underlying.items() if node_id in ("n0-0-n0", "n0-0-n1"))
    assert squares == [9, 16]
    assert underlying["n0-0-n2"].task_executions[0].outputs["o0"] == 25


def test_a_sleep_gate_waits_then_the_workflow_goes_on(remote):
    execution = launch(remote, "myapp.gates.nap_wf", {"a": 1})

    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED, execution.closure.error
    assert execution.outputs["o0"] == 3
    nodes = top_level_nodes(execution)
    gate = nodes["n1"]
    assert gate.closure.phase == NodeExecutionPhase.SUCCEEDED
    assert gate.closure.duration >= timedelta(seconds=2)
    assert gate.closure.started_at >= nodes["n0"].closure.updated_at
    assert nodes["n2"].closure.started_at >= gate.closure.updated_at


def test_a_launch_plan_node_runs_a_child_execution_and_takes_its_outputs(remote):
    execution = launch(remote, "myapp.launch_plans.parent_wf", {"n": 3})

    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED, execution.closure.error
    assert execution.outputs["o0"] == 10
    node = top_level_nodes(execution)["n0"]
    assert node.outputs["o0"] == 10
    child_id = node.closure.workflow_node_metadata.execution_id
    child = remote.fetch_execution(name=child_id.name)
    assert child.closure.phase == WorkflowExecutionPhase.SUCCEEDED
    assert child.spec.launch_plan.name == "myapp.launch_plans.square_plus_lp"
    assert child.spec.metadata.parent_node_execution.node_id == "n0"
    assert child.spec.metadata.parent_node_execution.execution_id.name == execution.id.name
    assert child.spec.metadata.nesting == 1
    assert child.outputs["o0"] == 10


def test_a_failing_child_execution_fails_the_launch_plan_node(remote):
    execution = launch(remote, "myapp.launch_plans.failing_parent_wf", {"n": 4})

    assert execution.closure.phase == WorkflowExecutionPhase.FAILED
    assert "boom 4" in execution.closure.error.message


def test_a_map_task_runs_every_index_and_gathers_the_outputs(remote):
    execution = launch(remote, "myapp.maps.cubes_wf", {"xs": [1, 2, 3, 4]})

    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED, execution.closure.error
    assert execution.outputs["o0"] == [1, 8, 27, 64]
    node = top_level_nodes(execution)["n0"]
    assert node.metadata.is_array
    attempt = node.task_executions[0]
    resources = attempt.closure.metadata.external_resources
    assert sorted(resource.index for resource in resources) == [0, 1, 2, 3]
    assert {resource.phase for resource in resources} == {3}  # SUCCEEDED


def test_a_map_task_tolerates_failures_within_its_min_success_ratio(remote):
    execution = launch(remote, "myapp.maps.tolerant_cubes_wf", {"xs": [1, -2, 3, 4]})

    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED, execution.closure.error
    assert execution.outputs["o0"] == [1, None, 27, 64]
    resources = top_level_nodes(execution)["n0"].task_executions[0].closure.metadata.external_resources
    assert {resource.index: resource.phase for resource in resources}[1] == 5  # FAILED


def test_a_map_task_fails_below_its_min_success_ratio(remote):
    execution = launch(remote, "myapp.maps.tolerant_cubes_wf", {"xs": [-1, -2, 3]})

    assert execution.closure.phase == WorkflowExecutionPhase.FAILED
    assert "negative -1" in execution.closure.error.message


def test_a_dynamic_task_runs_the_workflow_it_generates(remote):
    execution = launch(remote, "myapp.dynamics.dynamic_wf", {"n": 4})

    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED, execution.closure.error
    assert execution.outputs["o0"] == 0 + 1 + 4 + 9
    node = top_level_nodes(execution)["n0"]
    assert node.metadata.is_parent_node
    assert node.outputs["o0"] == 14
    children = child_nodes(remote, execution, "n0")
    assert len(children) == 8  # a square and an add per step
    assert all(child.closure.phase == NodeExecutionPhase.SUCCEEDED for child in children.values())
    assert all(node_id.startswith("n0-0-dn") for node_id in children)


def wait_for_signal(remote, execution, signal_id, attempts=120):
    for _ in range(attempts):
        signals = remote.list_signals(execution.id.name)
        if any(signal.id.signal_id == signal_id for signal in signals):
            return
        time.sleep(1)
    raise AssertionError(f"signal {signal_id} never appeared; execution {execution.id.name}")


def test_an_approve_gate_waits_until_the_signal_approves(remote):
    launch_plan = remote.fetch_launch_plan(name="myapp.gates.approval_wf", version=VERSION)
    execution = remote.execute(launch_plan, inputs={"a": 1})
    wait_for_signal(remote, execution, "approve-sum")
    assert remote.sync_execution(execution).closure.phase == WorkflowExecutionPhase.RUNNING

    remote.set_signal("approve-sum", execution.id.name, True)

    execution = remote.wait(execution, timeout=timedelta(seconds=180), poll_interval=timedelta(seconds=1))
    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED, execution.closure.error
    assert execution.outputs["o0"] == 3


def test_a_wait_for_input_gate_takes_the_value_given(remote):
    launch_plan = remote.fetch_launch_plan(name="myapp.gates.input_wf", version=VERSION)
    execution = remote.execute(launch_plan, inputs={"a": 1})
    wait_for_signal(remote, execution, "extra")

    remote.set_signal("extra", execution.id.name, 41)

    execution = remote.wait(execution, timeout=timedelta(seconds=180), poll_interval=timedelta(seconds=1))
    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED, execution.closure.error
    assert execution.outputs["o0"] == 42
