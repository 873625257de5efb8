"""One Export API read of the events stream, from plan to last checkpoint: the plug of the read skeleton
(pipeline/raw_read.py, which owns the downloads ahead, the conversion, the disk and the failures) that says what to
fetch (windows of upload hours: export/windows.py), which parts of each answer to read (those the events state,
state/events.py, has not seen) and what each hour does to the state. streams/events.py only declares the stream
and hands each upload hour here."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Optional, Union

import orjson
from airbyte_cdk.models import (
    AirbyteEstimateTraceMessage,
    AirbyteTraceMessage,
    EstimateType,
    FailureType,
    TraceType,
)
from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_amplitude.export.download import WindowDownloader
from source_amplitude.export.windows import ExportWindows, Window, WindowAnswer
from source_amplitude.pipeline.hours import EXPORT_DELAY_HOURS, HOUR, export_hour, parse_export_hour
from source_amplitude.pipeline.ledger import Ledger
from source_amplitude.pipeline.members import Member
from source_amplitude.pipeline.raw_read import Part, RawRead, Tally
from source_amplitude.pipeline.read_messages import report_hour, warn_repaired
from source_amplitude.pipeline.record_batch import RecordBatch
from source_amplitude.pipeline.scratch import DiskBudget
from source_amplitude.state.events import ExportState, missing_partitions

WINDOW_REGROW_HOURS = 24
WHERE = "Amplitude's export"  # how messages name a member: its hour is said beside it
S3_EXPORT_URL = "https://amplitude.com/docs/data/destination-catalog/amazon-s3"

Item = Union[StreamData, RecordBatch, AirbyteTraceMessage]


@dataclass(frozen=True)
class NoDataRun:
    """Consecutive export windows without data (404), so that a month before a project's first event is one line."""

    first: datetime
    last: datetime
    requests: int = 1

    @property
    def hours(self) -> int:
        return int((self.last - self.first) / HOUR) + 1

    def extended(self, last: datetime) -> NoDataRun:
        return NoDataRun(self.first, last, self.requests + 1)


