"""A launch plan on a cron schedule that hands its workflow the kickoff time."""

from datetime import datetime

from flytekit import CronSchedule, LaunchPlan, task, workflow


@task
def describe_kickoff(kickoff: datetime) -> str:
    return kickoff.strftime("%Y-%m-%dT%H:%M:%S")


@workflow
def stamped_wf(kickoff: datetime) -> str:
    return describe_kickoff(kickoff=kickoff)


every_minute = LaunchPlan.get_or_create(
    workflow=stamped_wf,
    name="schedules.every_minute",
    schedule=CronSchedule(schedule="* * * * *", kickoff_time_input_arg="kickoff"),
)
