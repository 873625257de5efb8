"""One read's gzip members turned into what the events stream emits, strictly in the order they were added, by
whichever path fits: the conversion workers (RECORD messages in files, printed with sendfile) when the console
script prints batches and more than one CPU is usable; in-process RECORD batches on one CPU; plain records through
any other entry point (the CDK's test kit, an embedding program). pipeline/raw_read.py owns one per read."""

from __future__ import annotations

import time
from collections.abc import Hashable, Iterator
from pathlib import Path
from typing import Optional, Union

from airbyte_cdk.sources.streams.core import StreamData

from source_amplitude.parsers.events import UploadTimes, parse_lines, record_batch
from source_amplitude.parsers.lenient_json import Repairs
from source_amplitude.pipeline.convert_pool import ConvertedMembers, ConvertPool, Job
from source_amplitude.pipeline.members import Member, MemberReader
from source_amplitude.pipeline.record_batch import RecordBatch
from source_amplitude.pipeline.scratch import DiskBudget

# JSON lines inflate about 8x, and each becomes a RECORD message a little longer: what a member's converted file takes.
CONVERTED_BYTES_PER_GZIP_BYTE = 10


class Conversion:
    def __init__(self, stream: str, emit_batches: bool, pool: ConvertPool, disk: DiskBudget, times: bool) -> None:
        self._stream = stream
        self._emit_batches = emit_batches
        self._emitted_at = time.time_ns() // 1_000_000
        self._reader = MemberReader()
        self._repairs = Repairs()
        self._times = times  # learn each member's first and last server_upload_time (the ledger's)
        self._upload_times = UploadTimes()
        self._converted: Optional[ConvertedMembers] = None
        if emit_batches and pool.enabled:
            self._converted = ConvertedMembers(pool, [], stream, self._emitted_at, disk)

    def add(self, tag: Hashable, member: Member, out: Path) -> None:
        """One more member, after those added so far; `out` is where a worker may write its records."""
        if self._converted is not None:
            expected = CONVERTED_BYTES_PER_GZIP_BYTE * member.compressed_size()
            if member.entry:
                job = Job(out, member.path, member.entry, expected_bytes=expected, times=self._times)
            else:
                job = Job(out, file=member.path, expected_bytes=expected, times=self._times)
            self._converted.add(tag, job)
        else:
            self._reader.add(tag, member)

    def records(self, tag: Hashable) -> Iterator[Union[StreamData, RecordBatch]]:
        """What every member added with `tag` gives, in order. Raises ArchiveError or ValueError for a member that
        cannot be read, NotEnoughDisk when its converted records do not fit."""
        if self._converted is not None:
            yield from self._converted.batches(tag)
        elif self._emit_batches:
            times = self._upload_times if self._times else None
            for lines in self._reader.lines(tag):
                payload, count = record_batch(lines, self._stream, self._emitted_at, self._repairs, times)
                if payload:
                    yield RecordBatch(self._stream, payload, count)
        else:
            times = self._upload_times if self._times else None
            for lines in self._reader.lines(tag):
                yield from parse_lines(lines, self._repairs, times)

    def take_part_notes(self) -> tuple[Repairs, UploadTimes]:
        """What the lenient path changed (parsers/lenient_json.py), for the stream's WARN, and the first and last
        server_upload_time (when asked for), both since the last call."""
        repairs, times = self._repairs, self._upload_times
        if self._converted is not None:
            repairs.update(self._converted.repairs)
            times.update(self._converted.upload_times.first, self._converted.upload_times.last)
            self._converted.repairs, self._converted.upload_times = Repairs(), UploadTimes()
        self._repairs, self._upload_times = Repairs(), UploadTimes()
        return repairs, times

    def close(self) -> None:
        """Members not read yet are dropped; workers left half-way are stopped (ConvertedMembers.close)."""
        if self._converted is not None:
            self._converted.close()
        self._reader.close()
