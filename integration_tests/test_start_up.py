"""The console script starts without airbyte-cdk's package index and with the faster attribute docstrings
(source_amplitude/launch.py): every command runs to the end without the CDK's `__init__` having run, says what the
usual start says, and a program that asks the package for a name it only gets from that `__init__` still gets it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fake_amplitude import FakeAmplitude
from test_support.connector_process import connector_command
from test_support.fixtures import config_for

ROOT = Path(__file__).resolve().parents[1]
# The console script, which also says on stderr, as it exits, whether the CDK's package __init__ ran and whose
# attribute docstrings serpyco_rs used.
REPORTING_LAUNCH = (
    "import atexit, sys\n"
    "from source_amplitude import launch\n"
    "atexit.register(lambda: sys.stderr.write("
    "f\"cdk-index-ran={not launch.is_deferred(sys.modules['airbyte_cdk'])}\\n\"))\n"
    "atexit.register(lambda: sys.stderr.write("
    "f\"attribute-docs={sys.modules['attributes_doc'].get_attributes_doc.__module__}\\n\"))\n"
    "sys.argv[0] = 'source-amplitude'\n"
    "launch.main()\n"
)


def said(stdout: str) -> list[tuple[object, ...]]:
    """What a run says, in order, without its log lines (their timings differ from run to run)."""
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return [(m["type"], m.get("record", {}).get("stream")) for m in lines if m["type"] != "LOG"]


def arguments(command: str, tmp_path: Path) -> list[str]:
    files = {"check": ["--config"], "discover": ["--config"], "read": ["--config", "--catalog"]}.get(command, [])
    return [command, *(part for flag in files for part in (flag, str(tmp_path / f"{flag.strip('-')}.json")))]


@pytest.mark.parametrize("command", ["spec", "check", "discover", "read"])
def test_every_command_runs_without_the_cdks_package_index(
    command: str, shared_fake: FakeAmplitude, tmp_path: Path
) -> None:
    catalog = json.loads((ROOT / "examples" / "catalog.json").read_text())
    _, env = connector_command([], tmp_path, shared_fake.url, config=config_for(shared_fake), catalog=catalog)
    args = arguments(command, tmp_path)
    launched = subprocess.run(
        [sys.executable, "-c", REPORTING_LAUNCH, *args], capture_output=True, text=True, env=env, timeout=300
    )
    usual = subprocess.run(
        [sys.executable, "-m", "source_amplitude.run", *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert launched.returncode == usual.returncode == 0, launched.stderr[-3000:]
    assert "cdk-index-ran=False" in launched.stderr, launched.stderr[-3000:]
    assert "attribute-docs=source_amplitude.attribute_docs" in launched.stderr, launched.stderr[-3000:]
    assert said(launched.stdout) == said(usual.stdout)
    assert len(said(usual.stdout)) > (100 if command == "read" else 0)


def test_a_name_only_the_package_index_defines_is_still_there() -> None:
    program = (
        "import sys\n"
        "from source_amplitude.launch import defer_cdk_index, is_deferred\n"
        "defer_cdk_index()\n"
        "import airbyte_cdk, airbyte_cdk.entrypoint\n"
        "assert is_deferred(airbyte_cdk)\n"
        "from airbyte_cdk import AirbyteEntrypoint, launch\n"
        "assert AirbyteEntrypoint is airbyte_cdk.entrypoint.AirbyteEntrypoint and callable(launch)\n"
        "assert not is_deferred(airbyte_cdk) and airbyte_cdk.__version__\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=False)
    assert done.stdout.strip() == "ok", done.stderr[-3000:]
