"""Workflows that measure the propeller, not the tasks: every task is a no-op."""

from flytekit import task, workflow

CHAIN_LENGTH = 100


@task
def step(x: int) -> int:
    return x + 1


@workflow
def chain_wf(x: int = 0) -> int:
    for _ in range(CHAIN_LENGTH):
        x = step(x=x)
    return x


@workflow
def tiny_wf(x: int = 0) -> int:
    return step(x=x)
