"""One bucket object downloaded for the read (pipeline/raw_read.py fetches them ahead, in listed order).

Each object streams to a scratch directory (never into memory), is checked whole against its listed size, and a body
cut off after its first byte is requested again with backoff. Throttling, 5xx and resets before the first byte are
retried by the store clients themselves (bucket/s3.py, bucket/gcs.py) and not again here: no failure is retried by
two layers. Each download reserves its size against free disk first."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from source_amplitude.bucket.layout import BucketObject
from source_amplitude.bucket.store import ObjectStore, Problem, StoreError
from source_amplitude.pipeline.failures import BrokenDownload
from source_amplitude.pipeline.prefetch import Scope
from source_amplitude.pipeline.progress import WaitReporter
from source_amplitude.pipeline.scratch import DiskBudget

DOWNLOADS_IN_FLIGHT = 4  # object stores serve parallel GETs well; 4 keeps 2 cores' parsing fed
CUT_OFF_ATTEMPTS = 4  # a body that keeps arriving short this often is an error
Backoff = Callable[[int], float]  # attempt number (1, 2, ...) -> seconds to wait before the next


@dataclass
class DownloadedObject:
    obj: BucketObject
    path: Path
    seconds: float

    @property
    def directory(self) -> Path:
        return self.path.parent


class ObjectDownload:
    """What the read fetches ahead in bucket mode: one object, by `download` (on a download thread), at most
    `limit()` alive."""

    def __init__(
        self,
        store: ObjectStore,
        logger: logging.Logger,
        backoff: Backoff,
        disk: DiskBudget,
        in_flight: int = DOWNLOADS_IN_FLIGHT,
    ) -> None:
        self._store = store
        self._logger = logger
        self._backoff = backoff
        self._disk = disk
        self._in_flight = in_flight

    def limit(self) -> int:
        return self._in_flight + 1  # the object being read counts as one alive

    def download(self, obj: BucketObject, scope: Scope) -> list[DownloadedObject]:
        """The object on disk, whole. Raises StoreError, BrokenDownload (cut off too often) or NotEnoughDisk."""
        started = time.monotonic()
        directory = scope.new_directory()
        path = directory / obj.name
        self._disk.reserve(obj.size, directory)
        try:
            with WaitReporter(self._logger, f"download of {obj.uri}") as progress:
                for attempt in range(1, CUT_OFF_ATTEMPTS + 1):
                    received = _Received(progress)
                    try:
                        with path.open("wb") as sink:
                            self._store.download(obj, sink, received.counter(scope))
                        problem = None if received.bytes == obj.size else f"{received.bytes} of {obj.size} bytes"
                    except StoreError as error:
                        if error.problem is not Problem.TRANSIENT or not received.bytes:
                            raise  # before the first byte, the store client has retried already
                        problem = f"{error.detail} after {received.bytes} of {obj.size} bytes"
                    if problem is None:
                        break
                    if attempt == CUT_OFF_ATTEMPTS:
                        raise BrokenDownload(f"{problem} arrived")
                    wait = self._backoff(attempt)
                    self._logger.warning(
                        f"{obj.uri}: cut off ({problem}); retry {attempt} of {CUT_OFF_ATTEMPTS - 1} in {wait:.1f} s"
                    )
                    scope.wait(wait)
        finally:
            self._disk.release(obj.size)
        return [DownloadedObject(obj, path, time.monotonic() - started)]


class _Received:
    def __init__(self, progress: WaitReporter) -> None:
        self.bytes = 0
        self._progress = progress

    def counter(self, scope: Scope) -> Callable[[int], None]:
        def count(size: int) -> None:
            scope.check()  # before the chunk is written: a closed read stops here
            self.bytes += size
            self._progress.add(size)

        return count
