import os
import time
from datetime import timedelta

from flytekit import task, workflow
from flytekit.exceptions.user import FlyteRecoverableException


@task
def explode(n: int) -> int:
    if n > 0:
        raise ValueError(f"boom {n}")
    return n


@workflow
def failing_wf(n: int = 3) -> int:
    return explode(n=n)


@task(retries=2)
def flaky(word: str) -> str:
    # Flyte counts attempts from 0; only recoverable errors are retried.
    if int(os.environ.get("FLYTE_ATTEMPT_NUMBER", "0")) == 0:
        raise FlyteRecoverableException("the first attempt fails on purpose")
    return f"{word} after a retry"


@workflow
def flaky_wf(word: str = "recovered") -> str:
    return flaky(word=word)


@task(timeout=timedelta(seconds=3))
def too_slow() -> int:
    time.sleep(60)
    return 1


@workflow
def timeout_wf() -> int:
    return too_slow()


@task
def sleeper(seconds: int) -> int:
    time.sleep(seconds)
    return seconds


@workflow
def long_wf(seconds: int = 120) -> int:
    return sleeper(seconds=seconds)
