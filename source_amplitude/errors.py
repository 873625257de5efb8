"""HTTP policy as data: what each answer means and what to tell the user. The one place that looks at status codes:
the error handler, the base stream (skips) and `check` all read a stream's `Policy`."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Optional, Union
from urllib.parse import urlsplit

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
SERVER_ERROR_MESSAGE = (
    "Amplitude answered HTTP {status} to {endpoint} repeatedly; this is on Amplitude's side. Retry the sync later."
)
NETWORK_ERROR_MESSAGE = "Amplitude's answer from {host} was cut off ({detail}), after retries. Retry the sync."
UNREACHABLE_MESSAGE_START = "Could not reach Amplitude at "
UNREACHABLE_ADVICE = (
    "Check that this machine can open HTTPS connections to {host}: its network and DNS, a proxy (HTTPS_PROXY, "
    "NO_PROXY), a firewall, and the TLS certificates it trusts; then retry."
)
UNREACHABLE_MESSAGE = (
    UNREACHABLE_MESSAGE_START
    + "{host} ({detail}) after retries. Every stream needs it, so the sync stops here. "
    + UNREACHABLE_ADVICE
)
REQUEST_REJECTED_MESSAGE = "Amplitude rejected the request to {endpoint} (HTTP {status}): {detail}"
NOT_JSON_MESSAGE = (
    "Amplitude answered {endpoint} with HTTP 200 but a body that is not JSON (it starts: {body_start}). This is "
    "usually a temporary error page from Amplitude's edge: retry the sync later."
)
UNEXPECTED_ANSWER_MESSAGE = (
    "Amplitude's answer to {endpoint} is not in the form the connector reads: expected {expected}; it starts: "
    "{body_start}. Nothing of this stream was saved past its last state. If this persists, Amplitude changed the "
    "endpoint: please report it with this message."
)
UNUSABLE_STATE_MESSAGE = (
    "The saved state of the {stream} stream cannot be used: {detail}. Clear (reset) the {stream} stream's data in the "
    "connection, or remove that stream from the state file, so that it starts again from start_date."
)
GROUP_BY_COUNTRY_HINT = "Set active_users_group_by_country to false: this project cannot group users by country."
BODY_START_CHARS = 200
# What Amplitude says with a 401/403 when the key pair itself is wrong (docs/amplitude-api-notes.md), whichever
# endpoint: a config_error for every stream, never a stream's own "no access" skip.
KEY_PAIR_REFUSED = "Invalid API/Secret Key"


@dataclass(frozen=True)
class Hint:
    """A sentence added to one stream's message when Amplitude's own text contains `when`."""

    when: str
    sentence: str


@dataclass(frozen=True)
class Outcome:
    action: ResponseAction
    failure_type: Optional[FailureType]
    message: str  # may use {status}, {detail} (Amplitude's own error text) and {endpoint}
    hint: Optional[Hint] = None

    @property
    def skips(self) -> bool:
        """The answer means "no records here": the stream logs `message` (if any) as a WARN and goes on."""
        return self.action is ResponseAction.IGNORE

    def text(self, response: requests.Response) -> str:
        detail = amplitude_error_detail(response)
        message = self.message.format(
            status=response.status_code, detail=detail, endpoint=endpoint(response), body_start=body_start(response)
        )
        if self.hint and self.hint.when.lower() in detail.lower():
            message = f"{message.rstrip()}{'' if message.rstrip().endswith('.') else '.'} {self.hint.sentence}"
        return message


def skip(warning: str = "") -> Outcome:
    return Outcome(ResponseAction.IGNORE, None, warning)


RETRY_SERVER = Outcome(ResponseAction.RETRY, FailureType.transient_error, SERVER_ERROR_MESSAGE)
RETRY_NOT_JSON = Outcome(ResponseAction.RETRY, FailureType.transient_error, NOT_JSON_MESSAGE)
FAIL_AUTH = Outcome(ResponseAction.FAIL, FailureType.config_error, AUTH_MESSAGE)
REJECTED = Outcome(ResponseAction.FAIL, FailureType.config_error, REQUEST_REJECTED_MESSAGE)
SUCCESS = Outcome(ResponseAction.SUCCESS, None, "")


@dataclass(frozen=True)
class Policy:
    statuses: Mapping[int, Outcome] = field(default_factory=dict)
    json_body: bool = True  # a 200 must be JSON; False for the export's zip

    def but(self, statuses: Mapping[int, Outcome], json_body: Optional[bool] = None) -> Policy:
        """This policy with some statuses changed: `DEFAULT_POLICY.but({404: skip()})`."""
        merged = {**self.statuses, **statuses}
        return replace(self, statuses=merged, json_body=self.json_body if json_body is None else json_body)

    def outcome(self, response: requests.Response) -> Outcome:
        if response.ok:
            if self.json_body and not _is_json(response):
                return RETRY_NOT_JSON
            return SUCCESS
        status = response.status_code
        if status in (401, 403) and KEY_PAIR_REFUSED.lower() in amplitude_error_detail(response).lower():
            return FAIL_AUTH
        return self.statuses.get(status) or (RETRY_SERVER if status >= 500 else REJECTED)


DEFAULT_POLICY = Policy(
    {
        400: REJECTED,
        401: FAIL_AUTH,
        403: FAIL_AUTH,
        404: Outcome(ResponseAction.FAIL, FailureType.system_error, REQUEST_REJECTED_MESSAGE),
        429: Outcome(ResponseAction.RETRY, FailureType.transient_error, RATE_LIMIT_MESSAGE),
    }
)


def _is_json(response: requests.Response) -> bool:
    try:
        response.json()
    except ValueError:
        return False
    return True


def endpoint(response: requests.Response) -> str:
    """'GET /api/3/cohorts' (no host, no query: neither says anything the user needs, and the host may be a proxy)."""
    request = response.request
    if request is None or not request.path_url:
        return "Amplitude"
    return f"{request.method or 'GET'} {request.path_url.split('?')[0]}"


def body_start(response: requests.Response) -> str:
    try:
        text = response.text
    except (RuntimeError, ValueError):  # a streamed body already consumed
        return "(not available)"
    text = " ".join(text[: BODY_START_CHARS * 2].split())
    return repr(text[:BODY_START_CHARS] + ("..." if len(text) > BODY_START_CHARS else ""))


def amplitude_error_detail(response: requests.Response) -> str:
    """Amplitude's error text from either envelope (docs/amplitude-api-notes.md):
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


