"""events when Amplitude is late: consecutive incremental syncs against the fake Amplitude while its clock moves and
upload hours (or single partitions) are published hours after the documented ~2 h. Whatever the lateness, the union
of all syncs is every event exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from source_amplitude.state.events import LATE_DATA_GRACE_HOURS
from test_support.fixtures import last_state
from test_support.late_data import FIRST, dataset, late_amplitude, report, run_syncs, sync


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
