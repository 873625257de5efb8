"""events: exactly-once raw events from the Export API.

One slice per upload hour, so STATE follows every hour. A sync reads the hours still pending from earlier syncs
(Amplitude had not published them, or not all their partitions: state/events.py), then every hour after the cursor
up to the last complete one. Consecutive hours are fetched in windows of `request_time_range` hours: the first hour
of a window downloads the window's archive to a temporary directory, the window's hours are read from it in order
(each only from the members named for it, skipping partitions already emitted), and the directory is removed after
the window's last hour (or on any failure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction

from source_amplitude.config import AmplitudeConfig
from source_amplitude.errors import DEFAULT_POLICY, AmplitudeErrorHandler, Outcome, Policy, skip
from source_amplitude.export.download import WindowDownloader
from source_amplitude.export.read import ExportRead
from source_amplitude.http import AmplitudeStream
from source_amplitude.pipeline.hours import last_complete_hour
from source_amplitude.pipeline.scratch import DiskBudget
from source_amplitude.state.events import parse_export_state
from source_amplitude.state.protocol import state_property
from source_amplitude.streams.raw_events import RawEventsStream

SPLIT = Outcome(ResponseAction.SPLIT_REQUEST_WINDOW, FailureType.transient_error, "HTTP {status}: {detail}")
ONE_HOUR_TIMED_OUT = Outcome(
    ResponseAction.RETRY,
    FailureType.transient_error,
    "Amplitude's Export API kept timing out (HTTP {status}) on a single upload hour ({endpoint}), after retries. "
    "A timeout is usually temporary: nothing from that hour on was saved, and the next sync asks for it again. If "
    "it keeps timing out, that hour is too large for the Export API: read it in bucket mode (events_source).",
)


@dataclass(frozen=True)
class ExportPolicy(Policy):
    """A 504 is Amplitude's gateway timing out: a smaller window helps, but a window of one hour cannot be split, and
    its 504 is usually transient (a later request succeeds), so it is retried like a 5xx (with Retry-After) instead of
    failing the hour. A 400 (over 4 GB) on one hour cannot be retried: export/read.py says so."""

    def outcome(self, response: requests.Response) -> Outcome:
        outcome = super().outcome(response)
        if response.status_code == 504 and outcome.action is ResponseAction.SPLIT_REQUEST_WINDOW:
            query = parse_qs(urlsplit(response.request.url or "").query) if response.request else {}
            if query.get("start") and query.get("start") == query.get("end"):
                return ONE_HOUR_TIMED_OUT
        return outcome


class Events(RawEventsStream, AmplitudeStream):  # type: ignore[misc]  # read_records may yield RecordBatch
    name = "events"
    primary_key = "uuid"
    cursor_field = "server_upload_time"
    # docs/amplitude-api-notes.md: 404 = no data in the range (yet); 400 = over 4 GB; 504 = timed out: a smaller range
    # fixes both. The answer is a zip, not JSON.
    policy: ClassVar[Policy] = ExportPolicy(DEFAULT_POLICY.statuses).but(
        {404: skip(), 400: SPLIT, 504: SPLIT}, json_body=False
    )
    stream_body = True  # archives go to disk as they arrive, never into memory
    _read: ExportRead
    state = state_property("_read.state", parse_export_state)

    def __init__(self, config: AmplitudeConfig, now: datetime, emit_batches: bool = False) -> None:
        self._now = now
        self._read = ExportRead(
            self.name,
            now,
            emit_batches,
            config.request_time_range_hours,
            config.export_concurrency,
            self._downloader,
            self.logger,
        )
        super().__init__(config)  # it asks for the error handler, which needs the read

    def path(self, **_: Any) -> str:
        return "2/export"

    def query_params(self, stream_slice: Mapping[str, Any]) -> Mapping[str, str]:
        return {"start": stream_slice["start"], "end": stream_slice["end"]}

    def last_hour(self) -> datetime:
        return last_complete_hour(self._now)

    def get_error_handler(self) -> ErrorHandler:
        return AmplitudeErrorHandler(self.logger, self.error_policy(), on_rate_limited=self._read.rate_limited)

    def _downloader(self, disk: DiskBudget) -> WindowDownloader:
        retries = self.get_error_handler().max_retries or 0
        return WindowDownloader(self.send, self.skipped, self.get_backoff_strategy(), retries, disk, self.logger)
