"""A `--state` the connector cannot use, through the console script as the platform runs it: a config_error that
names the stream, quotes what was found and says how to fix it; never "Something went wrong in the connector"."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from fake_amplitude import FakeAmplitude
from test_support.connector_process import connector_command, run_connector, stream_state
from test_support.fixtures import config_for

CATALOG = {
    "streams": [
        {
            "stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
            "sync_mode": "incremental",
            "destination_sync_mode": "append",
        }
        for name in ("events", "active_users")
    ]
}


@pytest.mark.parametrize(
    ("state", "fragments"),
    [
        ("hello", ["The saved state cannot be used: it is 'hello'", "Clear (reset) the connection's data"]),
        (42, ["The saved state cannot be used: it is 42"]),
        (["x"], ["it holds 'x', not a state message"]),
        (stream_state("events", "oops"), ["state of the events stream", "stream_state is 'oops', not an object"]),
        ({"events": ["a"]}, ["state of the events stream", "stream_state is ['a']"]),
        (stream_state("events", {"server_upload_time": "garbage"}), ["server_upload_time is 'garbage'"]),
        (stream_state("events", {"server_upload_time": "20260101T00", "window_hours": 0}), ["window_hours is 0"]),
        (stream_state("active_users", {"date": "someday"}), ["state of the active_users stream", "'someday'"]),
    ],
    ids=["string", "number", "list-of-strings", "stream-state-string", "legacy-object", "cursor", "window", "date"],
)
def test_an_unusable_state_is_a_config_error_that_names_the_stream_and_the_fix(
    shared_fake: FakeAmplitude, tmp_path: Path, state: Any, fragments: list[str]
) -> None:
    run = run_connector(
        ["read"], tmp_path, shared_fake.url, config=config_for(shared_fake), catalog=CATALOG, state=state
    )
    assert run.exit_code != 0
    errors = run.errors()
    assert errors and errors[0]["failure_type"] == "config_error"
    message = errors[0]["message"]
    for fragment in fragments:
        assert fragment in message
    assert "start_date" in message  # where the stream starts again
    assert "Something went wrong" not in message and "Traceback" not in message
    logs = [m["log"]["message"] for m in run.of_type("LOG")]
    assert len(errors) == 1 and not any("Traceback" in line for line in logs)  # said once, no traceback logged
    assert "Traceback" not in run.stderr


def test_the_legacy_object_form_of_a_valid_state_is_accepted(shared_fake: FakeAmplitude, tmp_path: Path) -> None:
    dataset = shared_fake.state.dataset
    last = dataset.end_hour
    state = {"events": {"server_upload_time": f"{last:%Y%m%dT%H}", "state_version": 1}}
    run = run_connector(
        ["read"], tmp_path, shared_fake.url, config=config_for(shared_fake), catalog=CATALOG, state=state
    )
    assert run.exit_code == 0, run.errors()
    assert run.records("events") == []


def test_the_connectors_own_output_is_a_usable_state_file(shared_fake: FakeAmplitude, tmp_path: Path) -> None:
    """`read > out.jsonl`, then `read --state out.jsonl`: the STATE lines are picked out of the output (RECORD, LOG
    and TRACE lines skipped), the last one of each stream wins, and nothing is read again."""
    config = config_for(shared_fake)
    first = run_connector(["read"], tmp_path, shared_fake.url, config=config, catalog=CATALOG)
    assert first.exit_code == 0 and first.records("events")
    saved = tmp_path / "out.jsonl"
    saved.write_text(first.stdout)
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    command, env = connector_command(["read"], second_dir, shared_fake.url, config=config, catalog=CATALOG)
    done = subprocess.run([*command, "--state", str(saved)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    records = [json.loads(line) for line in done.stdout.splitlines() if '"type":"RECORD"' in line.replace(" ", "")]
    assert [r for r in records if r["record"]["stream"] == "events"] == []


def test_a_list_of_the_connectors_state_messages_is_accepted_too(shared_fake: FakeAmplitude, tmp_path: Path) -> None:
    dataset = shared_fake.state.dataset
    cursor = {"server_upload_time": f"{dataset.end_hour:%Y%m%dT%H}", "state_version": 2}
    printed = [
        {"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": "events"}}}},
        {"type": "STATE", "state": stream_state("events", cursor)[0]},
    ]
    run = run_connector(
        ["read"], tmp_path, shared_fake.url, config=config_for(shared_fake), catalog=CATALOG, state=printed
    )
    assert run.exit_code == 0, run.errors()
    assert run.records("events") == []
