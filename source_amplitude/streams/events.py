"""events: exactly-once raw events from the Export API.

One slice per upload hour, so STATE follows every hour. Hours are fetched in windows of `request_time_range` hours:
the first hour of a window downloads the window's archive to a temporary directory, the window's hours are read from
it in order, and the directory is removed after the window's last hour (or on any failure)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
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
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction
from airbyte_cdk.sources.streams.http.request_window_split_exception import RequestWindowSplitRequiredException
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_amplitude.config import AmplitudeConfig, ConfigError
from source_amplitude.errors import DEFAULT_POLICY, IGNORE, Outcome
from source_amplitude.export.archive import (
    ArchiveError,
    ArchiveReader,
    NotEnoughDisk,
    remove_quietly,
    save_response,
    validate_archive,
)
from source_amplitude.export.hours import (
    HOUR,
    ExportState,
    export_hour,
    floor_hour,
    hours_between,
    last_complete_hour,
    parse_export_state,
)
from source_amplitude.export.shaping import parse_line, record_messages
from source_amplitude.http import AmplitudeStream
from source_amplitude.protocol import RecordBatch

SPLIT = Outcome(ResponseAction.SPLIT_REQUEST_WINDOW, FailureType.transient_error, "HTTP {status}: {detail}")
S3_EXPORT_URL = "https://amplitude.com/docs/data/destination-catalog/amazon-s3"
BROKEN_DOWNLOAD_ERRORS = (ArchiveError, requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)


@dataclass
class Window:
    first: datetime
    last: datetime
    directory: Optional[Path]
    reader: Optional[ArchiveReader]  # None: Amplitude has no data for the window (404)
    size_bytes: int
    started: float
    records: int = 0

    def covers(self, hour: datetime) -> bool:
        return self.first <= hour <= self.last

    def close(self) -> None:
        if self.reader:
            self.reader.close()
        remove_quietly(self.directory)
        self.reader, self.directory = None, None


class Events(AmplitudeStream):
    primary_key = "uuid"
    cursor_field = "server_upload_time"
    # amplitude-api.md §2.4: 404 = no data in the range; 400 = over 4 GB; 504 = timed out: a smaller range fixes both.
    error_policy: ClassVar[Mapping[int, Outcome]] = {**DEFAULT_POLICY, 404: IGNORE, 400: SPLIT, 504: SPLIT}
    stream_body = True  # archives go to disk as they arrive, never into memory

    def __init__(self, config: AmplitudeConfig, now: datetime, emit_batches: bool = False) -> None:
        self._last_hour = last_complete_hour(now)
        self._emit_batches = emit_batches
        self._exported = ExportState()
        self._window: Optional[Window] = None
        self._records_so_far = 0
        self._hours_so_far = 0
        super().__init__(config)

    @property
    def state(self) -> MutableMapping[str, Any]:
        return self._exported.as_dict()

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        try:
            self._exported = parse_export_state(value)
        except ValueError as error:
            raise ConfigError(
                f"The saved state of the events stream is not valid ({error}). Reset the stream."
            ) from error

    def path(self, **_: Any) -> str:
        return "2/export"

    def query_params(self, stream_slice: Mapping[str, Any]) -> Mapping[str, str]:
        return {"start": stream_slice["start"], "end": stream_slice["end"]}

    def parse_response(self, response: requests.Response, **_: Any) -> Iterable[Mapping[str, Any]]:
        raise NotImplementedError("events are read from the downloaded archive, not from a response")

    def first_hour(self) -> datetime:
        start = floor_hour(self._config.start_date)
        if self._exported.last_exported_hour is not None:
            return max(start, self._exported.last_exported_hour + HOUR)  # a later start_date wins
        return start

    def stream_slices(
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[list[str]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Optional[Mapping[str, Any]]]:
        for hour in hours_between(self.first_hour(), self._last_hour):
            yield {"hour": export_hour(hour)}

    def read_records(  # type: ignore[override]  # it may also yield RecordBatch: see protocol.py
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[list[str]] = None,
        stream_slice: Optional[Mapping[str, Any]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Union[StreamData, RecordBatch]]:
        assert stream_slice is not None
        hour = datetime.strptime(stream_slice["hour"], "%Y%m%dT%H").replace(tzinfo=self._last_hour.tzinfo)
        try:
            window = self._window if self._window and self._window.covers(hour) else self._open_window(hour)
            yield from self._hour_records(window, hour)
        except BaseException:
            self._close_window()
            raise
        self._exported = ExportState(hour, self._exported.window_hours)
        self._hours_so_far += 1
        if hour == window.last:
            yield from self._finish_window(window)

    def _hour_records(self, window: Window, hour: datetime) -> Iterator[Union[StreamData, RecordBatch]]:
        if window.reader is None:
            return
        try:
            if self._emit_batches:
                for lines in window.reader.lines(hour):
                    window.records += len(lines)
                    payload = record_messages(lines, self.name, time.time_ns() // 1_000_000)
                    yield RecordBatch(self.name, payload, len(lines))
            else:
                for lines in window.reader.lines(hour):
                    window.records += len(lines)
                    yield from map(parse_line, lines)
        except (ArchiveError, ValueError) as error:
            raise AirbyteTracedException(
                message=f"The export of upload hour {export_hour(hour)} could not be read ({error}). Nothing after "
                "the previous hour was saved; the next attempt resumes at this hour.",
                failure_type=FailureType.transient_error,
            ) from error

    def _finish_window(self, window: Window) -> Iterator[StreamData]:
        seconds = time.monotonic() - window.started
        hours = int((window.last - window.first) / HOUR) + 1
        self.logger.info(
            f"events: upload hours {export_hour(window.first)}..{export_hour(window.last)} ({hours} h): "
            f"{window.size_bytes / 1e6:.1f} MB, {window.records} records in {seconds:.1f} s"
        )
        self._records_so_far += window.records
        self._close_window()
        remaining_hours = int((self._last_hour - window.last) / HOUR)
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

    def _open_window(self, first: datetime) -> Window:
        self._close_window()
        window_hours = min(self._config.request_time_range_hours, self._exported.window_hours or 10**6)
        while True:
            last = min(first + timedelta(hours=window_hours - 1), self._last_hour)
            try:
                self._window = self._download(first, last)
            except RequestWindowSplitRequiredException as split:
                if last == first:
                    raise AirbyteTracedException(
                        message=f"Amplitude cannot export the single upload hour {export_hour(first)} "
                        f"({split.error_message}): it holds more than 4 GB or times out. No Export API request can "
                        f"read it. Export that hour with Amplitude's Amazon S3 or warehouse export ({S3_EXPORT_URL}), "
                        f"then set start_date after it. Nothing from this hour on was saved.",
                        failure_type=FailureType.config_error,
                    ) from split
                window_hours = max(1, (int((last - first) / HOUR) + 1) // 2)
                self.logger.info(f"events: {split.error_message}; retrying with {window_hours}-hour windows")
                continue
            if window_hours < self._config.request_time_range_hours:
                self._exported = ExportState(self._exported.last_exported_hour, window_hours)
            return self._window

    def _download(self, first: datetime, last: datetime) -> Window:
        params = {"start": export_hour(first), "end": export_hour(last)}
        backoff = self.get_backoff_strategy()
        max_retries = self.get_error_handler().max_retries or 0
        for attempt in range(1, max_retries + 2):
            started = time.monotonic()
            directory = Path(tempfile.mkdtemp(prefix="amplitude-export-"))
            try:
                _, response = self._fetch_next_page(params, None)
                if not response.ok:  # the policy let a 404 through: no data in this window
                    remove_quietly(directory)
                    return Window(first, last, None, None, 0, started)
                archive = directory / "export.zip"
                size = save_response(response, archive)
                validate_archive(archive)
                reader = ArchiveReader(archive)
                outside = [hour for hour in reader.hours if not first <= hour <= last]
                if outside:  # never seen; those hours are still read from their own windows
                    self.logger.warning(
                        f"events: the export of {params['start']}..{params['end']} also holds hours "
                        f"{', '.join(map(export_hour, outside))}; they are read with their own window"
                    )
                return Window(first, last, directory, reader, size, started)
            except BROKEN_DOWNLOAD_ERRORS as error:
                remove_quietly(directory)
                if attempt > max_retries:
                    raise AirbyteTracedException(
                        message=f"Amplitude's export of upload hours {params['start']}..{params['end']} kept arriving "
                        f"broken ({error}) after {max_retries} retries. Nothing from {params['start']} on was saved; "
                        "retry the sync later.",
                        failure_type=FailureType.transient_error,
                    ) from error
                wait = backoff.backoff_time(None, attempt) or 1.0
                self.logger.warning(
                    f"events: broken download of {params['start']}..{params['end']} ({error}); retry in {wait:.1f} s"
                )
                time.sleep(wait)
            except NotEnoughDisk as error:
                remove_quietly(directory)
                raise ConfigError(
                    f"Not enough temporary disk for the events export: {error}. Free disk space or set "
                    "request_time_range to fewer hours."
                ) from error
            except BaseException:
                remove_quietly(directory)
                raise
        raise AssertionError("unreachable")
