from datetime import timedelta

from flytekit import approve, dynamic, sleep, task, wait_for_input, workflow

from myapp.arithmetic import add


@workflow
def nap_wf(a: int = 1) -> int:
    first = add(a=a, b=1)
    nap = sleep(timedelta(seconds=2))
    second = add(a=first, b=1)
    first >> nap
    nap >> second
    return second


@workflow
def approval_wf(a: int = 1) -> int:
    first = add(a=a, b=1)
    approved = approve(first, "approve-sum", timeout=timedelta(minutes=10))
    return add(a=approved, b=1)


@workflow
def input_wf(a: int = 1) -> int:
    extra = wait_for_input("extra", timeout=timedelta(minutes=10), expected_type=int)
    return add(a=a, b=extra)


@workflow
def approved_sum(a: int) -> int:
    first = add(a=a, b=1)
    return approve(first, "approve-inner", timeout=timedelta(minutes=10))


@workflow
def nested_approval_wf(a: int = 2) -> int:
    return add(a=approved_sum(a=a), b=1)


@dynamic
def approve_made(a: int) -> int:
    first = add(a=a, b=1)
    return approve(first, "approve-made", timeout=timedelta(minutes=10))


@workflow
def dynamic_approval_wf(a: int = 2) -> int:
    return add(a=approve_made(a=a), b=1)
