from flytekit import task, workflow


@task(cache=True, cache_version="1.0")
def double(n: int) -> int:
    # A hit starts no task process, so this line appears only on misses.
    print(f"doubling {n}", flush=True)
    return n * 2


@workflow
def cached_wf(n: int = 1) -> int:
    return double(n=n)
