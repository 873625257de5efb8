"""Bucket objects downloaded ahead of reading, a bounded number at once, handed over in the order they were added.

Each object is one job on a daemon thread that streams it to a temporary directory (never into memory), checks it is
whole (its listed size) and retries throttling, 5xx, resets and cut-off bodies with backoff. At most `in_flight`
downloads run at once, so with the object being read at most `in_flight` + 1 objects are on disk; each reserves its
size against free disk first. Directories are marked with the process id, so a later run removes what a killed one left
(export/archive.py)."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from source_amplitude.bucket.layout import BucketObject
from source_amplitude.bucket.store import ObjectStore, Problem, StoreError
from source_amplitude.export.archive import DiskBudget, new_export_dir, remove_quietly
from source_amplitude.export.progress import WaitReporter

DOWNLOADS_IN_FLIGHT = 4  # object stores serve parallel GETs well; 4 keeps 2 cores' parsing fed
MAX_ATTEMPTS = 6
Backoff = Callable[[int], float]  # attempt number (1, 2, ...) -> seconds to wait before the next


@dataclass
class Downloaded:
    obj: BucketObject
    path: Path
    seconds: float

    def discard(self) -> None:
        remove_quietly(self.path.parent)


class CutOff(Exception):
    pass


@dataclass
class _Job:
    obj: BucketObject
    store: ObjectStore
    disk: DiskBudget
    backoff: Backoff
    logger: logging.Logger
    result: Optional[Downloaded] = None
    error: Optional[BaseException] = None
    received: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    cancelled: threading.Event = field(default_factory=threading.Event)
    directory: Optional[Path] = None

    def start(self) -> _Job:
        threading.Thread(target=self._run, name="bucket-download", daemon=True).start()
        return self

    def _run(self) -> None:
        started = time.monotonic()
        try:
            self.directory = new_export_dir()
            path = self.directory / self.obj.name
            self.disk.reserve(self.obj.size, self.directory)
            try:
                self._download_with_retries(path)
            finally:
                self.disk.release(self.obj.size)
            self.result = Downloaded(self.obj, path, time.monotonic() - started)
        except BaseException as error:  # handed to the reader, who decides
            remove_quietly(self.directory)
            self.error = error
        finally:
            self.done.set()

    def _download_with_retries(self, path: Path) -> None:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            self.received = 0
            try:
                with path.open("wb") as sink:
                    self.store.download(self.obj, sink, self._count)
                if self.received != self.obj.size:
                    raise CutOff(f"{self.received} of {self.obj.size} bytes arrived")
                return
            except (StoreError, CutOff) as error:
                retryable = isinstance(error, CutOff) or error.problem is Problem.TRANSIENT
                if not retryable or attempt == MAX_ATTEMPTS:
                    raise
                wait = self.backoff(attempt)
                self.logger.warning(f"{self.obj.uri}: {error}; retry {attempt} of {MAX_ATTEMPTS - 1} in {wait:.1f} s")
                if self.cancelled.wait(wait):
                    raise
        raise AssertionError("unreachable")

    def _count(self, size: int) -> None:
        if self.cancelled.is_set():
            raise StoreError(Problem.OTHER, "cancelled")
        self.received += size

    def cancel(self) -> None:
        self.cancelled.set()
        if self.done.is_set() and self.result:
            self.result.discard()


class ObjectDownloads:
    def __init__(
        self,
        store: ObjectStore,
        logger: logging.Logger,
        backoff: Backoff,
        in_flight: int = DOWNLOADS_IN_FLIGHT,
    ) -> None:
        self._store = store
        self._logger = logger
        self._backoff = backoff
        self._in_flight = in_flight
        self._todo: deque[BucketObject] = deque()
        self._jobs: deque[_Job] = deque()
        self._disk = DiskBudget()

    def add(self, objects: Iterable[BucketObject]) -> None:
        self._todo.extend(objects)
        self._top_up()

    def next(self) -> Downloaded:
        """The next object in order, on disk and whole. Raises StoreError, CutOff or NotEnoughDisk."""
        self._top_up()
        if not self._jobs:
            raise AssertionError("bucket downloads: nothing was added")
        job = self._jobs.popleft()
        if not job.done.is_set():
            with WaitReporter(self._logger, f"download of {job.obj.uri}") as progress:
                while not job.done.wait(1.0):
                    progress.bytes_received = job.received
        self._top_up()
        if job.error is not None:
            raise job.error
        assert job.result is not None
        return job.result

    def done_ahead(self) -> list[Downloaded]:
        """Objects after the last one handed out that are already whole on disk, in order (still to be handed out:
        next() returns them as usual). Their conversion can start early."""
        ready = []
        for job in self._jobs:
            if not job.done.is_set() or job.result is None:
                break
            ready.append(job.result)
        return ready

    def close(self) -> None:
        for job in self._jobs:
            job.cancel()
        self._jobs.clear()
        self._todo.clear()

    def _top_up(self) -> None:
        while self._todo and len(self._jobs) < self._in_flight:
            self._jobs.append(_Job(self._todo.popleft(), self._store, self._disk, self._backoff, self._logger).start())

