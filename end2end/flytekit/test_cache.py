"""Task caching as Flyte users rely on it: `@task(cache=True)` hits on the
second run without starting a task, keyed exactly as Flyte keys it, with
`cache_serialize`, `overwrite_cache`, map tasks per index, and eviction."""

import os
import struct
import time
from datetime import timedelta

import grpc
import pytest
from flyteidl.core import identifier_pb2
from flyteidl.core.catalog_pb2 import CatalogCacheStatus
from flytekit.configuration import Config
from flytekit.models.core.execution import WorkflowExecutionPhase
from flytekit.remote import FlyteRemote

from test_register_and_run import WORKFLOWS, pyflyte

PROJECT, DOMAIN = "flytesnacks", "development"


def register(updraft, version, cache_version="1.0"):
    previous = os.environ.get("UPDRAFT_TEST_CACHE_VERSION")
    os.environ["UPDRAFT_TEST_CACHE_VERSION"] = cache_version
    try:
        pyflyte(updraft, "register", "--project", PROJECT, "--domain", DOMAIN, "--version", version, "caching", cwd=WORKFLOWS)
    finally:
        if previous is None:
            os.environ.pop("UPDRAFT_TEST_CACHE_VERSION", None)
        else:
            os.environ["UPDRAFT_TEST_CACHE_VERSION"] = previous


@pytest.fixture(scope="module")
def remote(shared_updraft):
    register(shared_updraft, "v1")
    return FlyteRemote(Config.auto(config_file=str(shared_updraft.flytekit_config)), default_project=PROJECT, default_domain=DOMAIN)


def start(remote, workflow, inputs, version="v1", **options):
    launch_plan = remote.fetch_launch_plan(name=f"caching.tasks.{workflow}", version=version)
    return remote.execute(launch_plan, inputs=inputs, **options)


def finish(remote, execution):
    done = remote.wait(execution, timeout=timedelta(seconds=240), poll_interval=timedelta(seconds=1))
    assert done.closure.phase == WorkflowExecutionPhase.SUCCEEDED, done.closure.error
    return done


def run(remote, workflow, inputs, version="v1", **options):
    return finish(remote, start(remote, workflow, inputs, version, **options))


def task_node(execution):
    return execution.node_executions["n0"]


def cache_status(node):
    return node.closure.task_node_metadata.cache_status


def test_a_cached_task_hits_on_its_second_run_without_starting_a_task(remote):
    first = run(remote, "square_wf", {"n": 11})
    second = run(remote, "square_wf", {"n": 11})

    assert first.outputs["o0"] == 121 and second.outputs["o0"] == 121
    assert cache_status(task_node(first)) == CatalogCacheStatus.CACHE_POPULATED
    assert len(task_node(first).task_executions) == 1
    hit = task_node(second)
    assert cache_status(hit) == CatalogCacheStatus.CACHE_HIT
    assert hit.task_executions == [], "a hit starts no task"
    source = hit.closure.task_node_metadata.catalog_key.source_task_execution
    assert source.node_execution_id.execution_id.name == first.id.name
    key = hit.closure.task_node_metadata.catalog_key
    assert key.dataset_id.name == "flyte_task-caching.tasks.square"
    assert key.artifact_tag.name.startswith("flyte_cached-")
    assert hit.outputs["o0"] == 121


def test_pyflyte_run_remote_of_a_cached_workflow_hits_the_second_time(shared_updraft, remote):
    for _ in range(2):
        pyflyte(shared_updraft, "run", "--remote", "--project", PROJECT, "--domain", DOMAIN, "--wait", "caching/tasks.py", "square_wf", "--n", "5", cwd=WORKFLOWS)
    executions, _ = remote.client.list_executions_paginated(PROJECT, DOMAIN, limit=100)
    statuses = []
    for listed in executions:
        execution = remote.fetch_execution(name=listed.id.name)
        if execution.spec.launch_plan.name != "caching.tasks.square_wf":
            continue
        execution = remote.sync_execution(execution, sync_nodes=True)
        if execution.inputs.get("n", as_type=int) == 5:
            statuses.append(cache_status(task_node(execution)))
    assert sorted(statuses) == [CatalogCacheStatus.CACHE_HIT, CatalogCacheStatus.CACHE_POPULATED]


