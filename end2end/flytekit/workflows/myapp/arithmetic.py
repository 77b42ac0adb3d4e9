from flytekit import task


@task
def add(a: int, b: int) -> int:
    # Read back from the console's inline log viewer by the browser tests.
    print(f"adding {a} and {b}", flush=True)
    return a + b


@task
def square(n: int) -> int:
    return n * n
