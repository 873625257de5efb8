"""Chart CSV parsing: the recorded answer and one generated case per layout the issue lists."""

from __future__ import annotations

import pytest

from integration_tests.fake_amplitude.catalog import csv_text
from source_amplitude.charts import chart_metadata, chart_records, parse_chart_csv, parse_number
from unit_tests.recordings import recorded


def test_recorded_chart_unpivots_into_one_record_per_day() -> None:
    table = parse_chart_csv(recorded("chart_csv.json")["body"]["data"])
    records = chart_records("gl9dulhv", table)
    assert len(records) == 30
    assert records[15] == {
        "chart_id": "gl9dulhv",
        "dimension_name": "Segment",
        "dimension_value": "All Users",
        "segment": "2026-06-16",
        "value": 3.0,
        "value_text": "3",
        "row_index": 0,
        "column_index": 15,
    }
    assert chart_metadata("gl9dulhv", table) == {
        "chart_id": "gl9dulhv",
        "title": "Sample Metric - Test Event Users",
        "description": "Sample chart using an available event metric from the current project.",
        "metric": "Uniques",
        "event": "Test Event",
        "events": ["Test Event"],
        "dimension": "Segment",
        "filters": None,
        "row_count": 1,
        "column_count": 30,
    }


GROUP_BY = csv_text(
    [
        ["\tPurchases"],
        [],
        ["\tEvent Totals"],
        ["\tpurchase"],
        ["\tadd_to_cart"],
        [],
        ["\tCountry", "\tPlatform", "\t2026-06-01", "\t2026-06-02"],
        ["\tUnited States", "\tWeb", "1,234", "12.5%"],
        ["", "\tiOS", "88", ""],
        ['\tSão Paulo "BR"', "\tAndroid", "7", "n/a"],
    ]
)


def test_group_by_with_two_label_columns_forward_fills_and_parses_numbers() -> None:
    table = parse_chart_csv(GROUP_BY)
    assert table.title == "Purchases" and table.description is None
    assert table.metric == "Event Totals" and table.events == ("purchase", "add_to_cart")
    records = chart_records("g", table)
    assert {(r["dimension_value"], r["segment"]): r["value"] for r in records} == {
        ("United States / Web", "2026-06-01"): 1234.0,
        ("United States / Web", "2026-06-02"): 12.5,
        ("United States / iOS", "2026-06-01"): 88.0,
        ("United States / iOS", "2026-06-02"): None,
        ('São Paulo "BR" / Android', "2026-06-01"): 7.0,
        ('São Paulo "BR" / Android', "2026-06-02"): None,
    }
    assert records[0]["dimension_name"] == "Country / Platform"
    assert records[-1]["value_text"] == "n/a"  # text that is no number stays visible


def test_funnel_steps_are_column_headers() -> None:
    funnel = csv_text(
        [
            ["\tSignup funnel"],
            [],
            ["\tConversion"],
            ["\tpage_view"],
            ["\tpurchase"],
            [],
            ["\tSegment", "\tStep 1: page_view", "\tStep 2: purchase"],
            ["\tAll Users", "100%", "8.25%"],
        ]
    )
    records = chart_records("f", parse_chart_csv(funnel))
    assert [(r["segment"], r["value"]) for r in records] == [("Step 1: page_view", 100.0), ("Step 2: purchase", 8.25)]


def test_a_chart_with_no_rows_has_no_records_but_metadata() -> None:
    empty = csv_text([["\tNothing yet"], [], ["\tUniques"], ["\tx"], [], ["\tSegment", "\t2026-06-01"]])
    table = parse_chart_csv(empty)
    assert chart_records("e", table) == []
    assert chart_metadata("e", table)["row_count"] == 0 and chart_metadata("e", table)["column_count"] == 1


@pytest.mark.parametrize(
    ("cell", "expected"), [("1,234", 1234.0), ("12.5%", 12.5), ("", None), ("\t-3", -3.0), ("x", None)]
)
def test_numbers(cell: str, expected: float | None) -> None:
    assert parse_number(cell) == expected


def test_several_segments_are_several_rows() -> None:
    segments = csv_text(
        [
            ["\tUsers by segment"],
            [],
            ["\tUniques"],
            ["\tAny Active Event"],
            [],
            ["\tSegment", "\t2026-06-01", "\t2026-06-02"],
            ["\tAll Users", "10", "12"],
            ["\tPaying users", "3", "4"],
            ["\tNew users", "1.5", "0"],
        ]
    )
    records = chart_records("s", parse_chart_csv(segments))
    assert [(r["dimension_value"], r["segment"], r["value"], r["row_index"], r["column_index"]) for r in records] == [
        ("All Users", "2026-06-01", 10.0, 0, 0),
        ("All Users", "2026-06-02", 12.0, 0, 1),
        ("Paying users", "2026-06-01", 3.0, 1, 0),
        ("Paying users", "2026-06-02", 4.0, 1, 1),
        ("New users", "2026-06-01", 1.5, 2, 0),
        ("New users", "2026-06-02", 0.0, 2, 1),
    ]
