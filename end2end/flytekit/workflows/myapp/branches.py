from flytekit import conditional, task, workflow

from myapp.arithmetic import add, square


@task
def describe(label: str, n: int) -> str:
    return f"{label} {n}"


@workflow
def sign_wf(n: int = 3) -> str:
    doubled = add(a=n, b=n)
    return (
        conditional("sign")
        .if_(doubled > 0)
        .then(describe(label="positive", n=doubled))
        .elif_((doubled < 0) & (n > -100))
        .then(describe(label="negative", n=doubled))
        .else_()
        .then(describe(label="zero", n=doubled))
    )


@workflow
def guarded_wf(n: int = 3) -> int:
    return conditional("guard").if_(n >= 0).then(square(n=n)).else_().fail("n must not be negative")
