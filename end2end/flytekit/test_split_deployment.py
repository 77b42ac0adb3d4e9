"""A split deployment on loopback, as production runs it: PostgreSQL, an S3
server that checks signatures, `updraft admin`, two `updraft propeller`
(one in a cluster labelled `gpu`) and `updraft console`, each its own
process. Real flytekit registers code (uploaded straight to S3 through a
presigned URL) and runs workflows with files and a map task; an execution
labelled `gpu` runs only on that propeller; a propeller killed with -9 in the
middle of a run leaves its work to the other."""

import contextlib
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from flyteidl.admin import execution_pb2, matchable_resource_pb2, workflow_attributes_pb2
from flyteidl.core import identifier_pb2
from flyteidl.service import admin_pb2_grpc
from flytekit.configuration import Config
from flytekit.models.core.execution import NodeExecutionPhase, WorkflowExecutionPhase
from flytekit.remote import FlyteRemote

from conftest import REPO_ROOT, updraft_binary
from test_restarts import wait_for_node

PROJECT, DOMAIN, VERSION = "flytesnacks", "development", "split-v1"
WORKFLOWS = Path(__file__).parent / "workflows"
BUCKET = "updraft-data"
ACCESS_KEY = "updraft-split"
SECRET_KEY = "updraft-split-secret"
# Labelled `gpu` by a workflow attribute, as `flytectl update execution-cluster-label` sets it.
GPU_WORKFLOW = "myapp.greetings.hello_wf"

pytestmark = pytest.mark.skipif(
    not os.environ.get("UPDRAFT_TEST_POSTGRES"),
    reason="the split deployment runs on PostgreSQL: set UPDRAFT_TEST_POSTGRES",
)


class Process:
    def __init__(self, name, popen, address, log_path):
        self.name = name
        self.popen = popen
        self.address = address
        self.log_path = log_path

    def log(self):
        return self.log_path.read_text() if self.log_path.exists() else ""


def start_process(name, command, directory, environment, address_pattern):
    """Starts `command`, reads its address from its output, then keeps its
    output in `directory/name.log`."""
    log_path = directory / f"{name}.log"
    popen = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    address = None
    deadline = time.monotonic() + 60
    while address is None and time.monotonic() < deadline:
        line = popen.stdout.readline()
        if not line:
            break
        lines.append(line)
        match = re.search(address_pattern, line)
        if match:
            address = match.group(1)
    log_file = open(log_path, "a")
    log_file.writelines(lines)

    def drain():
        for line in popen.stdout:
            log_file.write(line)
            log_file.flush()

    threading.Thread(target=drain, daemon=True).start()
    if address is None:
        popen.kill()
        raise RuntimeError(f"{name} did not start:\n{''.join(lines)}{log_path.read_text()}")
    return Process(name, popen, address, log_path)


def wait_ready(process, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{process.address}/healthz") as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{process.name} never became ready:\n{process.log()}")


def fresh_database(base_url):
    name = f"split_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", base_url, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return base_url.rsplit("/", 1)[0] + "/" + name


def write_config(path, text):
    path.write_text(text)
    return path


