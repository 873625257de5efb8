"""Export downloads ahead of reading: the bound on requests in flight, a 429 lowering it, hours and checkpoints in
order when a later window arrives first, and nothing lost or left on disk when a prefetched window fails."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, ExpectedOutcome, read

from fake_amplitude import Dataset, FakeAmplitude, Fault
from source_amplitude import SourceAmplitude

UTC = timezone.utc
FIRST = datetime(2026, 11, 1, tzinfo=UTC)
NOW = FIRST + timedelta(hours=29 + 4, minutes=10)  # hours 00..29 of Nov 1-2 are complete


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    dataset = Dataset(FIRST, hours=30, events_per_hour=20, late_fraction=0.2)
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the export directories of this test only
    monkeypatch.setattr("tempfile.tempdir", None)
    with FakeAmplitude(dataset, export_first_byte_seconds=0.3) as fake:
        monkeypatch.setenv("AMPLITUDE_BASE_URL", fake.url)
        yield fake


def sync(fake: FakeAmplitude, expect_failure: bool = False, **cfg: Any) -> EntrypointOutput:
    config = {**fake.config, "start_date": "2026-11-01T00:00:00Z", "request_time_range": 5, **cfg}
    catalog = CatalogBuilder().with_stream("events", SyncMode.incremental).build()
    outcome = ExpectedOutcome.EXPECT_EXCEPTION if expect_failure else ExpectedOutcome.EXPECT_SUCCESS
    return read(SourceAmplitude(now=NOW), config, catalog, None, expected_outcome=outcome)


def checkpointed_hours(output: EntrypointOutput) -> list[str]:
    return [m.state.stream.stream_state.__dict__["server_upload_time"] for m in output.state_messages]


@pytest.mark.parametrize("concurrency", [1, 2, 3])
def test_at_most_the_configured_number_of_exports_are_in_flight_and_every_event_comes_once(
    server: FakeAmplitude, concurrency: int
) -> None:
    output = sync(server, export_concurrency=concurrency)
    assert Counter(r.record.data["uuid"] for r in output.records) == Counter(server.state.dataset.uuids())
    assert server.state.max_exports_in_flight == concurrency  # 6 windows of 5 hours: the bound is reached
    hours = checkpointed_hours(output)
    assert hours == sorted(hours) and hours[-1] == "20261102T05"


def test_the_default_is_two_in_flight(server: FakeAmplitude) -> None:
    sync(server)
    assert server.state.max_exports_in_flight == 2


def test_a_later_window_that_arrives_first_waits_its_turn(server: FakeAmplitude) -> None:
    server.add_fault(Fault(path="/api/2/export", kind="delay", delay_seconds=1.0, query={"start": "20261101T00"}))
    output = sync(server, export_concurrency=3)
    log = {start: (began, ended) for start, began, ended in server.state.export_log}
    assert log["20261101T05"][1] < log["20261101T00"][1]  # the second window was on disk first
    upload_hours = [r.record.data["server_upload_time"][:13] for r in output.records]
    assert upload_hours == sorted(upload_hours)  # yet records come out in upload-hour order
    hours = checkpointed_hours(output)
    assert hours == sorted(hours)
    assert Counter(r.record.data["uuid"] for r in output.records) == Counter(server.state.dataset.uuids())


def test_a_429_lowers_the_number_in_flight_for_the_rest_of_the_sync(server: FakeAmplitude) -> None:
    server.add_fault(Fault(path="/api/2/export", status=429, retry_after="0", query={"start": "20261101T05"}))
    output = sync(server, export_concurrency=3)
    assert Counter(r.record.data["uuid"] for r in output.records) == Counter(server.state.dataset.uuids())
    warnings = [m.log.message for m in output.logs if m.log.level.value == "WARN"]
    assert any("429" in w and "at most 2 export requests at once" in w for w in warnings)
    lowered_at = min(began for start, began, _ in server.state.export_log if start == "20261101T05")
    later = [(began, ended) for _, began, ended in server.state.export_log if began > lowered_at + 0.5]
    for began, _ in later:  # from then on, never more than 2 requests overlap
        assert sum(1 for b, e in later if b <= began < e) <= 2


def test_a_prefetched_window_that_fails_loses_nothing_and_leaves_no_file(server: FakeAmplitude, tmp_path: Path) -> None:
    server.add_fault(Fault(path="/api/2/export", status=403, times=100, query={"start": "20261101T10"}))
    output = sync(server, expect_failure=True, export_concurrency=3)
    emitted = {r.record.data["uuid"] for r in output.records}
    assert emitted == server.state.dataset.uuids(FIRST + timedelta(hours=10))  # windows 00-04 and 05-09
    assert checkpointed_hours(output)[-1] == "20261101T09"  # state before the failed window
    assert not list(tmp_path.glob("amplitude-export-*"))
