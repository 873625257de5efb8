"""The raw-events fast path on worker processes (export/convert_pool.py, export/convert_worker.py): the same bytes
as the in-process path, in order, and the same errors."""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from fake_amplitude import Dataset
from fake_amplitude.archive import member_name, write_export_zip
from source_amplitude.export.archive import ArchiveError
from source_amplitude.parsers.events import record_messages
from source_amplitude.pipeline.convert_pool import ConvertedMembers, ConvertPool, Job
from source_amplitude.pipeline.record_batch import FileSlice, RecordBatch
from source_amplitude.run import write_slice

FIRST = datetime(2026, 11, 1, tzinfo=UTC)
DATA = Dataset(FIRST, hours=2, events_per_hour=2500, events_per_member=1000)


def archive(tmp_path: Path, extra: dict[str, bytes] | None = None) -> Path:
    path = tmp_path / "export.zip"
    with path.open("wb") as sink:
        write_export_zip(sink, DATA.app_id, ((h, DATA.events_in_hour(h)) for h in DATA.upload_hours()), 1000)
    if extra:
        with zipfile.ZipFile(path, "a") as zipped:
            for name, payload in extra.items():
                zipped.writestr(name, payload)
    return path


@pytest.fixture
def pool() -> Iterator[ConvertPool]:
    workers = ConvertPool(workers=2)  # whatever the machine's CPUs
    yield workers
    workers.close()


def printed_bytes(batch: RecordBatch) -> bytes:
    """What run.py prints for the batch (through write_slice, as for stdout)."""
    out = io.BytesIO()
    assert isinstance(batch.payload, FileSlice)
    write_slice(out, batch.payload)
    return out.getvalue()


def jobs_for(path: Path, tmp_path: Path, names: list[tuple[datetime, str]]) -> list[tuple[object, Job]]:
    return [(hour, Job(tmp_path / f"out-{i}", archive=path, member=name)) for i, (hour, name) in enumerate(names)]


def test_workers_print_what_the_in_process_path_prints_in_order(tmp_path: Path, pool: ConvertPool) -> None:
    path = archive(tmp_path)
    names = [(hour, member_name(DATA.app_id, hour, n)) for hour in DATA.upload_hours() for n in range(3)]
    converted = ConvertedMembers(pool, jobs_for(path, tmp_path, names), "events", 1)
    printed = b"".join(printed_bytes(batch) for hour in DATA.upload_hours() for batch in converted.batches(hour))
    first_hour_only = ConvertedMembers(pool, jobs_for(path, tmp_path, names), "events", 1)
    counted = sum(batch.count for batch in first_hour_only.batches(FIRST))
    first_hour_only.close()  # the next hour's members were already handed to the workers
    expected = b""
    with zipfile.ZipFile(path) as zipped:
        for _, name in names:
            lines = [line for line in gzip.decompress(zipped.read(name)).split(b"\n") if line]
            expected += record_messages(lines, "events", 1)
    assert printed == expected
    assert counted == 2500  # the first hour's three members
    assert not list(tmp_path.glob("out-*"))  # every converted file is removed once printed


@pytest.mark.parametrize(
    ("payload", "error", "fragment"),
    [
        (b"\x1f\x8b not gzip", ArchiveError, "is not valid gzip"),
        (gzip.compress(b'{"uuid": "a"}\n[1, 2]\n'), ValueError, "not a JSON object"),
        (gzip.compress(b'{"uuid": "a"}\n{oops\n'), ValueError, None),
    ],
    ids=["not-gzip", "not-an-object", "not-json"],  # stable: gzip bytes hold the time, and xdist's workers must agree
)
def test_a_broken_member_raises_what_the_in_process_path_raises(
    tmp_path: Path, pool: ConvertPool, payload: bytes, error: type[Exception], fragment: str | None
) -> None:
    broken = member_name(DATA.app_id, FIRST + timedelta(hours=5), 0)
    path = archive(tmp_path, {broken: payload})
    converted = ConvertedMembers(pool, jobs_for(path, tmp_path, [(FIRST, broken)]), "events", 1)
    with pytest.raises(error, match=fragment):
        list(converted.batches(FIRST))
    # the pool keeps working for the next window
    good = member_name(DATA.app_id, FIRST, 0)
    assert (
        sum(
            b.count
            for b in ConvertedMembers(pool, jobs_for(path, tmp_path, [(FIRST, good)]), "events", 1).batches(FIRST)
        )
        == 1000
    )


def test_a_worker_that_cannot_write_its_output_says_so(tmp_path: Path, pool: ConvertPool) -> None:
    path = archive(tmp_path)
    job = Job(tmp_path / "no-such-directory" / "out", archive=path, member=member_name(DATA.app_id, FIRST, 0))
    with pytest.raises(ArchiveError, match="FileNotFoundError"):
        list(ConvertedMembers(pool, [(FIRST, job)], "events", 1).batches(FIRST))