@contextlib.contextmanager
def split_deployment(directory):
    processes = []
    updraft = str(updraft_binary())
    s3_server = str(Path(updraft).parent / "updraft-s3-test-server")
    try:
        s3 = start_process(
            "s3",
            [s3_server, "--root", str(directory / "s3"), "--bucket", BUCKET,
             "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY],
            directory, dict(os.environ), r"listening on http://(\S+)")
        processes.append(s3)
        storage = (
            '[storage]\nkind = "s3"\n[storage.s3]\n'
            f'bucket = "{BUCKET}"\nendpoint = "http://{s3.address}"\nregion = "us-east-1"\n'
            f'allow_http = true\naccess_key_id = "{ACCESS_KEY}"\n'
        )
        # The secret comes from the environment, never a file.
        environment = dict(
            os.environ,
            UPDRAFT_STORAGE__S3__SECRET_ACCESS_KEY=SECRET_KEY,
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        database = fresh_database(os.environ["UPDRAFT_TEST_POSTGRES"])
        admin_config = write_config(directory / "admin.toml", f'[database]\nurl = "{database}"\n{storage}')
        admin = start_process(
            "admin",
            [updraft, "admin", "--config", str(admin_config), "--addr", "127.0.0.1:0", "--data-dir", str(directory / "admin")],
            directory, environment, r"gRPC and HTTP: (\S+)")
        processes.append(admin)
        wait_ready(admin)

        def propeller(name, cluster, labels):
            config = write_config(
                directory / f"{name}.toml",
                f'[propeller]\nadmin_endpoint = "http://{admin.address}"\ncluster = "{cluster}"\n'
                f'labels = {labels!r}\nlease_seconds = 3\n'
                f'python_bin_dir = "{Path(sys.executable).parent}"\n'.replace("'", '"') + storage,
            )
            process = start_process(
                name,
                [updraft, "propeller", "--config", str(config), "--addr", "127.0.0.1:0", "--data-dir", str(directory / name)],
                directory, environment, r"gRPC and HTTP: (\S+)")
            processes.append(process)
            wait_ready(process)
            return process

        east = propeller("propeller-east", "east", [])
        gpu = propeller("propeller-gpu", "gpu-pool", ["gpu"])
        console_config = write_config(
            directory / "console.toml",
            f'[console]\nadmin_endpoint = "http://{admin.address}"\npropeller_endpoint = "http://{east.address}"\n',
        )
        console = start_process(
            "console",
            [updraft, "console", "--config", str(console_config), "--addr", "127.0.0.1:0", "--data-dir", str(directory / "console")],
            directory, environment, r"console:\s+http://([^/]+)/console")
        processes.append(console)
        wait_ready(console)
        flytekit_config = write_config(
            directory / "flytekit.yaml",
            f"admin:\n  endpoint: dns:///{admin.address}\n  insecure: true\n"
            # A Flyte user reads outputs from the bucket with keys of their own.
            f"storage:\n  connection:\n    endpoint: http://{s3.address}\n"
            f"    access-key: {ACCESS_KEY}\n    secret-key: {SECRET_KEY}\n",
        )
        yield {"s3": s3, "admin": admin, "east": east, "gpu": gpu, "console": console,
               "flytekit_config": flytekit_config, "directory": directory}
    finally:
        for process in reversed(processes):
            if process.popen.poll() is None:
                process.popen.terminate()
                try:
                    process.popen.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.popen.kill()


def pyflyte(deployment, *args):
    result = subprocess.run(
        [sys.executable, "-m", "flytekit.clis.sdk_in_container.pyflyte", "--config", str(deployment["flytekit_config"]), *args],
        cwd=WORKFLOWS, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"pyflyte {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def admin_stub(deployment):
    return admin_pb2_grpc.AdminServiceStub(grpc.insecure_channel(deployment["admin"].address))


def execution_cluster(deployment, name):
    execution = admin_stub(deployment).GetExecution(
        execution_pb2.WorkflowExecutionGetRequest(
            id=identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name=name)))
    return execution.spec.metadata.system_metadata.execution_cluster


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    directory = tmp_path_factory.mktemp("split")
    with split_deployment(directory) as running:
        pyflyte(running, "register", "--project", PROJECT, "--domain", DOMAIN, "--version", VERSION, "myapp")
        remote = FlyteRemote(Config.auto(config_file=str(running["flytekit_config"])),
                             default_project=PROJECT, default_domain=DOMAIN)
        running["remote"] = remote
        yield running


def logs_of(deployment):
    return "\n".join(f"--- {name} ---\n{deployment[name].log()[-4000:]}"
                     for name in ("admin", "east", "gpu", "console"))


def run(deployment, workflow, inputs, timeout=240):
    remote = deployment["remote"]
    launch_plan = remote.fetch_launch_plan(name=workflow, version=VERSION)
    execution = remote.execute(launch_plan, inputs=inputs)
    execution = remote.wait(execution, timeout=timedelta(seconds=timeout), poll_interval=timedelta(seconds=1))
    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED, (execution.closure.error, logs_of(deployment))
    return execution


def test_registered_code_lands_in_the_bucket(deployment):
    # pyflyte uploaded the code archive through admin's presigned S3 URL.
    uploads = list((deployment["directory"] / "s3" / BUCKET / "uploads").rglob("*.tar.gz"))
    assert uploads, "no code archive in the bucket"


def test_a_file_output_round_trips_through_s3(deployment):
    execution = run(deployment, "myapp.files.report_wf", {"text": "through s3"})
    report = execution.outputs["o0"]
    assert report.remote_source.startswith(f"s3://{BUCKET}/"), report.remote_source
    # Read with the remote's own store access (its config's keys).
    local = deployment["directory"] / "report.txt"
    deployment["remote"].file_access.get_data(report.remote_source, str(local))
    assert local.read_text() == "through s3"
    data = admin_stub(deployment).GetExecutionData(
        execution_pb2.WorkflowExecutionGetDataRequest(id=execution.id.to_flyte_idl()))
    assert data.full_outputs.literals["o0"].scalar.blob.uri.startswith(f"s3://{BUCKET}/")


def test_a_map_task_runs_on_the_split_deployment(deployment):
    execution = run(deployment, "myapp.maps.cubes_wf", {"xs": [1, 2, 3, 4]})
    assert execution.outputs["o0"] == [1, 8, 27, 64]
    assert execution_cluster(deployment, execution.id.name) in {"east", "gpu-pool"}


def test_an_execution_labelled_gpu_runs_only_on_the_gpu_propeller(deployment):
    stub = admin_stub(deployment)
    stub.UpdateWorkflowAttributes(workflow_attributes_pb2.WorkflowAttributesUpdateRequest(
        attributes=workflow_attributes_pb2.WorkflowAttributes(
            project=PROJECT, domain=DOMAIN, workflow=GPU_WORKFLOW,
            matching_attributes=matchable_resource_pb2.MatchingAttributes(
                execution_cluster_label=matchable_resource_pb2.ExecutionClusterLabel(value="gpu")))))
    for _ in range(3):
        execution = run(deployment, GPU_WORKFLOW, {"name": "gpu", "a": 2, "b": 3})
        assert execution_cluster(deployment, execution.id.name) == "gpu-pool"


def test_a_propeller_killed_mid_run_leaves_its_work_to_the_other(deployment):
    remote = deployment["remote"]
    launch_plan = remote.fetch_launch_plan(name="myapp.restarts.slow_wf", version=VERSION)
    execution = remote.execute(launch_plan, inputs={"n": 4, "seconds": 6})
    wait_for_node(remote, execution, "n0", NodeExecutionPhase.SUCCEEDED)
    owner = execution_cluster(deployment, execution.id.name)
    victim = deployment["east"] if owner == "east" else deployment["gpu"]
    victim.popen.kill()  # SIGKILL: no shutdown, no lease handed back
    victim.popen.wait()
    execution = remote.wait(execution, timeout=timedelta(seconds=180), poll_interval=timedelta(seconds=1))
    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED, (execution.closure.error, logs_of(deployment))
    assert execution.outputs["o0"] == 50
    assert execution_cluster(deployment, execution.id.name) != owner


def test_the_console_shows_the_execution_and_its_cluster(deployment):
    execution = run(deployment, "myapp.maps.cubes_wf", {"xs": [5]})
    cluster = execution_cluster(deployment, execution.id.name)
    page = f"http://{deployment['console'].address}/console/projects/{PROJECT}/domains/{DOMAIN}/executions/{execution.id.name}"
    with urllib.request.urlopen(page) as response:
        html = response.read().decode()
    assert execution.id.name in html
    assert cluster in html, "the execution header names its cluster"
