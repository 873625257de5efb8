"""events: exactly-once raw events from the Export API.

One slice per upload hour, so STATE follows every hour. A sync reads the hours still pending from earlier syncs
(Amplitude had not published them, or not all their partitions: pipeline/state.py), then every hour after the cursor
up to the last complete one. Consecutive hours are fetched in windows of `request_time_range` hours: the first hour
of a window downloads the window's archive to a temporary directory, the window's hours are read from it in order
(each only from the members named for it, skipping partitions already emitted), and the directory is removed after
the window's last hour (or on any failure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Optional, Union
from urllib.parse import parse_qs, urlsplit

import requests
from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction

from source_amplitude.config import AmplitudeConfig
from source_amplitude.errors import DEFAULT_POLICY, AmplitudeErrorHandler, Outcome, Policy, skip
from source_amplitude.export.download import WindowDownloader
from source_amplitude.export.read import ExportRead
from source_amplitude.http import AmplitudeStream
from source_amplitude.pipeline.hours import export_hour, floor_hour, last_complete_hour, parse_export_hour
from source_amplitude.pipeline.reads import cursor_in_future, load_state
from source_amplitude.pipeline.scratch import DiskBudget
from source_amplitude.pipeline.state import parse_export_state
from source_amplitude.record_batch import RecordBatch

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


class Events(AmplitudeStream):
    name = "events"
    primary_key = "uuid"
    cursor_field = "server_upload_time"
    # docs/amplitude-api-notes.md: 404 = no data in the range (yet); 400 = over 4 GB; 504 = timed out: a smaller range
    # fixes both. The answer is a zip, not JSON.
    policy: ClassVar[Policy] = ExportPolicy(DEFAULT_POLICY.statuses).but(
        {404: skip(), 400: SPLIT, 504: SPLIT}, json_body=False
    )
    stream_body = True  # archives go to disk as they arrive, never into memory

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

    @property
    def state(self) -> MutableMapping[str, Any]:
        return self._read.state.as_dict()

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        self._read.state = load_state(self.name, parse_export_state, value)

    def path(self, **_: Any) -> str:
        return "2/export"

    def query_params(self, stream_slice: Mapping[str, Any]) -> Mapping[str, str]:
        return {"start": stream_slice["start"], "end": stream_slice["end"]}

    def stream_slices(
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[list[str]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Optional[Mapping[str, Any]]]:
        if cursor_in_future(self.logger, self.name, self._read.state.cursor, self._now):
            return
        for hour in self._read.plan(floor_hour(self._config.start_date), last_complete_hour(self._now)):
            yield {"hour": export_hour(hour)}

    def read_records(  # type: ignore[override]  # it may also yield RecordBatch: see record_batch.py
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[list[str]] = None,
        stream_slice: Optional[Mapping[str, Any]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Union[StreamData, RecordBatch]]:
        assert stream_slice is not None
        yield from self._read.read_hour(parse_export_hour(stream_slice["hour"]))

    def stop_reading(self) -> Optional[str]:
        """Close whatever this read holds (an interrupted sync); says what it was doing, or None if idle."""
        return self._read.stop()

    def get_error_handler(self) -> ErrorHandler:
        return AmplitudeErrorHandler(self.logger, self.error_policy(), on_rate_limited=self._read.rate_limited)

    def _downloader(self, disk: DiskBudget) -> WindowDownloader:
        retries = self.get_error_handler().max_retries or 0
        return WindowDownloader(self.send, self.skipped, self.get_backoff_strategy(), retries, disk, self.logger)
