"""The connector fits the CPUs it is given: pinned to one CPU (as in a pod with a CPU limit of 1) it converts records
in-process instead of starting worker processes, and prints the same records and states."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fake_amplitude import Dataset, FakeAmplitude
from test_support.connector_process import connector_command, events_catalog
from test_support.fixtures import config_for


def read_pinned(command: list[str], env: dict[str, str], cpus: str) -> tuple[list[dict[str, object]], list[str]]:
    done = subprocess.run(
        ["taskset", "-c", cpus, *command], capture_output=True, text=True, env=env, timeout=300, check=True
    )
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    records = [m["record"]["data"] for m in messages if m["type"] == "RECORD"]
    states = [json.dumps(m["state"]["stream"]["stream_state"]) for m in messages if m["type"] == "STATE"]
    return records, states


@pytest.mark.skipif(shutil.which("taskset") is None, reason="taskset (util-linux) is not installed")
def test_one_cpu_reads_in_process_the_same_records_and_states(tmp_path: Path) -> None:
    dataset = Dataset.recent(datetime.now(UTC), days=1, events_per_hour=40)
    with FakeAmplitude(dataset) as fake:
        command, env = connector_command(
            ["read"], tmp_path, fake.url, config=config_for(fake), catalog=events_catalog()
        )
        one_cpu = read_pinned(command, env, "0")
        all_cpus = read_pinned(command, env, "0-1023")
    assert len(one_cpu[0]) == len(dataset.uuids())
    assert one_cpu == all_cpus
