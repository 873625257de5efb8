"""Export downloads ahead of reading, with a bounded number in flight.

The events stream reads upload hours strictly in order and checkpoints after each; this module makes sure the next
windows are already downloading (and their archives checked) while the current one is read. Each planned window is
one job on a daemon thread; a job that Amplitude answers with a 400/504 splits its window in halves, in order, inside
the same job. At most `concurrency` jobs exist at once, the window being read included, so at most that many windows
are on disk. A 429 lowers the number for the rest of the sync."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Optional

from airbyte_cdk.sources.streams.http.request_window_split_exception import RequestWindowSplitRequiredException

from source_amplitude.export.archive import Members, new_export_dir, remove_quietly
from source_amplitude.export.hours import HOUR, export_hour


@dataclass
class Download:
    """One export request's answer, on disk and checked (or no data: a 404)."""

    first: datetime
    last: datetime
    directory: Optional[Path]
    archive: Optional[Path]  # None: Amplitude has no data for the window (yet)
    members: Members
    size_bytes: int
    seconds: float  # from the request to the checked archive
    split_to: Optional[int] = None  # the window size that worked, when Amplitude refused a larger one

    @property
    def hours(self) -> int:
        return int((self.last - self.first) / HOUR) + 1

    def discard(self) -> None:
        remove_quietly(self.directory)
        self.directory = None


# One request for (first, last) into `directory`, its broken-download retries included (waiting on `cancelled`
# between them, so that a cancelled job stops at once).
FetchWindow = Callable[[datetime, datetime, Path, threading.Event], Download]
# How long close() waits for cancelled jobs to end their request in progress before leaving them (daemon threads).
CLOSE_WAIT_SECONDS = 30.0


class CannotExportHour(Exception):
    def __init__(self, hour: datetime, detail: str) -> None:
        super().__init__(f"upload hour {export_hour(hour)}: {detail}")
        self.hour = hour
        self.detail = detail


@dataclass
class _Job:
    first: datetime
    last: datetime
    fetch: FetchWindow
    logger: logging.Logger
    downloads: list[Download] = field(default_factory=list)
    directories: list[Path] = field(default_factory=list)
    error: Optional[BaseException] = None
    done: threading.Event = field(default_factory=threading.Event)
    cancelled_event: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def cancelled(self) -> bool:
        return self.cancelled_event.is_set()

    def start(self) -> _Job:
        threading.Thread(target=self._run, name=f"export-{export_hour(self.first)}", daemon=True).start()
        return self

    def _run(self) -> None:
        ranges: deque[tuple[datetime, datetime, bool]] = deque([(self.first, self.last, False)])
        try:
            while ranges and not self.cancelled:
                first, last, from_split = ranges.popleft()
                directory = self._new_directory()
                try:
                    download = self.fetch(first, last, directory, self.cancelled_event)
                except RequestWindowSplitRequiredException as split:
                    remove_quietly(directory)
                    if first == last:
                        raise CannotExportHour(first, split.error_message or "refused") from split
                    half = (int((last - first) / HOUR) + 1) // 2
                    middle = first + timedelta(hours=half - 1)
                    ranges.extendleft([(middle + HOUR, last, True), (first, middle, True)])
                    self.logger.info(f"events: {split.error_message}; retrying with {half}-hour windows")
                    continue
                if from_split:
                    download.split_to = download.hours
                if download.archive is None:
                    remove_quietly(directory)
                with self.lock:
                    self.downloads.append(download)
                    if self.cancelled:
                        download.discard()
        except BaseException as error:  # handed to the reader, who raises it in order
            self.error = error
            for directory in self.directories:
                remove_quietly(directory)
        finally:
            self.done.set()

    def _new_directory(self) -> Path:
        directory = new_export_dir()
        with self.lock:
            self.directories.append(directory)
            if self.cancelled:
                remove_quietly(directory)  # the request in it fails, and nothing is read from it
        return directory

    def cancel(self) -> None:
        """Stop, and remove every directory of this job now, even one a request is still writing to (that request
        then fails, and its failure is ignored)."""
        with self.lock:
            self.cancelled_event.set()
            for directory in self.directories:
                remove_quietly(directory)


class ExportFetcher:
    def __init__(
        self,
        plan: list[datetime],
        window_hours: int,
        fetch: FetchWindow,
        concurrency: int,
        logger: logging.Logger,
    ) -> None:
        self._plan = plan
        self._window_hours = window_hours
        self._fetch = fetch
        self._concurrency = concurrency
        self._logger = logger
        self._next_index = 0  # the first hour of the plan no job covers yet
        self._jobs: deque[_Job] = deque()
        self._ready: deque[Download] = deque()  # the head job's downloads not handed out yet
        self._lock = threading.Lock()

    def set_window_hours(self, window_hours: int) -> None:
        """The size of the windows not requested yet (after a split, or when a remembered size grows back)."""
        self._window_hours = window_hours

    def lower_concurrency(self) -> Optional[int]:
        """After a 429: one request fewer in flight from now on (not below 1). Returns the new number, if lowered.
        Called from the job threads."""
        with self._lock:
            if self._concurrency <= 1:
                return None
            self._concurrency -= 1
            return self._concurrency

    def next_download(self) -> Download:
        """The next download in hour order, once it is on disk and checked. The caller has finished with (and
        discarded) the previous one. Raises what the job met (CannotExportHour, a failed download...)."""
        if not self._ready:
            self._submit(reading=False)
            if not self._jobs:
                raise LookupError("no upload hour left in the plan")
            head = self._jobs[0]
            head.done.wait()
            self._jobs.popleft()
            if head.error is not None:
                raise head.error
            self._ready.extend(head.downloads)
        download = self._ready.popleft()
        self._submit(reading=True)
        return download

    def close(self, wait_seconds: float = CLOSE_WAIT_SECONDS) -> None:
        """Cancel the jobs, remove every download not handed out, and wait (a bounded time) for requests in progress
        to end, so that no request of this sync outlives it."""
        for job in self._jobs:
            job.cancel()
        deadline = time.monotonic() + wait_seconds
        for job in self._jobs:
            job.done.wait(max(0.0, deadline - time.monotonic()))
        self._jobs.clear()
        for download in self._ready:
            download.discard()
        self._ready.clear()

    def _submit(self, reading: bool) -> None:
        """Start jobs until `concurrency` windows are in flight or on disk (the one being read counts)."""
        while self._next_index < len(self._plan) and len(self._jobs) + int(reading) < self._concurrency:
            first, last, self._next_index = self._next_window(self._next_index)
            self._jobs.append(_Job(first, last, self._fetch, self._logger).start())

    def _next_window(self, index: int) -> tuple[datetime, datetime, int]:
        """At most `window_hours` consecutive hours of the plan from `index`; returns them and the next index."""
        first = last = self._plan[index]
        index += 1
        while (
            index < len(self._plan)
            and self._plan[index] == last + HOUR
            and last - first < timedelta(hours=self._window_hours - 1)
        ):
            last = self._plan[index]
            index += 1
        return first, last, index
