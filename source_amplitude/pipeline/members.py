"""Gzip members of Amplitude's export, wherever their bytes are (an entry of an Export API zip, or a bucket's gzip
file), read in-process in the order they were added, each under a tag (its upload hour, or its object)."""

from __future__ import annotations

import zipfile
from collections import deque
from collections.abc import Hashable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Optional

from source_amplitude.pipeline.gzip_lines import gzip_line_batches


@dataclass(frozen=True)
class Member:
    path: Path  # a zip archive, or the gzip file itself
    entry: Optional[str] = None  # the member's name inside the zip; None for a gzip file
    size: Optional[int] = None  # its compressed size, when the caller listed it already

    @property
    def name(self) -> str:
        return self.entry or self.path.name

    def compressed_size(self) -> int:
        if self.size is not None:
            return self.size
        if self.entry is None:
            return self.path.stat().st_size
        with zipfile.ZipFile(self.path) as archive:
            return archive.getinfo(self.entry).compress_size

    def lines(self) -> Iterator[list[bytes]]:
        with ExitStack() as stack:
            source: IO[bytes]
            if self.entry is None:
                source = stack.enter_context(self.path.open("rb"))
            else:
                source = stack.enter_context(stack.enter_context(zipfile.ZipFile(self.path)).open(self.entry))
            yield from gzip_line_batches(source, self.name)


class MemberReader:
    """Members added in order under tags; `lines(tag)` yields the line batches of every member added with `tag`.
    Tags are asked for in the order they were added; members of tags skipped over are not read."""

    def __init__(self) -> None:
        self._queue: deque[tuple[Hashable, Member]] = deque()

    def add(self, tag: Hashable, member: Member) -> None:
        self._queue.append((tag, member))

    def lines(self, tag: Hashable) -> Iterator[list[bytes]]:
        if all(queued != tag for queued, _ in self._queue):
            return
        while self._queue and self._queue[0][0] != tag:  # earlier tags nobody asked for
            self._queue.popleft()
        while self._queue and self._queue[0][0] == tag:
            _, member = self._queue.popleft()
            yield from member.lines()

    def close(self) -> None:
        self._queue.clear()