class ExportRead:
    def __init__(
        self,
        stream: str,
        now: datetime,
        emit_batches: bool,
        request_time_range_hours: int,
        export_concurrency: int,
        make_downloader: Callable[[DiskBudget], WindowDownloader],
        logger: logging.Logger,
    ) -> None:
        self.state = ExportState()
        self._stream = stream
        self._now = now
        self._request_time_range_hours = request_time_range_hours
        self._export_concurrency = export_concurrency
        self._make_downloader = make_downloader
        self._logger = logger
        self._plan: list[datetime] = []
        self._position: dict[datetime, int] = {}
        self._window: Optional[Window] = None
        self._windows: Optional[ExportWindows] = None
        self._raw: RawRead[tuple[datetime, datetime], WindowAnswer] = RawRead(stream, emit_batches)
        self._records_so_far = 0
        self._hours_so_far = 0
        self._no_data: Optional[NoDataRun] = None  # windows in a row Amplitude answered 404 to, said in one line

    def slices(self, start: datetime, last_hour: datetime) -> Iterator[Mapping[str, Any]]:
        """One slice per upload hour, so STATE follows every hour."""
        for hour in self.plan(start, last_hour):
            yield {"hour": export_hour(hour)}

    def read_slice(self, stream_slice: Mapping[str, Any]) -> Iterator[Item]:
        yield from self.read_hour(parse_export_hour(stream_slice["hour"]))

    def plan(self, start: datetime, last_hour: datetime) -> list[datetime]:
        """The upload hours this sync reads, in order: pending hours first, then every hour after the cursor."""
        self._raw.doing = "planning the upload hours to read"
        self.state = self.state.without_pending_before(start)  # a start_date later than the state wins
        self._plan = self.state.hours_to_read(start, last_hour)
        self._position = {hour: index for index, hour in enumerate(self._plan)}
        if not self._plan:
            self._say_when_readable(start)
        pending = [hour for hour in self._plan if hour in self.state.pending]
        if pending:
            self._logger.info(
                f"{self._stream}: asking again for {len(pending)} upload hour(s) Amplitude had not fully published "
                f"({export_hour(pending[0])}..{export_hour(pending[-1])})"
            )
        return self._plan

    def _say_when_readable(self, start: datetime) -> None:
        """0 records is a question a user asks: say which hour comes next and when Amplitude exports it."""
        following = start if self.state.cursor is None else max(start, self.state.cursor + HOUR)
        ready = following + HOUR + timedelta(hours=EXPORT_DELAY_HOURS)
        self._logger.info(
            f"{self._stream}: no upload hour to read yet. The next is {export_hour(following)}; Amplitude exports an "
            f"hour about 2 h after it ends, so this connector asks for it from {ready:%Y-%m-%d %H:%M} UTC on "
            f"({EXPORT_DELAY_HOURS} h after). A sync after that reads it."
        )

    def read_hour(self, hour: datetime) -> Iterator[Item]:
        """The hour's records, then its checkpoint in `state` (and, after a window's last hour, an estimate)."""
        try:
            if not (self._window and self._window.covers(hour)):
                self._raw.doing = f"waiting for Amplitude's export of upload hour {export_hour(hour)} on"
                self._open_window(hour)
            window = self._window
            assert window is not None
            self._raw.doing = f"reading upload hour {export_hour(hour)}"
            yield from self._hour_records(window, hour)
        except BaseException:
            self.close()
            raise
        emitted = window.emitted(hour)
        self.state, outcome = self.state.after_hour(hour, emitted, self._now)
        window.pending += outcome.pending
        report_hour(self._logger, self._stream, outcome, emitted, self._now)
        if outcome.given_up and self._raw.ledger is not None:  # before the STATE that gives the hour up
            yield self._raw.ledger.given_up_row(hour, missing_partitions(outcome.delivered))
        self._hours_so_far += 1
        if hour == window.last:
            yield from self._finish_window(window)
        self._raw.doing = None if hour == self._plan[-1] else f"between upload hours {export_hour(hour)} and the next"

    def use_ledger(self, ledger: Ledger) -> None:
        self._raw.ledger = ledger

    def rate_limited(self) -> None:
        """A 429 on an export (on a download thread): fewer requests in flight for the rest of the sync."""
        lowered = self._windows.lower_concurrency() if self._windows else None
        if lowered is not None:
            self._logger.warning(
                f"{self._stream}: Amplitude answered 429 (rate limit) to an export request; at most {lowered} export "
                "requests at once for the rest of this sync"
            )

    def stop(self) -> Optional[str]:
        """Close everything (an interrupted sync); says what the read was doing, or None if idle."""
        self._forget_windows()
        return self._raw.stop(self.state.cursor)

    def close(self) -> None:
        self._forget_windows()
        self._raw.close()

    def _forget_windows(self) -> None:
        """The windows' plan and the one being read (their files are the skeleton's to remove)."""
        self._say_no_data()
        self._window = None
        self._windows = None

    def _hour_records(self, window: Window, hour: datetime) -> Iterator[Union[StreamData, RecordBatch]]:
        tally = Tally()
        for part in window.parts.get(hour, []):
            yield from self._raw.records(part, tally)
        window.records += tally.records
        warn_repaired(self._logger, self._stream, f"upload hour {export_hour(hour)}", tally.repairs)

    def _open_window(self, first: datetime) -> None:
        self._close_window()
        if self._windows is None:
            window_hours = min(self._request_time_range_hours, self.state.window_hours or 10**6)
            self._windows = ExportWindows(
                self._plan[self._position[first] :],
                window_hours,
                self._make_downloader(self._raw.disk),
                self._export_concurrency,
                self._logger,
            )
            self._raw.start(self._windows.windows, self._windows.download, self._windows.limit, "export")
        download = self._raw.next(what=f"Amplitude's export from upload hour {export_hour(first)}")
        self._window = Window(download)
        if download.refused is not None:
            raise self._refused(download.first, download.refused)
        if download.first != first:
            raise AssertionError(f"{self._stream}: expected the export from {first}, got {download.first}")
        if download.split_to and download.split_to != self.state.window_hours:
            self.state = self.state.with_window(download.split_to, since=download.first)
            self._windows.set_window_hours(download.split_to)
        self._window.parts = self._parts_to_read(download)
        # in the order they are read: this window's parts, then those of the next windows already on disk
        self._raw.convert(part for parts in self._window.parts.values() for part in parts)
        for fetched in self._raw.ahead():
            self._raw.convert(part for parts in self._parts_to_read(fetched).values() for part in parts)

    def _refused(self, hour: datetime, detail: str) -> AirbyteTracedException:
        saved = "nothing was saved yet"
        if self.state.cursor is not None:
            saved = f"every upload hour before it was emitted and saved (state at {export_hour(self.state.cursor)})"
        skip_state = orjson.dumps(self.state.skipping(hour).as_dict()).decode()
        return AirbyteTracedException(
            message=f"Skipping 1 upload hour ({export_hour(hour)}) loses its events unless they are read in bucket "
            f"mode: Amplitude refuses to export upload hour {export_hour(hour)} ({detail}), because it holds more "
            f"than 4 GB, so no Export API request can read it. Of this sync, {saved}; nothing from "
            f"{export_hour(hour)} on was saved, and the next sync starts at it again. To read it without losing "
            "anything: have Amplitude's Amazon S3 or Google Cloud Storage export "
            f"({S3_EXPORT_URL}) write that hour to a bucket and set events_source to that bucket: bucket mode carries "
            f"on from this state, reads {export_hour(hour)} and saves a state the Export API mode can carry on from. "
            f"To skip that 1 hour and lose its events instead, set this stream's state to {skip_state}.",
            failure_type=FailureType.config_error,
        )

    def _parts_to_read(self, download: WindowAnswer) -> dict[datetime, list[Part]]:
        """For each hour of the window, the parts in the archive not emitted by an earlier sync, in order."""
        parts: dict[datetime, list[Part]] = {}
        archive = download.archive
        if archive is None:
            return parts
        for hour in sorted(download.members):
            if download.first <= hour <= download.last:  # export/download.py warns about any other
                members, delivered = download.members[hour], self.state.delivered(hour)
                parts[hour] = [
                    Part(hour, n, Member(archive, members[n], download.member_bytes.get(members[n])), members[n], WHERE)
                    for n in sorted(members)
                    if n not in delivered
                ]
        return parts

    def _finish_window(self, window: Window) -> Iterator[AirbyteTraceMessage]:
        read_seconds = time.monotonic() - window.opened
        download = window.download
        if download.archive is None and not window.pending:
            self._no_data = (
                self._no_data.extended(window.last) if self._no_data else NoDataRun(window.first, window.last)
            )
        else:
            self._say_no_data()
            not_published = f", {window.pending} h not published yet (kept pending)" if window.pending else ""
            self._logger.info(
                f"{self._stream}: upload hours {export_hour(window.first)}..{export_hour(window.last)} "
                f"({download.hours} h): {download.size_bytes / 1e6:.1f} MB, {window.records} records; "
                f"export {download.seconds:.1f} s, read {read_seconds:.1f} s{not_published}"
            )
        self._records_so_far += window.records
        self._close_window()
        self._grow_window_back(window)
        remaining_hours = len(self._plan) - self._position[window.last] - 1
        if remaining_hours == 0:
            self.close()
        if self._hours_so_far:
            per_hour = self._records_so_far / self._hours_so_far
            yield AirbyteTraceMessage(
                type=TraceType.ESTIMATE,
                emitted_at=time.time() * 1000,
                estimate=AirbyteEstimateTraceMessage(
                    name=self._stream,
                    type=EstimateType.STREAM,
                    row_estimate=int(self._records_so_far + per_hour * remaining_hours),
                ),
            )

    def _say_no_data(self) -> None:
        if self._no_data:
            run, self._no_data = self._no_data, None
            self._logger.info(
                f"{self._stream}: no events in upload hours {export_hour(run.first)}..{export_hour(run.last)} "
                f"({run.hours} h): Amplitude answered 404 to {run.requests} export request(s), its answer for hours "
                "in which nothing was uploaded, such as those before a project's first event"
            )

    def _grow_window_back(self, window: Window) -> None:
        """A window size remembered after a 400/504 split doubles once a day of upload hours has been read with it
        (up to request_time_range), so that one incident does not shrink every later sync's windows for good."""
        remembered, since = self.state.window_hours, self.state.window_since
        if not remembered or since is None or window.last - since < timedelta(hours=WINDOW_REGROW_HOURS):
            return
        grown = remembered * 2
        if grown >= self._request_time_range_hours:
            self.state = self.state.with_window(None)
            grown = self._request_time_range_hours
        else:
            self.state = self.state.with_window(grown, since=window.last + HOUR)
        if self._windows:
            self._windows.set_window_hours(grown)
        self._logger.info(
            f"{self._stream}: a day of upload hours without a split; export windows grow back to {grown} hours"
        )

    def _close_window(self) -> None:
        if self._window:
            self._raw.discard(self._window.download)
        self._window = None
