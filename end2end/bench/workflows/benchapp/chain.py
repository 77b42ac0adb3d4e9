"""Workflows that measure the propeller, not the tasks: every task is a no-op."""

from flytekit import map_task, task, workflow

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


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@workflow
def wide_map_wf(n: int = 1000) -> int:
    return total(xs=map_task(step)(x=numbers(n=n)))
