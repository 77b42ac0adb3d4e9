"""Cached tasks for the task-cache tests. The cache version comes from the
environment at registration, so a test can register a second version of
the same task with another cache version."""

import os
import time
import typing

from flytekit import map_task, task, workflow

CACHE_VERSION = os.environ.get("UPDRAFT_TEST_CACHE_VERSION", "1.0")


@task(cache=True, cache_version=CACHE_VERSION)
def square(n: int) -> int:
    return n * n


@workflow
def square_wf(n: int) -> int:
    return square(n=n)


@task(cache=True, cache_version="1.0", cache_ignore_input_vars=("note",))
def increment(n: int, note: str) -> int:
    return n + 1


@workflow
def increment_wf(n: int, note: str) -> int:
    return increment(n=n, note=note)


@task(cache=True, cache_version="1.0", cache_serialize=True)
def slow_square(n: int) -> int:
    # Long enough for the other identical runs to find the reservation held.
    time.sleep(8)
    return n * n


@workflow
def slow_square_wf(n: int) -> int:
    return slow_square(n=n)


@task(cache=True, cache_version="1.0")
def triple(n: int) -> int:
    return 3 * n


@workflow
def triples_wf(ns: typing.List[int]) -> typing.List[int]:
    return map_task(triple)(n=ns)
