"""events: exactly-once raw events from the Export API.

One slice per upload hour, so STATE follows every hour. A sync reads the hours still pending from earlier syncs
(Amplitude had not published them, or not all their partitions: pipeline/state.py), then every hour after the cursor
up to the last complete one. Consecutive hours are fetched in windows of `request_time_range` hours: the first hour
of a window downloads the window's archive to a temporary directory, the window's hours are read from it in order
(each only from the members named for it, skipping partitions already emitted), and the directory is removed after
the window's last hour (or on any failure)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
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
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_amplitude.config import AmplitudeConfig, ConfigError
from source_amplitude.errors import (
    DEFAULT_POLICY,
    AmplitudeErrorHandler,
    Outcome,
    Policy,
    future_state_message,
    skip,
    unusable_state_message,
)
from source_amplitude.export.archive import (
    ArchiveError,
    ArchiveReader,
    Members,
    archive_members,
    save_response,
    validate_archive,
)
from source_amplitude.export.windows import CannotExportHour, Download, ExportWindows
from source_amplitude.http import AmplitudeStream
from source_amplitude.parsers.events import parse_line, record_messages
from source_amplitude.pipeline.convert_pool import ConvertedMembers, ConvertPool, Job
from source_amplitude.pipeline.hours import (
    HOUR,
    UnexpectedMemberName,
    export_hour,
    floor_hour,
    last_complete_hour,
    parse_export_hour,
)
from source_amplitude.pipeline.prefetch import Scope
from source_amplitude.pipeline.progress import WaitReporter
from source_amplitude.pipeline.scratch import DiskBudget, NotEnoughDisk, remove_quietly, remove_stale_work_dirs
from source_amplitude.pipeline.state import (
    LATE_DATA_GRACE_HOURS,
    ExportState,
    HourOutcome,
    UnusableState,
    missing_partitions,
    parse_export_state,
)
from source_amplitude.record_batch import RecordBatch

WINDOW_REGROW_HOURS = 24
SPLIT = Outcome(ResponseAction.SPLIT_REQUEST_WINDOW, FailureType.transient_error, "HTTP {status}: {detail}")
S3_EXPORT_URL = "https://amplitude.com/docs/data/destination-catalog/amazon-s3"
BROKEN_DOWNLOAD_ERRORS = (ArchiveError, requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)


@dataclass
class Window:
    """A download being read, hour by hour."""

    download: Download
    reader: Optional[ArchiveReader]  # None: no data for the window (yet), or its members go to `converted`
    converted: Optional[ConvertedMembers] = None  # the fast path: members converted by worker processes
    to_read: dict[datetime, frozenset[int]] = field(default_factory=dict)  # hour -> partitions read from the archive
    opened: float = field(default_factory=time.monotonic)
    records: int = 0
    pending: int = 0  # hours of the window Amplitude had not (fully) published

    @property
    def first(self) -> datetime:
        return self.download.first

    @property
    def last(self) -> datetime:
        return self.download.last

    def covers(self, hour: datetime) -> bool:
        return self.first <= hour <= self.last

    def close(self) -> None:
        if self.reader:
            self.reader.close()
        if self.converted:
            self.converted.close()
        self.reader = self.converted = None
        self.download.discard()


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
        try:
            self._exported = parse_export_state(value)
        except UnusableState as error:
            raise ConfigError(unusable_state_message(self.name, str(error))) from error

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
        cursor = self._exported.cursor
        if cursor is not None and cursor > floor_hour(self._now):
            read, now = f"upload hour {export_hour(cursor)}", f"now ({self._now:%Y-%m-%dT%H:%MZ})"
            self.logger.warning(future_state_message(self.name, read, now))
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
        self._report(outcome, emitted)
        self._hours_so_far += 1
        if hour == window.last:
            yield from self._finish_window(window)
        self._doing = None if hour == self._plan[-1] else f"between upload hours {export_hour(hour)} and the next"

    def stop_reading(self) -> Optional[str]:
        """Close whatever this read holds (an interrupted sync); says what it was doing, or None if idle."""
        doing = self._doing
        self._close_window()
        self._close_fetcher()
        self._doing = None
        if doing is None:
            return None
        cursor = self._exported.cursor
        checkpoint = f"upload hour {export_hour(cursor)}" if cursor else "none yet (the next sync starts at start_date)"
        return f"{self.name} was {doing}; its last checkpoint: {checkpoint}"

    def _report(self, outcome: HourOutcome, emitted: frozenset[int]) -> None:
        hour = export_hour(outcome.hour)
        if outcome.was_pending and emitted:
            late = (self._now - outcome.hour - HOUR).total_seconds() / 3600
            self.logger.warning(
                f"events: upload hour {hour} arrived late: partition(s) {_numbers(emitted)} turned up {late:.0f} h "
                "after the hour ended (since the previous sync; Amplitude documents about 2 h) and were emitted now."
            )
        if outcome.given_up and outcome.delivered:
            missing = _numbers(missing_partitions(outcome.delivered))
            self.logger.warning(
                f"events: upload hour {hour} is still missing partition(s) {missing} "
                f"more than {LATE_DATA_GRACE_HOURS} h after it ended; the partitions Amplitude published were emitted "
                "and the hour is no longer asked for."
            )
        elif outcome.given_up and outcome.was_pending:
            self.logger.info(
                f"events: upload hour {hour} still has no data {LATE_DATA_GRACE_HOURS} h after it ended: an empty hour"
            )

    def _hour_records(self, window: Window, hour: datetime) -> Iterator[Union[StreamData, RecordBatch]]:
        if (window.reader is None and window.converted is None) or not window.to_read.get(hour):
            return
        try:
            if window.converted:
                for batch in window.converted.batches(hour):
                    window.records += batch.count
                    yield batch
            elif window.reader and self._emit_batches:
                for lines in window.reader.lines(hour):
                    window.records += len(lines)
                    payload = record_messages(lines, self.name, time.time_ns() // 1_000_000)
                    yield RecordBatch(self.name, payload, len(lines))
            elif window.reader:
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
            self._fetcher = ExportWindows(
                self._plan[self._position[first] :],
                window_hours,
                self._fetch_window,
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
        reader, converted = None, None
        on_workers = self._emit_batches and self._pool.enabled  # else in-process (one CPU, or records not batches)
        if download.archive is not None and download.directory is not None and on_workers:
            jobs = [
                (hour, Job(download.directory / f"records-{hour:%Y%m%d%H}-{n}", download.archive, name))
                for hour, parts in to_read.items()
                for n in sorted(parts)
                for name in [download.members[hour][n]]
            ]
            converted = ConvertedMembers(self._pool, jobs, self.name, time.time_ns() // 1_000_000)
        elif download.archive is not None:
            plan = [(hour, [download.members[hour][n] for n in sorted(parts)]) for hour, parts in to_read.items()]
            reader = ArchiveReader(download.archive, plan)
        self._window = Window(download, reader, converted, to_read)
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

    def _fetch_window(self, first: datetime, last: datetime, directory: Path, scope: Scope) -> Download:
        """One export request, to disk, checked; runs on a fetcher thread. Broken downloads are retried here; a
        400/504 raises RequestWindowSplitRequiredException for the fetcher to split the window."""
        params = {"start": export_hour(first), "end": export_hour(last)}
        backoff = self.get_backoff_strategy()
        max_retries = self.get_error_handler().max_retries or 0
        for attempt in range(1, max_retries + 2):
            started = time.monotonic()
            archive = directory / "export.zip"
            try:
                with WaitReporter(self.logger, f"events: export of {params['start']}..{params['end']}") as progress:
                    response = self.send(params)
                    if self.skipped(response):  # the policy's 404: no data in this window
                        return Download(first, last, directory, None, {}, 0, time.monotonic() - started)
                    size = save_response(response, archive, _checking(scope, progress.add), self._disk)
                validate_archive(archive)
                members = self._members(archive, params)
                return Download(first, last, directory, archive, members, size, time.monotonic() - started)
            except BROKEN_DOWNLOAD_ERRORS as error:
                archive.unlink(missing_ok=True)
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
                scope.wait(wait)

            except UnexpectedMemberName as error:
                remove_quietly(directory)
                raise AirbyteTracedException(
                    message=f"Amplitude's export of upload hours {params['start']}..{params['end']} cannot be read: "
                    f"{error}, so the upload hour it holds is unknown. Nothing from {params['start']} on was saved. "
                    "Amplitude may have changed its export format: please report this with the member name.",
                    failure_type=FailureType.system_error,
                ) from error
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

    def _members(self, archive: Path, params: Mapping[str, str]) -> Members:
        members = archive_members(archive)
        first, last = parse_export_hour(params["start"]), parse_export_hour(params["end"])
        outside = [hour for hour in members if not first <= hour <= last]
        if outside:  # never seen; each hour is read only from its own window, under its own name
            self.logger.warning(
                f"events: the export of {params['start']}..{params['end']} also holds upload hours "
                f"{', '.join(map(export_hour, sorted(outside)))}; they are not read from it"
            )
        return members

    def _partitions_to_read(self, members: Members, first: datetime, last: datetime) -> dict[datetime, frozenset[int]]:
        """For each hour of the window, the partitions in the archive not emitted by an earlier sync."""
        to_read = {}
        hour = first
        while hour <= last:
            to_read[hour] = frozenset(members.get(hour, {})) - self._exported.delivered(hour)
            hour += HOUR
        return to_read


def _checking(scope: Scope, on_chunk: Callable[[int], None]) -> Callable[[int], None]:
    """`on_chunk`, after checking that the read is still open: a closed read stops the download within a chunk."""

    def checked(size: int) -> None:
        scope.check()
        on_chunk(size)

    return checked


def _numbers(partitions: Iterable[int]) -> str:
    return ", ".join(f"#{n}" for n in sorted(partitions))