def test_a_worker_killed_mid_member_is_an_error_of_that_member_and_new_workers_follow(
    tmp_path: Path, pool: ConvertPool
) -> None:
    path = archive(tmp_path)
    names = [(FIRST, member_name(DATA.app_id, FIRST, n)) for n in range(3)]
    converted = ConvertedMembers(pool, jobs_for(path, tmp_path, names), "events", 1)
    converted._top_up()
    for worker in pool._workers:
        worker.process.kill()
    with pytest.raises(ArchiveError, match="ended unexpectedly"):
        list(converted.batches(FIRST))
    converted.close()
    again = ConvertedMembers(pool, jobs_for(path, tmp_path, names[:1]), "events", 1)
    assert sum(batch.count for batch in again.batches(FIRST)) == 1000


def test_a_window_left_half_read_stops_the_workers_and_the_next_window_starts_new_ones(
    tmp_path: Path, pool: ConvertPool
) -> None:
    path = archive(tmp_path)
    names = [(hour, member_name(DATA.app_id, hour, n)) for hour in DATA.upload_hours() for n in range(3)]
    converted = ConvertedMembers(pool, jobs_for(path, tmp_path, names), "events", 1)
    next(iter(converted.batches(FIRST)))
    workers = [worker.process for worker in pool._workers]
    converted.close()
    assert all(process.poll() is not None for process in workers)
    again = ConvertedMembers(pool, jobs_for(path, tmp_path, names[:1]), "events", 1)
    assert sum(b.count for b in again.batches(FIRST)) == 1000


def test_a_gzip_file_is_converted_like_an_archive_member(tmp_path: Path, pool: ConvertPool) -> None:
    lines = [orjson.dumps(event) for event in DATA.events_in_hour(FIRST)][:10]
    source = tmp_path / "829528_2026-11-01_0#0.json.gz"
    source.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    converted = ConvertedMembers(pool, [(FIRST, Job(tmp_path / "out", file=source))], "events", 7)
    printed = b"".join(printed_bytes(batch) for batch in converted.batches(FIRST))
    assert printed == record_messages(lines, "events", 7)
    assert io.BytesIO(printed).read().count(b"\n") == 10


def test_write_slice_copies_in_the_kernel_to_a_real_file_and_keeps_the_order(tmp_path: Path) -> None:
    source = tmp_path / "converted"
    source.write_bytes(b"0123456789" * 100_000)
    with source.open("rb") as converted, (tmp_path / "stdout").open("wb") as out:
        out.write(b"before\n")
        out.flush()
        write_slice(out, FileSlice(converted, 10, 999_980))
        out.write(b"after\n")
    assert (tmp_path / "stdout").read_bytes() == b"before\n" + (b"0123456789" * 100_000)[10:999_990] + b"after\n"


def test_workers_follow_the_usable_cpus_and_none_on_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from source_amplitude.pipeline import cpus

    assert [cpus.conversion_workers(n) for n in (1, 2, 3, 8)] == [0, 2, 3, 8]
    cpu_max = tmp_path / "cpu.max"
    monkeypatch.setattr(cpus, "CGROUP_V2_CPU_MAX", cpu_max)
    monkeypatch.setattr(cpus.os, "sched_getaffinity", lambda _: {0, 1, 2, 3})
    for written, expected in (("max 100000", 4), ("100000 100000", 1), ("150000 100000", 1), ("250000 100000", 2)):
        cpu_max.write_text(written)
        assert cpus.usable_cpus() == expected, written
    monkeypatch.setattr(cpus.os, "sched_getaffinity", lambda _: {0})
    cpu_max.write_text("max 100000")
    assert cpus.usable_cpus() == 1
    assert not ConvertPool(workers=cpus.conversion_workers(cpus.usable_cpus())).enabled


def test_converted_files_count_against_the_disk_budget(
    tmp_path: Path, pool: ConvertPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from source_amplitude.pipeline import scratch
    from source_amplitude.pipeline.scratch import DiskBudget, NotEnoughDisk

    path = archive(tmp_path)
    names = [(hour, member_name(DATA.app_id, hour, n)) for hour in DATA.upload_hours() for n in range(3)]
    budget = DiskBudget()
    free = scratch.DISK_HEADROOM_BYTES + 150
    monkeypatch.setattr(scratch.shutil, "disk_usage", lambda _: type("Usage", (), {"free": free})())
    jobs = [(tag, replace(job, expected_bytes=100)) for tag, job in jobs_for(path, tmp_path, names)]
    converted = ConvertedMembers(pool, jobs, "events", 1, budget)
    first = list(converted.batches(names[0][0]))  # one converted at a time: the second does not fit beside it
    assert first and budget._reserved <= 100
    converted.close()
    assert budget._reserved == 0
    monkeypatch.setattr(scratch.shutil, "disk_usage", lambda _: type("Usage", (), {"free": 50})())
    with pytest.raises(NotEnoughDisk):
        list(ConvertedMembers(pool, jobs, "events", 1, budget).batches(names[0][0]))
