from __future__ import annotations

from airbyte_cdk.models import FailureType
from airbyte_cdk.test.mock_http import HttpMocker

from test_support.recordings import recorded
from unit_tests.mocked_http.builders import EU_BASE, config, failure_types, json_response, request, run


def test_given_recorded_events_list_when_read_then_one_record_per_event_type() -> None:
    body = recorded("events_list.json")["body"]
    with HttpMocker() as http:
        http.get(request("2/events/list"), json_response(body))
        output = run("events_list")
    assert [r.record.data["id"] for r in output.records] == [e["id"] for e in body["data"]]


def test_given_eu_region_when_read_then_requests_go_to_the_eu_host() -> None:
    with HttpMocker() as http:
        http.get(request("2/events/list", base=EU_BASE), json_response({"data": [{"id": 1, "value": "x"}]}))
        output = run("events_list", cfg=config(data_region="EU Residency Server"))
    assert len(output.records) == 1


def test_given_500_twice_then_success_when_read_then_records_arrive() -> None:
    with HttpMocker() as http:
        http.get(
            request("2/events/list"),
            [json_response({}, 500), json_response({}, 502), json_response({"data": [{"id": 7}]})],
        )
        output = run("events_list")
    assert [r.record.data["id"] for r in output.records] == [7]


def test_given_persistent_503_when_read_then_transient_error() -> None:
    with HttpMocker() as http:
        http.get(request("2/events/list"), json_response({}, 503))
        output = run("events_list", expect_failure=True)
    assert failure_types(output) == [FailureType.transient_error]
