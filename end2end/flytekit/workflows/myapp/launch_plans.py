from flytekit import CronSchedule, LaunchPlan, task, workflow

from myapp.arithmetic import add, square
from myapp.failures import failing_wf


@workflow
def square_plus_wf(n: int, plus: int) -> int:
    return add(a=square(n=n), b=plus)


square_plus_lp = LaunchPlan.get_or_create(square_plus_wf, name="myapp.launch_plans.square_plus_lp", default_inputs={"plus": 1})
failing_lp = LaunchPlan.get_or_create(failing_wf, name="myapp.launch_plans.failing_lp")
# Registered inactive: the console shows its schedule, nothing runs it.
square_plus_nightly_lp = LaunchPlan.get_or_create(
    square_plus_wf,
    name="myapp.launch_plans.square_plus_nightly",
    default_inputs={"n": 3},
    fixed_inputs={"plus": 1},
    schedule=CronSchedule(schedule="0 2 * * *"),
)


@workflow
def parent_wf(n: int = 3) -> int:
    return square_plus_lp(n=n)


@workflow
def failing_parent_wf(n: int = 4) -> int:
    return failing_lp(n=n)
