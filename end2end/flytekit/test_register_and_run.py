"""`pyflyte register` and `pyflyte run --remote` against updraft, as a Flyte user runs them."""

import re
import subprocess
import sys
from pathlib import Path

from flytekit.configuration import Config
from flytekit.remote import FlyteRemote

WORKFLOWS = Path(__file__).parent / "workflows"


def pyflyte(updraft, *args, cwd=WORKFLOWS):
    # Run as a module: launched through the venv's `bin/pyflyte` script,
    # `pyflyte run --remote` packs that script (outside the project) into the
    # code archive as `../…`, which the task's `tar -x` then refuses.
    result = subprocess.run(
        [sys.executable, "-m", "flytekit.clis.sdk_in_container.pyflyte", "--config", str(updraft.flytekit_config), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"pyflyte {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def remote_for(updraft):
    return FlyteRemote(
        Config.auto(config_file=str(updraft.flytekit_config)),
        default_project="flytesnacks",
        default_domain="development",
    )


def test_fast_register_of_a_package_succeeds_and_again_identically(updraft):
    first = pyflyte(updraft, "register", "--project", "flytesnacks", "--domain", "development", "--version", "v1", "myapp")
    second = pyflyte(updraft, "register", "--project", "flytesnacks", "--domain", "development", "--version", "v1", "myapp")

    assert "Successfully registered" in first, first
    assert "Successfully registered" in second, second
    remote = remote_for(updraft)
    workflow = remote.fetch_workflow(name="myapp.greetings.hello_wf", version="v1")
    assert {node.id for node in workflow.nodes} >= {"n0", "n1", "n2"}
    task = remote.fetch_task(name="myapp.arithmetic.add", version="v1")
    assert sorted(task.interface.inputs) == ["a", "b"]
    launch_plan = remote.fetch_launch_plan(name="myapp.greetings.hello_wf", version="v1")
    assert launch_plan.workflow_id.name == "myapp.greetings.hello_wf"


def test_run_remote_creates_an_execution_flyte_remote_reads_back(updraft):
    output = pyflyte(updraft, "run", "--remote", "myapp/greetings.py", "hello_wf", "--name", "bob", "--a", "5")

    match = re.search(r"/console/projects/flytesnacks/domains/development/executions/([a-z0-9]+)", output)
    assert match, output
    remote = remote_for(updraft)
    execution = remote.fetch_execution(name=match.group(1))
    assert execution.spec.launch_plan.name == "myapp.greetings.hello_wf"
    data = remote.client.get_execution_data(execution.id)
    inputs = data.full_inputs.literals
    assert inputs["name"].scalar.primitive.string_value == "bob"
    assert inputs["a"].scalar.primitive.integer == 5
    # Defaults of the launch plan fill what was not given.
    assert inputs["b"].scalar.primitive.integer == 4
