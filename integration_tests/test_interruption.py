"""SIGINT and SIGTERM (Ctrl-C, the platform's cancel, a pod being stopped) at each phase of an events read: the
connector exits within 2 seconds with one line saying what was interrupted, no traceback, no "Finished syncing"
claim, ended by the signal (as PyAirbyte expects); it leaves no worker process or temporary directory; the next sync
with the last state loses nothing and repeats at most the hour in progress, with the stopped run's own output as its
state file."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fake_amplitude import Dataset, FakeAmplitude
from test_support.connector_process import (
    events_catalog,
    orphaned_conversion_workers,
    run_connector,
    run_connector_and_signal,
)
from test_support.fixtures import config_for

# The process ends by the signal itself, after its cleanup: its parent sees -N (a shell prints 128 + N: 130, 143)
EXIT_CODES = {signal.SIGINT: -signal.SIGINT, signal.SIGTERM: -signal.SIGTERM}
MAX_SECONDS_TO_EXIT = 2.0


Messages = list[dict[str, Any]]


def export_requested(fake: FakeAmplitude) -> Callable[[Messages], bool]:
    return lambda _: fake.state.exports_in_flight > 0


def states_seen(count: int) -> Callable[[FakeAmplitude], Callable[[Messages], bool]]:
    return lambda _: lambda messages: sum(m["type"] == "STATE" for m in messages) >= count


def records_seen(_: FakeAmplitude) -> Callable[[Messages], bool]:
    return lambda messages: any(m["type"] == "RECORD" for m in messages)


# phase -> (fake server settings, events per hour, request_time_range, when to send the signal)
PHASES: dict[str, tuple[dict[str, Any], int, int, Callable[[FakeAmplitude], Callable[[Messages], bool]]]] = {
    "waiting for the first byte": ({"export_first_byte_seconds": 120.0}, 30, 6, export_requested),
    "mid-download": ({"export_bytes_per_second": 40_000.0}, 30, 1, states_seen(3)),
    "mid-conversion": ({}, 800, 24, records_seen),
}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("phase", list(PHASES))
def test_an_interrupted_read_stops_at_once_quietly_and_resumes_exactly(
    tmp_path: Path, phase: str, signum: signal.Signals
) -> None:
    fake_settings, per_hour, window_hours, when = PHASES[phase]
    dataset = Dataset.recent(datetime.now(UTC), days=1, events_per_hour=per_hour)
    with FakeAmplitude(dataset, **fake_settings) as fake:
        config = {**config_for(fake), "request_time_range": window_hours}
        options = {"config": config, "catalog": events_catalog(), "extra_env": {"TMPDIR": str(tmp_path)}}
        stopped = run_connector_and_signal(["read"], tmp_path, fake.url, signum, when(fake), **options)
        assert orphaned_conversion_workers() == []
        assert not list(tmp_path.glob("amplitude-export-*"))
        fake.state.export_first_byte_seconds = 0.0
        fake.state.export_bytes_per_second = None
        # the stopped run's whole output is the state file, as a user resuming by hand would give it
        resumed = run_connector(["read"], tmp_path, fake.url, state=stopped.stdout.encode(), **options)

    assert stopped.exit_code == EXIT_CODES[signum], stopped.stderr
    assert stopped.seconds_to_exit < MAX_SECONDS_TO_EXIT
    said = [m["log"]["message"] for m in stopped.of_type("LOG") if m["log"]["message"].startswith("Interrupted")]
    assert len(said) == 1 and f"Interrupted by {signum.name}: events was" in said[0], said
    assert "last checkpoint" in said[0]
    assert "Traceback" not in stopped.stderr + stopped.stdout
    assert "Finished syncing" not in stopped.stdout
    assert not stopped.errors()

    assert resumed.exit_code == 0, resumed.stderr
    first_run = [record["uuid"] for record in stopped.records()]
    second_run = [record["uuid"] for record in resumed.records()]
    assert set(first_run) | set(second_run) == dataset.uuids()
    assert len(first_run) == len(set(first_run)) and len(second_run) == len(set(second_run))
    assert len(set(first_run) & set(second_run)) <= dataset.events_per_hour  # at most the hour in progress
    assert not list(tmp_path.glob("amplitude-export-*"))


def test_read_piped_into_head_ends_quietly(tmp_path: Path) -> None:
    """`read | head -5`: the connector finds stdout closed (often inside a log line) and ends without a word on
    stderr (no BrokenPipeError traceback from the logging module), by exit 141, within seconds."""
    import shlex
    import subprocess

    from test_support.connector_process import connector_command

    catalog = json.loads((Path(__file__).parents[1] / "examples" / "catalog.json").read_text())
    dataset = Dataset.recent(datetime.now(UTC), days=1, events_per_hour=100)
    with FakeAmplitude(dataset) as fake:
        command, env = connector_command(["read"], tmp_path, fake.url, config=config_for(fake), catalog=catalog)
        pipeline = f'{shlex.join(command)} | head -5; echo "exit ${{PIPESTATUS[0]}}" >&2'
        for _ in range(3):  # the pipe closes at a different point each time
            done = subprocess.run(["bash", "-c", pipeline], capture_output=True, text=True, env=env, timeout=120)
            assert len(done.stdout.splitlines()) == 5
            assert done.stderr.strip() == "exit 141", done.stderr[-3000:]
