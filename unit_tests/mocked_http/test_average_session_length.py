from __future__ import annotations

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker

from test_support.recordings import recorded
from unit_tests.mocked_http.builders import config, json_response, request, run


def test_given_recorded_answer_when_read_then_one_record_per_day_in_seconds() -> None:
    with HttpMocker() as http:
        http.get(
            request("2/sessions/average", {"start": "20260917", "end": "20260924"}),
            json_response(recorded("sessions_average.json")["body"]),
        )
        output = run("average_session_length", SyncMode.incremental, cfg=config(start_date="2026-09-17"))
    assert output.records[0].record.data == {"date": "2026-09-17T00:00:00", "length": 0}
    assert len(output.records) == 8
    assert output.most_recent_state.stream_state.__dict__ == {"date": "2026-09-24"}


def test_given_empty_series_when_read_then_no_records_and_no_error() -> None:
    body = {"data": {"series": [], "seriesCollapsed": [], "seriesMeta": [], "xValues": ["2026-09-20T00:00:00"]}}
    with HttpMocker() as http:
        http.get(request("2/sessions/average", {"start": "20260920", "end": "20260924"}), json_response(body))
        output = run("average_session_length")
    assert output.records == [] and output.errors == []


def test_given_state_in_the_future_when_read_then_state_never_moves_past_today() -> None:
    with HttpMocker() as http:
        http.get(
            request("2/sessions/average", {"start": "20260924", "end": "20260924"}),
            json_response({"data": {"series": [[61.5]], "xValues": ["2026-09-24T00:00:00"]}}),
        )
        output = run("average_session_length", SyncMode.incremental, stream_state={"date": "2026-09-27"})
    assert [r.record.data["length"] for r in output.records] == [61.5]
    assert output.most_recent_state.stream_state.__dict__ == {"date": "2026-09-27"}
