"""events: exactly-once raw events from the Export API.

One slice per upload hour, so STATE follows every hour. A sync reads the hours still pending from earlier syncs
(Amplitude had not published them, or not all their partitions: pipeline/state.py), then every hour after the cursor
up to the last complete one. Consecutive hours are fetched in windows of `request_time_range` hours: the first hour
of a window downloads the window's archive to a temporary directory, the window's hours are read from it in order
(each only from the members named for it, skipping partitions already emitted), and the directory is removed after
the window's last hour (or on any failure)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from datetime import datetime, timedelta
from typing import Any, ClassVar, Optional, Union

import requests
from airbyte_cdk.models import (
    AirbyteEstimateTraceMessage,
    AirbyteTraceMessage,
    EstimateType,
    FailureType,
    SyncMode,
    TraceType,
)
from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_amplitude.config import AmplitudeConfig
from source_amplitude.errors import (
    DEFAULT_POLICY,
    AmplitudeErrorHandler,
    Outcome,
    Policy,
    skip,
)
from source_amplitude.export.archive import (
    ArchiveError,
    Members,
)
from source_amplitude.export.download import WindowDownloader
from source_amplitude.export.windows import CannotExportHour, ExportWindows, Window
from source_amplitude.http import AmplitudeStream
from source_amplitude.pipeline.conversion import Conversion
from source_amplitude.pipeline.convert_pool import ConvertPool
from source_amplitude.pipeline.hours import (
    HOUR,
    export_hour,
    floor_hour,
    last_complete_hour,
    parse_export_hour,
)
from source_amplitude.pipeline.members import Member
from source_amplitude.pipeline.reads import cursor_in_future, load_state, report_hour, stopped_message
from source_amplitude.pipeline.scratch import DiskBudget, remove_stale_work_dirs
from source_amplitude.pipeline.state import (
    ExportState,
    parse_export_state,
)
from source_amplitude.record_batch import RecordBatch

WINDOW_REGROW_HOURS = 24
SPLIT = Outcome(ResponseAction.SPLIT_REQUEST_WINDOW, FailureType.transient_error, "HTTP {status}: {detail}")
S3_EXPORT_URL = "https://amplitude.com/docs/data/destination-catalog/amazon-s3"
BROKEN_DOWNLOAD_ERRORS = (ArchiveError, requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)


class Events(AmplitudeStream):
    name = "events"
    primary_key = "uuid"
    cursor_field = "server_upload_time"
    # docs/amplitude-api-notes.md: 404 = no data in the range (yet); 400 = over 4 GB; 504 = timed out: a smaller range
    # fixes both. The answer is a zip, not JSON.
    policy: ClassVar[Policy] = DEFAULT_POLICY.but({404: skip(), 400: SPLIT, 504: SPLIT}, json_body=False)
    stream_body = True  # archives go to disk as they arrive, never into memory

    def __init__(self, config: AmplitudeConfig, now: datetime, emit_batches: bool = False) -> None:
        self._now = now
        self._last_hour = last_complete_hour(now)
        self._emit_batches = emit_batches
        self._exported = ExportState()
        self._plan: list[datetime] = []
        self._position: dict[datetime, int] = {}
        self._window: Optional[Window] = None
        self._fetcher: Optional[ExportWindows] = None
        self._pool = ConvertPool()
        self._disk = DiskBudget()
        self._records_so_far = 0
        self._hours_so_far = 0
        self._doing: Optional[str] = None  # what the read is doing, for an interruption's message
        super().__init__(config)

    @property
    def state(self) -> MutableMapping[str, Any]:
        return self._exported.as_dict()

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        self._exported = load_state(self.name, parse_export_state, value)

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
        start = floor_hour(self._config.start_date)  # a start_date later than the state wins
        self._exported = self._exported.without_pending_before(start)
        if cursor_in_future(self.logger, self.name, self._exported.cursor, self._now):
            return
        self._doing = "planning the upload hours to read"
        self._plan = self._exported.hours_to_read(start, self._last_hour)
        self._position = {hour: index for index, hour in enumerate(self._plan)}
        pending = [hour for hour in self._plan if hour in self._exported.pending]
        if pending:
            self.logger.info(
                f"events: asking again for {len(pending)} upload hour(s) Amplitude had not fully published "
                f"({export_hour(pending[0])}..{export_hour(pending[-1])})"
            )
        for hour in self._plan:
            yield {"hour": export_hour(hour)}

    def read_records(  # type: ignore[override]  # it may also yield RecordBatch: see record_batch.py
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[list[str]] = None,
        stream_slice: Optional[Mapping[str, Any]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Union[StreamData, RecordBatch]]:
        assert stream_slice is not None
        hour = parse_export_hour(stream_slice["hour"])
        try:
            if not (self._window and self._window.covers(hour)):
                self._doing = f"waiting for Amplitude's export of upload hour {export_hour(hour)} on"
                self._open_window(hour)
            window = self._window
            assert window is not None
            self._doing = f"reading upload hour {export_hour(hour)}"
            yield from self._hour_records(window, hour)
        except BaseException:
            self._close_window()
            self._close_fetcher()
            raise
        emitted = window.to_read.get(hour, frozenset())
        self._exported, outcome = self._exported.after_hour(hour, emitted, self._now)
        window.pending += outcome.pending
        report_hour(self.logger, outcome, emitted, self._now)
        self._hours_so_far += 1
        if hour == window.last:
            yield from self._finish_window(window)
        self._doing = None if hour == self._plan[-1] else f"between upload hours {export_hour(hour)} and the next"

    def stop_reading(self) -> Optional[str]:
        """Close whatever this read holds (an interrupted sync); says what it was doing, or None if idle."""
        doing, self._doing = self._doing, None
        self._close_window()
        self._close_fetcher()
        return stopped_message(self.name, doing, self._exported.cursor)

    def _hour_records(self, window: Window, hour: datetime) -> Iterator[Union[StreamData, RecordBatch]]:
        if window.conversion is None or not window.to_read.get(hour):
            return
        try:
            for item in window.conversion.records(hour):
                window.records += item.count if isinstance(item, RecordBatch) else 1
                yield item
        except (ArchiveError, ValueError) as error:
            raise AirbyteTracedException(
                message=f"The export of upload hour {export_hour(hour)} could not be read ({error}). Nothing after "
                "the previous hour was saved; the next attempt resumes at this hour.",
                failure_type=FailureType.transient_error,
            ) from error

    def _finish_window(self, window: Window) -> Iterator[StreamData]:
        read_seconds = time.monotonic() - window.opened
        download = window.download
        not_published = f", {window.pending} h not published yet (kept pending)" if window.pending else ""
        self.logger.info(
            f"events: upload hours {export_hour(window.first)}..{export_hour(window.last)} ({download.hours} h): "
            f"{download.size_bytes / 1e6:.1f} MB, {window.records} records; export {download.seconds:.1f} s, "
            f"read {read_seconds:.1f} s{not_published}"
        )
        self._records_so_far += window.records
        self._close_window()
        self._grow_window_back(window)
        remaining_hours = len(self._plan) - self._position[window.last] - 1
        if remaining_hours == 0:
            self._close_fetcher()
        if self._hours_so_far:
            per_hour = self._records_so_far / self._hours_so_far
            yield AirbyteTraceMessage(
                type=TraceType.ESTIMATE,
                emitted_at=time.time() * 1000,
                estimate=AirbyteEstimateTraceMessage(
                    name=self.name,
                    type=EstimateType.STREAM,
                    row_estimate=int(self._records_so_far + per_hour * remaining_hours),
                ),
            )

    def _close_window(self) -> None:
        if self._window:
            self._window.close()
        self._window = None

    def get_error_handler(self) -> ErrorHandler:
        return AmplitudeErrorHandler(self.logger, self.error_policy(), on_rate_limited=self._rate_limited)

    def _rate_limited(self) -> None:
        """A 429 on an export (on a fetcher thread): fewer requests in flight for the rest of the sync."""
        lowered = self._fetcher.lower_concurrency() if self._fetcher else None
        if lowered is not None:
            self.logger.warning(
                f"events: Amplitude answered 429 (rate limit) to an export request; at most {lowered} export "
                "requests at once for the rest of this sync"
            )

    def _close_fetcher(self) -> None:
        if self._fetcher:
            self._fetcher.close()
        self._fetcher = None
        self._pool.close()

    def _open_window(self, first: datetime) -> Window:
        self._close_window()
        if self._fetcher is None:
            remove_stale_work_dirs()  # left by a killed run of this connector
            window_hours = min(self._config.request_time_range_hours, self._exported.window_hours or 10**6)
            retries = self.get_error_handler().max_retries or 0
            downloader = WindowDownloader(
                self.send, self.skipped, self.get_backoff_strategy(), retries, self._disk, self.logger
            )
            self._fetcher = ExportWindows(
                self._plan[self._position[first] :],
                window_hours,
                downloader,
                self._config.export_concurrency,
                self.logger,
            )
        try:
            download = self._fetcher.next_download()
        except CannotExportHour as error:
            raise AirbyteTracedException(
                message=f"Amplitude cannot export the single upload hour {export_hour(error.hour)} "
                f"({error.detail}): it holds more than 4 GB or times out. No Export API request can "
                f"read it. Export that hour with Amplitude's Amazon S3 or warehouse export ({S3_EXPORT_URL}), "
                f"then set start_date after it. Nothing from this hour on was saved.",
                failure_type=FailureType.config_error,
            ) from error
        if download.first != first:
            download.discard()
            raise AssertionError(f"events: expected the export from {first}, got {download.first}")
        if download.split_to and download.split_to != self._exported.window_hours:
            self._exported = self._exported.with_window(download.split_to, since=download.first)
            self._fetcher.set_window_hours(download.split_to)
        to_read = self._partitions_to_read(download.members, download.first, download.last)
        conversion = None
        if download.archive is not None and download.directory is not None:
            conversion = Conversion(self.name, self._emit_batches, self._pool, self._disk)
            for hour, parts in to_read.items():
                for n in sorted(parts):
                    out = download.directory / f"records-{hour:%Y%m%d%H}-{n}"
                    conversion.add(hour, Member(download.archive, download.members[hour][n]), out)
        self._window = Window(download, conversion, to_read)
        return self._window

    def _grow_window_back(self, window: Window) -> None:
        """A window size remembered after a 400/504 split doubles once a day of upload hours has been read with it
        (up to request_time_range), so that one incident does not shrink every later sync's windows for good."""
        remembered, since = self._exported.window_hours, self._exported.window_since
        if not remembered or since is None or window.last - since < timedelta(hours=WINDOW_REGROW_HOURS):
            return
        grown = remembered * 2
        if grown >= self._config.request_time_range_hours:
            self._exported = self._exported.with_window(None)
            grown = self._config.request_time_range_hours
        else:
            self._exported = self._exported.with_window(grown, since=window.last + HOUR)
        if self._fetcher:
            self._fetcher.set_window_hours(grown)
        self.logger.info(f"events: a day of upload hours without a split; export windows grow back to {grown} hours")

    def _partitions_to_read(self, members: Members, first: datetime, last: datetime) -> dict[datetime, frozenset[int]]:
        """For each hour of the window, the partitions in the archive not emitted by an earlier sync."""
        to_read = {}
        hour = first
        while hour <= last:
            to_read[hour] = frozenset(members.get(hour, {})) - self._exported.delivered(hour)
            hour += HOUR
        return to_read
