"""An echo task (`flytekit.core.task.Echo`) runs in propeller without a
process, passing its input on as its output, as Flyte's echo plugin does."""

from flytekit.models.core.execution import NodeExecutionPhase, TaskExecutionPhase, WorkflowExecutionPhase

from test_execution import launch, remote  # noqa: F401  (the fixture)
from test_node_kinds import child_nodes


def test_an_echo_branch_passes_its_input_through(remote):
    execution = launch(remote, "myapp.echoes.noop_wf", {"a": 4.0})

    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED, execution.closure.error
    assert execution.outputs["o0"] == 4.0
    children = child_nodes(remote, execution, "n0")
    assert children["n0-0-n0"].closure.phase == NodeExecutionPhase.SKIPPED
    assert children["n0-0-n1"].closure.phase == NodeExecutionPhase.SUCCEEDED
    echo = execution.node_executions["n0"].subworkflow_node_executions["n0-0-n1"]
    assert echo.outputs["o0"] == 4.0
    (attempt,) = echo.task_executions
    assert attempt.id.task_id.name == "myapp.echoes.echo"
    assert attempt.closure.phase == TaskExecutionPhase.SUCCEEDED
    # No process ran, so there is no log to link.
    assert not attempt.closure.logs


def test_the_other_branch_still_runs_its_task(remote):
    execution = launch(remote, "myapp.echoes.noop_wf", {"a": 20.0})

    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED, execution.closure.error
    assert execution.outputs["o0"] == 10.0
