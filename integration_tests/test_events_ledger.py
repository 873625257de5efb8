"""events_ledger (pipeline/ledger.py): a row for every file of events a sync emitted, written after the file's records
and before the STATE that covers them, on every path (Export API and bucket; conversion workers, one CPU, plain
records), through a kill and a resume, and for an hour Amplitude never published."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.models import AirbyteMessageSerializer, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.state_builder import StateBuilder

from fake_amplitude import Dataset, FakeAmplitude
from fake_amplitude.bucket_export import ORG_ID, BucketLayout, write_hour, write_merged_ids
from fake_amplitude.object_stores import LocalStore
from source_amplitude import SourceAmplitude
from source_amplitude.pipeline.ledger import GIVEN_UP_EMPTY, LEDGER_STREAM
from source_amplitude.state.events import LATE_DATA_GRACE_HOURS
from source_amplitude.streams.events_ledger import ALONE_MESSAGE
from test_support.connector_process import Run, connector_command, run_connector_until
from test_support.fixtures import bucket_config, new_bucket

UTC = timezone.utc
DAYS = 2
FIRST = (datetime.now(UTC) - timedelta(days=DAYS + 1)).replace(minute=0, second=0, microsecond=0)
LAST_HOUR = FIRST + timedelta(hours=24 * DAYS - 1)


def dataset() -> Dataset:
    """Two days ending a day ago (so every hour is published and none is pending), three members an hour."""
    return Dataset(FIRST, hours=24 * DAYS, events_per_hour=30, events_per_member=10, late_fraction=0.2)


def catalog(*streams: str) -> dict[str, Any]:
    return {
        "streams": [
            {
                "stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
                "sync_mode": "incremental",
                "destination_sync_mode": "append_dedup",
            }
            for name in streams
        ]
    }


def console_read(tmp_path: Path, base_url: Any, pinned: bool = False, **files: Any) -> Run:
    command, env = connector_command(["read"], tmp_path, base_url, **files)
    if pinned:
        command = ["taskset", "-c", "0", *command]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return Run(done.returncode, messages, done.stdout, done.stderr)


def hour_of(record: dict[str, Any]) -> str:
    moment = datetime.fromisoformat(record["server_upload_time"])
    return moment.replace(minute=0, second=0, microsecond=0).isoformat(timespec="microseconds")


def check_ledger(messages: list[dict[str, Any]], stream: str = "events") -> tuple[Counter[str], Counter[str]]:
    """Every ledger row follows its part's records and comes before the STATE that covers them: at each STATE of
    `stream`, the ledger's records add up to the records emitted so far. Returns (records, ledger records) by hour."""
    emitted: Counter[str] = Counter()
    ledger: Counter[str] = Counter()
    for message in messages:
        record = message.get("record") or {}
        if message["type"] == "RECORD" and record["stream"] == stream:
            emitted[hour_of(record["data"]) if stream == "events" else "merged_ids"] += 1
        elif message["type"] == "RECORD" and record["stream"] == LEDGER_STREAM and record["data"]["stream"] == stream:
            row = record["data"]
            assert row["status"] == "read" and row["bytes"] > 0, row
            ledger[row["upload_hour"] if stream == "events" else "merged_ids"] += row["records"]
            if stream == "events" and row["records"]:
                hour = datetime.fromisoformat(row["upload_hour"])
                first = datetime.fromisoformat(row["first_server_upload_time"])
                last = datetime.fromisoformat(row["last_server_upload_time"])
                assert hour <= first <= last < hour + timedelta(hours=1), row
        elif message["type"] == "STATE" and message["state"]["stream"]["stream_descriptor"]["name"] == stream:
            assert sum(ledger.values()) == sum(emitted.values()), "a STATE covers records the ledger did not describe"
    return emitted, ledger


