from datetime import timedelta

from flytekit import sleep, task, workflow

from myapp.arithmetic import add


@workflow
def nap_wf(a: int = 1) -> int:
    first = add(a=a, b=1)
    nap = sleep(timedelta(seconds=2))
    second = add(a=first, b=1)
    first >> nap
    nap >> second
    return second
