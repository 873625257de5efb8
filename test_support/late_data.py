"""The late-data scenario shared by integration_tests/test_late_data.py and bench/late_data.py: the fake Amplitude
publishing hours late while its clock moves, and consecutive incremental syncs against it."""

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
