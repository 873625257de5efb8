"""The base of every Amplitude stream: host, Basic auth, error policy, jittered backoff, the shared cost budget."""

from __future__ import annotations

import base64
import random
from abc import ABC
from collections.abc import Iterable, Mapping, MutableMapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Optional, Union
from urllib.parse import urlsplit

import requests
from airbyte_cdk.models import FailureType, StreamDescriptor, SyncMode
from airbyte_cdk.sources.streams.call_rate import (
    APIBudget,
    HttpRequestRegexMatcher,
    MovingWindowCallRatePolicy,
    Rate,
)
from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy, ErrorHandler
from airbyte_cdk.utils.airbyte_secrets_utils import update_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from requests.auth import HTTPBasicAuth

from source_amplitude.cdk_internals import RequestingStream
from source_amplitude.config import AmplitudeConfig
from source_amplitude.errors import (
    DEFAULT_POLICY,
    SKIP_ECHO,
    UNEXPECTED_ANSWER_MESSAGE,
    AmplitudeErrorHandler,
    Policy,
    body_start,
    endpoint,
)
from source_amplitude.parsers.common import Record, UnexpectedAnswer
from source_amplitude.settings import (
    ACTIVE_USERS_COST,
    ACTIVE_USERS_GROUPED_COST,
    AVERAGE_SESSION_LENGTH_COST,
    BACKOFF_BASE_SECONDS,
    BACKOFF_CAP_SECONDS,
    CHART_QUERY_COST,
    DASHBOARD_COST_PER_HOUR,
    DELETIONS_SECONDS_PER_REQUEST,
    MAX_RETRY_AFTER_SECONDS,
    REQUEST_TIMEOUT_SECONDS,
)

MIN_BACKOFF_SECONDS = 0.001  # the CDK treats a zero wait as "no opinion" and falls back to its own schedule


def basic_auth(config: AmplitudeConfig) -> HTTPBasicAuth:
    token = base64.b64encode(f"{config.api_key}:{config.secret_key}".encode()).decode()
    update_secrets([config.api_key, config.secret_key, token])  # masks the header value too, should a log show it
    return HTTPBasicAuth(config.api_key, config.secret_key)


def dashboard_budget() -> APIBudget:
    """One budget for every Dashboard REST request of a sync (docs/amplitude-api-notes.md: 108,000 cost per hour per
    project). Each request is charged the upper bound of its cost for a full-size slice."""
    weighted = [
        HttpRequestRegexMatcher(
            url_path_pattern=r"/api/2/users$", params={"g": "country"}, weight=ACTIVE_USERS_GROUPED_COST
        ),
        HttpRequestRegexMatcher(url_path_pattern=r"/api/2/users$", weight=ACTIVE_USERS_COST),
        HttpRequestRegexMatcher(url_path_pattern=r"/api/2/sessions/average$", weight=AVERAGE_SESSION_LENGTH_COST),
        HttpRequestRegexMatcher(url_path_pattern=r"/api/3/chart/", weight=CHART_QUERY_COST),
        HttpRequestRegexMatcher(url_path_pattern=r"/api/(2|3)/"),
    ]
    rate = Rate(limit=DASHBOARD_COST_PER_HOUR, interval=timedelta(hours=1))
    return APIBudget(policies=[MovingWindowCallRatePolicy(rates=[rate], matchers=list(weighted))])


def deletions_budget() -> APIBudget:
    """The User Privacy API allows 1 request per second per project (docs/amplitude-api-notes.md)."""
    matcher = HttpRequestRegexMatcher(url_path_pattern=r"/api/2/deletions/users$")
    rate = Rate(limit=1, interval=timedelta(seconds=DELETIONS_SECONDS_PER_REQUEST))
    return APIBudget(policies=[MovingWindowCallRatePolicy(rates=[rate], matchers=[matcher])])


def retry_after_seconds(response: requests.Response, now: datetime) -> Optional[float]:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def retry_after_too_long_message(response: requests.Response, seconds: float) -> str:
    path = urlsplit(response.url or "").path or "its API"
    return (
        f"Amplitude answered HTTP {response.status_code} to {path} and asked to wait {seconds:.0f} s before the next "
        f"request (Retry-After), longer than the {MAX_RETRY_AFTER_SECONDS} s this connector waits. The sync stops "
        "here; every checkpoint saved so far holds, so run it again later."
    )


class JitteredBackoff(BackoffStrategy):
    """Retry-After when Amplitude sends it, otherwise exponential backoff with full jitter."""

    def __init__(self, base_seconds: float, cap_seconds: float) -> None:
        self._base_seconds = base_seconds
        self._cap_seconds = cap_seconds

    def backoff_time(
        self, response_or_exception: Optional[Union[requests.Response, requests.RequestException]], attempt_count: int
    ) -> Optional[float]:
        if isinstance(response_or_exception, requests.Response):
            retry_after = retry_after_seconds(response_or_exception, datetime.now(UTC))
            if retry_after is not None and retry_after > MAX_RETRY_AFTER_SECONDS:
                raise AirbyteTracedException(
                    message=retry_after_too_long_message(response_or_exception, retry_after),
                    failure_type=FailureType.transient_error,
                )
            if retry_after is not None:
                return max(MIN_BACKOFF_SECONDS, retry_after)
        ceiling = min(self._cap_seconds, self._base_seconds * 2 ** max(0, attempt_count - 1))
        return max(MIN_BACKOFF_SECONDS, random.uniform(ceiling / 2, ceiling))


