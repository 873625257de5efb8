"""Catalog answers -> records: annotations (v3 and v2), events_list and taxonomy items (as they come, one type per
field). Cohorts are records as they come (common.object_items)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from source_amplitude.parsers.common import Record


def events_list_record(item: Mapping[str, Any]) -> Record:
    """An events_list item as it comes, with one type per field: whole numbers as integers (id, totals,
    totals_delta) and timeline_hidden as a boolean (Amplitude has sent 0/1 as well as false/true)."""
    record = dict(item)
    for field in ("id", "totals", "totals_delta"):
        value = record.get(field)
        if isinstance(value, float) and value.is_integer():
            record[field] = int(value)
    hidden = record.get("timeline_hidden")
    if isinstance(hidden, (int, float)) and not isinstance(hidden, bool):
        record["timeline_hidden"] = bool(hidden)
    return record


def taxonomy_record(item: Mapping[str, Any]) -> Record:
    """A taxonomy item as it comes, with one type per field: enum_values a list (a single string becomes a one-item
    list) and category an object (a bare name becomes {"name": name})."""
    record = dict(item)
    if isinstance(record.get("enum_values"), str):
        record["enum_values"] = [record["enum_values"]]
    if isinstance(record.get("category"), str):
        record["category"] = {"name": record["category"]}
    return record


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
    """v2 annotation {id, date, label, details} (docs/amplitude-api-notes.md); the v3-only fields are null."""
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
