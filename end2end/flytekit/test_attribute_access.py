"""Attribute access on task outputs (`fruit.name`, `fruits["best"].size`,
`lengths[1]`): propeller resolves it between tasks as Flyte's does, and the
receiving task gets each value in its declared type."""

from flytekit.models.core.execution import WorkflowExecutionPhase

from test_execution import launch, remote  # noqa: F401  (the fixture)


def succeeded(execution):
    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED, execution.closure.error
    return execution.outputs["o0"]


def test_fields_of_a_dataclass_arrive_as_their_own_types(remote):
    execution = launch(remote, "myapp.attributes.fruit_wf", {"name": "pear"})

    assert succeeded(execution) == "pear size=3 weight=0.75 ripe=True tag=pear"


def test_a_nested_dataclass_its_list_and_an_item_of_it(remote):
    execution = launch(remote, "myapp.attributes.farm_wf", {"name": "pear"})

    assert succeeded(execution) == "hill rows=[4, 5] listed=[4, 5] second=5"


def test_fields_of_a_pydantic_model_and_of_a_nested_model(remote):
    execution = launch(remote, "myapp.attributes.basket_wf", {"owner": "ann"})

    assert succeeded(execution) == "ann count=2 price=1.5 label=fresh/4 text=fresh size=8"


def test_a_dict_of_dataclasses_by_key(remote):
    execution = launch(remote, "myapp.attributes.best_wf", {"names": ["fig", "plum"]})

    assert succeeded(execution) == "fig size=9 weight=2.25 ripe=True tag=plum"


def test_lists_of_ints_and_of_dataclasses_by_index(remote):
    execution = launch(remote, "myapp.attributes.indexed_wf", {"names": ["fig", "kiwi"]})

    assert succeeded(execution) == "kiwi size=8 weight=0.25 ripe=False tag=listed"


def test_a_workflow_output_can_be_a_field_of_a_task_output(remote):
    execution = launch(remote, "myapp.attributes.output_field_wf", {"name": "pear"})

    assert succeeded(execution) == 4


def test_a_missing_key_fails_naming_the_node_the_output_and_the_key(remote):
    execution = launch(remote, "myapp.attributes.missing_key_wf", {"names": ["fig", "plum"]})

    assert execution.closure.phase == WorkflowExecutionPhase.FAILED
    message = execution.closure.error.message
    assert "node n1:" in message, message
    assert "cannot take key `nope` of output `o0` of node n0" in message, message
    assert "it has `best`, `worst`" in message, message
