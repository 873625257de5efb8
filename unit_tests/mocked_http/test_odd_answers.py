"""Odd answers from Amplitude, through the real entry point with mocked HTTP: each fails only its stream, with a
message that names the endpoint and what was expected (never Python's own text), or is retried when it looks like
a temporary edge page."""

from __future__ import annotations

from typing import Any

import pytest
from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse

from unit_tests.mocked_http.builders import (
    config,
    failure_types,
    json_response,
    request,
    run,
    stream_error_messages,
)

# NOW in builders is 2026-09-24; the default start_date is 2026-09-20.
DAYS = {"start": "20260920", "end": "20260924"}
QUERIES: dict[str, dict[str, str]] = {
    "2/users": {**DAYS, "m": "active", "i": "1", "g": "country"},
    "2/sessions/average": DAYS,
    "2/taxonomy/event": {"showDeleted": "true"},
}
HTML_PAGE = "<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>"


@pytest.mark.parametrize(
    ("stream", "path", "query"),
    [
        ("cohorts", "3/cohorts", None),
        ("events_list", "2/events/list", None),
        ("event_types", "2/taxonomy/event", {"showDeleted": "true"}),
        ("chart_abc", "3/chart/abc/csv", None),
    ],
)
def test_given_a_200_html_page_every_time_then_retried_and_a_transient_error_names_the_endpoint(
    stream: str, path: str, query: dict[str, str] | None
) -> None:
    with HttpMocker() as http:
        http.get(request(path, query), HttpResponse(HTML_PAGE, 200, {"Content-Type": "text/html"}))
        output = run(stream, cfg=config(chart_ids=["abc"]), expect_failure=True)
    assert failure_types(output) == [FailureType.transient_error]
    (message,) = [m for m in stream_error_messages(output) if "not JSON" in m]
    assert f"GET /api/{path}" in message and "502 Bad Gateway" in message
    assert "Expecting value" not in " ".join(stream_error_messages(output))


def test_given_a_200_html_page_then_json_then_the_records_arrive() -> None:
    with HttpMocker() as http:
        http.get(request("3/cohorts"), [HttpResponse(HTML_PAGE, 200), json_response({"cohorts": [{"id": "c1"}]})])
        output = run("cohorts")
    assert [r.record.data["id"] for r in output.records] == ["c1"]


@pytest.mark.parametrize(
    ("stream", "path", "body", "expected"),
    [
        ("cohorts", "3/cohorts", [{"id": "c1"}], "expected the answer to be a JSON object, not a list"),
        ("cohorts", "3/cohorts", {"cohorts": {"id": "c1"}}, "expected 'cohorts' to be a list, not an object"),
        ("cohorts", "3/cohorts", {"cohorts": ["c1"]}, "expected each item of 'cohorts' to be a JSON object"),
        ("events_list", "2/events/list", {"data": 5}, "expected 'data' to be a list, not a number"),
        ("annotations", "3/annotations", {"data": "none"}, "expected 'data' to be a list, not a string"),
        ("active_users", "2/users", {"data": 5}, "expected 'data' to be a JSON object, not a number"),
        ("active_users", "2/users", {"data": {"xValues": ["2026-09-20"]}}, "expected 'data.series' to be a list"),
        ("average_session_length", "2/sessions/average", [], "expected the answer to be a JSON object, not a list"),
        ("chart_abc", "3/chart/abc/csv", {"data": None}, "expected an object with the chart's CSV text under 'data'"),
    ],
)
def test_given_json_of_another_shape_then_the_stream_fails_naming_endpoint_expectation_and_body(
    stream: str, path: str, body: Any, expected: str
) -> None:
    with HttpMocker() as http:
        http.get(request(path, QUERIES.get(path)), json_response(body))
        output = run(stream, cfg=config(chart_ids=["abc"]), expect_failure=True)
    assert failure_types(output) == [FailureType.system_error]
    (message,) = [m for m in stream_error_messages(output) if "not in the form the connector reads" in m]
    assert f"GET /api/{path}" in message
    assert expected in message
    assert str(body)[:5].replace("'", '"')[:3] in message.replace("'", '"')  # the start of what came is quoted
    assert "object has no attribute" not in message and "Traceback" not in message


def test_given_a_huge_odd_answer_then_only_its_first_200_characters_are_quoted() -> None:
    with HttpMocker() as http:
        http.get(request("3/cohorts"), json_response([{"id": "x" * 5000}]))
        output = run("cohorts", expect_failure=True)
    (message,) = [m for m in stream_error_messages(output) if "not in the form" in m]
    assert len(message) < 700


def test_given_a_series_shorter_than_its_dates_then_the_dates_with_values_come_and_a_warning_says_so() -> None:
    body = {"data": {"xValues": ["2026-09-20", "2026-09-21"], "series": [[7]], "seriesLabels": ["United States"]}}
    with HttpMocker() as http:
        http.get(request("2/users", QUERIES["2/users"]), json_response(body))
        output = run("active_users")
    assert [r.record.data for r in output.records] == [{"date": "2026-09-20", "statistics": {"United States": 7}}]
    warnings = [m.log.message for m in output.logs if m.log.level.value == "WARN"]
    assert any("2 dates" in w and "fewer values" in w for w in warnings)


def test_given_a_dashboard_state_later_than_today_then_a_warning_and_nothing_is_read() -> None:
    with HttpMocker():
        output = run("active_users", SyncMode.incremental, stream_state={"date": "2099-01-01"})
    assert output.records == []
    warnings = [m.log.message for m in output.logs if m.log.level.value == "WARN"]
    assert any("2099-01-01" in w and "later than today" in w for w in warnings)
