"""Runs a real `updraft start` on a free loopback port, for tests and benchmarks."""

import contextlib
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path


class RunningUpdraft:
    def __init__(self, process, data_dir, address):
        self.process = process
        self.data_dir = data_dir
        self.address = address
        self.flytekit_config = data_dir / "flytekit.yaml"


@contextlib.contextmanager
def started_updraft(binary: Path, directory: Path, extra_environment=None):
    """Starts updraft on the data dir `directory/updraft-data` (kept between
    starts, so a test may stop it and start it again on the same data)."""
    data_dir = directory / "updraft-data"
    # Tasks run as local processes with this flytekit (the venv we run in).
    environment = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    environment.update(extra_environment or {})
    process = subprocess.Popen(
        [str(binary), "start", "--data-dir", str(data_dir), "--addr", "127.0.0.1:0"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
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
            raise RuntimeError(f"updraft did not start: {process.stdout.read()}")
        # Keep reading its output (a full pipe would block updraft's logging)
        # into a file next to its data, to read when a test fails.
        log_file = open(directory / "updraft.log", "a")

        def drain():
            for line in process.stdout:
                log_file.write(line)
                log_file.flush()

        threading.Thread(target=drain, daemon=True).start()
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://{address}/healthz") as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        yield RunningUpdraft(process, data_dir, address)
    finally:
        process.terminate()
        try:
            # More than updraft's own grace for requests still open.
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
