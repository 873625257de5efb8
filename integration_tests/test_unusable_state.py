"""A `--state` the connector cannot use, through the console script as the platform runs it: a config_error that
names the stream, quotes what was found and says how to fix it; never "Something went wrong in the connector"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fake_amplitude import FakeAmplitude
from test_support.connector_process import run_connector, stream_state
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


def test_the_legacy_object_form_of_a_valid_state_is_accepted(shared_fake: FakeAmplitude, tmp_path: Path) -> None:
    dataset = shared_fake.state.dataset
    last = dataset.end_hour
    state = {"events": {"server_upload_time": f"{last:%Y%m%dT%H}", "state_version": 1}}
    run = run_connector(
        ["read"], tmp_path, shared_fake.url, config=config_for(shared_fake), catalog=CATALOG, state=state
    )
    assert run.exit_code == 0, run.errors()
    assert run.records("events") == []
