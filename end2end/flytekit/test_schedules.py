"""A cron launch plan registered and activated with flytekit runs on its
schedule: the execution flytescheduler would make (an `f…000` name, mode
SCHEDULED, the kickoff time as input) runs to completion, and deactivating
the launch plan stops it. Two schedulers on one PostgreSQL database launch
each time once, and when the leading one is killed the other goes on."""

import os
import subprocess
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from flytekit.models.core.execution import WorkflowExecutionPhase
from flytekit.models.execution import ExecutionMetadata

from conftest import updraft_binary
from test_register_and_run import pyflyte, remote_for, WORKFLOWS
from test_split_deployment import fresh_database, start_process, wait_ready, write_config

LAUNCH_PLAN = "schedules.every_minute"


def scheduled_executions(remote):
    executions, _ = remote.client.list_executions_paginated("flytesnacks", "development", limit=100)
    return [
        execution
        for execution in executions
        if execution.spec.launch_plan.name == LAUNCH_PLAN
        and execution.spec.metadata.mode == ExecutionMetadata.ExecutionMode.SCHEDULED
    ]


def test_an_activated_cron_launch_plan_runs_each_minute_until_deactivated(updraft):
    pyflyte(updraft, "register", "--project", "flytesnacks", "--domain", "development", "--version", "v1", "schedules", cwd=WORKFLOWS)
    pyflyte(updraft, "launchplan", "--activate", LAUNCH_PLAN, "v1")
    remote = remote_for(updraft)

    # The next top of a minute, then its run.
    deadline = time.monotonic() + 150
    while not (found := scheduled_executions(remote)):
        assert time.monotonic() < deadline, "no scheduled execution appeared"
        time.sleep(1)
    scheduled = found[0]
    name = scheduled.id.name
    assert len(name) == 20 and name.startswith("f") and name.endswith("000"), name
    scheduled_at = scheduled.spec.metadata.scheduled_at
    assert scheduled_at.second == 0 and scheduled_at.microsecond == 0, scheduled_at
    inputs = remote.client.get_execution_data(scheduled.id).full_inputs.literals
    assert inputs["kickoff"].scalar.primitive.datetime.replace(tzinfo=None) == scheduled_at.replace(tzinfo=None)

    execution = remote.wait(
        remote.fetch_execution(name=name), timeout=timedelta(seconds=120), poll_interval=timedelta(seconds=1)
    )
    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED, execution.closure.error
    assert execution.outputs["o0"] == scheduled_at.strftime("%Y-%m-%dT%H:%M:%S")

    pyflyte(updraft, "launchplan", "--deactivate", LAUNCH_PLAN, "v1")
    deactivated_at = datetime.now(timezone.utc).replace(tzinfo=None)
    # A minute boundary passes with the schedule off: no time after it is launched.
    time.sleep(65)
    launched_at = [execution.spec.metadata.scheduled_at for execution in scheduled_executions(remote)]
    assert launched_at and all(at <= deactivated_at for at in launched_at), (launched_at, deactivated_at)


def launch_plan_scheduled_at(remote):
    """The scheduled times launched, oldest first, with their execution names."""
    return sorted(
        (execution.spec.metadata.scheduled_at, execution.id.name) for execution in scheduled_executions(remote)
    )


@pytest.mark.skipif(
    not os.environ.get("UPDRAFT_TEST_POSTGRES"),
    reason="two schedulers share a PostgreSQL database: set UPDRAFT_TEST_POSTGRES",
)
def test_two_schedulers_launch_each_minute_once_and_the_survivor_goes_on(tmp_path):
    # `updraft admin` and two `updraft scheduler` on one fresh database; no
    # propeller, so the executions stay QUEUED and only their launch counts.
    updraft = str(updraft_binary())
    environment = dict(os.environ, RUST_LOG="info", NO_COLOR="1")
    database = fresh_database(os.environ["UPDRAFT_TEST_POSTGRES"])
    processes = []
    try:
        admin_config = write_config(tmp_path / "admin.toml", f'[database]\nurl = "{database}"\n')
        admin = start_process(
            "admin",
            [updraft, "admin", "--config", str(admin_config), "--addr", "127.0.0.1:0", "--data-dir", str(tmp_path / "admin")],
            tmp_path, environment, r"gRPC and HTTP: (\S+)")
        processes.append(admin)
        wait_ready(admin)
        scheduler_config = write_config(
            tmp_path / "scheduler.toml",
            f'[database]\nurl = "{database}"\n[scheduler]\nadmin_endpoint = "http://{admin.address}"\n',
        )
        schedulers = []
        for name in ("scheduler-a", "scheduler-b"):
            scheduler = start_process(
                name,
                [updraft, "scheduler", "--config", str(scheduler_config), "--addr", "127.0.0.1:0",
                 "--data-dir", str(tmp_path / name)],
                tmp_path, environment, r"gRPC and HTTP: (\S+)")
            processes.append(scheduler)
            schedulers.append(scheduler)
        for scheduler in schedulers:
            wait_ready(scheduler)

        deployment = SimpleNamespace(
            flytekit_config=write_config(
                tmp_path / "flytekit.yaml", f"admin:\n  endpoint: dns:///{admin.address}\n  insecure: true\n"
            )
        )
        pyflyte(deployment, "register", "--project", "flytesnacks", "--domain", "development",
                "--version", "v1", "--activate-launchplans", "schedules", cwd=WORKFLOWS)
        remote = remote_for(deployment)

        def logs():
            return "\n".join(f"--- {process.name} ---\n{process.log()[-3000:]}" for process in processes)

        def wait_for_launches(count, timeout):
            deadline = time.monotonic() + timeout
            while len(launched := launch_plan_scheduled_at(remote)) < count:
                assert time.monotonic() < deadline, f"{len(launched)} of {count} launches\n{logs()}"
                time.sleep(0.5)
            return launched

        # The next top of a minute, launched by whichever scheduler leads.
        first_at, first_name = wait_for_launches(1, 75)[0]
        deadline = time.monotonic() + 5  # its log line follows admin's answer
        while not (leaders := [scheduler for scheduler in schedulers if first_name in scheduler.log()]):
            assert time.monotonic() < deadline, f"no scheduler logged launching {first_name}\n{logs()}"
            time.sleep(0.1)
        assert len(leaders) == 1, f"one scheduler launches, not both\n{logs()}"
        leader = leaders[0]
        survivor = schedulers[1 - schedulers.index(leader)]
        # SIGKILL: no lease given back, so the survivor must wait for it to run out.
        leader.popen.kill()
        leader.popen.wait()

        launched = wait_for_launches(2, 75)
        time.sleep(2)  # a duplicate, if any, would land by now
        launched = launch_plan_scheduled_at(remote)
        assert [at for at, _ in launched] == [first_at, first_at + timedelta(minutes=1)], (launched, logs())
        second_name = launched[1][1]
        assert len(second_name) == 20 and second_name.startswith("f") and second_name.endswith("000"), second_name
        assert second_name in survivor.log() and first_name not in survivor.log(), logs()
    finally:
        for process in reversed(processes):
            if process.popen.poll() is None:
                process.popen.terminate()
                try:
                    process.popen.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.popen.kill()
