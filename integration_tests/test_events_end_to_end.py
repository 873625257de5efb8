"""events against the fake Amplitude over real HTTP.

In-process reads (frozen `now`, plain records) drive time forward across syncs; the console script (RecordBatch fast
path) is killed mid-window and resumed."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

import jsonschema
import pytest
from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, ExpectedOutcome, read
from airbyte_cdk.test.state_builder import StateBuilder

from fake_amplitude import Dataset, FakeAmplitude, Fault
from source_amplitude import SourceAmplitude
from test_support.connector_process import (
    events_catalog,
    orphaned_conversion_workers,
    run_connector,
    run_connector_until,
)
from test_support.fixtures import config_for, last_state

UTC = timezone.utc
FIRST = datetime(2026, 11, 1, tzinfo=UTC)
SCHEMA = json.loads((Path(__file__).parents[1] / "source_amplitude" / "schemas" / "events.json").read_text())


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAmplitude]:
    dataset = Dataset(FIRST, hours=30, events_per_hour=40, late_fraction=0.2)
    with FakeAmplitude(dataset) as fake:
        monkeypatch.setenv("AMPLITUDE_BASE_URL", fake.url)
        yield fake


def now_for_last_hour(last_hour: datetime) -> datetime:
    """The `now` at which `last_hour` has just become complete for the connector."""
    return last_hour + timedelta(hours=4, minutes=10)


def sync(
    fake: FakeAmplitude, now: datetime, state: Optional[dict[str, Any]] = None, expect_failure: bool = False, **cfg: Any
) -> EntrypointOutput:
    config = {**fake.config, "start_date": "2026-11-01T00:00:00Z", "request_time_range": 24, **cfg}
    catalog = CatalogBuilder().with_stream("events", SyncMode.incremental).build()
    states = StateBuilder().with_stream_state("events", state).build() if state else None
    outcome = ExpectedOutcome.EXPECT_EXCEPTION if expect_failure else ExpectedOutcome.EXPECT_SUCCESS
    return read(SourceAmplitude(now=now), config, catalog, states, expected_outcome=outcome)


def uuids(output: EntrypointOutput) -> list[str]:
    return [r.record.data["uuid"] for r in output.records]


def test_consecutive_syncs_while_hours_arrive_emit_every_event_exactly_once(server: FakeAmplitude) -> None:
    emitted: list[str] = []
    state: Optional[dict[str, Any]] = None
    for last_visible in (FIRST + timedelta(hours=9), FIRST + timedelta(hours=16), FIRST + timedelta(hours=29)):
        server.state.visible_until = last_visible + timedelta(hours=1)  # Amplitude: complete hours only
        output = sync(server, now_for_last_hour(last_visible), state)
        emitted += uuids(output)
        state = last_state(output)
        assert state["server_upload_time"] == f"{last_visible:%Y%m%dT%H}"
    assert len(emitted) == len(set(emitted)) == 30 * 40
    assert set(emitted) == server.state.dataset.uuids()


def test_records_are_reshaped_and_validate_against_the_schema(server: FakeAmplitude) -> None:
    output = sync(server, now_for_last_hour(FIRST + timedelta(hours=2)))
    assert len(output.records) == 3 * 40
    late = 0
    for message in output.records:
        record = message.record.data
        jsonschema.validate(record, SCHEMA)
        assert record["server_upload_time"].endswith("+00:00") and record["server_upload_time"][10] == "T"
        late += record["event_time"][:10] < record["server_upload_time"][:10]
    assert late > 0  # late-arriving events (happened days before their upload) are there


def test_a_state_message_follows_every_upload_hour(server: FakeAmplitude) -> None:
    output = sync(server, now_for_last_hour(FIRST + timedelta(hours=5)))
    hours = [m.state.stream.stream_state.__dict__["server_upload_time"] for m in output.state_messages]
    assert [f"{FIRST + timedelta(hours=h):%Y%m%dT%H}" for h in range(6)] == sorted(set(hours))


def test_404_hours_are_empty_and_skipped_past(server: FakeAmplitude) -> None:
    output = sync(server, now_for_last_hour(FIRST + timedelta(hours=40)), start_date="2026-11-02T06:00:00Z")
    assert output.records == []
    assert last_state(output)["server_upload_time"] == f"{FIRST + timedelta(hours=40):%Y%m%dT%H}"


def test_400_halves_the_window_and_the_size_that_worked_is_remembered(server: FakeAmplitude) -> None:
    server.state.max_export_events = 7 * 40  # over 7 hours: "over 4 GB"
    output = sync(server, now_for_last_hour(FIRST + timedelta(hours=23)))
    assert len(set(uuids(output))) == 24 * 40
    assert last_state(output)["window_hours"] == 6
    spans = [(p["start"], p["end"]) for p in server.requests_to("/api/2/export")]
    assert spans[:3] == [("20261101T00", "20261101T23"), ("20261101T00", "20261101T11"), ("20261101T00", "20261101T05")]

    before = len(server.requests_to("/api/2/export"))
    sync(server, now_for_last_hour(FIRST + timedelta(hours=29)), last_state(output))
    next_spans = server.requests_to("/api/2/export")[before:]
    assert next_spans[0] == {"start": "20261102T00", "end": "20261102T05"}  # no re-splitting


def test_a_remembered_window_grows_back_after_a_day_without_a_split(server: FakeAmplitude) -> None:
    server.state.max_export_events = 7 * 40  # Amplitude refuses more than 7 hours at first...
    output = sync(server, now_for_last_hour(FIRST + timedelta(hours=11)))
    state = last_state(output)
    assert (state["window_hours"], state["window_since"]) == (6, "20261101T00")
    server.state.max_export_events = None  # ...then the incident is over
    emitted = uuids(output)
    for last_hour in (17, 23, 29):  # syncs every 6 hours: one 6-hour window each
        output = sync(server, now_for_last_hour(FIRST + timedelta(hours=last_hour)), state)
        emitted += uuids(output)
        state = last_state(output)
    assert state["window_hours"] == 12 and state["window_since"] == "20261102T06"  # a day after the split
    before = len(server.requests_to("/api/2/export"))
    output = sync(server, now_for_last_hour(FIRST + timedelta(hours=29 + 30)), state)
    emitted += uuids(output)
    asked = server.requests_to("/api/2/export")[before:]
    assert {"start": "20261102T06", "end": "20261102T17"} in asked  # 12-hour windows now
    assert "window_hours" not in last_state(output)  # and after another day, back to request_time_range (24)
    assert sorted(emitted) == sorted(server.state.dataset.uuids())  # nothing lost or doubled on the way


def test_a_slow_export_logs_progress_while_the_connector_waits(
    server: FakeAmplitude, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("source_amplitude.pipeline.progress.PROGRESS_LOG_SECONDS", 0.1)
    server.add_fault(Fault(path="/api/2/export", kind="delay", delay_seconds=0.5))
    output = sync(server, now_for_last_hour(FIRST + timedelta(hours=2)))
    progress = [m.log.message for m in output.logs if "waiting since" in m.log.message]
    assert progress and progress[0].startswith("events: export of 20261101T00..20261101T02: waiting since ")
    assert "no byte yet" in progress[0]
    assert len(set(uuids(output))) == 3 * 40


def test_504_splits_too(server: FakeAmplitude) -> None:
    server.state.timeout_export_events = 12 * 40
    output = sync(server, now_for_last_hour(FIRST + timedelta(hours=23)))
    assert len(set(uuids(output))) == 24 * 40
    assert last_state(output)["window_hours"] == 12


def test_a_504_on_a_one_hour_window_is_retried_not_refused(server: FakeAmplitude) -> None:
    """Amplitude's 504 is a gateway timeout: on one hour it is usually transient, so it is retried (with its
    Retry-After) like a 5xx, and the hour is read; it never becomes the refused-hour config_error."""
    hour = {"start": "20261101T01", "end": "20261101T01"}
    server.add_fault(Fault(path="/api/2/export", status=504, times=2, retry_after="0", query=hour))
    output = sync(server, now_for_last_hour(FIRST + timedelta(hours=3)), request_time_range=1)
    assert len(set(uuids(output))) == len(uuids(output)) == 4 * 40
    assert server.requests_to("/api/2/export").count(hour) == 3


def test_a_one_hour_window_that_keeps_timing_out_fails_as_transient_with_the_hours_before_it_saved(
    server: FakeAmplitude,
) -> None:
    hour = {"start": "20261101T02", "end": "20261101T02"}
    server.add_fault(Fault(path="/api/2/export", status=504, times=99, query=hour))
    output = sync(server, now_for_last_hour(FIRST + timedelta(hours=3)), expect_failure=True, request_time_range=1)
    errors = [e.trace.error for e in output.errors if e.trace.error.stream_descriptor]
    assert errors[0].failure_type is FailureType.transient_error, errors[0].message
    assert "kept timing out (HTTP 504) on a single upload hour" in errors[0].message
    assert last_state(output)["server_upload_time"] == "20261101T01"
    assert len(set(uuids(output))) == 2 * 40


def test_a_single_hour_that_cannot_be_exported_fails_naming_the_hour_and_the_way_out(server: FakeAmplitude) -> None:
    server.state.max_export_events = 10
    output = sync(server, now_for_last_hour(FIRST + timedelta(hours=3)), expect_failure=True)
    messages = [e.trace.error.message for e in output.errors if e.trace.error.stream_descriptor]
    assert "20261101T00" in messages[0] and "S3" in messages[0]
    assert messages[0].startswith("Skipping 1 upload hour (20261101T00) loses its events unless they are read in")
    assert output.records == [] and last_state(output) == {}


def test_official_connector_state_is_resumed_two_hours_early(server: FakeAmplitude) -> None:
    output = sync(
        server, now_for_last_hour(FIRST + timedelta(hours=12)), {"server_upload_time": "2026-11-01 10:42:00.000000"}
    )
    assert server.requests_to("/api/2/export")[0]["start"] == "20261101T08"
    assert last_state(output)["state_version"] == 2


def test_a_later_start_date_wins_over_the_state(server: FakeAmplitude) -> None:
    state = {"server_upload_time": "20261101T02", "state_version": 1}
    sync(server, now_for_last_hour(FIRST + timedelta(hours=12)), state, start_date="2026-11-01T09:00:00Z")
    assert server.requests_to("/api/2/export")[0]["start"] == "20261101T09"


@pytest.mark.parametrize(
    "fault",
    [
        Fault(path="/api/2/export", kind="truncate", times=2),
        Fault(path="/api/2/export", kind="malformed", times=2),
        Fault(path="/api/2/export", status=429, times=2, retry_after="0"),
        Fault(path="/api/2/export", status=502, times=2),
        Fault(path="/api/2/export", kind="reset", times=2),
    ],
    ids=["truncated", "not-a-zip", "429", "502", "connection-reset"],
)
def test_broken_answers_are_retried_and_nothing_is_lost(server: FakeAmplitude, fault: Fault) -> None:
    server.add_fault(fault)
    output = sync(server, now_for_last_hour(FIRST + timedelta(hours=5)))
    assert Counter(uuids(output)) == Counter({u: 1 for u in server.state.dataset.uuids(FIRST + timedelta(hours=6))})


def test_persistently_broken_downloads_fail_transient_without_moving_state(server: FakeAmplitude) -> None:
    server.add_fault(Fault(path="/api/2/export", kind="truncate", times=100))
    output = sync(server, now_for_last_hour(FIRST + timedelta(hours=5)), expect_failure=True)
    errors = [e.trace.error for e in output.errors if e.trace.error.stream_descriptor]
    assert errors[0].failure_type.value == "transient_error"
    assert "20261101T00" in errors[0].message
    assert last_state(output) == {}


def test_403_is_a_config_error(server: FakeAmplitude) -> None:
    server.add_fault(Fault(path="/api/2/export", status=403, times=100))
    output = sync(server, now_for_last_hour(FIRST + timedelta(hours=5)), expect_failure=True)
    errors = [e.trace.error for e in output.errors if e.trace.error.stream_descriptor]
    assert errors[0].failure_type.value == "config_error" and "data_region" in errors[0].message


def test_sigkill_mid_window_then_resume_loses_nothing_and_repeats_at_most_one_hour(tmp_path: Path) -> None:
    dataset = Dataset.recent(datetime.now(UTC), days=1, events_per_hour=30)
    with FakeAmplitude(dataset) as fake:
        options = {"config": config_for(fake), "catalog": events_catalog(), "extra_env": {"TMPDIR": str(tmp_path)}}
        killed = run_connector_until(["read"], tmp_path, fake.url, kill_after_states=8, **options)
        left_by_the_kill = set(tmp_path.glob("amplitude-export-*"))  # SIGKILL leaves no chance to clean up
        assert orphaned_conversion_workers() == []  # they die with the connector
        resumed = run_connector(["read"], tmp_path, fake.url, state=killed.state_to_resume(), **options)
    assert resumed.exit_code == 0
    first_run = [record["uuid"] for record in killed.records()]
    second_run = [record["uuid"] for record in resumed.records()]
    assert set(first_run) | set(second_run) == dataset.uuids()
    assert len(set(first_run) & set(second_run)) <= dataset.events_per_hour
    counted = [m["state"]["sourceStats"]["recordCount"] for m in resumed.of_type("STATE")]
    assert sum(counted) == len(second_run)
    assert left_by_the_kill  # the window being read and the one downloading ahead
    assert not list(tmp_path.glob("amplitude-export-*"))  # the resumed run removed them, and its own


def files_holding(directory: Path, secrets: list[str]) -> list[Path]:
    found = []
    for path in directory.rglob("*"):
        if path.is_file() and any(secret.encode() in path.read_bytes() for secret in secrets):
            found.append(path)
    return found


def test_no_key_is_left_on_disk_by_a_sigkill_and_the_next_run_removes_an_old_versions_copy(tmp_path: Path) -> None:
    """The CDK writes the config, keys included, to TMPDIR/tmpXXXX/config.json, which only a normal exit removes;
    the connector keeps it in memory. A copy an earlier version (0.4) wrote a day ago is removed by the next run."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    dataset = Dataset.recent(datetime.now(UTC), days=1, events_per_hour=30)
    with FakeAmplitude(dataset) as fake:
        config = config_for(fake)
        keys = [config["api_key"], config["secret_key"]]
        options = {"config": config, "catalog": events_catalog(), "extra_env": {"TMPDIR": str(temp)}}
        killed = run_connector_until(["read"], tmp_path, fake.url, kill_after_states=5, **options)
        assert killed.exit_code == -9
        assert files_holding(temp, keys) == []  # nothing to remove: nothing was written
        left_by_0_4 = temp / "tmpk3y5l3ft" / "config.json"  # as the CDK's configure wrote it
        left_by_0_4.parent.mkdir()
        left_by_0_4.write_text(json.dumps(config))
        a_day_ago = time.time() - 25 * 3600
        os.utime(left_by_0_4, (a_day_ago, a_day_ago))
        live = temp / "tmplive000" / "config.json"  # the same keys, written just now: another program's live file
        live.parent.mkdir()
        live.write_text(json.dumps(config))
        someone_elses = temp / "tmpother0" / "config.json"
        someone_elses.parent.mkdir()
        someone_elses.write_text(json.dumps({**config, "api_key": "another-key", "secret_key": "its-secret"}))
        resumed = run_connector(["read"], tmp_path, fake.url, state=killed.state_to_resume(), **options)
        assert resumed.exit_code == 0
    assert files_holding(temp, keys) == [live]
    assert not left_by_0_4.exists() and someone_elses.exists()


