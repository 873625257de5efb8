"""The read skeleton both sources plug into (pipeline/raw_read.py): parts read in order with their counts, the
directories of what was fetched removed when discarded and all of them at close, and one failure for one cause
whichever source met it."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import orjson
import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_amplitude.pipeline.failures import BROKEN_DOWNLOAD_MESSAGE, BrokenDownload
from source_amplitude.pipeline.members import Member
from source_amplitude.pipeline.prefetch import Scope
from source_amplitude.pipeline.raw_read import Part, RawRead, Tally

H = datetime(2026, 11, 1, 5, tzinfo=timezone.utc)


@dataclass
class File:
    name: str
    path: Path

    @property
    def directory(self) -> Optional[Path]:
        return self.path.parent


def event(n: int) -> bytes:
    return orjson.dumps({"uuid": f"u{n}", "event_type": "e", "server_upload_time": "2026-11-01 05:00:00.000000"})


def write(scope: Scope, name: str, lines: list[bytes]) -> list[File]:
    path = scope.new_directory() / name
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    return [File(name, path)]


def part(file: File, partition: int, where: str) -> Part:
    return Part(H, partition, Member(file.path), file.name, where)


@pytest.mark.parametrize("emit_batches", [False, True], ids=["records", "batches"])
def test_parts_are_read_in_order_counted_and_their_directories_removed(emit_batches: bool) -> None:
    files = {
        "a#0": [event(1), event(2)],
        "a#1": [event(3)],
        "a#2": [event(4), b'{"uuid": "u5", "event_properties": {"x": NaN}}'],
    }
    read: RawRead[str, File] = RawRead("events", emit_batches)
    read.start(iter(files), lambda name, scope: write(scope, name, files[name]), lambda: 2, "test")
    fetched = [read.next(what=name) for name in files]
    parts = [part(file, n, f"bucket/{file.name}") for n, file in enumerate(fetched)]
    read.convert(parts)  # all ahead, in read order
    tallies = [Tally() for _ in parts]
    items = [item for p, tally in zip(parts, tallies) for item in read.records(p, tally)]
    assert [tally.records for tally in tallies] == [2, 1, 2]
    assert tallies[2].repairs and not tallies[0].repairs  # the NaN, counted where it was
    assert sum(getattr(item, "count", 1) for item in items) == 5
    read.discard(fetched[0])
    assert not fetched[0].path.parent.exists() and fetched[1].path.exists()
    read.close()
    assert not any(file.path.parent.exists() for file in fetched)  # close removes the rest


def test_an_unreadable_part_fails_naming_it_the_same_way_from_either_source() -> None:
    def broken(name: str, scope: Scope) -> list[File]:
        path = scope.new_directory() / name
        path.write_bytes(b"not gzip at all")
        return [File(name, path)]

    messages = []
    for where in ("Amplitude's export", "s3://acme/amplitude/829528_2026-11-01_5#0.json.gz"):
        read: RawRead[str, File] = RawRead("events", False)
        read.start(iter(["x#0"]), broken, lambda: 1, "test")
        with pytest.raises(AirbyteTracedException) as failed:
            list(read.records(part(read.next(what="x"), 0, where), Tally()))
        read.close()
        assert failed.value.failure_type is FailureType.transient_error
        assert failed.value.message.startswith(f"{where} (upload hour 20261101T05) cannot be read: ")
        messages.append(failed.value.message.split(" cannot be read: ")[1])
    assert messages[0] == messages[1]


def test_a_download_that_keeps_arriving_broken_is_one_transient_failure_naming_it() -> None:
    def fetch(name: str, scope: Scope) -> list[File]:
        raise BrokenDownload("120 of 4096 bytes arrived")

    read: RawRead[str, File] = RawRead("events", False)
    read.start(iter(["x"]), fetch, lambda: 1, "test")
    with pytest.raises(AirbyteTracedException) as failed:
        read.next(what="the download of s3://acme/x")
    read.close()
    assert failed.value.failure_type is FailureType.transient_error
    assert failed.value.message == BROKEN_DOWNLOAD_MESSAGE.format(
        what="the download of s3://acme/x", detail="120 of 4096 bytes arrived"
    )
