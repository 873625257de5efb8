"""Pure functions from Amplitude's JSON answers to records. No HTTP, no state: dicts in, records out."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

Record = dict[str, Any]


def list_field(body: Any, field: str) -> list[Any]:
    """The list under `field` ({"data": [...]}, {"cohorts": [...]}); a missing or null list means no records."""
    items = body.get(field) if isinstance(body, Mapping) else None
    if items is None:
        return []
    if not isinstance(items, list):
        raise ValueError(f"expected a list under {field!r}, got {type(items).__name__}")
    return items


def annotation_v3_record(item: Mapping[str, Any]) -> Record:
    """v3 annotation (recorded/annotations_v3.json) plus the official connector's v2 field `date` (YYYY-MM-DD)."""
    start = item.get("start")
    return {
        "id": item.get("id"),
        "date": start[:10] if isinstance(start, str) else None,
        "label": item.get("label"),
        "details": item.get("details"),
        "start": start,
        "end": item.get("end"),
        "category": item.get("category"),
        "chart_id": item.get("chart_id"),
    }


def annotation_v2_record(item: Mapping[str, Any]) -> Record:
    """v2 annotation {id, date, label, details} (amplitude-api.md §4.1); the v3-only fields are null."""
    return {
        "id": item.get("id"),
        "date": item.get("date"),
        "label": item.get("label"),
        "details": item.get("details"),
        "start": f"{item['date']}T00:00:00+00:00" if item.get("date") else None,
        "end": None,
        "category": None,
        "chart_id": None,
    }


def series_label(label: Any) -> str:
    """seriesLabels come as plain strings, a segment index (0), or [segment_index, "v1; v2"] (amplitude-api.md §3.9)."""
    if isinstance(label, list) and label:
        return str(label[-1])
    return str(label)


def active_users_records(body: Mapping[str, Any]) -> Iterator[Record]:
    """/api/2/users: `series` holds one row per group aligned with `xValues`; transpose it into one record per day
    {date, statistics: {group label: users}} as the official connector does. Empty series (recorded/
    users_active_empty.json) mean no records, not an error."""
    data = body.get("data") or {}
    series = data.get("series") or []
    if not series:
        return
    labels = [series_label(label) for label in data.get("seriesLabels") or range(len(series))]
    if len(labels) != len(series):
        raise ValueError(f"/users answered {len(series)} series but {len(labels)} seriesLabels")
    for day_index, day in enumerate(data.get("xValues") or []):
        yield {"date": day, "statistics": {label: row[day_index] for label, row in zip(labels, series)}}


def average_session_length_records(body: Mapping[str, Any]) -> Iterator[Record]:
    """/api/2/sessions/average: one series of seconds per day; xValues carry a time part
    (recorded/sessions_average.json)."""
    data = body.get("data") or {}
    series = data.get("series") or []
    if not series:
        return
    for day, length in zip(data.get("xValues") or [], series[0]):
        yield {"date": day, "length": length}