def expected_per_hour(data: Dataset) -> Counter[str]:
    return Counter(
        {hour.isoformat(timespec="microseconds"): len(list(data.events_in_hour(hour))) for hour in data.upload_hours()}
    )


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAmplitude]:
    with FakeAmplitude(dataset()) as server:
        yield server


def export_config(server: FakeAmplitude) -> dict[str, Any]:
    return {**server.config, "start_date": f"{FIRST:%Y-%m-%dT%H:%M:%SZ}", "request_time_range": 12}


@pytest.mark.parametrize("pinned", [False, True], ids=["conversion workers", "one CPU"])
def test_the_export_api_ledger_adds_up_to_the_events_of_each_hour(
    fake: FakeAmplitude, tmp_path: Path, pinned: bool
) -> None:
    if pinned and not shutil.which("taskset"):
        pytest.skip("taskset is not installed")
    run = console_read(tmp_path, fake.url, pinned, config=export_config(fake), catalog=catalog("events", LEDGER_STREAM))
    emitted, ledger = check_ledger(run.messages)
    assert emitted == ledger == expected_per_hour(dataset())
    rows = run.records(LEDGER_STREAM)
    assert len({(row["upload_hour"], row["part"]) for row in rows}) == len(rows) == 24 * DAYS * 3  # a row a member
    assert {row["source"] for row in rows} == {"export_api"}
    assert "Read 1440 records from events stream" in run.stdout  # the ledger's rows are not counted as events


