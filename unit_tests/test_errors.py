from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_amplitude.errors import DEFAULT_POLICY, AmplitudeErrorHandler, amplitude_error_detail
from source_amplitude.http import JitteredBackoff, retry_after_seconds
from source_amplitude.settings import MAX_RETRY_AFTER_SECONDS
from source_amplitude.streams.catalog import Annotations
from source_amplitude.streams.dashboard import ActiveUsers, AverageSessionLength
from source_amplitude.streams.events import Events
from test_support.recordings import recorded_path


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


COUNTRY_REFUSED = (
    b'{"error":{"http_code":400,"type":"invalid","message":"Invalid chart definition",'
    b'"metadata":{"details":"Invalid user property country"}}}'
)


def test_invalid_country_property_suggests_the_config_switch_as_its_own_sentence_on_active_users_only() -> None:
    message = AmplitudeErrorHandler(logging.getLogger("t"), ActiveUsers.policy).interpret_response(
        response(400, COUNTRY_REFUSED)
    )
    assert message.error_message == (
        "Amplitude rejected the request to Amplitude (HTTP 400): Invalid chart definition: Invalid user property "
        "country. Set active_users_group_by_country to false: this project cannot group users by country."
    )
    for policy in (DEFAULT_POLICY, Annotations.policy, AverageSessionLength.policy):
        other = AmplitudeErrorHandler(logging.getLogger("t"), policy).interpret_response(response(400, COUNTRY_REFUSED))
        assert "active_users_group_by_country" not in (other.error_message or "")


@pytest.mark.parametrize("body", [b"<html><body>502 Bad Gateway</body></html>", b"", b'{"cohorts": ['])
def test_a_200_that_is_not_json_is_retried_as_transient_quoting_its_start(body: bytes) -> None:
    resolution = HANDLER.interpret_response(response(200, body))
    assert resolution.response_action == ResponseAction.RETRY
    assert resolution.failure_type == FailureType.transient_error
    assert "not JSON" in (resolution.error_message or "")
    assert body[:10].decode() in (resolution.error_message or "")


def test_the_export_zip_is_not_held_to_json() -> None:
    handler = AmplitudeErrorHandler(logging.getLogger("t"), Events.policy)
    assert handler.interpret_response(response(200, b"PK\x03\x04...")).response_action == ResponseAction.SUCCESS


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


def test_a_retry_after_longer_than_our_cap_is_honoured_as_sent() -> None:
    backoff = JitteredBackoff(base_seconds=2, cap_seconds=60)
    assert backoff.backoff_time(response(429, headers={"Retry-After": "90"}), 1) == 90
    assert backoff.backoff_time(response(429, headers={"Retry-After": str(MAX_RETRY_AFTER_SECONDS)}), 1) == 600


def test_a_retry_after_past_the_bound_fails_the_sync_as_transient_instead_of_sleeping() -> None:
    backoff = JitteredBackoff(base_seconds=2, cap_seconds=60)
    with pytest.raises(AirbyteTracedException) as raised:
        backoff.backoff_time(response(429, headers={"Retry-After": "7200"}), 1)
    assert raised.value.failure_type == FailureType.transient_error
    assert "7200 s" in raised.value.message and f"{MAX_RETRY_AFTER_SECONDS} s" in raised.value.message
