"""Every recorded Amplitude answer parses into the records we promise."""

from __future__ import annotations

import pytest

from source_amplitude.records import (
    active_users_records,
    annotation_v2_record,
    annotation_v3_record,
    average_session_length_records,
    list_field,
    series_label,
)
from unit_tests.recordings import recorded


def test_recorded_v3_annotations_keep_official_fields_and_add_v3_ones() -> None:
    items = list_field(recorded("annotations_v3.json")["body"], "data")
    records = [annotation_v3_record(item) for item in items]
    assert len(records) == len(items) > 3
    first = records[0]
    assert first == {
        "id": 939879,
        "date": "2026-06-16",
        "label": "Dryrun Save Update",
        "details": "Updated via dryrun save",
        "start": "2026-06-16T00:00:00+00:00",
        "end": None,
        "category": {"id": 1, "category": "Uncategorized"},
        "chart_id": None,
    }


def test_v2_annotation_gets_null_v3_fields() -> None:
    record = annotation_v2_record({"id": 160419, "date": "2021-09-01", "label": "First September", "details": "x"})
    assert record["date"] == "2021-09-01"
    assert record["start"] == "2021-09-01T00:00:00+00:00"
    assert record["category"] is None and record["chart_id"] is None and record["end"] is None


def test_recorded_empty_active_users_is_no_records() -> None:
    assert list(active_users_records(recorded("users_active_empty.json")["body"])) == []


def test_active_users_transposes_series_into_daily_statistics() -> None:
    body = {
        "data": {
            "xValues": ["2026-09-20", "2026-09-21"],
            "series": [[120, 131], [40, 38]],
            "seriesLabels": ["United States", "Germany"],
        }
    }
    assert list(active_users_records(body)) == [
        {"date": "2026-09-20", "statistics": {"United States": 120, "Germany": 40}},
        {"date": "2026-09-21", "statistics": {"United States": 131, "Germany": 38}},
    ]


@pytest.mark.parametrize(("label", "expected"), [("Germany", "Germany"), (0, "0"), ([0, "US; CA"], "US; CA")])
def test_series_label_shapes(label: object, expected: str) -> None:
    assert series_label(label) == expected


def test_active_users_with_mismatched_labels_is_an_error_not_a_guess() -> None:
    body = {"data": {"xValues": ["2026-09-20"], "series": [[1], [2]], "seriesLabels": ["only one"]}}
    with pytest.raises(ValueError, match="2 series but 1 seriesLabels"):
        list(active_users_records(body))


def test_recorded_average_session_length() -> None:
    records = list(average_session_length_records(recorded("sessions_average.json")["body"]))
    assert len(records) == 8
    assert records[0] == {"date": "2026-09-17T00:00:00", "length": 0}


def test_recorded_events_list_and_cohorts() -> None:
    events = list_field(recorded("events_list.json")["body"], "data")
    assert events and all(isinstance(e["id"], int) for e in events)
    cohorts = list_field(recorded("cohorts.json")["body"], "cohorts")
    assert cohorts and all(isinstance(c["id"], str) for c in cohorts)


def test_list_field_refuses_a_non_list() -> None:
    assert list_field({"data": None}, "data") == []
    with pytest.raises(ValueError):
        list_field({"data": {"oops": 1}}, "data")
