"""Export archives on disk: download with flat memory, validate, and read hour by hour with the decompression on a
second thread (zlib releases the GIL) while the caller parses."""

from __future__ import annotations

import queue
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Optional, Union

import requests

from source_amplitude.pipeline.gzip_lines import ArchiveError as ArchiveError  # raised here too
from source_amplitude.pipeline.gzip_lines import gzip_line_batches
from source_amplitude.pipeline.hours import member_hour
from source_amplitude.pipeline.scratch import DiskBudget

DOWNLOAD_CHUNK_BYTES = 1 << 20
QUEUE_BATCHES = 4  # memory bound of the read-ahead: QUEUE_BATCHES x LINES_PER_BATCH lines (~8 MB)
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"  # a zip with no entries starts with its end-of-central-directory record


def save_response(
    response: requests.Response,
    path: Path,
    on_chunk: Optional[Callable[[int], None]] = None,
    budget: Optional[DiskBudget] = None,
) -> int:
    """Stream the body to `path`; never hold it in memory. Returns its size; `on_chunk` hears each chunk's size.
    The Content-Length is checked against free disk (and the other downloads' reservations) before a byte is
    written."""
    expected_header = response.headers.get("Content-Length")
    expected = int(expected_header) if expected_header and expected_header.isdigit() else None
    budget = budget or DiskBudget()
    if expected is not None:
        budget.reserve(expected, path.parent)
    try:
        size = 0
        with path.open("wb") as out:
            for chunk in response.iter_content(DOWNLOAD_CHUNK_BYTES):
                if on_chunk:  # first: it may stop the download (a closed read) before the chunk is written
                    on_chunk(len(chunk))
                out.write(chunk)
                size += len(chunk)
    finally:
        if expected is not None:
            budget.release(expected)
    if expected is not None and size != expected:
        raise ArchiveError(f"download truncated: {size} of {expected} bytes")
    return size


def validate_archive(path: Path) -> None:
    """A 200 can carry a rate-limit page or a cut-off body (docs/amplitude-api-notes.md, Steerco's tap): check the
    magic, the central directory (the real archive's entries use data descriptors, so only the directory gives sizes),
    and every entry's CRC."""
    with path.open("rb") as head:
        if head.read(4) not in (ZIP_MAGIC, EMPTY_ZIP_MAGIC):
            raise ArchiveError("the 200 answer is not a zip archive")
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ArchiveError(f"the archive is damaged: {error}") from error
    if bad is not None:
        raise ArchiveError(f"the archive entry {bad} fails its CRC check")


Members = dict[datetime, dict[int, str]]  # upload hour -> partition -> member name


def archive_members(path: Path) -> Members:
    """Every member of the archive attributed by its own name to its upload hour and partition. Raises
    UnexpectedMemberName for a member named otherwise (the hour it holds cannot be known)."""
    members: Members = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.endswith("/"):
                continue
            hour, partition = member_hour(name)
            members.setdefault(hour, {})[partition] = name
    return members


@dataclass(frozen=True)
class _EndOfHour:
    hour: datetime


@dataclass(frozen=True)
class _Batch:
    hour: datetime
    lines: list[bytes]


Item = Union[_Batch, _EndOfHour, BaseException]
Plan = list[tuple[datetime, list[str]]]  # (upload hour, the member names to read for it), in hour order


class ArchiveReader:
    """Reads planned members of one archive, hour by hour. A daemon thread decompresses ahead (bounded by
    QUEUE_BATCHES) and hands over batches tagged with their hour; `lines(hour)` yields only that hour's lines."""

    def __init__(self, path: Path, plan: Plan) -> None:
        self._path = path
        self._plan = plan
        self._planned = {hour for hour, _ in plan}
        self._queue: queue.Queue[Item] = queue.Queue(maxsize=QUEUE_BATCHES)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._decompress_all, name="export-decompress", daemon=True)
        self._thread.start()

    def lines(self, hour: datetime) -> Iterator[list[bytes]]:
        """Line batches of `hour`'s planned members; hours must be asked for in plan order (skipped ones are
        drained). An hour that is not planned has none."""
        if hour not in self._planned:
            return
        while True:
            item = self._queue.get()
            if isinstance(item, BaseException):
                raise item
            if item.hour != hour:
                if item.hour > hour:
                    raise AssertionError(f"export reader: asked for {hour} after {item.hour}")
                continue  # an earlier hour the caller did not ask for
            if isinstance(item, _EndOfHour):
                return
            yield item.lines

    def close(self) -> None:
        self._stop.set()
        while self._thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                self._queue.get(timeout=0.05)
            except queue.Empty:
                pass

    def _put(self, item: Item) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _members(self) -> AbstractContextManager[Callable[[str], IO[bytes]]]:
        """Opens the planned members by name."""
        return _ZipMembers(self._path)

    def _decompress_all(self) -> None:
        try:
            with self._members() as open_member:
                for hour, names in self._plan:
                    for name in names:
                        with open_member(name) as member:
                            for batch in gzip_line_batches(member, name):
                                if self._stop.is_set():
                                    return
                                self._put(_Batch(hour, batch))
                    self._put(_EndOfHour(hour))
        except BaseException as error:  # handed to the consumer, who decides
            self._put(error)


class _ZipMembers:
    def __init__(self, path: Path) -> None:
        self._archive = zipfile.ZipFile(path)

    def __enter__(self) -> Callable[[str], IO[bytes]]:
        return lambda name: self._archive.open(name)

    def __exit__(self, *_: object) -> None:
        self._archive.close()


class GzipFileReader(ArchiveReader):
    """One gzip file on disk (a bucket object), read like an archive member under its upload hour."""

    def __init__(self, path: Path, hour: datetime) -> None:
        super().__init__(path, [(hour, [path.name])])

    def _members(self) -> AbstractContextManager[Callable[[str], IO[bytes]]]:
        return nullcontext(lambda name: (self._path.parent / name).open("rb"))