def test_temporary_files_are_removed_after_a_failure(tmp_path: Path) -> None:
    dataset = Dataset.recent(datetime.now(UTC), days=1, events_per_hour=30)
    with FakeAmplitude(dataset) as fake:
        fake.add_fault(Fault(path="/api/2/export", status=403, times=1000))
        run = run_connector(
            ["read"],
            tmp_path,
            fake.url,
            config=config_for(fake),
            catalog=events_catalog(),
            extra_env={"TMPDIR": str(tmp_path)},
        )
    assert run.exit_code != 0
    assert not list(tmp_path.glob("amplitude-export-*"))


def test_hours_before_a_refused_hour_are_emitted_and_saved_and_nothing_is_lost_after(server: FakeAmplitude) -> None:
    """A 24-hour window whose hour 10 Amplitude cannot export (400 whatever the window): hours 0..9 are emitted and
    checkpointed first, the message says what was saved and gives the exact state that skips the hour; a retry while
    the hour is still refused emits nothing again; once the hour exports (or the user skips it), the next sync loses
    and repeats nothing."""
    refused = FIRST + timedelta(hours=10)
    server.state.too_large_hours = {refused}
    now = now_for_last_hour(FIRST + timedelta(hours=23))
    first = sync(server, now, expect_failure=True)
    assert len(uuids(first)) == len(set(uuids(first))) == 10 * 40
    saved = last_state(first)
    assert saved["server_upload_time"] == "20261101T09"
    error = next(e.trace.error for e in first.errors if e.trace.error.stream_descriptor)
    assert error.failure_type == FailureType.config_error
    assert "upload hour 20261101T10" in error.message and "state at 20261101T09" in error.message
    assert "events_source" in error.message  # bucket mode reads it
    skip_state = json.loads(error.message[error.message.index("{") : error.message.rindex("}") + 1])
    assert skip_state["server_upload_time"] == "20261101T10"

    again = sync(server, now, saved, expect_failure=True)
    assert uuids(again) == [] and last_state(again) in ({}, saved)

    server.state.too_large_hours = set()
    rest = sync(server, now, saved)
    emitted = uuids(first) + uuids(rest)
    assert len(emitted) == len(set(emitted)) == 24 * 40

    skipped = sync(server, now, skip_state)  # following the message's other way out: only hour 10 is given up
    hour_10 = {
        r.record.data["uuid"]
        for r in rest.records
        if r.record.data["server_upload_time"].startswith(f"{refused:%Y-%m-%dT%H}")
    }
    assert len(hour_10) == 40
    assert sorted(uuids(skipped)) == sorted(set(uuids(rest)) - hour_10)


def test_a_retry_after_past_the_bound_fails_transient_without_moving_state(server: FakeAmplitude) -> None:
    server.add_fault(Fault(path="/api/2/export", status=429, times=1, retry_after="7200"))
    output = sync(server, now_for_last_hour(FIRST + timedelta(hours=3)), expect_failure=True)
    error = next(e.trace.error for e in output.errors if e.trace.error.stream_descriptor)
    assert error.failure_type == FailureType.transient_error and "7200 s" in error.message
    assert output.records == [] and last_state(output) == {}
