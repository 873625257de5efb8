from __future__ import annotations

from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.mock_http import HttpMocker

from test_support.recordings import recorded
from unit_tests.mocked_http.builders import (
    amplitude_error,
    config,
    error_messages,
    failure_types,
    json_response,
    request,
    run,
)


def users_body(days: list[str], rows: dict[str, list[int]]) -> dict[str, object]:
    return {
        "data": {
            "xValues": days,
            "series": list(rows.values()),
            "seriesLabels": list(rows),
            "seriesCollapsed": [[{"setId": "", "value": sum(r)}] for r in rows.values()],
            "seriesMeta": [],
        }
    }


def test_given_grouped_users_when_read_then_one_record_per_day_with_country_statistics() -> None:
    days = ["2026-09-20", "2026-09-21", "2026-09-22", "2026-09-23", "2026-09-24"]
    body = users_body(days, {"United States": [1, 2, 3, 4, 5], "Germany": [0, 1, 0, 1, 0]})
    with HttpMocker() as http:
        http.get(
            request("2/users", {"start": "20260920", "end": "20260924", "m": "active", "i": "1", "g": "country"}),
            json_response(body),
        )
        output = run("active_users", SyncMode.incremental)
    assert [r.record.data for r in output.records][1] == {
        "date": "2026-09-21",
        "statistics": {"United States": 2, "Germany": 1},
    }
    assert output.most_recent_state.stream_state.__dict__ == {"date": "2026-09-24"}


def test_given_group_by_country_disabled_when_read_then_no_g_parameter() -> None:
    with HttpMocker() as http:
        http.get(
            request("2/users", {"start": "20260920", "end": "20260924", "m": "active", "i": "1"}),
            json_response(recorded("users_active_empty.json")["body"]),
        )
        output = run("active_users", cfg=config(active_users_group_by_country=False))
    assert output.records == []
    assert output.errors == []


def test_given_state_when_read_incrementally_then_the_lookback_days_are_read_again() -> None:
    with HttpMocker() as http:
        # state 2026-09-23 minus the 3-day lookback -> 2026-09-20 is still the start_date; use a later state
        http.get(
            request("2/users", {"start": "20260921", "end": "20260924", "m": "active", "i": "1", "g": "country"}),
            json_response(users_body(["2026-09-21"], {"France": [9]})),
        )
        output = run(
            "active_users",
            SyncMode.incremental,
            cfg=config(start_date="2026-09-01"),
            stream_state={"date": "2026-09-24"},
        )
    assert [r.record.data["date"] for r in output.records] == ["2026-09-21"]
    assert output.most_recent_state.stream_state.__dict__ == {"date": "2026-09-24"}


def test_given_official_state_format_when_read_then_it_is_understood() -> None:
    with HttpMocker() as http:
        http.get(
            request("2/users", {"start": "20260920", "end": "20260924", "m": "active", "i": "1", "g": "country"}),
            json_response(users_body([], {})),
        )
        output = run(
            "active_users",
            SyncMode.incremental,
            cfg=config(start_date="2026-01-01"),
            stream_state={"date": "2026-09-23T00:00:00"},
        )
    assert output.errors == []


def test_given_long_range_when_read_then_requests_are_at_most_30_days() -> None:
    with HttpMocker() as http:
        for start, end in (("20260801", "20260830"), ("20260831", "20260924")):
            http.get(
                request("2/users", {"start": start, "end": end, "m": "active", "i": "1", "g": "country"}),
                json_response(users_body([], {})),
            )
        output = run("active_users", SyncMode.incremental, cfg=config(start_date="2026-08-01"))
    assert len(output.state_messages) >= 2


def test_given_invalid_country_property_when_read_then_config_error_suggests_the_switch() -> None:
    with HttpMocker() as http:
        http.get(
            request("2/users", {"start": "20260920", "end": "20260924", "m": "active", "i": "1", "g": "country"}),
            amplitude_error(400, "Invalid chart definition", "Invalid user property country"),
        )
        output = run("active_users", expect_failure=True)
    assert FailureType.config_error in failure_types(output)
    message = " ".join(error_messages(output))
    assert "Invalid user property country" in message and "active_users_group_by_country to false" in message


def test_given_failure_in_second_slice_when_read_then_state_covers_only_the_first() -> None:
    with HttpMocker() as http:
        http.get(
            request("2/users", {"start": "20260801", "end": "20260830", "m": "active", "i": "1", "g": "country"}),
            json_response(users_body(["2026-08-01"], {"France": [1]})),
        )
        http.get(
            request("2/users", {"start": "20260831", "end": "20260924", "m": "active", "i": "1", "g": "country"}),
            amplitude_error(403, "Forbidden", "Invalid API/Secret Key combination"),
        )
        output = run("active_users", SyncMode.incremental, cfg=config(start_date="2026-08-01"), expect_failure=True)
    assert output.most_recent_state.stream_state.__dict__ == {"date": "2026-08-30"}
