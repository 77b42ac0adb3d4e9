from flytekit import task, workflow

from myapp.arithmetic import add, square


@task
def greet(name: str, n: int) -> str:
    return f"hello {name} {n}"


@workflow
def hello_wf(name: str = "world", a: int = 3, b: int = 4) -> str:
    total = add(a=a, b=b)
    return greet(name=name, n=square(n=total))
