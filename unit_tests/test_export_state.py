"""The events state: pending hours, partition gaps, the grace period, migrations and unusable values. Pure."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

import pytest

from source_amplitude.state.events import (
    LATE_DATA_GRACE_HOURS,
    STATE_VERSION,
    ExportState,
    is_complete,
    missing_partitions,
    parse_export_state,
)
from source_amplitude.state.protocol import UnusableState
from test_support.hours import at

UTC = timezone.utc


NOW = at("2026-06-20T12")


def test_state_round_trips_with_pending_hours_and_window() -> None:
    state = ExportState(
        at("2026-06-16T11"), {at("2026-06-16T09"): frozenset(), at("2026-06-16T10"): frozenset({0, 2})}, 6
    )
    assert state.as_dict() == {
        "server_upload_time": "20260616T11",
        "state_version": STATE_VERSION,
        "pending_hours": {"20260616T09": [], "20260616T10": [0, 2]},
        "window_hours": 6,
        "window_since": "20260616T11",  # not given: counted from the cursor
    }
    assert parse_export_state(state.as_dict()) == state.with_window(6, since=at("2026-06-16T11"))


def test_window_since_round_trips_and_a_bad_one_is_unusable() -> None:
    state = ExportState(at("2026-06-16T11"), {}, 6, at("2026-06-15T20"))
    assert state.as_dict()["window_since"] == "20260615T20"
    assert parse_export_state(state.as_dict()) == state
    with pytest.raises(UnusableState, match="window_since is 'yesterday'"):
        parse_export_state({**state.as_dict(), "window_since": "yesterday"})


def test_version_1_state_migrates_with_nothing_pending() -> None:
    state = parse_export_state({"server_upload_time": "20260616T11", "state_version": 1, "window_hours": 12})
    assert state == ExportState(at("2026-06-16T11"), {}, 12, at("2026-06-16T11"))
    assert state.as_dict()["state_version"] == 2


@pytest.mark.parametrize(
    "official",
    ["2026-06-16 11:57:13.417000", "20260616T11", "2026-06-16T11:57:13.417000+00:00", "2026-06-16T11:00:00Z"],
)
def test_official_states_resume_two_hours_before_their_possibly_partial_hour(official: str) -> None:
    state = parse_export_state({"server_upload_time": official})
    assert state.cursor == at("2026-06-16T08")  # next hour read: 09, two before 11
    assert state.hours_to_read(at("2026-06-01T00"), at("2026-06-16T12"))[0] == at("2026-06-16T09")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("oops", "the state is 'oops', not an object"),
        ({"server_upload_time": "yesterday"}, "server_upload_time is 'yesterday', not an upload hour"),
        ({"server_upload_time": 2026061611}, "server_upload_time is 2026061611, not an upload hour"),
        ({"server_upload_time": "20260616T11", "window_hours": 0}, "window_hours is 0, not a positive whole number"),
        ({"server_upload_time": "20260616T11", "window_hours": "6"}, "window_hours is '6'"),
        ({"server_upload_time": "20260616T11", "window_hours": True}, "window_hours is True"),
        ({"server_upload_time": "20260616T11", "state_version": 2, "pending_hours": []}, "pending_hours is []"),
        ({"server_upload_time": "20260616T11", "state_version": 2, "pending_hours": {"x": []}}, "holds 'x'"),
        ({"server_upload_time": "20260616T11", "state_version": 2, "pending_hours": {"20260616T10": [-1]}}, "[-1]"),
        ({"server_upload_time": "20260616T11", "state_version": 9}, "state_version is 9"),
        ({"server_upload_time": "x" * 500}, "..."),  # quoted, but shortened
    ],
)
def test_unusable_states_say_what_was_found(value: Any, fragment: str) -> None:
    with pytest.raises(UnusableState) as raised:
        parse_export_state(value)
    assert fragment in str(raised.value)
    assert len(str(raised.value)) < 200


def test_empty_states_start_from_scratch() -> None:
    assert parse_export_state(None) == ExportState()
    assert parse_export_state({}) == ExportState()


@pytest.mark.parametrize(
    ("partitions", "complete", "missing"),
    [
        (set(), False, []),
        ({0}, True, []),
        ({0, 1, 2}, True, []),
        ({0, 2}, False, [1]),
        ({1}, False, [0]),  # the first partition is #0 in the Export API
        ({1, 2}, False, [0]),
    ],
)
def test_an_hour_is_complete_when_its_partitions_have_no_gap(
    partitions: set[int], complete: bool, missing: list[int]
) -> None:
    assert is_complete(frozenset(partitions)) is complete
    assert missing_partitions(frozenset(partitions)) == missing


def test_an_empty_young_hour_becomes_pending_and_the_cursor_still_moves() -> None:
    state, outcome = ExportState(at("2026-06-20T06")).after_hour(at("2026-06-20T07"), frozenset(), NOW)
    assert state.cursor == at("2026-06-20T07")
    assert state.pending == {at("2026-06-20T07"): frozenset()}
    assert outcome.pending and not outcome.was_pending and not outcome.given_up


def test_a_pending_hour_that_turns_up_complete_leaves_pending_without_moving_the_cursor_back() -> None:
    state = ExportState(at("2026-06-20T08"), {at("2026-06-20T05"): frozenset()})
    state, outcome = state.after_hour(at("2026-06-20T05"), frozenset({0, 1}), NOW)
    assert state.cursor == at("2026-06-20T08") and state.pending == {}
    assert outcome.was_pending and outcome.complete and not outcome.pending


def test_a_gap_keeps_the_hour_pending_with_the_partitions_delivered_and_the_rest_completes_it() -> None:
    state, _ = ExportState(at("2026-06-20T04")).after_hour(at("2026-06-20T05"), frozenset({0, 2}), NOW)
    assert state.pending == {at("2026-06-20T05"): frozenset({0, 2})}
    assert state.delivered(at("2026-06-20T05")) == {0, 2}  # the next read skips these
    state, outcome = state.after_hour(at("2026-06-20T05"), frozenset({1}), NOW)
    assert state.pending == {} and outcome.complete


def test_past_the_grace_period_an_hour_is_final_whatever_it_holds() -> None:
    old = NOW - timedelta(hours=LATE_DATA_GRACE_HOURS + 1)
    state = ExportState(NOW - timedelta(hours=5), {old: frozenset({0, 2})})
    state, outcome = state.after_hour(old, frozenset(), NOW)
    assert state.pending == {} and outcome.given_up and outcome.delivered == {0, 2}
    young = NOW - timedelta(hours=LATE_DATA_GRACE_HOURS - 1)
    state, outcome = state.after_hour(young, frozenset(), NOW)
    assert young in state.pending and not outcome.given_up


def test_hours_to_read_are_the_pending_ones_then_those_after_the_cursor() -> None:
    state = ExportState(at("2026-06-20T05"), {at("2026-06-20T01"): frozenset(), at("2026-06-20T04"): frozenset({0, 2})})
    assert state.hours_to_read(at("2026-06-19T00"), at("2026-06-20T07")) == [
        at("2026-06-20T01"),
        at("2026-06-20T04"),
        at("2026-06-20T06"),
        at("2026-06-20T07"),
    ]
    later_start = state.without_pending_before(at("2026-06-20T03"))  # a start_date moved after a pending hour
    assert later_start.hours_to_read(at("2026-06-20T03"), at("2026-06-20T06")) == [
        at("2026-06-20T04"),
        at("2026-06-20T06"),
    ]


def test_state_size_is_bounded_by_the_grace_period() -> None:
    """Hourly syncs over ten days of a project Amplitude never publishes: pending never exceeds the grace period."""
    state = ExportState(at("2026-06-01T00"))
    hour = at("2026-06-01T01")
    for _ in range(240):
        now = hour + timedelta(hours=4)
        for pending in [h for h in state.hours_to_read(at("2026-06-01T00"), hour) if h < hour]:
            state, _ = state.after_hour(pending, frozenset(), now)
        state, _ = state.after_hour(hour, frozenset(), now)
        hour += timedelta(hours=1)
    assert len(state.pending) <= LATE_DATA_GRACE_HOURS
