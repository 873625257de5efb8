"""Bucket objects downloaded ahead of reading (pipeline/prefetch.py), handed over in the order they were listed.

Each object streams to a scratch directory (never into memory), is checked whole against its listed size, and a body
cut off after its first byte is requested again with backoff. Throttling, 5xx and resets before the first byte are
retried by the store clients themselves (bucket/s3.py, bucket/gcs.py) and not again here: no failure is retried by
two layers. Each download reserves its size
against free disk first."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from source_amplitude.bucket.layout import BucketObject
from source_amplitude.bucket.store import ObjectStore, Problem, StoreError
from source_amplitude.pipeline.prefetch import Prefetch, Scope
from source_amplitude.pipeline.progress import WaitReporter
from source_amplitude.pipeline.scratch import DiskBudget, remove_quietly

DOWNLOADS_IN_FLIGHT = 4  # object stores serve parallel GETs well; 4 keeps 2 cores' parsing fed
CUT_OFF_ATTEMPTS = 4  # a body that keeps arriving short this often is an error
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


class _Pending:
    """The objects added and not started yet. Unlike a generator, it has more to give after it ran dry once: each
    day's listing adds its objects after the previous day's were handed out."""

    def __init__(self, todo: deque[BucketObject]) -> None:
        self._todo = todo

    def __iter__(self) -> Iterator[BucketObject]:
        return self

    def __next__(self) -> BucketObject:
        if not self._todo:
            raise StopIteration
        return self._todo.popleft()


class ObjectDownloads:
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
        self._todo: deque[BucketObject] = deque()
        self._disk = disk
        # the object being read counts as one alive
        self._prefetch: Prefetch[BucketObject, Downloaded] = Prefetch(
            _Pending(self._todo), self._download, lambda: in_flight + 1, "bucket-download"
        )

    def add(self, objects: Iterable[BucketObject]) -> None:
        self._todo.extend(objects)

    def next(self) -> Downloaded:
        """The next object in order, on disk and whole. Raises StoreError, CutOff or NotEnoughDisk."""
        downloaded = self._prefetch.next()
        if downloaded is None:
            raise AssertionError("bucket downloads: nothing was added")
        return downloaded

    def done_ahead(self) -> list[Downloaded]:
        """Objects after the last one handed out that are already whole on disk, in order (still to be handed out:
        next() returns them as usual). Their conversion can start early."""
        return self._prefetch.ready_ahead()

    def close(self) -> None:
        self._prefetch.close()
        self._todo.clear()

    def _download(self, obj: BucketObject, scope: Scope) -> Downloaded:
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
                        raise CutOff(f"{problem} arrived")
                    wait = self._backoff(attempt)
                    self._logger.warning(
                        f"{obj.uri}: cut off ({problem}); retry {attempt} of {CUT_OFF_ATTEMPTS - 1} in {wait:.1f} s"
                    )
                    scope.wait(wait)
        except BaseException:
            remove_quietly(directory)
            raise
        finally:
            self._disk.release(obj.size)
        return Downloaded(obj, path, time.monotonic() - started)


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
