"""Workflows registered with flytekit run to the end on updraft, and FlyteRemote
reads their outputs and errors, as against Flyte."""

import time
from datetime import timedelta

import pytest
from flytekit.configuration import Config
from flytekit.core.options import Options
from flytekit.models.common import RawOutputDataConfig
from flytekit.models.core.execution import WorkflowExecutionPhase
from flytekit.remote import FlyteRemote

from test_register_and_run import pyflyte

PROJECT, DOMAIN, VERSION = "flytesnacks", "development", "v1"


@pytest.fixture(scope="module")
def remote(shared_updraft):
    pyflyte(shared_updraft, "register", "--project", PROJECT, "--domain", DOMAIN, "--version", VERSION, "myapp")
    return FlyteRemote(Config.auto(config_file=str(shared_updraft.flytekit_config)), default_project=PROJECT, default_domain=DOMAIN)


def launch(remote, workflow, inputs, timeout=180):
    launch_plan = remote.fetch_launch_plan(name=workflow, version=VERSION)
    execution = remote.execute(launch_plan, inputs=inputs)
    return remote.wait(execution, timeout=timedelta(seconds=timeout), poll_interval=timedelta(seconds=1))


def test_a_workflow_of_three_tasks_runs_and_returns_its_output(remote):
    execution = launch(remote, "myapp.greetings.hello_wf", {"name": "bob", "a": 5, "b": 2})

    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED
    assert execution.outputs["o0"] == "hello bob 49"


def test_a_failing_task_fails_the_execution_with_its_message(remote):
    execution = launch(remote, "myapp.failures.failing_wf", {"n": 5})

    assert execution.closure.phase == WorkflowExecutionPhase.FAILED
    assert "boom 5" in execution.closure.error.message


def test_a_recoverable_failure_is_retried(remote):
    execution = launch(remote, "myapp.failures.flaky_wf", {"word": "ok"})

    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED
    assert execution.outputs["o0"] == "ok after a retry"


def test_a_task_timeout_is_enforced(remote):
    execution = launch(remote, "myapp.failures.timeout_wf", {})

    assert execution.closure.phase == WorkflowExecutionPhase.FAILED
    assert "timeout" in execution.closure.error.message


def test_terminate_aborts_a_running_execution(remote):
    launch_plan = remote.fetch_launch_plan(name="myapp.failures.long_wf", version=VERSION)
    execution = remote.execute(launch_plan, inputs={"seconds": 120})
    for _ in range(120):
        execution = remote.sync_execution(execution, sync_nodes=False)
        if execution.closure.phase == WorkflowExecutionPhase.RUNNING:
            break
        time.sleep(0.5)
    remote.terminate(execution, cause="stopped by the test")
    execution = remote.wait(execution, timeout=timedelta(seconds=60), poll_interval=timedelta(seconds=1))

    assert execution.closure.phase == WorkflowExecutionPhase.ABORTED


def test_large_outputs_are_written_under_the_executions_raw_output_prefix(remote, tmp_path):
    launch_plan = remote.fetch_launch_plan(name="myapp.files.report_wf", version=VERSION)
    prefix = tmp_path / "raw-outputs"
    options = Options(raw_output_data_config=RawOutputDataConfig(output_location_prefix=f"file://{prefix}"))
    execution = remote.execute(launch_plan, inputs={"text": "a large output"}, options=options)
    execution = remote.wait(execution, timeout=timedelta(seconds=180), poll_interval=timedelta(seconds=1))

    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED
    uri = execution.outputs.literals["o0"].scalar.blob.uri
    path = uri.removeprefix("file://")
    assert path.startswith(f"{prefix}/"), uri
    with open(path) as report:
        assert report.read() == "a large output"