def test_plain_records_get_the_same_ledger(fake: FakeAmplitude, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the CDK's own entry point (no batches, no workers), as PyAirbyte's embedded use or a test kit."""
    monkeypatch.setenv("AMPLITUDE_BASE_URL", fake.url)
    configured = (
        CatalogBuilder().with_stream("events", SyncMode.incremental).with_stream(LEDGER_STREAM, SyncMode.incremental)
    )
    output = read(SourceAmplitude(), export_config(fake), configured.build())
    emitted, ledger = check_ledger([AirbyteMessageSerializer.dump(message) for message in output._messages])
    assert emitted == ledger == expected_per_hour(dataset())


def test_the_ledger_costs_nothing_unless_selected_and_says_so_when_alone(fake: FakeAmplitude, tmp_path: Path) -> None:
    only_events = console_read(tmp_path, fake.url, config=export_config(fake), catalog=catalog("events"))
    assert not only_events.records(LEDGER_STREAM) and len(only_events.records("events")) == 1440
    alone = console_read(tmp_path, fake.url, config=export_config(fake), catalog=catalog(LEDGER_STREAM))
    warnings = [m["log"]["message"] for m in alone.of_type("LOG") if m["log"]["level"] == "WARN"]
    assert ALONE_MESSAGE in warnings and not alone.records()


def test_a_killed_and_resumed_sync_leaves_ledger_and_events_reconciled_after_dedup(
    fake: FakeAmplitude, tmp_path: Path
) -> None:
    """What the platform commits of the killed run (everything up to its last STATE), then the resumed run: after
    the destination's dedup (events by uuid, ledger rows by key, the last kept), the ledger's records of each hour
    are the distinct events of that hour."""
    files = {"config": export_config(fake), "catalog": catalog("events", LEDGER_STREAM)}
    killed = run_connector_until(["read"], tmp_path, fake.url, kill_after_states=20, **files)
    last_state = max(index for index, message in enumerate(killed.messages) if message["type"] == "STATE")
    committed = killed.messages[: last_state + 1]
    resumed = console_read(tmp_path, fake.url, state=Run(0, committed, "", "").state_to_resume(), **files)
    events: dict[str, str] = {}
    rows: dict[tuple[str, str], int] = {}
    for message in [*committed, *resumed.messages]:
        if message["type"] != "RECORD":
            continue
        data = message["record"]["data"]
        if message["record"]["stream"] == "events":
            events[data["uuid"]] = hour_of(data)
        else:
            rows[(data["upload_hour"], data["part"])] = data["records"]
    ledger: Counter[str] = Counter()
    for (hour, _), records in rows.items():
        ledger[hour] += records
    assert Counter(events.values()) == ledger == expected_per_hour(dataset())
    killed_events = {m["record"]["data"]["uuid"] for m in committed if m.get("record", {}).get("stream") == "events"}
    assert 0 < len(killed_events) < len(events)  # the kill fell in the middle of the sync


def test_an_hour_amplitude_never_publishes_gets_a_given_up_row() -> None:
    """So that the warehouse can tell "Amplitude published nothing" from "lost"."""
    data = Dataset(
        datetime(2026, 11, 1, tzinfo=UTC), hours=24, events_per_hour=30, events_per_member=10, late_fraction=0.2
    )
    never = data.first_hour + timedelta(hours=2)
    configured = (
        CatalogBuilder().with_stream("events", SyncMode.incremental).with_stream(LEDGER_STREAM, SyncMode.incremental)
    ).build()
    with FakeAmplitude(data, late_hours={never: timedelta(days=30)}) as server, pytest.MonkeyPatch.context() as patch:
        patch.setenv("AMPLITUDE_BASE_URL", server.url)
        config = {**server.config, "start_date": f"{data.first_hour:%Y-%m-%dT%H:%M:%SZ}", "request_time_range": 24}
        server.state.clock = now = data.first_hour + timedelta(hours=12, minutes=10)
        first = read(SourceAmplitude(now=now), config, configured)
        state = StateBuilder().with_stream_state("events", dict(first.most_recent_state.stream_state.__dict__))
        server.state.clock = later_now = never + timedelta(hours=LATE_DATA_GRACE_HOURS + 2)
        later = read(SourceAmplitude(now=later_now), config, configured, state.build())
    assert all(m.record.data["status"] == "read" for m in first.records if m.record.stream == LEDGER_STREAM)
    given_up = [m.record.data for m in later.records if m.record.stream == LEDGER_STREAM and not m.record.data["part"]]
    assert [(row["upload_hour"], row["status"], row["records"]) for row in given_up] == [
        (never.isoformat(timespec="microseconds"), GIVEN_UP_EMPTY, 0)
    ]


@pytest.mark.parametrize("pinned", [False, True], ids=["conversion workers", "one CPU"])
def test_the_bucket_ledger_adds_up_to_the_events_and_merged_ids_of_each_object(
    local_s3: LocalStore, tmp_path: Path, pinned: bool
) -> None:
    if pinned and not shutil.which("taskset"):
        pytest.skip("taskset is not installed")
    data = dataset()
    bucket = new_bucket(local_s3)
    layout = BucketLayout(first_partition=1)
    merged_ids = 0
    for hour in data.upload_hours():
        write_hour(data, hour, lambda key, payload: local_s3.put(bucket, key, payload), layout)
        merged_ids += write_merged_ids(data, hour, lambda key, payload: local_s3.put(bucket, key, payload), layout)
    config = {
        "api_key": "unused",
        "secret_key": "unused",
        "start_date": f"{FIRST:%Y-%m-%dT%H:%M:%SZ}",
        "events_source": bucket_config(local_s3, bucket, data.app_id, org_id=str(ORG_ID)),
    }
    streams = catalog("events", "merged_ids", LEDGER_STREAM)
    run = console_read(tmp_path, None, pinned, config=config, catalog=streams, extra_env=local_s3.env)
    emitted, ledger = check_ledger(run.messages)
    assert emitted == ledger == expected_per_hour(data)
    assert check_ledger(run.messages, "merged_ids") == (Counter(merged_ids=merged_ids), Counter(merged_ids=merged_ids))
    rows = run.records(LEDGER_STREAM)
    assert {row["source"] for row in rows} == {"s3"} and all(row["part"].endswith(".json.gz") for row in rows)
    assert len([row for row in rows if row["stream"] == "events"]) == 24 * DAYS * 3
