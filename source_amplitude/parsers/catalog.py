"""Catalog answers -> records: annotations (v3 and v2). Cohorts, events_list and taxonomy items are records as they
come (common.object_items)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from source_amplitude.parsers.common import Record


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
