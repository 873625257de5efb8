from __future__ import annotations

from airbyte_cdk.models import FailureType
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


def test_given_recorded_chart_when_read_then_unpivoted_records() -> None:
    with HttpMocker() as http:
        http.get(request("3/chart/gl9dulhv/csv"), json_response(recorded("chart_csv.json")["body"]))
        output = run("chart_gl9dulhv", cfg=config(chart_ids=["gl9dulhv"]))
    assert len(output.records) == 30
    assert output.records[15].record.data["value"] == 3.0


def test_given_missing_chart_when_read_then_config_error_naming_it() -> None:
    with HttpMocker() as http:
        http.get(request("3/chart/nope1234/csv"), amplitude_error(404, "Not Found", "Chart not found"))
        output = run("chart_nope1234", cfg=config(chart_ids=["nope1234"]), expect_failure=True)
    assert failure_types(output) == [FailureType.config_error]
    assert any("'nope1234' does not exist" in m for m in error_messages(output))


def test_charts_metadata_leaves_out_a_missing_chart_with_a_warning() -> None:
    with HttpMocker() as http:
        http.get(request("3/chart/gl9dulhv/csv"), json_response(recorded("chart_csv.json")["body"]))
        http.get(request("3/chart/nope1234/csv"), amplitude_error(404, "Not Found", "Chart not found"))
        output = run("charts_metadata", cfg=config(chart_ids=["gl9dulhv", "nope1234"]))
    assert [r.record.data["chart_id"] for r in output.records] == ["gl9dulhv"]
    assert any("nope1234" in log.log.message for log in output.logs if log.log.level.value == "WARN")
