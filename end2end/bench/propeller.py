"""Propeller benchmark: how much time updraft itself adds to running workflows.

    .venv/bin/python end2end/bench/propeller.py [--workflows 500] [--binary target/release/updraft]
        [--parts first,chain,map,many]

Starts `updraft start` on a free port, registers the no-op workflows in
`workflows/benchapp` with `pyflyte register`, then prints:
- CreateExecution to the first task process starting (p50/max of 10 runs);
- overhead per node of a 100-node chain: wall time minus the tasks' own time;
- a map task 1,000 wide: wall time of the map node, and per index;
- N small workflows launched at once: how long until all end, and how many
  succeeded (none may stay stuck), with the errors of any that failed.
Times come from the execution, node and task closures admin keeps, read with
FlyteRemote.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from flytekit.configuration import Config
from flytekit.models.core.execution import WorkflowExecutionPhase
from flytekit.remote import FlyteRemote

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "flytekit"))
from updraft_process import started_updraft  # noqa: E402

PROJECT, DOMAIN, VERSION = "flytesnacks", "development", "bench1"
TERMINAL = {
    WorkflowExecutionPhase.SUCCEEDED,
    WorkflowExecutionPhase.FAILED,
    WorkflowExecutionPhase.ABORTED,
    WorkflowExecutionPhase.TIMED_OUT,
}


def seconds(timestamp):
    return timestamp.timestamp()


def register(updraft):
    subprocess.run(
        [sys.executable, "-m", "flytekit.clis.sdk_in_container.pyflyte", "--config", str(updraft.flytekit_config),
         "register", "--project", PROJECT, "--domain", DOMAIN, "--version", VERSION, "benchapp"],
        cwd=HERE / "workflows", check=True, capture_output=True, timeout=600,
    )


def launch(remote, name, inputs):
    launch_plan = remote.fetch_launch_plan(name=name, version=VERSION)
    return remote.execute(launch_plan, inputs=inputs)


def wait(remote, execution, timeout):
    return remote.wait(execution, timeout=timedelta(seconds=timeout), poll_interval=timedelta(milliseconds=200))


def task_executions(remote, execution):
    synced = remote.sync_execution(execution, sync_nodes=True)
    return [
        attempt
        for node in synced.node_executions.values()
        for attempt in node.task_executions
    ]


def first_task_latency(remote, runs=10):
    latencies = []
    for run in range(runs):
        execution = wait(remote, launch(remote, "benchapp.chain.tiny_wf", {"x": run}), 120)
        assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED, execution.closure
        started = min(seconds(attempt.closure.started_at) for attempt in task_executions(remote, execution))
        latencies.append(started - seconds(execution.closure.created_at))
    print(
        f"CreateExecution -> first task process: p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms ({runs} runs)"
    )


def chain_overhead(remote):
    execution = wait(remote, launch(remote, "benchapp.chain.chain_wf", {"x": 0}), 1800)
    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED, execution.closure
    assert execution.outputs["o0"] == 100
    attempts = task_executions(remote, execution)
    tasks_time = sum(attempt.closure.duration.total_seconds() for attempt in attempts)
    total = execution.closure.duration.total_seconds()
    nodes = len(attempts)
    print(
        f"100-node chain: {total:.1f} s in all, tasks' own time {tasks_time:.1f} s, "
        f"updraft's overhead {(total - tasks_time) / nodes * 1000:.0f} ms per node ({nodes} task runs)"
    )


def wide_map(remote, width=1000):
    execution = wait(remote, launch(remote, "benchapp.chain.wide_map_wf", {"n": width}), 3600)
    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED, execution.closure
    assert execution.outputs["o0"] == width * (width + 1) // 2
    synced = remote.sync_execution(execution, sync_nodes=True)
    map_node = next(node for node in synced.node_executions.values() if node.metadata.is_array)
    map_seconds = map_node.closure.duration.total_seconds()
    print(
        f"{width}-wide map task: map node {map_seconds:.1f} s ({map_seconds / width * 1000:.0f} ms per index), "
        f"whole execution {execution.closure.duration.total_seconds():.1f} s"
    )


def many_at_once(remote, count):
    started = time.monotonic()
    executions = [launch(remote, "benchapp.chain.tiny_wf", {"x": index}) for index in range(count)]
    launched = time.monotonic() - started
    pending = {execution.id.name: execution for execution in executions}
    phases = {}
    deadline = started + 3600
    while pending and time.monotonic() < deadline:
        time.sleep(2)
        for name, execution in list(pending.items()):
            execution = remote.sync_execution(execution)
            if execution.closure.phase in TERMINAL:
                phases[name] = execution.closure.phase
                del pending[name]
    elapsed = time.monotonic() - started
    succeeded = sum(1 for phase in phases.values() if phase == WorkflowExecutionPhase.SUCCEEDED)
    for name, phase in phases.items():
        if phase != WorkflowExecutionPhase.SUCCEEDED:
            failed = remote.sync_execution(remote.fetch_execution(name=name))
            print(f"  {name} ended {phase}: {failed.closure.error}")
    print(
        f"{count} workflows at once: launched in {launched:.1f} s, all ended after {elapsed:.1f} s; "
        f"{succeeded} succeeded, {len(phases) - succeeded} failed, {len(pending)} still running"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=str(HERE.parents[1] / "target" / "release" / "updraft"))
    parser.add_argument("--workflows", type=int, default=500)
    parser.add_argument("--parts", default="first,chain,map,many",
                        help="which measurements to take, comma-separated (default: all)")
    arguments = parser.parse_args()
    parts = set(arguments.parts.split(","))
    with tempfile.TemporaryDirectory() as directory, started_updraft(Path(arguments.binary), Path(directory)) as updraft:
        register(updraft)
        remote = FlyteRemote(Config.auto(config_file=str(updraft.flytekit_config)), default_project=PROJECT, default_domain=DOMAIN)
        if "first" in parts:
            first_task_latency(remote)
        if "chain" in parts:
            chain_overhead(remote)
        if "map" in parts:
            wide_map(remote)
        if "many" in parts:
            many_at_once(remote, arguments.workflows)


if __name__ == "__main__":
    main()
