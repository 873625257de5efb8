"""The Export API's plan: upload hours grouped into windows, each window one export request (fetched ahead by the
read: pipeline/raw_read.py), and a window that Amplitude refuses (400: over 4 GB; 504: timed out) split in halves,
in order, inside the same job. At most `concurrency` windows are alive at once, the one being read included, so at
most that many are on disk. A 429 lowers the number for the rest of the sync."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Optional

from airbyte_cdk.sources.streams.http.request_window_split_exception import RequestWindowSplitRequiredException

from source_amplitude.export.archive import Members
from source_amplitude.pipeline.hours import HOUR
from source_amplitude.pipeline.prefetch import Scope
from source_amplitude.pipeline.raw_read import Part


@dataclass
class WindowAnswer:
    """One export request's answer, on disk and checked (or no data: a 404)."""

    first: datetime
    last: datetime
    directory: Optional[Path]
    archive: Optional[Path]  # None: Amplitude has no data for the window (yet)
    members: Members
    size_bytes: int
    seconds: float  # from the request to the checked archive
    split_to: Optional[int] = None  # the window size that worked, when Amplitude refused a larger one
    refused: Optional[str] = None  # Amplitude's answer, when it refuses even this single hour (400/504)
    member_bytes: dict[str, int] = field(default_factory=dict)  # each member's compressed size, by name

    @property
    def hours(self) -> int:
        return int((self.last - self.first) / HOUR) + 1


# One request for (first, last) into `directory`, its broken-download retries included (checking `scope` on every
# chunk and between retries, so that a closed read stops it at once).
FetchWindow = Callable[[datetime, datetime, Path, Scope], WindowAnswer]


class WindowPlan:
    """The plan's hours in windows of at most `window_hours` consecutive hours; the size may change between windows
    (after a split, or when a remembered size grows back)."""

    def __init__(self, plan: list[datetime], window_hours: int) -> None:
        self._plan = plan
        self.window_hours = window_hours
        self._index = 0

    def __iter__(self) -> Iterator[tuple[datetime, datetime]]:
        return self

    def __next__(self) -> tuple[datetime, datetime]:
        if self._index >= len(self._plan):
            raise StopIteration
        first = last = self._plan[self._index]
        self._index += 1
        while (
            self._index < len(self._plan)
            and self._plan[self._index] == last + HOUR
            and last - first < timedelta(hours=self.window_hours - 1)
        ):
            last = self._plan[self._index]
            self._index += 1
        return first, last


class ExportWindows:
    """What the read fetches ahead in Export API mode: the windows of the plan (`windows`), each fetched by
    `download` (on a download thread), at most `limit()` alive."""

    def __init__(
        self,
        plan: list[datetime],
        window_hours: int,
        fetch: FetchWindow,
        concurrency: int,
        logger: logging.Logger,
    ) -> None:
        self.windows = WindowPlan(plan, window_hours)
        self._fetch = fetch
        self._concurrency = concurrency
        self._logger = logger
        self._lock = threading.Lock()

    def limit(self) -> int:
        return self._concurrency

    def set_window_hours(self, window_hours: int) -> None:
        """The size of the windows not requested yet."""
        self.windows.window_hours = window_hours

    def lower_concurrency(self) -> Optional[int]:
        """After a 429: one request fewer in flight from now on (not below 1). Returns the new number, if lowered.
        Called from the job threads."""
        with self._lock:
            if self._concurrency <= 1:
                return None
            self._concurrency -= 1
            return self._concurrency

    def download(self, window: tuple[datetime, datetime], scope: Scope) -> list[WindowAnswer]:
        """One window: its request, and its halves in order when Amplitude refuses it. An hour Amplitude refuses
        even alone comes last, as a WindowAnswer with `refused` set, after every hour before it."""
        ranges: deque[tuple[datetime, datetime, bool]] = deque([(*window, False)])
        downloads = []
        while ranges:
            scope.check()
            first, last, from_split = ranges.popleft()
            directory = scope.new_directory()
            try:
                download = self._fetch(first, last, directory, scope)
            except RequestWindowSplitRequiredException as split:
                if first == last:
                    refused = split.error_message or "refused"
                    downloads.append(WindowAnswer(first, last, None, None, {}, 0, 0.0, refused=refused))
                    return downloads
                half = (int((last - first) / HOUR) + 1) // 2
                middle = first + timedelta(hours=half - 1)
                ranges.extendleft([(middle + HOUR, last, True), (first, middle, True)])
                self._logger.info(f"events: {split.error_message}; retrying with {half}-hour windows")
                continue
            if from_split:
                download.split_to = download.hours
            downloads.append(download)
        return downloads


@dataclass
class Window:
    """A download being read, hour by hour: the parts of each hour not emitted by an earlier sync."""

    download: WindowAnswer
    parts: dict[datetime, list[Part]] = field(default_factory=dict)
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

    def emitted(self, hour: datetime) -> frozenset[int]:
        return frozenset(part.partition for part in self.parts.get(hour, []))
