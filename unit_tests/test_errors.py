from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction

from source_amplitude.errors import AmplitudeErrorHandler, amplitude_error_detail
from source_amplitude.http import JitteredBackoff, retry_after_seconds
from unit_tests.recordings import recorded_path


def response(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = body
    r.headers.update(headers or {})
    return r


HANDLER = AmplitudeErrorHandler(logging.getLogger("test"))


def test_recorded_404_envelope_detail() -> None:
    path = recorded_path("export_404.body.json")
    assert (
        amplitude_error_detail(response(404, path.read_bytes())) == "Unspecified Error: Raw data files were not found."
    )


def test_taxonomy_envelope_detail() -> None:
    body = b'{"success": false, "errors": [{"message": "Account Properties feature is not enabled."}]}'
    assert amplitude_error_detail(response(400, body)) == "Account Properties feature is not enabled."


@pytest.mark.parametrize(
    ("status", "action", "failure_type", "fragment"),
    [
        (403, ResponseAction.FAIL, FailureType.config_error, "data_region"),
        (401, ResponseAction.FAIL, FailureType.config_error, "same project"),
        (429, ResponseAction.RETRY, FailureType.transient_error, "rate limit"),
        (500, ResponseAction.RETRY, FailureType.transient_error, "HTTP 500"),
        (503, ResponseAction.RETRY, FailureType.transient_error, "HTTP 503"),
        (400, ResponseAction.FAIL, FailureType.config_error, "Invalid chart definition"),
    ],
)
def test_status_table(status: int, action: ResponseAction, failure_type: FailureType, fragment: str) -> None:
    body = (
        b'{"error":{"http_code":400,"type":"invalid","message":"Invalid chart definition","metadata":{"details":"x"}}}'
    )
    resolution = HANDLER.interpret_response(response(status, body))
    assert resolution.response_action == action
    assert resolution.failure_type == failure_type
    assert fragment in (resolution.error_message or "")


def test_invalid_country_property_suggests_the_config_switch() -> None:
    body = (
        b'{"error":{"http_code":400,"type":"invalid","message":"Invalid chart definition",'
        b'"metadata":{"details":"Invalid user property country"}}}'
    )
    message = HANDLER.interpret_response(response(400, body)).error_message or ""
    assert "Invalid chart definition: Invalid user property country" in message
    assert "active_users_group_by_country to false" in message


def test_network_errors_are_retried_as_transient() -> None:
    resolution = HANDLER.interpret_response(requests.ConnectionError("reset"))
    assert resolution.response_action == ResponseAction.RETRY
    assert resolution.failure_type == FailureType.transient_error


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(response(429, headers={"Retry-After": "7"}), now) == 7
    dated = response(429, headers={"Retry-After": "Sun, 22 Nov 2026 12:00:30 GMT"})
    assert retry_after_seconds(dated, now) == 30
    assert retry_after_seconds(response(429), now) is None


def test_backoff_honours_retry_after_then_grows_exponentially_with_jitter() -> None:
    backoff = JitteredBackoff(base_seconds=2, cap_seconds=60)
    assert backoff.backoff_time(response(429, headers={"Retry-After": "5"}), 1) == 5
    waits = [backoff.backoff_time(response(429), attempt) for attempt in (1, 2, 3, 4, 10)]
    assert 1 <= waits[0] <= 2 and 2 <= waits[1] <= 4 and 4 <= waits[2] <= 8 and 8 <= waits[3] <= 16
    assert 30 <= (waits[4] or 0) <= 60
