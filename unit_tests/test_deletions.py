"""The user_deletions state (deletions.py): what a sync lists, how jobs in flight are followed and forgotten, and an
id taken back out of a job."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from source_amplitude.state.deletions import DeletionsState, parse_deletions_state
from source_amplitude.state.protocol import UnusableState

TODAY = date(2026, 6, 16)


def row(day: str, amplitude_id: int, status: str = "staging") -> dict[str, Any]:
    return {
        "app": "829528",
        "day": day,
        "amplitude_id": amplitude_id,
        "status": status,
        "active_scrub_done_date": None,
        "requested_on_day": "2026-06-04",
        "requester": "rest",
        "user_id": None,
        "removed_from_job": False,
        "observed_at": "2026-06-16T00:00:00+00:00",
    }


def test_the_first_sync_lists_from_start_date_to_a_month_ahead_in_ranges_of_180_days() -> None:
    ranges = DeletionsState().ranges(date(2026, 1, 1), TODAY)
    assert ranges[0][0] == date(2026, 1, 1) and ranges[-1][1] == date(2026, 7, 17)
    assert all((last - first).days < 180 for first, last in ranges) and len(ranges) == 2


def test_a_later_sync_lists_from_a_week_before_the_last_or_the_oldest_job_in_flight() -> None:
    state, _ = DeletionsState(date(2026, 6, 10)).after_range(
        date(2026, 5, 1), date(2026, 7, 11), [row("2026-05-20", 1, "submitted")], "t"
    )
    assert state.ranges(date(2026, 1, 1), TODAY) == [(date(2026, 5, 20), date(2026, 7, 17))]
    quiet = DeletionsState(date(2026, 6, 10))
    assert quiet.ranges(date(2026, 1, 1), TODAY) == [(date(2026, 6, 3), date(2026, 7, 17))]


def test_done_jobs_are_forgotten_and_a_removed_id_is_emitted_once_as_removed() -> None:
    first = DeletionsState()
    listed = [row("2026-06-28", 1), row("2026-06-28", 2), row("2026-06-01", 3, "done")]
    state, removed = first.after_range(date(2026, 1, 1), date(2026, 7, 17), listed, "t1")
    assert removed == [] and [job.day for job in state.open_jobs] == ["2026-06-28"]
    state, removed = state.after_range(date(2026, 1, 1), date(2026, 7, 17), [row("2026-06-28", 1)], "t2")
    assert [(r["amplitude_id"], r["removed_from_job"], r["observed_at"]) for r in removed] == [(2, True, "t2")]
    assert [e["amplitude_id"] for e in state.open_jobs[0].ids] == [1]
    state, removed = state.after_range(date(2026, 1, 1), date(2026, 7, 17), [], "t3")  # the whole job was cancelled
    assert [r["amplitude_id"] for r in removed] == [1] and state.open_jobs == ()


def test_a_job_outside_the_range_listed_is_kept_as_it_was() -> None:
    state, _ = DeletionsState().after_range(date(2026, 6, 1), date(2026, 6, 30), [row("2026-06-28", 1)], "t")
    later, removed = state.after_range(date(2026, 7, 1), date(2026, 7, 31), [], "t2")
    assert removed == [] and later.open_jobs == state.open_jobs


def test_the_state_round_trips() -> None:
    state, _ = DeletionsState(TODAY).after_range(date(2026, 6, 1), date(2026, 6, 30), [row("2026-06-28", 1)], "t")
    assert parse_deletions_state(state.as_dict()) == state
    assert parse_deletions_state({}) == DeletionsState()


@pytest.mark.parametrize(
    "value",
    ["text", {"synced_on": "yesterday"}, {"open_jobs": "x"}, {"open_jobs": [{"day": "2026-06-01", "ids": [{}]}]}],
)
def test_a_state_it_cannot_use_is_refused_saying_what_was_found(value: Any) -> None:
    with pytest.raises(UnusableState):
        parse_deletions_state(value)
