"""One Export API request for a window of upload hours, to disk and checked: the answer streams to a file (its
Content-Length reserved against the read's disk budget, the read's cancel flag checked on every chunk), the zip is
validated and its members listed by upload hour. Broken downloads are retried here (then BrokenDownload); a 400/504
raises the CDK's RequestWindowSplitRequiredException for export/windows.py to split the window. What is raised here
becomes the sync's failure in pipeline/raw_read.py (pipeline/failures.py says how); the directory is the read's."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

import requests
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy

from source_amplitude.export.archive import (
    ArchiveError,
    Members,
    archive_members,
    member_sizes,
    save_response,
    validate_archive,
)
from source_amplitude.export.windows import WindowAnswer
from source_amplitude.pipeline.failures import BrokenDownload
from source_amplitude.pipeline.hours import export_hour, parse_export_hour
from source_amplitude.pipeline.prefetch import Scope
from source_amplitude.pipeline.progress import WaitReporter
from source_amplitude.pipeline.scratch import DiskBudget

BROKEN_DOWNLOAD_ERRORS = (ArchiveError, requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)


class WindowDownloader:
    def __init__(
        self,
        send: Callable[[Mapping[str, str]], requests.Response],
        skipped: Callable[[requests.Response], bool],
        backoff: BackoffStrategy,
        max_retries: int,
        disk: DiskBudget,
        logger: logging.Logger,
    ) -> None:
        self._send = send  # one request through the stream's HTTP policy (retries on 429/5xx there)
        self._skipped = skipped  # the policy's 404: no data in the window (yet)
        self._backoff = backoff
        self._max_retries = max_retries
        self._disk = disk
        self._logger = logger

    def __call__(self, first: datetime, last: datetime, directory: Path, scope: Scope) -> WindowAnswer:
        """One export request, to disk, checked; runs on a download thread."""
        params = {"start": export_hour(first), "end": export_hour(last)}
        backoff, max_retries = self._backoff, self._max_retries
        for attempt in range(1, max_retries + 2):
            started = time.monotonic()
            archive = directory / "export.zip"
            try:
                with WaitReporter(self._logger, f"events: export of {params['start']}..{params['end']}") as progress:
                    response = self._send(params)
                    if self._skipped(response):  # the policy's 404: no data in this window
                        return WindowAnswer(first, last, directory, None, {}, 0, time.monotonic() - started)
                    size = save_response(response, archive, _checking(scope, progress.add), self._disk)
                validate_archive(archive)
                members = self._members(archive, params)
                seconds = time.monotonic() - started
                return WindowAnswer(
                    first, last, directory, archive, members, size, seconds, member_bytes=member_sizes(archive)
                )
            except BROKEN_DOWNLOAD_ERRORS as error:
                archive.unlink(missing_ok=True)
                if attempt > max_retries:
                    raise BrokenDownload(f"{error}; {max_retries} retries") from error
                wait = backoff.backoff_time(None, attempt) or 1.0
                self._logger.warning(
                    f"events: broken download of {params['start']}..{params['end']} ({error}); retry in {wait:.1f} s"
                )
                scope.wait(wait)
        raise AssertionError("unreachable")

    def _members(self, archive: Path, params: Mapping[str, str]) -> Members:
        members = archive_members(archive)
        first, last = parse_export_hour(params["start"]), parse_export_hour(params["end"])
        outside = [hour for hour in members if not first <= hour <= last]
        if outside:  # never seen; each hour is read only from its own window, under its own name
            self._logger.warning(
                f"events: the export of {params['start']}..{params['end']} also holds upload hours "
                f"{', '.join(map(export_hour, sorted(outside)))}; they are not read from it"
            )
        return members


def _checking(scope: Scope, on_chunk: Callable[[int], None]) -> Callable[[int], None]:
    """`on_chunk`, after checking that the read is still open: a closed read stops the download within a chunk."""

    def checked(size: int) -> None:
        scope.check()
        on_chunk(size)

    return checked
