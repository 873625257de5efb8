"""Dashboard REST answers -> daily records: active_users, average_session_length."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from source_amplitude.parsers.common import Parsed, UnexpectedAnswer, expect_list, expect_object


def series_label(label: Any) -> str:
    """seriesLabels come as plain strings, a segment index (0), or [segment_index, "v1; v2"]
    (docs/amplitude-api-notes.md)."""
    if isinstance(label, list) and label:
        return str(label[-1])
    return str(label)


def _dashboard_data(body: Any) -> tuple[list[Any], list[list[Any]], Mapping[str, Any]]:
    """xValues, series and the data object of a Dashboard answer ({"data": {"xValues": [...], "series": [[...]]}})."""
    data = expect_object(expect_object(body, "the answer").get("data"), "'data'")
    series = expect_list(data.get("series"), "'data.series'")  # [] when there is no data (users_active_empty.json)
    rows = [expect_list(row, "each row of 'data.series'") for row in series]
    x_values = expect_list(data.get("xValues"), "'data.xValues'")
    return x_values, rows, data


def _short_series_warning(x_values: list[Any], rows: list[list[Any]], labels: list[str]) -> list[str]:
    short = [(label, len(row)) for label, row in zip(labels, rows) if len(row) < len(x_values)]
    if not short:
        return []
    missing = ", ".join(f"{label!r} has {count}" for label, count in short[:5])
    return [
        f"Amplitude sent {len(x_values)} dates (xValues) but fewer values in some series ({missing}); the dates "
        "without a value were left out of those series"
    ]


def active_users_records(body: Any) -> Parsed:
    """/api/2/users: `series` holds one row per group aligned with `xValues`; transpose it into one record per day
    {date, statistics: {group label: users}} as the official connector does. Empty series
    (recorded/users_active_empty.json) mean no records, not an error. A row shorter than xValues leaves its group out
    of the days it has no value for; a day no group has a value for is left out."""
    x_values, rows, data = _dashboard_data(body)
    if not rows:
        return Parsed([], [])
    raw_labels = data.get("seriesLabels")
    raw = expect_list(raw_labels, "'data.seriesLabels'") if raw_labels else list(range(len(rows)))
    labels = [series_label(label) for label in raw]
    if len(labels) != len(rows):
        raise UnexpectedAnswer(f"as many seriesLabels as series (got {len(labels)} labels for {len(rows)} series)")
    records = []
    for day_index, day in enumerate(x_values):
        statistics = {label: row[day_index] for label, row in zip(labels, rows) if day_index < len(row)}
        if statistics:
            records.append({"date": day, "statistics": statistics})
    return Parsed(records, _short_series_warning(x_values, rows, labels))


def average_session_length_records(body: Any) -> Parsed:
    """/api/2/sessions/average: one series of seconds per day; xValues carry a time part
    (recorded/sessions_average.json)."""
    x_values, rows, _ = _dashboard_data(body)
    if not rows:
        return Parsed([], [])
    records = [{"date": day, "length": length} for day, length in zip(x_values, rows[0])]
    return Parsed(records, _short_series_warning(x_values, rows[:1], ["average"]))
