"""An echo task, which Flyte runs without a container: it passes its input on
as its output. As in Flyte's `noop` example, it stands in for the branch of a
conditional that has nothing to do."""

from flytekit import conditional, task, workflow
from flytekit.core.task import Echo

echo = Echo(name="myapp.echoes.echo", inputs={"a": float})


@task
def halve(a: float) -> float:
    return a / 2


@workflow
def noop_wf(a: float = 4.0) -> float:
    return conditional("big").if_(a > 10.0).then(halve(a=a)).else_().then(echo(a=a))
