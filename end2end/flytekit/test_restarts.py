"""Crash safety and recovery with flytekit: `kill -9` of updraft in the middle
of a run, a restart on the same data dir, and the run finishes with the right
outputs without running again what had finished; `recover` of a failed
execution reuses the node that succeeded."""

import shutil
import time
from datetime import timedelta

import pytest
from flytekit.configuration import Config
from flytekit.models.core.execution import NodeExecutionPhase, WorkflowExecutionPhase
from flytekit.remote import FlyteRemote

from conftest import updraft_binary
from test_register_and_run import pyflyte
from updraft_process import started_updraft

PROJECT, DOMAIN, VERSION = "flytesnacks", "development", "v1"
# A short lease, so the restarted updraft claims the interrupted run at once.
SHORT_LEASE = {"UPDRAFT_PROPELLER__LEASE_SECONDS": "2"}


def remote_for(updraft):
    # flytekit caches a config file by its path; a restarted updraft listens
    # elsewhere, so each start gets its own copy.
    config = updraft.data_dir.parent / f"flytekit-{updraft.address.replace(':', '-')}.yaml"
    shutil.copy(updraft.flytekit_config, config)
    return FlyteRemote(Config.auto(config_file=str(config)), default_project=PROJECT, default_domain=DOMAIN)


def register(updraft):
    pyflyte(updraft, "register", "--project", PROJECT, "--domain", DOMAIN, "--version", VERSION, "myapp")


def wait_for_node(remote, execution, node_id, phase, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        execution = remote.sync_execution(execution, sync_nodes=True)
        node = execution.node_executions.get(node_id)
        if node is not None and node.closure.phase == phase:
            return execution
        time.sleep(0.5)
    pytest.fail(f"node {node_id} never reached phase {phase}")


def test_a_run_interrupted_by_kill_9_finishes_after_a_restart(tmp_path):
    with started_updraft(updraft_binary(), tmp_path, SHORT_LEASE) as updraft:
        register(updraft)
        remote = remote_for(updraft)
        launch_plan = remote.fetch_launch_plan(name="myapp.restarts.slow_wf", version=VERSION)
        execution = remote.execute(launch_plan, inputs={"n": 4, "seconds": 8})
        wait_for_node(remote, execution, "n0", NodeExecutionPhase.SUCCEEDED)
        updraft.process.kill()  # SIGKILL: no shutdown, no last events
        updraft.process.wait()

    with started_updraft(updraft_binary(), tmp_path, SHORT_LEASE) as updraft:
        remote = remote_for(updraft)
        execution = remote.fetch_execution(name=execution.id.name)
        execution = remote.wait(execution, timeout=timedelta(seconds=180), poll_interval=timedelta(seconds=1))

        assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED, execution.closure.error
        assert execution.outputs["o0"] == 50
        execution = remote.sync_execution(execution, sync_nodes=True)
        assert len(execution.node_executions["n0"].task_executions) == 1, "the finished task did not run again"
        slow_attempts = execution.node_executions["n1"].task_executions
        # The interrupted task was read when its process finished meanwhile,
        # else retried once as a lost attempt.
        assert 1 <= len(slow_attempts) <= 2
        assert slow_attempts[-1].closure.phase == 3  # SUCCEEDED


def test_recover_reuses_the_node_that_succeeded(tmp_path):
    marker = tmp_path / "fail-marker"
    marker.write_text("")
    with started_updraft(updraft_binary(), tmp_path) as updraft:
        register(updraft)
        remote = remote_for(updraft)
        launch_plan = remote.fetch_launch_plan(name="myapp.restarts.recoverable_wf", version=VERSION)
        failed = remote.execute(launch_plan, inputs={"n": 2, "marker": str(marker)})
        failed = remote.wait(failed, timeout=timedelta(seconds=180), poll_interval=timedelta(seconds=1))
        assert failed.closure.phase == WorkflowExecutionPhase.FAILED
        marker.unlink()

        recovered_id = remote.client.recover_execution(failed.id)
        recovered = remote.fetch_execution(name=recovered_id.name)
        recovered = remote.wait(recovered, timeout=timedelta(seconds=180), poll_interval=timedelta(seconds=1))

        assert recovered.closure.phase == WorkflowExecutionPhase.SUCCEEDED, recovered.closure.error
        assert recovered.outputs["o0"] == 300
        recovered = remote.sync_execution(recovered, sync_nodes=True)
        assert recovered.node_executions["n0"].closure.phase == NodeExecutionPhase.RECOVERED
        assert recovered.node_executions["n0"].task_executions == []
        assert recovered.node_executions["n1"].closure.phase == NodeExecutionPhase.SUCCEEDED
