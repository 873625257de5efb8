from __future__ import annotations

from airbyte_cdk.models import FailureType
from airbyte_cdk.test.mock_http import HttpMocker

from test_support.recordings import recorded
from unit_tests.mocked_http.builders import amplitude_error, error_messages, failure_types, json_response, request, run


def test_given_recorded_cohorts_when_read_then_every_cohort_is_a_record_unchanged() -> None:
    body = recorded("cohorts.json")["body"]
    with HttpMocker() as http:
        http.get(request("3/cohorts"), json_response(body))
        output = run("cohorts")
    # airbyte-cdk's message serializer leaves out top-level null fields; destinations read them as null
    assert [r.record.data for r in output.records] == [
        {key: value for key, value in cohort.items() if value is not None} for cohort in body["cohorts"]
    ]


def test_given_429_then_success_when_read_cohorts_then_records_arrive() -> None:
    with HttpMocker() as http:
        http.get(
            request("3/cohorts"),
            [
                json_response({"error": {"http_code": 429}}, 429, {"Retry-After": "0"}),
                json_response({"cohorts": [{"id": "a1"}]}),
            ],
        )
        output = run("cohorts")
    assert [r.record.data["id"] for r in output.records] == ["a1"]


def test_given_429_every_time_when_read_cohorts_then_transient_error_about_the_rate_limit() -> None:
    with HttpMocker() as http:
        http.get(request("3/cohorts"), json_response({"error": {"http_code": 429}}, 429))
        output = run("cohorts", expect_failure=True)
    assert failure_types(output) == [FailureType.transient_error]
    assert any("rate limit" in m.lower() for m in error_messages(output))


def test_given_400_when_read_cohorts_then_config_error_quotes_amplitude() -> None:
    with HttpMocker() as http:
        http.get(request("3/cohorts"), amplitude_error(400, "Invalid request", "Bad cohort filter"))
        output = run("cohorts", expect_failure=True)
    assert FailureType.config_error in failure_types(output)
    assert any("Invalid request: Bad cohort filter" in m for m in error_messages(output))
