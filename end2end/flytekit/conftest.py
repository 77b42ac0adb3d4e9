"""Starts a real `updraft start` on a free loopback port for the flytekit tests."""

import os
from pathlib import Path

import pytest

from updraft_process import started_updraft

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def updraft(tmp_path):
    binary = Path(os.environ.get("UPDRAFT_BIN", REPO_ROOT / "target" / "debug" / "updraft"))
    try:
        with started_updraft(binary, tmp_path) as running:
            yield running
    except RuntimeError as error:
        pytest.fail(str(error))
