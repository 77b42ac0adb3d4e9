"""flytekit, the reference client, against a started updraft."""

import subprocess
import sys
from pathlib import Path

from flytekit.configuration import Config
from flytekit.remote import FlyteRemote


def test_flyte_remote_reads_the_control_plane_version(updraft):
    remote = FlyteRemote(
        Config.auto(config_file=str(updraft.flytekit_config)),
        default_project="flytesnacks",
        default_domain="development",
    )

    version = remote.client.get_control_plane_version()

    assert version == "0.1.0"


def test_written_config_is_what_flytekit_reads(updraft):
    config = Config.auto(config_file=str(updraft.flytekit_config))

    assert config.platform.endpoint == updraft.address
    assert config.platform.insecure is True


def test_pyflyte_info_reports_the_control_plane(updraft):
    pyflyte = Path(sys.executable).with_name("pyflyte")
    result = subprocess.run(
        [str(pyflyte), "--config", str(updraft.flytekit_config), "info"],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "0.1.0" in result.stdout, result.stdout
