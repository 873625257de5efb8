"""The one prefetch primitive both sources of raw events use (pipeline/prefetch.py): order, bound, errors in order,
cancel, and one owner of every directory."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from source_amplitude.pipeline.prefetch import Cancelled, Prefetch, Scope


def test_results_come_in_item_order_whatever_order_jobs_finish_in() -> None:
    def fetch(item: int, scope: Scope) -> int:
        time.sleep(0.05 * (3 - item))  # later items finish first
        return item * 10

    prefetch = Prefetch(iter(range(4)), fetch, lambda: 4, "test")
    assert [prefetch.next() for _ in range(5)] == [0, 10, 20, 30, None]
    prefetch.close()


def test_at_most_limit_jobs_are_alive_the_one_handed_out_included() -> None:
    running, most = 0, 0
    lock = threading.Lock()

    def fetch(item: int, scope: Scope) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return item

    started: list[int] = []
    items = iter(range(10))

    def counted() -> int:
        return 3

    prefetch = Prefetch((started.append(i) or i for i in items), fetch, counted, "test")
    first = prefetch.next()
    assert first == 0 and len(started) <= 3  # the one handed out and two ahead
    assert [prefetch.next() for _ in range(9)] == list(range(1, 10))
    assert most <= 3
    prefetch.close()


def test_an_error_is_raised_on_the_reader_thread_when_its_turn_comes() -> None:
    def fetch(item: int, scope: Scope) -> int:
        if item == 1:
            raise ValueError("item 1 is broken")
        return item

    prefetch = Prefetch(iter(range(3)), fetch, lambda: 3, "test")
    assert prefetch.next() == 0  # the error of item 1 waits for its turn
    with pytest.raises(ValueError, match="item 1 is broken"):
        prefetch.next()
    prefetch.close()


def test_close_stops_jobs_at_their_next_chunk_and_removes_every_directory() -> None:
    directories: dict[int, Path] = {}
    stopped = threading.Event()

    def fetch(item: int, scope: Scope) -> Path:
        directory = scope.new_directory()
        directories[item] = directory
        (directory / "part").write_bytes(b"x")
        if item == 0:
            return directory
        try:
            while True:  # a download receiving chunks
                scope.check()
                time.sleep(0.01)
        except Cancelled:
            stopped.set()
            raise

    prefetch = Prefetch(iter(range(3)), fetch, lambda: 3, "test")
    assert prefetch.next() == directories[0]
    time.sleep(0.1)
    assert len(directories) == 3
    started = time.monotonic()
    prefetch.close()
    assert time.monotonic() - started < 1.0
    assert stopped.wait(1.0)
    assert not any(directory.exists() for directory in directories.values())


def test_a_directory_whose_removal_a_signal_cut_short_is_still_removed_by_close(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SIGINT raises on the main thread wherever it is, also inside discard's removal: what is left is removed by
    close(), as the interrupted read's cleanup calls it."""
    import source_amplitude.pipeline.prefetch as prefetch_module

    def fetch(item: int, scope: Scope) -> Path:
        directory = scope.new_directory()
        (directory / "export.zip").write_bytes(b"x")
        return directory

    prefetch = Prefetch(iter(range(1)), fetch, lambda: 1, "test")
    directory = prefetch.next()
    assert directory is not None and directory.exists()

    def removal_interrupted(path: Path) -> None:
        (path / "export.zip").unlink()  # rmtree removes the files first, then the directory
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(prefetch_module, "remove_quietly", removal_interrupted)
        with pytest.raises(KeyboardInterrupt):
            prefetch.discard(directory)
    assert directory.exists()
    prefetch.close()
    assert not directory.exists()


def test_a_job_blocked_where_it_cannot_check_is_left_within_the_close_wait() -> None:
    release = threading.Event()

    def fetch(item: int, scope: Scope) -> int:
        release.wait(10)  # a socket waiting for its first byte
        scope.check()
        return item

    prefetch = Prefetch(iter(range(2)), fetch, lambda: 2, "test")
    prefetch._top_up(holding=0)  # start the jobs without waiting for one
    started = time.monotonic()
    prefetch.close()
    assert time.monotonic() - started < 1.5
    release.set()


class _Pending:
    """Items still to come; unlike a generator, it has more to give after it ran dry once."""

    def __init__(self, todo: deque[Any]) -> None:
        self._todo = todo

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        if not self._todo:
            raise StopIteration
        return self._todo.popleft()


def test_items_added_after_the_first_ran_dry_are_fetched_too() -> None:
    """The items are asked again each time: an iterator that ran dry may have more later."""
    todo: deque[Any] = deque([1, 2])
    prefetch = Prefetch(_Pending(todo), lambda item, scope: item, lambda: 3, "test")
    assert [prefetch.next(), prefetch.next(), prefetch.next()] == [1, 2, None]
    todo.extend([3, 4])  # the next day's listing
    assert [prefetch.next(), prefetch.next(), prefetch.next()] == [3, 4, None]
    prefetch.close()