def test_a_new_cache_version_misses_and_a_new_task_version_alone_hits(shared_updraft, remote):
    run(remote, "square_wf", {"n": 12})
    register(shared_updraft, "v2-same-cache")
    register(shared_updraft, "v3-new-cache", cache_version="2.0")

    same = run(remote, "square_wf", {"n": 12}, version="v2-same-cache")
    bumped = run(remote, "square_wf", {"n": 12}, version="v3-new-cache")

    assert cache_status(task_node(same)) == CatalogCacheStatus.CACHE_HIT
    assert cache_status(task_node(bumped)) == CatalogCacheStatus.CACHE_POPULATED
    assert len(task_node(bumped).task_executions) == 1


def test_an_ignored_input_does_not_change_the_key(remote):
    run(remote, "increment_wf", {"n": 1, "note": "first"})
    second = run(remote, "increment_wf", {"n": 1, "note": "something else"})

    assert cache_status(task_node(second)) == CatalogCacheStatus.CACHE_HIT
    assert second.outputs["o0"] == 2


def test_four_identical_serialized_runs_execute_the_task_once(remote):
    started = [start(remote, "slow_square_wf", {"n": 9}) for _ in range(4)]
    done = [finish(remote, execution) for execution in started]

    assert all(execution.outputs["o0"] == 81 for execution in done)
    attempts = sum(len(task_node(execution).task_executions) for execution in done)
    assert attempts == 1
    statuses = sorted(cache_status(task_node(execution)) for execution in done)
    assert statuses == [CatalogCacheStatus.CACHE_HIT] * 3 + [CatalogCacheStatus.CACHE_POPULATED]


def test_overwrite_cache_runs_the_task_again_and_replaces_the_entry(remote):
    first = run(remote, "square_wf", {"n": 13})
    overwritten = run(remote, "square_wf", {"n": 13}, overwrite_cache=True)
    after = run(remote, "square_wf", {"n": 13})

    assert len(task_node(overwritten).task_executions) == 1
    assert cache_status(task_node(overwritten)) == CatalogCacheStatus.CACHE_POPULATED
    source = task_node(after).closure.task_node_metadata.catalog_key.source_task_execution
    assert source.node_execution_id.execution_id.name == overwritten.id.name != first.id.name


def index_statuses(execution):
    map_node = task_node(execution)
    resources = map_node.task_executions[-1].closure.metadata.external_resources
    return {resource.index: resource.cache_status for resource in resources}


def test_a_cached_map_task_runs_only_its_new_index(remote):
    run(remote, "triples_wf", {"ns": [1, 2, 3]})
    second = run(remote, "triples_wf", {"ns": [1, 2, 3, 4]})

    assert second.outputs["o0"] == [3, 6, 9, 12]
    assert index_statuses(second) == {
        0: CatalogCacheStatus.CACHE_HIT,
        1: CatalogCacheStatus.CACHE_HIT,
        2: CatalogCacheStatus.CACHE_HIT,
        3: CatalogCacheStatus.CACHE_POPULATED,
    }


def evict_execution(updraft, execution_id):
    """updraft's own CacheEvictionService, called as any gRPC client would:
    the request is `{1: WorkflowExecutionIdentifier}`, the answer `{1: count}`."""
    identifier = identifier_pb2.WorkflowExecutionIdentifier(
        project=execution_id.project, domain=execution_id.domain, name=execution_id.name
    ).SerializeToString()
    request = b"\x0a" + varint(len(identifier)) + identifier
    address = updraft.address.removeprefix("http://")
    with grpc.insecure_channel(address) as channel:
        call = channel.unary_unary("/updraft.catalog.v1.CacheEvictionService/EvictExecutionArtifacts")
        answer = call(request, timeout=30)
    return read_varint_field(answer)


def varint(value):
    out = b""
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out += struct.pack("B", byte | 0x80)
        else:
            return out + struct.pack("B", byte)


def read_varint_field(message):
    if not message:
        return 0
    assert message[0] == 0x08, message
    value, shift = 0, 0
    for byte in message[1:]:
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return value


def test_evicting_an_executions_results_makes_the_next_run_miss(shared_updraft, remote):
    first = run(remote, "square_wf", {"n": 14})
    assert evict_execution(shared_updraft, first.id) == 1

    again = run(remote, "square_wf", {"n": 14})
    assert cache_status(task_node(again)) == CatalogCacheStatus.CACHE_POPULATED
    assert len(task_node(again).task_executions) == 1
