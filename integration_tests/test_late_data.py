"""events when Amplitude is late: consecutive incremental syncs against the fake Amplitude while its clock moves and
upload hours (or single partitions) are published hours after the documented ~2 h. Whatever the lateness, the union
of all syncs is every event exactly once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.state_builder import StateBuilder

from fake_amplitude import Dataset, FakeAmplitude
from source_amplitude import SourceAmplitude
from test_support.fixtures import last_state

UTC = timezone.utc
FIRST = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = 2
# Sync times, in hours after FIRST: hourly, then every few hours, then daily, then once more after everything is out.
SYNC_HOURS = (4, 5, 6, 7, 9, 13, 19, 25, 26, 27, 37, 49, 50, 51, 52, 58, 73, 97)


def dataset() -> Dataset:
    # 3 partitions an hour (#0, #1, #2), so that a missing middle partition is a gap in the numbering.
    return Dataset(FIRST, hours=24 * DAYS, events_per_hour=30, events_per_member=10, late_fraction=0.2)


@contextmanager
def late_amplitude(data: Dataset, **publication: Any) -> Iterator[FakeAmplitude]:
    """The fake Amplitude with `publication` delays (publish_delay, late_hours, late_partitions), and the connector
    pointed at it."""
    with FakeAmplitude(data, **publication) as fake, pytest.MonkeyPatch.context() as patch:
        patch.setenv("AMPLITUDE_BASE_URL", fake.url)
        yield fake


def sync(fake: FakeAmplitude, now: datetime, state: Optional[dict[str, Any]]) -> EntrypointOutput:
    fake.state.clock = now
    config = {**fake.config, "start_date": "2026-11-01T00:00:00Z", "request_time_range": 24}
    catalog = CatalogBuilder().with_stream("events", SyncMode.incremental).build()
    states = StateBuilder().with_stream_state("events", state).build() if state else None
    return read(SourceAmplitude(now=now), config, catalog, states)


def run_syncs(
    fake: FakeAmplitude, sync_hours: tuple[int, ...] = SYNC_HOURS
) -> tuple[Counter[str], list[EntrypointOutput]]:
    emitted: Counter[str] = Counter()
    state: Optional[dict[str, Any]] = None
    outputs = []
    for offset in sync_hours:
        output = sync(fake, FIRST + timedelta(hours=offset, minutes=10), state)
        assert not output.errors, [e.trace.error.message for e in output.errors]
        emitted.update(r.record.data["uuid"] for r in output.records)
        if output.state_messages:
            state = last_state(output)
            assert len(state.get("pending_hours", {})) <= 48 + 24  # bounded by the grace period (48 h)
        outputs.append(output)
    return emitted, outputs


def report(emitted: Counter[str], expected: set[str]) -> dict[str, int]:
    return {
        "expected": len(expected),
        "delivered": len(set(emitted) & expected),
        "missing": len(expected - set(emitted)),
        "duplicated": sum(count - 1 for count in emitted.values() if count > 1),
        "unknown": len(set(emitted) - expected),
    }


@pytest.mark.parametrize("late_by_hours", [5, 14], ids=["every-hour-5h-late", "every-hour-14h-late"])
def test_every_hour_published_late_is_still_delivered_exactly_once(late_by_hours: int) -> None:
    data = dataset()
    with late_amplitude(data, publish_delay=timedelta(hours=late_by_hours)) as fake:
        emitted, outputs = run_syncs(fake)
    expected = data.uuids()
    assert report(emitted, expected) == {
        "expected": len(expected),
        "delivered": len(expected),
        "missing": 0,
        "duplicated": 0,
        "unknown": 0,
    }
    warnings = [log.log.message for output in outputs for log in output.logs if log.log.level.value == "WARN"]
    assert any("arrived late" in w for w in warnings)


def test_one_partition_of_two_hours_published_10h_late_is_delivered_when_it_appears_and_nothing_twice() -> None:
    data = dataset()
    late = {(FIRST + timedelta(hours=3), 1): timedelta(hours=10), (FIRST + timedelta(hours=30), 1): timedelta(hours=10)}
    with late_amplitude(data, late_partitions=late) as fake:
        emitted, outputs = run_syncs(fake)
    expected = data.uuids()
    assert report(emitted, expected)["missing"] == 0
    assert report(emitted, expected)["duplicated"] == 0
    # the late partition came in a later sync than the rest of its hour
    first_seen = {}
    for index, output in enumerate(outputs):
        for record in output.records:
            first_seen.setdefault(record.record.data["uuid"], index)
    hour = FIRST + timedelta(hours=3)
    assert {first_seen[u] for u in data.partition_uuids(hour, 1)} != {
        first_seen[u] for u in data.partition_uuids(hour, 0)
    }


def test_hours_published_at_random_delays_up_to_20h_with_syncs_in_between() -> None:
    data = dataset()
    delays = {hour: timedelta(hours=(index * 7) % 21) for index, hour in enumerate(data.upload_hours())}
    with late_amplitude(data, late_hours=delays) as fake:
        emitted, _ = run_syncs(fake)
    expected = data.uuids()
    assert report(emitted, expected)["missing"] == 0 and report(emitted, expected)["duplicated"] == 0


def test_a_pending_hour_does_not_hold_back_the_hours_after_it() -> None:
    data = dataset()
    late_hour = FIRST + timedelta(hours=2)
    with late_amplitude(data, late_hours={late_hour: timedelta(hours=30)}) as fake:
        output = sync(fake, FIRST + timedelta(hours=12, minutes=10), None)
    state = last_state(output)
    assert state["server_upload_time"] == "20261101T08"
    assert state["pending_hours"] == {"20261101T02": []}
    uuids = {r.record.data["uuid"] for r in output.records}
    late_hour_uuids = data.uuids(late_hour + timedelta(hours=1)) - data.uuids(late_hour)
    assert uuids == data.uuids(FIRST + timedelta(hours=9)) - late_hour_uuids  # hours 00..08 but 02


def test_an_hour_still_empty_after_the_grace_period_is_no_longer_asked_for() -> None:
    from source_amplitude.export.state import LATE_DATA_GRACE_HOURS  # here: bench/late_data.py runs 0.1 too

    data = dataset()
    never = FIRST + timedelta(hours=2)
    with late_amplitude(data, late_hours={never: timedelta(days=30)}) as fake:
        first = sync(fake, FIRST + timedelta(hours=12, minutes=10), None)
        state = last_state(first)
        assert "20261101T02" in state["pending_hours"]
        before = len(fake.requests_to("/api/2/export"))
        later = sync(fake, never + timedelta(hours=LATE_DATA_GRACE_HOURS + 2), state)
        asked = fake.requests_to("/api/2/export")[before:]
    assert {"start": "20261101T02", "end": "20261101T02"} in asked  # one last look
    final = last_state(later)
    assert "20261101T02" not in final["pending_hours"]
