"""Failure nodes (`@workflow(on_failure=…)`) run as in Flyte: once the
workflow has failed, given its inputs and the error, and the workflow
still ends FAILED with the original error."""

from flytekit.models.core.execution import NodeExecutionPhase, WorkflowExecutionPhase
from flytekit.models.core.identifier import Identifier, ResourceType

from test_execution import VERSION, launch, remote  # noqa: F401  (the fixture)


def failure_node_id(remote, workflow):
    # flytekit names the failure node when it serialises the workflow
    # (FlyteRemote's workflow model leaves it out: read the closure).
    identifier = Identifier(ResourceType.WORKFLOW, "flytesnacks", "development", workflow, VERSION)
    template = remote.client.get_workflow(identifier).closure.compiled_workflow.primary.template
    return template.failure_node.id


def assert_handled(execution, n, handler_node):
    assert execution.closure.phase == WorkflowExecutionPhase.FAILED
    # The handler checked the error it was given; had it failed, its own
    # error would be the workflow's.
    assert f"cannot take {n}" in execution.closure.error.message, execution.closure.error.message
    nodes = execution.node_executions
    assert handler_node in nodes, sorted(nodes)
    assert nodes[handler_node].closure.phase == NodeExecutionPhase.SUCCEEDED


def test_a_task_failure_node_runs_with_the_error(remote):
    execution = launch(remote, "myapp.failure_nodes.handled_wf", {"n": 1})

    handler = failure_node_id(remote, "myapp.failure_nodes.handled_wf")
    assert_handled(execution, 1, handler)
    assert len(execution.node_executions[handler].task_executions) == 1


def test_a_subworkflow_can_handle_the_failure(remote):
    execution = launch(remote, "myapp.failure_nodes.handled_by_workflow_wf", {"n": 2})

    handler = failure_node_id(remote, "myapp.failure_nodes.handled_by_workflow_wf")
    assert_handled(execution, 2, handler)
    assert execution.node_executions[handler].metadata.is_parent_node


def test_fail_after_executable_nodes_complete_lets_the_others_finish_first(remote):
    execution = launch(remote, "myapp.failure_nodes.others_finish_wf", {"n": 3})

    handler = failure_node_id(remote, "myapp.failure_nodes.others_finish_wf")
    assert_handled(execution, 3, handler)
    nodes = execution.node_executions
    waiter = next(node for node_id, node in nodes.items() if node_id not in (handler, "start-node", "end-node") and node.closure.phase == NodeExecutionPhase.SUCCEEDED)
    assert waiter.closure.updated_at <= nodes[handler].closure.created_at


def test_a_subworkflow_runs_its_own_failure_node(remote):
    execution = launch(remote, "myapp.failure_nodes.outer_wf", {"n": 4})

    assert execution.closure.phase == WorkflowExecutionPhase.FAILED
    assert "cannot take 4" in execution.closure.error.message
    handler = failure_node_id(remote, "myapp.failure_nodes.inner_handled_wf")
    children = remote.client.list_node_executions(execution.id, unique_parent_id="n0", limit=100)[0]
    phases = {child.id.node_id: child.closure.phase for child in children}
    assert phases.get(f"n0-0-{handler}") == NodeExecutionPhase.SUCCEEDED, phases
