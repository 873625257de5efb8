"""Bounded, ordered prefetch: the next downloads run on threads while the caller reads the current one, and are handed
over strictly in order; a job's error is raised on the caller's thread when its turn comes.

Each job gets a `Scope`: the read's cancel flag and scratch directories that belong to the prefetch, not the job.
Jobs check the flag on every chunk they receive and between retries, so `close()` stops a download within a chunk.
`close()` also removes every directory any job made, handed out or not: the prefetch is the one owner of a read's
downloads.

Why not a ThreadPoolExecutor: its threads are joined at interpreter exit, and a request still waiting for Amplitude's
first byte (minutes, for a large export) cannot be interrupted from another thread, so an interrupted sync would hang
until the request ended. Each job here runs on a daemon thread and reports through a concurrent.futures.Future; a
thread still blocked on a socket when the read is closed is abandoned: it writes nothing more (its scope is cancelled)
and ends with the process."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Optional, TypeVar

from source_amplitude.pipeline.scratch import new_work_dir, remove_quietly

T = TypeVar("T")
R = TypeVar("R")
CLOSE_WAIT_SECONDS = 1.0  # how long close() waits for jobs to notice the cancel before abandoning them


class Cancelled(Exception):
    """The read was closed while this job ran."""


@dataclass
class Scope:
    """What one job may use: the read's cancel flag, and scratch directories owned by the prefetch."""

    cancelled: threading.Event
    lock: threading.Lock
    directories: list[Path] = field(default_factory=list)

    def check(self) -> None:
        if self.cancelled.is_set():
            raise Cancelled()

    def wait(self, seconds: float) -> None:
        """Sleep between retries; raises Cancelled at once if the read is closed meanwhile."""
        if self.cancelled.wait(seconds):
            raise Cancelled()

    def new_directory(self) -> Path:
        """Made under the prefetch's lock, after checking the cancel flag: close() either finds it and removes it, or
        came first and no directory is made. (Made outside the lock, a directory could appear just after close()
        removed the others, and stay behind when the process ends at once, as it does on a signal.)"""
        with self.lock:
            if self.cancelled.is_set():
                raise Cancelled()
            directory = new_work_dir()
            self.directories.append(directory)
        return directory


Fetch = Callable[[T, Scope], R]


@dataclass
class _Job(Generic[R]):
    future: Future[R]
    thread: threading.Thread


class Prefetch(Generic[T, R]):
    """Runs `fetch(item, scope)` for the items in order, at most `limit()` alive at once (the one handed out, until
    the next is asked for, counts). `limit` is read again before each start: it may change during the read."""

    def __init__(self, items: Iterator[T], fetch: Fetch[T, R], limit: Callable[[], int], name: str) -> None:
        self._items = items
        self._fetch = fetch
        self._limit = limit
        self._name = name
        self._jobs: deque[_Job[R]] = deque()
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._scopes: list[Scope] = []

    def next(self) -> Optional[R]:
        """The next result in order (waiting for it), or None when every item has been handed out. Raises what the
        item's job raised."""
        self._top_up(holding=0)
        if not self._jobs:
            return None
        job = self._jobs.popleft()
        self._top_up(holding=1)
        return job.future.result()

    def ready_ahead(self) -> list[R]:
        """Results after the one handed out that are already done, in order, up to the first not done or failed
        (they are still handed out by next() as usual)."""
        ready = []
        for job in self._jobs:
            if not job.future.done() or job.future.exception() is not None:
                break
            ready.append(job.future.result())
        return ready

    def discard(self, directory: Path) -> None:
        """A job's directory whose result has been used: removed now rather than at close(). It stays the
        prefetch's until it is gone from disk: a signal raised on this thread during the removal (a large download
        takes a moment) leaves it for close() to remove, not half removed and owned by nobody."""
        with self._lock:
            for scope in self._scopes:
                if directory in scope.directories:
                    remove_quietly(directory)
                    scope.directories.remove(directory)
                    if not scope.directories:  # its job is done (its result was handed out): nothing more to own
                        self._scopes.remove(scope)
                    return

    def close(self) -> None:
        """Cancel every job, wait briefly for them to notice, remove every directory they made."""
        self._cancelled.set()
        deadline = time.monotonic() + CLOSE_WAIT_SECONDS
        for job in self._jobs:
            job.thread.join(max(0.0, deadline - time.monotonic()))
        self._jobs.clear()
        with self._lock:
            for scope in self._scopes:
                for directory in scope.directories:
                    remove_quietly(directory)

    def _top_up(self, holding: int) -> None:
        """`items` is asked again each time: an iterator with nothing now may have more later."""
        while not self._cancelled.is_set() and len(self._jobs) + holding < self._limit():
            item = next(self._items, None)
            if item is None:
                return
            self._jobs.append(self._start(item))

    def _start(self, item: T) -> _Job[R]:
        future: Future[R] = Future()
        scope = Scope(self._cancelled, self._lock)
        with self._lock:
            self._scopes.append(scope)

        def run() -> None:
            try:
                future.set_result(self._fetch(item, scope))
            except BaseException as error:  # raised on the caller's thread, in order
                future.set_exception(error)

        thread = threading.Thread(target=run, name=self._name, daemon=True)
        thread.start()
        return _Job(future, thread)
