"""Chart CSV parsing: the recorded answer and one generated case per layout the issue lists."""

from __future__ import annotations

import pytest

from fake_amplitude.catalog import GROUP_BY_CHART_ROWS, csv_text
from source_amplitude.parsers.charts import chart_metadata, chart_records, parse_chart_csv, parse_number
from test_support.recordings import recorded


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


GROUP_BY = csv_text(GROUP_BY_CHART_ROWS)


def test_group_by_with_two_label_columns_forward_fills_and_parses_numbers() -> None:
    table = parse_chart_csv(GROUP_BY)
    assert table.title == "Purchases by country and platform" and table.description is None
    assert table.metric == "Event Totals" and table.events == ("purchase", "add_to_cart")
    records = chart_records("g", table)
    assert {(r["dimension_value"], r["segment"]): r["value"] for r in records} == {
        ("United States / Web", "2026-06-01"): 1234.0,
        ("United States / Web", "2026-06-02"): 12.5,
        ("United States / iOS", "2026-06-01"): 88.0,
        ("United States / iOS", "2026-06-02"): None,
        ("Germany / Web", "2026-06-01"): 12.0,
        ("Germany / Web", "2026-06-02"): 15.0,
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


def test_a_funnel_whose_preamble_lists_its_step_events_on_one_line_keeps_rows_and_columns_in_place() -> None:
    funnel = csv_text(
        [
            ["\tCheckout funnel"],
            ["\tFrom view to purchase"],
            [],
            ["\tConversion", "\tpage_view", "\tadd_to_cart", "\tpurchase"],  # several cells: not the header
            [],
            ["\tSegment", "\tStep 1: page_view", "\tStep 2: add_to_cart", "\tStep 3: purchase"],
            ["\tAll Users", "1,000", "250", "8.5%"],
            ["\tPaying users", "100", "", "\t-"],  # a blank and a text value do not shift the labels
        ]
    )
    table = parse_chart_csv(funnel)
    assert (table.title, table.description, table.metric) == ("Checkout funnel", "From view to purchase", "Conversion")
    assert table.events == ("page_view", "add_to_cart", "purchase")
    assert table.label_headers == ("Segment",)
    assert table.columns == ("Step 1: page_view", "Step 2: add_to_cart", "Step 3: purchase")
    records = chart_records("f", table)
    assert [(r["dimension_value"], r["segment"], r["value"]) for r in records] == [
        ("All Users", "Step 1: page_view", 1000.0),
        ("All Users", "Step 2: add_to_cart", 250.0),
        ("All Users", "Step 3: purchase", 8.5),
        ("Paying users", "Step 1: page_view", 100.0),
        ("Paying users", "Step 2: add_to_cart", None),
        ("Paying users", "Step 3: purchase", None),
    ]


def test_a_retention_chart_with_start_and_return_events_on_one_line() -> None:
    retention = csv_text(
        [
            ["\tWeek 1 retention"],
            [],
            ["\tRetention", "\tStarting event: sign_up", "\tReturning event: any active event"],
            [],
            ["\tSegment", "\tUsers", "\tDay 0", "\tDay 1", "\tDay 7"],
            ["\tAll Users", "1,200", "100%", "45.5%", "20%"],
            ["\tUnited States", "400", "100%", "50%", ""],
        ]
    )
    table = parse_chart_csv(retention)
    assert table.title == "Week 1 retention" and table.metric == "Retention"
    assert table.events == ("Starting event: sign_up", "Returning event: any active event")
    assert table.columns == ("Users", "Day 0", "Day 1", "Day 7")
    values = {(r["dimension_value"], r["segment"]): r["value"] for r in chart_records("r", table)}
    assert values[("All Users", "Users")] == 1200.0
    assert values[("All Users", "Day 1")] == 45.5
    assert values[("United States", "Day 7")] is None
    assert len(values) == 8


def test_a_table_without_a_preamble_is_still_a_table() -> None:
    bare = csv_text([["\tSegment", "\t2026-06-01"], ["\tAll Users", "3"]])
    records = chart_records("b", parse_chart_csv(bare))
    assert [(r["dimension_value"], r["segment"], r["value"]) for r in records] == [("All Users", "2026-06-01", 3.0)]
