"""A conversion worker process: gzip members of Amplitude's export (in a zip, or a file) -> files of Airbyte RECORD
messages, the per-record work of the raw-events fast path, done on another core (pipeline/convert_pool.py).

Protocol, one JSON object a line: a job on stdin {"archive": zip path or null, "member": member name or null,
"file": gzip path or null, "out": output path, "stream": name, "emitted_at": ms, "times": bool}; an answer on stdout
{"records": N, "chunks": [[bytes, records], ...], "repairs": {kind: count}} (the output cut at record boundaries,
up to LINES_PER_BATCH records each; repairs: parsers/lenient_json.py; with "times", also "first" and "last": the
part's first and last server_upload_time, for the ledger) or {"error": "archive" | "value",
"message": "..."}. Imports neither the CDK nor requests: it starts in ~0.1 s and holds ~33 MB."""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import sys
import zipfile
from contextlib import ExitStack
from typing import IO, Any

import orjson

from source_amplitude.parsers.events import UploadTimes, record_batch
from source_amplitude.parsers.lenient_json import Repairs
from source_amplitude.pipeline.gzip_lines import ArchiveError, gzip_line_batches

PR_SET_PDEATHSIG = 1


def convert(job: dict[str, Any]) -> dict[str, Any]:
    chunks: list[tuple[int, int]] = []
    repairs: Repairs = Repairs()
    times = UploadTimes() if job.get("times") else None
    with ExitStack() as stack:
        source: IO[bytes]
        if job.get("archive"):
            archive = stack.enter_context(zipfile.ZipFile(job["archive"]))
            source = stack.enter_context(archive.open(job["member"]))
            name = job["member"]
        else:
            source = stack.enter_context(open(job["file"], "rb"))
            name = job["file"].rsplit("/", 1)[-1]
        out = stack.enter_context(open(job["out"], "wb"))
        for lines in gzip_line_batches(source, name):
            payload, count = record_batch(lines, job["stream"], job["emitted_at"], repairs, times)
            if payload:
                out.write(payload)
                chunks.append((len(payload), count))
    answer = {"records": sum(count for _, count in chunks), "chunks": chunks, "repairs": repairs}
    if times is not None:
        answer.update(first=times.first, last=times.last)
    return answer


def die_with_parent(parent: int) -> None:
    """SIGKILL this worker when the connector process ends, however it ends (Linux; elsewhere, EOF on stdin)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it ended before prctl
        os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the connector stops us
    if len(sys.argv) > 1:
        die_with_parent(int(sys.argv[1]))
    answers = sys.stdout.buffer
    gc.freeze()  # what start-up built stays out of the collector's passes
    for line in sys.stdin.buffer:
        try:
            answer = convert(orjson.loads(line))
        except (ArchiveError, zipfile.BadZipFile, EOFError) as error:
            answer = {"error": "archive", "message": str(error)}
        except OSError as error:  # e.g. no space left for the output: said in the sync's error, not a crash
            answer = {"error": "archive", "message": f"{type(error).__name__}: {error}"}
        except ValueError as error:  # a line that is not a JSON object
            answer = {"error": "value", "message": str(error)}
        answers.write(orjson.dumps(answer) + b"\n")
        answers.flush()


if __name__ == "__main__":
    main()
