from __future__ import annotations

from airbyte_cdk.models import FailureType
from airbyte_cdk.test.mock_http import HttpMocker

from test_support.recordings import recorded
from unit_tests.mocked_http.builders import (
    API_KEY,
    SECRET_KEY,
    amplitude_error,
    error_messages,
    failure_types,
    json_response,
    output_text,
    request,
    run,
)


def test_given_v3_served_when_read_annotations_then_records_carry_official_and_v3_fields() -> None:
    with HttpMocker() as http:
        http.get(request("3/annotations"), json_response(recorded("annotations_v3.json")["body"]))
        output = run("annotations")
    records = [r.record.data for r in output.records]
    assert len(records) == len(recorded("annotations_v3.json")["body"]["data"])
    assert records[0]["date"] == "2026-06-16" and records[0]["category"] == {"id": 1, "category": "Uncategorized"}


def test_given_v3_not_served_when_read_annotations_then_v2_is_read() -> None:
    v2 = {"data": [{"id": 160419, "date": "2021-09-01", "label": "First September", "details": "My annotation"}]}
    with HttpMocker() as http:
        http.get(request("3/annotations"), amplitude_error(404, "Not Found", "Not found"))
        http.get(request("2/annotations"), json_response(v2))
        output = run("annotations")
    assert [r.record.data["id"] for r in output.records] == [160419]
    assert output.records[0].record.data["date"] == "2021-09-01"


def test_given_no_annotations_when_read_then_no_records_and_stream_completes() -> None:
    with HttpMocker() as http:
        http.get(request("3/annotations"), json_response({"data": []}))
        output = run("annotations")
    assert output.records == []
    assert output.errors == []


def test_given_403_when_read_annotations_then_config_error_without_secrets() -> None:
    with HttpMocker() as http:
        http.get(request("3/annotations"), amplitude_error(403, "Forbidden", "Invalid API/Secret Key combination"))
        output = run("annotations", expect_failure=True)
    assert FailureType.config_error in failure_types(output)
    assert any("data_region" in m for m in error_messages(output))
    assert API_KEY not in output_text(output) and SECRET_KEY not in output_text(output)
