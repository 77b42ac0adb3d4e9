"""pyflyte against updraft with single sign-on on: a machine logs in with
client credentials at the real OpenID provider (auth/test-provider), the way
flytekit learns to from AuthMetadataService, then registers and runs a
workflow. Without credentials it gets nowhere."""

import os
import re
import socket
import subprocess
import sys
import time
from datetime import timedelta
import urllib.request
from pathlib import Path

import pytest
from flytekit.configuration import Config
from flytekit.remote import FlyteRemote

from conftest import updraft_binary
from updraft_process import started_updraft

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = Path(__file__).parent / "workflows"
PROVIDER = REPO_ROOT / "auth" / "test-provider" / "server.mjs"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_provider(log_path):
    """Starts the test provider on a free port and answers (process, issuer),
    or (None, why) when it did not come up: another process may take the
    port between choosing and binding it, and a busy machine starts Node.js
    slowly, so the caller tries again on a new port."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            ["node", str(PROVIDER)],
            env=dict(os.environ, OIDC_PORT=str(port)),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration") as response:
                if response.status == 200:
                    return process, issuer
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                process.wait(timeout=10)
                return None, f"exit {process.returncode}: {log_path.read_text()}"
            time.sleep(0.1)


@pytest.fixture
def provider(tmp_path):
    failures = []
    for attempt in range(3):
        process, issuer = start_provider(tmp_path / f"provider-{attempt}.log")
        if process is not None:
            break
        failures.append(issuer)
    else:
        pytest.fail(f"the test provider did not start: {failures}")
    try:
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def secured_updraft(tmp_path, provider):
    environment = {
        "UPDRAFT_AUTH__ISSUER": provider,
        "UPDRAFT_AUTH__ROLES__UPDRAFT-AUTOMATION": "contributor",
        "UPDRAFT_AUTH__ROLES__UPDRAFT-VIEWERS": "viewer",
    }
    try:
        with started_updraft(updraft_binary(), tmp_path, environment) as running:
            yield running
    except RuntimeError as error:
        pytest.fail(str(error))


def client_config(updraft, tmp_path, client_id, secret):
    secret_file = tmp_path / f"{client_id}.secret"
    secret_file.write_text(secret)
    config = tmp_path / f"{client_id}.yaml"
    config.write_text(
        f"admin:\n  endpoint: dns:///{updraft.address}\n  insecure: true\n"
        f"  authType: ClientSecret\n  clientId: {client_id}\n  clientSecretLocation: {secret_file}\n"
        f"console:\n  endpoint: http://{updraft.address}\n"
    )
    return config


def pyflyte(config, *args):
    return subprocess.run(
        [sys.executable, "-m", "flytekit.clis.sdk_in_container.pyflyte", "--config", str(config), *args],
        cwd=WORKFLOWS,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_pyflyte_with_client_credentials_registers_and_runs(secured_updraft, tmp_path):
    config = client_config(secured_updraft, tmp_path, "updraft-cli", "cli-secret")

    registered = pyflyte(config, "register", "--project", "flytesnacks", "--domain", "development", "--version", "v1", "myapp")
    assert registered.returncode == 0, registered.stdout + registered.stderr
    assert "Successfully registered" in registered.stdout + registered.stderr

    ran = pyflyte(config, "run", "--remote", "myapp/greetings.py", "hello_wf", "--name", "sso", "--a", "5")
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, output
    match = re.search(r"/console/projects/flytesnacks/domains/development/executions/([a-z0-9]+)", output)
    assert match, output

    remote = FlyteRemote(
        Config.auto(config_file=str(config)),
        default_project="flytesnacks",
        default_domain="development",
    )
    execution = remote.wait(remote.fetch_execution(name=match.group(1)), timeout=timedelta(seconds=240))
    # The in-process data plane reported the run through the secured admin.
    assert execution.closure.phase == 4, execution.closure  # SUCCEEDED
    # Admin records who signed the launch, not what the client claims.
    assert execution.spec.metadata.principal == "updraft-cli", execution.spec.metadata


def test_pyflyte_with_a_wrong_client_secret_is_refused(secured_updraft, tmp_path):
    config = client_config(secured_updraft, tmp_path, "updraft-cli", "not-the-secret")

    refused = pyflyte(config, "register", "--project", "flytesnacks", "--domain", "development", "--version", "v1", "myapp")
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output
    assert "Successfully registered" not in output, output


def test_a_viewer_machine_cannot_register(secured_updraft, tmp_path):
    config = client_config(secured_updraft, tmp_path, "updraft-viewer-cli", "viewer-cli-secret")

    refused = pyflyte(config, "register", "--project", "flytesnacks", "--domain", "development", "--version", "v1", "myapp")
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output
    assert "contributor role in project flytesnacks" in output, output
