"""Every recorded Amplitude answer parses into the records we promise."""

from __future__ import annotations

import pytest

from source_amplitude.parsers.catalog import annotation_v2_record, annotation_v3_record
from source_amplitude.parsers.common import Parsed, UnexpectedAnswer, list_field
from source_amplitude.parsers.dashboard import active_users_records, average_session_length_records, series_label
from test_support.recordings import recorded


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
    assert active_users_records(recorded("users_active_empty.json")["body"]) == Parsed([], [])


def test_active_users_transposes_series_into_daily_statistics() -> None:
    body = {
        "data": {
            "xValues": ["2026-09-20", "2026-09-21"],
            "series": [[120, 131], [40, 38]],
            "seriesLabels": ["United States", "Germany"],
        }
    }
    assert active_users_records(body).records == [
        {"date": "2026-09-20", "statistics": {"United States": 120, "Germany": 40}},
        {"date": "2026-09-21", "statistics": {"United States": 131, "Germany": 38}},
    ]


def test_a_series_shorter_than_its_dates_emits_the_dates_with_values_and_warns_about_the_rest() -> None:
    body = {"data": {"xValues": ["2021-01-01", "2021-01-02"], "series": [[1]]}}
    parsed = active_users_records(body)
    assert parsed.records == [{"date": "2021-01-01", "statistics": {"0": 1}}]
    assert parsed.warnings and "2 dates" in parsed.warnings[0] and "'0' has 1" in parsed.warnings[0]
    grouped = {"data": {"xValues": ["d1", "d2"], "series": [[5, 6], [7]], "seriesLabels": ["US", "DE"]}}
    assert active_users_records(grouped).records == [
        {"date": "d1", "statistics": {"US": 5, "DE": 7}},
        {"date": "d2", "statistics": {"US": 6}},
    ]
    sessions = average_session_length_records({"data": {"xValues": ["d1", "d2", "d3"], "series": [[10.5, 11]]}})
    assert sessions.records == [{"date": "d1", "length": 10.5}, {"date": "d2", "length": 11}]
    assert sessions.warnings


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ([1, 2], "the answer to be a JSON object, not a list"),
        ({"data": 5}, "'data' to be a JSON object, not a number"),
        ({"data": {"series": {"a": 1}}}, "'data.series' to be a list, not an object"),
        ({"data": {"series": [5]}}, "each row of 'data.series' to be a list, not a number"),
        ({"data": {"series": [[1]], "xValues": "2021-01-01"}}, "'data.xValues' to be a list, not a string"),
    ],
)
def test_dashboard_answers_of_another_shape_say_what_was_expected(body: object, expected: str) -> None:
    with pytest.raises(UnexpectedAnswer) as raised:
        active_users_records(body)
    assert raised.value.expected == expected


@pytest.mark.parametrize(("label", "expected"), [("Germany", "Germany"), (0, "0"), ([0, "US; CA"], "US; CA")])
def test_series_label_shapes(label: object, expected: str) -> None:
    assert series_label(label) == expected


def test_active_users_with_mismatched_labels_is_an_error_not_a_guess() -> None:
    body = {"data": {"xValues": ["2026-09-20"], "series": [[1], [2]], "seriesLabels": ["only one"]}}
    with pytest.raises(UnexpectedAnswer, match="got 1 labels for 2 series"):
        active_users_records(body)


def test_recorded_average_session_length() -> None:
    records = average_session_length_records(recorded("sessions_average.json")["body"]).records
    assert len(records) == 8
    assert records[0] == {"date": "2026-09-17T00:00:00", "length": 0}


def test_recorded_events_list_and_cohorts() -> None:
    events = list_field(recorded("events_list.json")["body"], "data")
    assert events and all(isinstance(e["id"], int) for e in events)
    cohorts = list_field(recorded("cohorts.json")["body"], "cohorts")
    assert cohorts and all(isinstance(c["id"], str) for c in cohorts)


def test_list_field_refuses_a_non_list() -> None:
    assert list_field({"data": None}, "data") == []
    with pytest.raises(UnexpectedAnswer, match="'data' to be a list, not an object"):
        list_field({"data": {"oops": 1}}, "data")
    with pytest.raises(UnexpectedAnswer, match="the answer to be a JSON object, not a list"):
        list_field([], "data")


def test_events_list_items_get_one_type_per_field() -> None:
    from source_amplitude.parsers.catalog import events_list_record

    item = {"id": 895590894.0, "totals": 12.0, "totals_delta": -3.0, "timeline_hidden": 1, "name": "Play"}
    assert events_list_record(item) == {
        "id": 895590894,
        "totals": 12,
        "totals_delta": -3,
        "timeline_hidden": True,
        "name": "Play",
    }
    assert events_list_record({"id": 1, "timeline_hidden": False}) == {"id": 1, "timeline_hidden": False}


def test_taxonomy_items_get_one_type_per_field() -> None:
    from source_amplitude.parsers.catalog import taxonomy_record

    assert taxonomy_record({"enum_values": "a", "category": "Checkout"}) == {
        "enum_values": ["a"],
        "category": {"name": "Checkout"},
    }
    unchanged = {"enum_values": ["a", "b"], "category": {"name": "x"}}
    assert taxonomy_record(unchanged) == unchanged


def test_every_declared_field_has_one_type_besides_null() -> None:
    """PyAirbyte (and typed destinations) need one type per column: a union lands as text with a warning."""
    import json
    from pathlib import Path

    unions = []
    for path in sorted((Path(__file__).parents[1] / "source_amplitude" / "schemas").glob("*.json")):
        for name, spec in json.loads(path.read_text()).get("properties", {}).items():
            kinds = spec.get("type", [])
            if isinstance(kinds, list) and len([k for k in kinds if k != "null"]) > 1:
                unions.append(f"{path.stem}.{name}")
    assert unions == []
