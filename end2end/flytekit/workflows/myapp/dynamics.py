import typing

from flytekit import dynamic, workflow

from myapp.arithmetic import add, square


@dynamic
def squares_then_sum(n: int) -> int:
    total = 0
    for i in range(n):
        total = add(a=total, b=square(n=i))
    return total


@workflow
def dynamic_wf(n: int = 4) -> int:
    return squares_then_sum(n=n)