def unusable_state_message(stream: str, detail: str) -> str:
    return UNUSABLE_STATE_MESSAGE.format(stream=stream, detail=detail)


def future_state_message(stream: str, read: str, now: str) -> str:
    """A cursor later than now (an edited state, a wrong clock): the stream reads nothing and says why."""
    return (
        f"{stream}: the saved state says {read} was read, which is later than {now}; nothing is read. If the state "
        f"was edited or the clock was wrong, clear the {stream} stream's data (reset) to start again from start_date."
    )


class AmplitudeErrorHandler(ErrorHandler):
    def __init__(
        self,
        logger: logging.Logger,
        policy: Policy = DEFAULT_POLICY,
        on_rate_limited: Optional[Callable[[], None]] = None,
    ) -> None:
        self._logger = logger
        self._policy = policy
        self._on_rate_limited = on_rate_limited  # the events stream sends fewer exports at once after a 429

    @property
    def max_retries(self) -> Optional[int]:
        return MAX_RETRIES

    @property
    def max_time(self) -> Optional[int]:
        return MAX_RETRY_SECONDS

    def interpret_response(self, response: Optional[Union[requests.Response, Exception]] = None) -> ErrorResolution:
        if isinstance(response, requests.Response):
            if response.status_code == 429 and self._on_rate_limited:
                self._on_rate_limited()
            outcome = self._policy.outcome(response)
            RETRY_CAUSE.text = f"HTTP {response.status_code} from {endpoint(response)}"
            if outcome.action in (ResponseAction.SUCCESS, ResponseAction.IGNORE):
                return ErrorResolution(outcome.action)  # a skip is logged by the stream, with its own words
            return ErrorResolution(outcome.action, outcome.failure_type, outcome.text(response))
        if isinstance(response, requests.RequestException):
            host = urlsplit(response.request.url or "").netloc if response.request is not None else ""
            host, detail = host or "Amplitude", network_detail(response)
            message = UNREACHABLE_MESSAGE if unreachable(response) else NETWORK_ERROR_MESSAGE
            RETRY_CAUSE.text = f"{detail} from {host}"
            return ErrorResolution(
                ResponseAction.RETRY, FailureType.transient_error, message.format(host=host, detail=detail)
            )
        return ErrorResolution(ResponseAction.FAIL, FailureType.system_error, f"Unexpected error: {response!r}")


RETRY_CAUSE = threading.local()  # what the last answer on this thread was: the CDK's retry line names no cause
CDK_RETRY_LINE = re.compile(
    r"^UserDefinedBackoffException: Rate limit exceeded(?: \(HTTP \d+\))?\. Retrying in ([\d.]+) seconds\.$"
)


def unreachable(error: requests.RequestException) -> bool:
    """No connection at all (refused, DNS, TLS, proxy, connect timeout): the same for every stream and request."""
    if isinstance(error, (requests.exceptions.SSLError, requests.exceptions.ProxyError, requests.ConnectTimeout)):
        return True
    return isinstance(error, requests.ConnectionError) and not isinstance(
        error, (requests.exceptions.ChunkedEncodingError, requests.ReadTimeout)
    )


def network_detail(error: requests.RequestException) -> str:
    """'ConnectionError: connection refused' and the like, without the URL (the host is said apart)."""
    text = str(error)
    for known, said in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "the host name does not resolve (DNS)"),
        ("Temporary failure in name resolution", "the host name does not resolve (DNS)"),
        ("CERTIFICATE_VERIFY_FAILED", "its TLS certificate is not trusted"),
        ("timed out", "the connection timed out"),
        ("Network is unreachable", "the network is unreachable"),
        ("Connection reset", "the connection was reset"),
    ):
        if known in text:
            return f"{type(error).__name__}: {said}"
    return type(error).__name__


class RetryWords(logging.Filter):
    """The CDK says "Rate limit exceeded" before every retry our backoff times, whatever the cause (a 5xx, a refused
    connection): the line is rewritten to name the cause the error handler saw on this thread."""

    def filter(self, record: logging.LogRecord) -> bool:
        match = CDK_RETRY_LINE.match(record.getMessage()) if isinstance(record.msg, str) else None
        if match:
            cause = getattr(RETRY_CAUSE, "text", None) or "a retryable answer"
            record.msg, record.args = f"Retrying in {float(match.group(1)):.1f} s after {cause}.", ()
        return True


RETRY_WORDS = RetryWords()


class SkipEcho(logging.Filter):
    """The CDK logs "Ignoring response for 'GET' request to ... with response code '404'" for every answer the policy
    skips; the stream says the skip in its own words (a WARN naming the cause, or ExportRead's one line for a run of
    export windows without data), so the CDK's line is dropped from the stream's logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Ignoring response for ")


SKIP_ECHO = SkipEcho()  # one object: a logger does not add the same filter twice
