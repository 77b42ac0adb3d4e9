import time
import typing

from flytekit import WorkflowFailurePolicy, task, workflow
from flytekit.types.error import FlyteError


@task
def refuse(n: int) -> int:
    if n > 0:
        raise ValueError(f"cannot take {n}")
    return n


@task
def wait_then_return(n: int) -> int:
    time.sleep(3)
    return n


@task
def clean_up(n: int, err: typing.Optional[FlyteError] = None):
    # Fails unless propeller handed over the failure it handles.
    if err is None:
        raise ValueError("the failure node was not given the error")
    if f"cannot take {n}" not in err.message or not err.failed_node_id:
        raise ValueError(f"unexpected error given: {err}")
    print(f"cleaning up after {err.failed_node_id}: {err.message}", flush=True)


@workflow(on_failure=clean_up)
def handled_wf(n: int = 1) -> int:
    return refuse(n=n)


@workflow
def clean_up_wf(n: int, err: typing.Optional[FlyteError] = None):
    clean_up(n=n, err=err)


@workflow(on_failure=clean_up_wf)
def handled_by_workflow_wf(n: int = 2) -> int:
    return refuse(n=n)


@workflow(on_failure=clean_up, failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE)
def others_finish_wf(n: int = 3) -> int:
    wait_then_return(n=n)
    return refuse(n=n)


@workflow(on_failure=clean_up)
def inner_handled_wf(n: int) -> int:
    return refuse(n=n)


@workflow
def outer_wf(n: int = 4) -> int:
    return inner_handled_wf(n=n)
