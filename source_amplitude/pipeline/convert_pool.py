"""The raw-events fast path on more than one core. Parsing, reshaping and serializing a million events takes one
core ~12 s (py-spy: orjson parse 6 s, timestamps 3 s, serialize 3 s); one worker process per usable CPU (cpus.py)
(convert_worker.py) do it for whole gzip members at once, each writing RECORD messages to a file in the member's
temporary directory, while this process only copies finished files to stdout, in order. Jobs are handed out
round-robin and each worker answers in order, so answers come back in submission order.

Workers are separate processes started with `python -m`, not multiprocessing: they import neither the CDK nor the
connector (~33 MB each, not a copy of this process), and they are killed with this process (PR_SET_PDEATHSIG), so a
SIGKILLed sync leaves none behind."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Optional, cast

import orjson

from source_amplitude.parsers.events import UploadTimes
from source_amplitude.parsers.lenient_json import Repairs
from source_amplitude.pipeline.cpus import conversion_workers, usable_cpus
from source_amplitude.pipeline.gzip_lines import ArchiveError
from source_amplitude.pipeline.record_batch import FileSlice, RecordBatch
from source_amplitude.pipeline.scratch import DiskBudget

JOBS_AHEAD = 3  # members converted ahead of the one being printed: bounds the disk the output files take


@dataclass(frozen=True)
class Job:
    out: Path
    archive: Optional[Path] = None
    member: Optional[str] = None
    file: Optional[Path] = None
    expected_bytes: int = 0  # what the output will take on disk, reserved before the job starts (not sent)
    times: bool = False  # also the first and last server_upload_time (the ledger's)

    def line(self, stream: str, emitted_at: int) -> bytes:
        job = {"archive": self.archive, "member": self.member, "file": self.file, "out": self.out, "times": self.times}
        return orjson.dumps({**job, "stream": stream, "emitted_at": emitted_at}, default=str) + b"\n"  # paths as text


class _Worker:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "source_amplitude.pipeline.convert_worker", str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    @property
    def stdin(self) -> IO[bytes]:
        assert self.process.stdin is not None
        return self.process.stdin

    @property
    def stdout(self) -> IO[bytes]:
        assert self.process.stdout is not None
        return self.process.stdout

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


class ConvertPool:
    def __init__(self, workers: Optional[int] = None) -> None:
        self._size = conversion_workers(usable_cpus()) if workers is None else workers
        self._workers: list[_Worker] = []
        self._next = 0

    @property
    def enabled(self) -> bool:
        """False on one CPU: the caller converts in-process."""
        return self._size > 0

    def submit(self, job: Job, stream: str, emitted_at: int) -> int:
        """Hands the job to the next worker; returns that worker's index, to read the answer from."""
        if not self._workers:
            self._workers = [_Worker() for _ in range(self._size)]
        index = self._next
        self._next = (self._next + 1) % self._size
        worker = self._workers[index]
        worker.stdin.write(job.line(stream, emitted_at))
        worker.stdin.flush()
        return index

    def answer(self, index: int) -> dict[str, object]:
        line = self._workers[index].stdout.readline()
        if not line:  # read by the stream's usual "could not be read ... resumes at this hour" error
            code = self._workers[index].process.wait()
            self.close()
            raise ArchiveError(
                f"a conversion worker process ended unexpectedly (exit code {code}; -9 means it was killed, often "
                "for lack of memory)"
            )
        answer: dict[str, object] = orjson.loads(line)
        return answer

    def close(self) -> None:
        for worker in self._workers:
            worker.stop()
        self._workers = []
        self._next = 0


class ConvertedMembers:
    """One read's members (an export window's, or a bucket's objects), converted ahead by the pool and printed in order
    as RecordBatches. Jobs must be consumed in the order they were given; `batches(tag)` yields the batches of every
    job given with `tag`."""

    def __init__(
        self,
        pool: ConvertPool,
        jobs: Sequence[tuple[object, Job]],
        stream: str,
        emitted_at: int,
        disk: Optional[DiskBudget] = None,
    ) -> None:
        self._pool = pool
        self._todo = deque(jobs)
        self._submitted: deque[tuple[object, Job, int]] = deque()
        self._printing: Optional[Job] = None
        self._stream = stream
        self._emitted_at = emitted_at
        self._disk = disk  # the converted files count against the read's disk budget
        self.repairs = Repairs()  # what the workers' lenient path changed (parsers/lenient_json.py)
        self.upload_times = UploadTimes()  # of the jobs that asked for them

    def add(self, tag: object, job: Job) -> None:
        """One more job, after those given so far."""
        self._todo.append((tag, job))
        self._top_up()

    def batches(self, tag: object) -> Iterator[RecordBatch]:
        self._top_up()
        while self._submitted and self._submitted[0][0] == tag:
            _, job, worker = self._submitted.popleft()
            self._printing = job
            self._top_up()
            answer = self._pool.answer(worker)
            try:
                if "error" in answer:
                    error = ArchiveError if answer["error"] == "archive" else ValueError
                    raise error(str(answer["message"]))
                self.repairs.update(cast("dict[str, int]", answer.get("repairs") or {}))
                if job.times:
                    self.upload_times.update(
                        cast(Optional[str], answer.get("first")), cast(Optional[str], answer.get("last"))
                    )
                with job.out.open("rb") as converted:
                    offset = 0
                    for size, count in answer["chunks"]:  # type: ignore[attr-defined]
                        yield RecordBatch(self._stream, FileSlice(converted, offset, size), count)
                        offset += size
            finally:
                self._remove(job)
                self._printing = None

    def close(self) -> None:
        """A window left before all its members were printed (a failure) stops the workers, whose answers would
        otherwise be out of step; the next window starts new ones."""
        if self._submitted:
            self._pool.close()
        for _, job, _ in self._submitted:
            self._remove(job)
        if self._printing is not None:
            self._remove(self._printing)
            self._printing = None
        self._submitted.clear()
        self._todo.clear()

    def _top_up(self) -> None:
        while self._todo and len(self._submitted) < JOBS_AHEAD:
            tag, job = self._todo[0]
            if self._disk is not None and job.expected_bytes:
                busy = bool(self._submitted) or self._printing is not None
                if busy and not self._disk.fits(job.expected_bytes, job.out.parent):
                    return  # converted ahead only while there is room; the next member frees some
                self._disk.reserve(job.expected_bytes, job.out.parent)  # NotEnoughDisk when nothing else holds any
            self._todo.popleft()
            self._submitted.append((tag, job, self._pool.submit(job, self._stream, self._emitted_at)))

    def _remove(self, job: Job) -> None:
        job.out.unlink(missing_ok=True)
        if self._disk is not None and job.expected_bytes:
            self._disk.release(job.expected_bytes)
