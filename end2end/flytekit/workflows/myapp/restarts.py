"""Workflows for the crash-safety and recovery tests: a quick task, then one
that takes a while or fails while a marker file exists."""

import os
import time

from flytekit import task, workflow


@task
def quick(n: int) -> int:
    return n + 1


@task
def slow(n: int, seconds: int) -> int:
    time.sleep(seconds)
    return n * 10


@task
def fails_while_marked(n: int, marker: str) -> int:
    if os.path.exists(marker):
        raise ValueError(f"marker {marker} exists")
    return n * 100


@workflow
def slow_wf(n: int, seconds: int) -> int:
    return slow(n=quick(n=n), seconds=seconds)


@workflow
def recoverable_wf(n: int, marker: str) -> int:
    return fails_while_marked(n=quick(n=n), marker=marker)
