from __future__ import annotations

from datetime import date

import pytest

from source_amplitude.state.dates import date_slices, parse_state_date


def test_slices_cover_the_range_inclusively_in_chunks() -> None:
    slices = list(date_slices(date(2026, 1, 1), date(2026, 3, 5), 30))
    assert slices == [
        (date(2026, 1, 1), date(2026, 1, 30)),
        (date(2026, 1, 31), date(2026, 3, 1)),
        (date(2026, 3, 2), date(2026, 3, 5)),
    ]


def test_single_day_and_empty_ranges() -> None:
    assert list(date_slices(date(2026, 1, 1), date(2026, 1, 1), 30)) == [(date(2026, 1, 1), date(2026, 1, 1))]
    assert list(date_slices(date(2026, 1, 2), date(2026, 1, 1), 30)) == []


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2026-09-17", date(2026, 9, 17)),
        ("2026-09-17T00:00:00", date(2026, 9, 17)),  # the official connector's other cursor format
        ("garbage", None),
        (None, None),
        (20260917, None),
    ],
)
def test_state_dates(value: object, expected: date | None) -> None:
    assert parse_state_date(value) == expected
