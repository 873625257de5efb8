"""HTTP policy as data: status code -> what to do and what to tell the user. Streams never look at status codes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional, Union

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction

from source_amplitude.settings import MAX_RETRIES, MAX_RETRY_SECONDS

AUTH_MESSAGE = (
    "Amplitude refused the API Key / Secret Key pair (HTTP {status}). Check that api_key and secret_key are copied "
    "from the same project, and that data_region matches the project's data center "
    "(EU projects need 'EU Residency Server')."
)
RATE_LIMIT_MESSAGE = (
    "Amplitude's rate limit for this project was hit (HTTP 429) and did not clear after retries. Amplitude allows "
    "5 concurrent requests and 108,000 query cost per hour per project, shared with every other API client of the "
    "project: retry the sync later or run fewer clients at once."
)
SERVER_ERROR_MESSAGE = "Amplitude answered HTTP {status} repeatedly; this is on Amplitude's side. Retry the sync later."
NETWORK_ERROR_MESSAGE = "Could not reach Amplitude ({detail}) after retries. Check the network and retry the sync."
REQUEST_REJECTED_MESSAGE = "Amplitude rejected the request (HTTP {status}): {detail}"
GROUP_BY_COUNTRY_HINT = " Set active_users_group_by_country to false: this project cannot group users by country."


@dataclass(frozen=True)
class Outcome:
    action: ResponseAction
    failure_type: Optional[FailureType]
    message: str  # may use {status} and {detail} (Amplitude's own error text)


RETRY_SERVER = Outcome(ResponseAction.RETRY, FailureType.transient_error, SERVER_ERROR_MESSAGE)
FAIL_AUTH = Outcome(ResponseAction.FAIL, FailureType.config_error, AUTH_MESSAGE)
IGNORE = Outcome(ResponseAction.IGNORE, None, "")

DEFAULT_POLICY: Mapping[int, Outcome] = {
    400: Outcome(ResponseAction.FAIL, FailureType.config_error, REQUEST_REJECTED_MESSAGE),
    401: FAIL_AUTH,
    403: FAIL_AUTH,
    404: Outcome(ResponseAction.FAIL, FailureType.system_error, REQUEST_REJECTED_MESSAGE),
    429: Outcome(ResponseAction.RETRY, FailureType.transient_error, RATE_LIMIT_MESSAGE),
}


def amplitude_error_detail(response: requests.Response) -> str:
    """Amplitude's error text from either envelope (amplitude-api.md §1.3):
    {"error": {"message", "metadata": {"details"}}} or the taxonomy's {"success": false, "errors": [{"message"}]}."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason or "no details"
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            metadata = error.get("metadata")
            details = metadata.get("details") if isinstance(metadata, dict) else None
            parts = [str(p) for p in (error.get("message"), details) if p]
            if parts:
                return ": ".join(parts)
        if isinstance(error, str):
            return error
        errors = body.get("errors")
        if isinstance(errors, list):
            messages = [str(e.get("message")) for e in errors if isinstance(e, dict) and e.get("message")]
            if messages:
                return "; ".join(messages)
    return str(body)[:200]


class AmplitudeErrorHandler(ErrorHandler):
    def __init__(self, logger: logging.Logger, policy: Mapping[int, Outcome] = DEFAULT_POLICY) -> None:
        self._logger = logger
        self._policy = policy

    @property
    def max_retries(self) -> Optional[int]:
        return MAX_RETRIES

    @property
    def max_time(self) -> Optional[int]:
        return MAX_RETRY_SECONDS

    def interpret_response(self, response: Optional[Union[requests.Response, Exception]] = None) -> ErrorResolution:
        if isinstance(response, requests.Response):
            return self._interpret_status(response)
        if isinstance(response, requests.RequestException):
            detail = type(response).__name__
            return ErrorResolution(
                ResponseAction.RETRY, FailureType.transient_error, NETWORK_ERROR_MESSAGE.format(detail=detail)
            )
        return ErrorResolution(ResponseAction.FAIL, FailureType.system_error, f"Unexpected error: {response!r}")

    def _interpret_status(self, response: requests.Response) -> ErrorResolution:
        status = response.status_code
        if response.ok:
            return ErrorResolution(ResponseAction.SUCCESS)
        outcome = self._policy.get(status) or (RETRY_SERVER if status >= 500 else DEFAULT_POLICY[400])
        if outcome.action is ResponseAction.IGNORE:
            return ErrorResolution(ResponseAction.IGNORE)
        detail = amplitude_error_detail(response)
        message = outcome.message.format(status=status, detail=detail)
        if "invalid user property country" in detail.lower():
            message += GROUP_BY_COUNTRY_HINT
        return ErrorResolution(outcome.action, outcome.failure_type, message)
