from flytekit import task, workflow

from myapp.arithmetic import add, square


@workflow
def sum_of_squares(a: int, b: int) -> int:
    return add(a=square(n=a), b=square(n=b))


@task
def announce(total: int) -> str:
    return f"total {total}"


@workflow
def outer_wf(a: int = 3, b: int = 4) -> str:
    total = sum_of_squares(a=a, b=b)
    return announce(total=total)
