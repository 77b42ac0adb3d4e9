"""Starts a real `updraft start` on a free loopback port for the flytekit tests."""

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


class RunningUpdraft:
    def __init__(self, process, data_dir, address):
        self.process = process
        self.data_dir = data_dir
        self.address = address
        self.flytekit_config = data_dir / "flytekit.yaml"


@pytest.fixture
def updraft(tmp_path):
    binary = Path(os.environ.get("UPDRAFT_BIN", REPO_ROOT / "target" / "debug" / "updraft"))
    data_dir = tmp_path / "updraft-data"
    # Tasks run as local processes with this flytekit (the venv pytest runs in).
    environment = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    process = subprocess.Popen(
        [str(binary), "start", "--data-dir", str(data_dir), "--addr", "127.0.0.1:0"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    address = None
    deadline = time.monotonic() + 60
    while address is None and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        match = re.search(r"console:\s+http://([^/]+)/console", line)
        if match:
            address = match.group(1)
    if address is None:
        process.kill()
        pytest.fail(f"updraft did not start: {process.stdout.read()}")
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{address}/healthz") as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.1)
    yield RunningUpdraft(process, data_dir, address)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
