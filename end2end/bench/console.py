"""Console benchmark: how fast the console serves and draws.

    .venv/bin/python end2end/bench/console.py [--binary target/release/updraft] [--nodes 10000]

Starts `updraft start` (its propeller off, so nothing runs by itself), then prints:
- the executions list (25 rows) rendered on the server: p50/p99 of the whole
  response, of the gRPC calls that page makes (timed on their own), and the
  BFF's own time (the difference of the p50s);
- an execution of N nodes (a registered workflow of N no-op nodes, its node
  events sent to admin as a propeller would): time to first contentful paint
  of its page, and the longest main-thread task while scrolling its node
  table and while scrolling its graph (Chromium, through playwright);
- the WASM the browser loads, compressed as it is served: the main module
  and what each page or part adds when first shown.
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
from flyteidl.admin import common_pb2, event_pb2 as admin_event_pb2, project_pb2, version_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2, identifier_pb2
from flyteidl.event import event_pb2
from flyteidl.service import admin_pb2_grpc
from flytekit.configuration import Config
from flytekit.remote import FlyteRemote
from google.protobuf.timestamp_pb2 import Timestamp

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent / "flytekit"))
from updraft_process import started_updraft  # noqa: E402

PROJECT, DOMAIN, VERSION = "flytesnacks", "development", "consolebench1"
SAMPLES = 300


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def timed(call, samples=SAMPLES):
    call()  # warm-up: connections, caches
    durations = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        durations.append((time.perf_counter() - started) * 1000)
    return durations


def wide_workflow_source(nodes):
    chains, length = 100, max(1, nodes // 100)
    lines = [
        "from flytekit import task, workflow",
        "",
        "@task",
        "def step(x: int) -> int:",
        "    return x + 1",
        "",
        "@workflow",
        "def wide_wf() -> None:",
    ]
    for chain in range(chains):
        lines.append(f"    v = step(x={chain})")
        for _ in range(length - 1):
            lines.append("    v = step(x=v)")
    return "\n".join(lines) + "\n"


def register(updraft, folder, package):
    subprocess.run(
        [sys.executable, "-m", "flytekit.clis.sdk_in_container.pyflyte", "--config", str(updraft.flytekit_config),
         "register", "--project", PROJECT, "--domain", DOMAIN, "--version", VERSION, package],
        cwd=folder, check=True, capture_output=True, timeout=1800,
    )


def now():
    stamp = Timestamp()
    stamp.GetCurrentTime()
    return stamp


def send_node_events(stub, execution_id, nodes):
    stub.CreateWorkflowEvent(admin_event_pb2.WorkflowExecutionEventRequest(
        request_id="bench-wf-running",
        event=event_pb2.WorkflowExecutionEvent(
            execution_id=execution_id, producer_id="bench",
            phase=core_execution_pb2.WorkflowExecution.RUNNING, occurred_at=now()),
    ))

    def node(index):
        node_id = f"n{index}"
        for phase in (core_execution_pb2.NodeExecution.RUNNING, core_execution_pb2.NodeExecution.SUCCEEDED):
            stub.CreateNodeEvent(admin_event_pb2.NodeExecutionEventRequest(
                request_id=f"bench-{node_id}-{phase}",
                event=event_pb2.NodeExecutionEvent(
                    id=identifier_pb2.NodeExecutionIdentifier(node_id=node_id, execution_id=execution_id),
                    spec_node_id=node_id, producer_id="bench", phase=phase, occurred_at=now()),
            ))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(node, range(nodes)))


def list_ssr(updraft):
    url = f"http://{updraft.address}/console/projects/{PROJECT}/domains/{DOMAIN}/executions"
    channel = grpc.insecure_channel(updraft.address)
    stub = admin_pb2_grpc.AdminServiceStub(channel)

    def page():
        with urllib.request.urlopen(url) as response:
            assert response.status == 200
            response.read()

    # The calls the page makes, with the requests it makes them with.
    def grpc_calls():
        stub.ListExecutions(common_pb2.ResourceListRequest(
            id=common_pb2.NamedEntityIdentifier(project=PROJECT, domain=DOMAIN), limit=25,
            sort_by=common_pb2.Sort(key="created_at", direction=common_pb2.Sort.DESCENDING)))
        stub.ListProjects(project_pb2.ProjectListRequest(limit=1000))
        stub.GetVersion(version_pb2.GetVersionRequest())

    whole = timed(page)
    calls = timed(grpc_calls)
    print(
        f"executions list SSR (25 rows): whole response p50 {statistics.median(whole):.2f} ms, "
        f"p99 {percentile(whole, 0.99):.2f} ms; its gRPC calls p50 {statistics.median(calls):.2f} ms, "
        f"p99 {percentile(calls, 0.99):.2f} ms; BFF's own time p50 "
        f"{statistics.median(whole) - statistics.median(calls):.2f} ms ({SAMPLES} samples)"
    )


def wasm_size():
    """The main module every page loads first, then each lazily loaded part
    (pages, graph, timeline, node drawer) with the shared chunks it needs."""
    pkg = ROOT / "target" / "site" / "pkg"

    def size(stem, suffix):
        return (pkg / f"{stem}.wasm{suffix}").stat().st_size

    main_br = size("updraft", ".br")
    print(f"initial WASM (main module): {size('updraft', ''):,} bytes, {size('updraft', '.gz'):,} gzip, "
          f"{main_br:,} brotli")
    manifest = json.loads((pkg / "__wasm_split_manifest.json").read_text())
    for split, stems in sorted(manifest.items()):
        part = re.sub(r"_\d+$", "", split).strip("_").removesuffix("_view")
        more = sum(size(stem, ".br") for stem in stems)
        print(f"  {part}: {more:,} bytes brotli more when first shown ({main_br + more:,} with the main module)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=str(ROOT / "target" / "release" / "updraft"))
    parser.add_argument("--nodes", type=int, default=10_000)
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        package = scratch / "wide"
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / "wide.py").write_text(wide_workflow_source(arguments.nodes))
        with started_updraft(Path(arguments.binary), scratch, {"UPDRAFT_PROPELLER__ENABLED": "false"}) as updraft:
            remote = FlyteRemote(Config.auto(config_file=str(updraft.flytekit_config)),
                                 default_project=PROJECT, default_domain=DOMAIN)
            started = time.monotonic()
            register(updraft, HERE / "workflows", "benchapp")
            register(updraft, scratch, "wide")
            print(f"(registered the benchmark workflows in {time.monotonic() - started:.0f} s)")
            tiny = remote.fetch_launch_plan(name="benchapp.chain.tiny_wf", version=VERSION)
            for index in range(30):
                remote.execute(tiny, inputs={"x": index})
            list_ssr(updraft)

            wide = remote.fetch_launch_plan(name="wide.wide.wide_wf", version=VERSION)
            execution = remote.execute(wide, inputs={})
            stub = admin_pb2_grpc.AdminServiceStub(grpc.insecure_channel(updraft.address))
            execution_id = identifier_pb2.WorkflowExecutionIdentifier(
                project=PROJECT, domain=DOMAIN, name=execution.id.name)
            started = time.monotonic()
            send_node_events(stub, execution_id, arguments.nodes)
            print(f"(sent {arguments.nodes * 2} node events in {time.monotonic() - started:.0f} s)")
            page = f"http://{updraft.address}/console/projects/{PROJECT}/domains/{DOMAIN}/executions/{execution.id.name}"
            subprocess.run(["node", str(HERE / "console-browser.mjs"), page], check=True, cwd=ROOT / "end2end")
    wasm_size()


if __name__ == "__main__":
    main()
