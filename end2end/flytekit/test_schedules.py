"""A cron launch plan registered and activated with flytekit runs on its
schedule: the execution flytescheduler would make (an `f…000` name, mode
SCHEDULED, the kickoff time as input) runs to completion, and deactivating
the launch plan stops it."""

import time
from datetime import datetime, timedelta, timezone

from flytekit.models.core.execution import WorkflowExecutionPhase
from flytekit.models.execution import ExecutionMetadata

from test_register_and_run import pyflyte, remote_for, WORKFLOWS

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