class AmplitudeStream(RequestingStream, ABC):
    """Amplitude's REST APIs (docs/amplitude-api-notes.md): one host per data region, Basic auth with
    api_key:secret_key. Streams declare `policy` (errors.py) and implement `parse_body`; they never look at a
    status code."""

    policy: ClassVar[Policy] = DEFAULT_POLICY
    stream_body: ClassVar[bool] = False  # True: the body is read by the stream as it arrives (export archives)

    def __init__(self, config: AmplitudeConfig, api_budget: Optional[APIBudget] = None) -> None:
        self._config = config
        self._skipped_answers = 0  # answers the policy skipped this sync: their slices were not read
        super().__init__(authenticator=basic_auth(config), api_budget=api_budget)
        self.logger.addFilter(SKIP_ECHO)
        if not self.cursor_field:
            self.cursor = None  # see is_resumable

    @property
    def is_resumable(self) -> bool:
        """Only incremental streams resume. The CDK makes every other HttpStream a "resumable full refresh", but each of
        ours is one unpaginated request, so there is nothing to resume, and a client that hands the final
        `{"__ab_full_refresh_sync_complete": true}` back (PyAirbyte does) would get no records at all."""
        return self.supports_incremental

    @property
    def url_base(self) -> str:
        return f"{self._config.base_url}/api/"

    def error_policy(self) -> Policy:
        return self.policy

    def get_error_handler(self) -> ErrorHandler:
        return AmplitudeErrorHandler(self.logger, self.error_policy())

    def skipped(self, response: requests.Response) -> bool:
        """True when the policy says this answer holds no records (logged with the policy's own WARN text)."""
        outcome = self.error_policy().outcome(response)
        if not outcome.skips:
            return False
        self._skipped_answers += 1
        if outcome.message:
            self.logger.warning(f"{self.name}: {outcome.text(response)}")
        return True

    def parse_response(
        self, response: requests.Response, stream_slice: Optional[Mapping[str, Any]] = None, **_: Any
    ) -> Iterable[Record]:
        if self.skipped(response):
            return
        try:
            yield from self.parse_body(response.json(), stream_slice or {})
        except (UnexpectedAnswer, KeyError, TypeError, AttributeError, IndexError, ValueError) as error:
            expected = error.expected if isinstance(error, UnexpectedAnswer) else "the documented form"
            message = UNEXPECTED_ANSWER_MESSAGE.format(
                endpoint=endpoint(response), expected=expected, body_start=body_start(response)
            )
            raise AirbyteTracedException(
                message=message,
                internal_message=f"{message} ({type(error).__name__}: {error})",
                failure_type=FailureType.system_error,
                stream_descriptor=StreamDescriptor(name=self.name),
            ) from error

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[list[str]] = None,
        stream_slice: Optional[Mapping[str, Any]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[StreamData]:
        skipped_before = self._skipped_answers
        yield from super().read_records(sync_mode, cursor_field, stream_slice, stream_state)
        if stream_slice is not None:
            self.slice_read(stream_slice, whole=self._skipped_answers == skipped_before)

    def slice_read(self, stream_slice: Mapping[str, Any], whole: bool) -> None:
        """Called after each slice; `whole` is False when the policy skipped an answer of it (a refusal: the range
        was not read, so an incremental stream's cursor must not pass it). Streams with a cursor implement it."""

    @property
    def skipped_answers(self) -> int:
        return self._skipped_answers

    def parse_body(self, body: Any, stream_slice: Mapping[str, Any]) -> Iterable[Record]:
        """The records of one JSON answer: a call to a pure parser (parsers/)."""
        raise NotImplementedError(f"{type(self).__name__} reads no JSON answers")

    def get_backoff_strategy(self) -> BackoffStrategy:
        return JitteredBackoff(BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS)

    def next_page_token(self, response: requests.Response) -> Optional[Mapping[str, Any]]:
        return None  # no Amplitude read endpoint we use is paginated

    def query_params(self, stream_slice: Mapping[str, Any]) -> Mapping[str, str]:
        """The query string of the request for `stream_slice`; none by default."""
        return {}

    def request_params(
        self,
        stream_state: Optional[Mapping[str, Any]],
        stream_slice: Optional[Mapping[str, Any]] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> MutableMapping[str, Any]:
        return dict(self.query_params(stream_slice or {}))

    def request_kwargs(
        self,
        stream_state: Optional[Mapping[str, Any]],
        stream_slice: Optional[Mapping[str, Any]] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Mapping[str, Any]:
        return {"timeout": REQUEST_TIMEOUT_SECONDS, "stream": self.stream_body}
