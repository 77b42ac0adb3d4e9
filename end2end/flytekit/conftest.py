"""Starts a real `updraft start` on a free loopback port for the flytekit tests."""

import os
from pathlib import Path

import pytest

from updraft_process import started_updraft

REPO_ROOT = Path(__file__).resolve().parents[2]


def updraft_binary():
    return Path(os.environ.get("UPDRAFT_BIN", REPO_ROOT / "target" / "debug" / "updraft"))


@pytest.fixture
def updraft(tmp_path):
    try:
        with started_updraft(updraft_binary(), tmp_path) as running:
            yield running
    except RuntimeError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="module")
def shared_updraft(tmp_path_factory):
    """One updraft for a whole test module whose tests run independent
    executions: registering the example package once per module, not per test."""
    try:
        with started_updraft(updraft_binary(), tmp_path_factory.mktemp("updraft")) as running:
            yield running
    except RuntimeError as error:
        pytest.fail(str(error))
