"""A progress line while the connector waits on Amplitude. An export request can take minutes before its first byte
(Amplitude builds the archive first) and then minutes to download, with nothing to emit meanwhile: the platform and
the operator must see the sync is alive."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from types import TracebackType
from typing import Optional

PROGRESS_LOG_SECONDS = 60.0


class WaitReporter:
    """Logs `<what>: waiting since HH:MM:SS UTC (N s), X MB received` every `every_seconds` until the block ends."""

    def __init__(self, logger: logging.Logger, what: str, every_seconds: Optional[float] = None) -> None:
        self._logger = logger
        self._what = what
        self._every = PROGRESS_LOG_SECONDS if every_seconds is None else every_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._report, name="download-progress", daemon=True)
        self._started = time.monotonic()
        self._started_at = datetime.now(UTC)
        self.bytes_received = 0

    def add(self, size: int) -> None:
        self.bytes_received += size

    def __enter__(self) -> WaitReporter:
        self._thread.start()
        return self

    def __exit__(
        self, kind: Optional[type[BaseException]], error: Optional[BaseException], trace: Optional[TracebackType]
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _report(self) -> None:
        while not self._stop.wait(self._every):
            elapsed = time.monotonic() - self._started
            stage = f"{self.bytes_received / 1e6:.1f} MB received" if self.bytes_received else "no byte yet"
            self._logger.info(f"{self._what}: waiting since {self._started_at:%H:%M:%S} UTC ({elapsed:.0f} s), {stage}")
