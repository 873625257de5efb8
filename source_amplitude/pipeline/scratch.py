"""Temporary disk of a read: directories marked with their process, and one budget shared by every download and
converted file in flight."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Optional

DISK_HEADROOM_BYTES = 256 << 20
WORK_DIR_PREFIX = "amplitude-export-"
OWNER_FILE = "owner.pid"  # 0.3 and earlier
STALE_UNOWNED_SECONDS = 24 * 3600
MAX_CONFIG_BYTES = 1 << 20  # a config file is a few KB; anything larger in a tmp* folder is not one of ours


class NotEnoughDisk(Exception):
    pass


def new_work_dir() -> Path:
    """A temporary directory for one download, named with this process's id so that a later run can tell it was
    left by a killed process (remove_stale_work_dirs). The id is in the name, created in one step: a file written
    after it could be missing when a SIGKILL falls in between."""
    return Path(tempfile.mkdtemp(prefix=f"{WORK_DIR_PREFIX}{os.getpid()}-"))


def _owner(directory: Path) -> Optional[int]:
    """The process that made the directory: from its name, or (written by 0.3 and earlier) its owner file."""
    named = directory.name[len(WORK_DIR_PREFIX) :].split("-", 1)[0]
    if named.isdigit():
        return int(named)
    try:
        return int((directory / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return None


def remove_stale_work_dirs() -> int:
    """Remove work directories whose process is gone (a SIGKILL leaves them behind). Returns how many."""
    removed = 0
    for directory in Path(tempfile.gettempdir()).glob(f"{WORK_DIR_PREFIX}*"):
        owner = _owner(directory)
        if owner is None:
            try:
                stale = time.time() - directory.stat().st_mtime > STALE_UNOWNED_SECONDS  # written by 0.1
            except OSError:
                continue
        else:
            stale = not _process_alive(owner)
        if stale:
            shutil.rmtree(directory, ignore_errors=True)
            removed += 1
    return removed


def remove_leftover_configs(api_key: str, secret_key: str, now: float) -> int:
    """Connector versions up to 0.4 let the CDK write the whole config, keys included, to tmpXXXXXXXX/config.json for
    each command and remove it on a normal exit only: a SIGKILL left it for good. Remove each such file that holds
    this config's key pair (so it is certainly a copy of ours) and is older than STALE_UNOWNED_SECONDS (the same
    pattern is a live file of another program that runs the connector, such as the CDK's test kit; those read it
    once, at their start). Returns how many."""
    removed = 0
    for path in Path(tempfile.gettempdir()).glob("tmp*/config.json"):
        try:
            stat = path.stat()
            if stat.st_size > MAX_CONFIG_BYTES or now - stat.st_mtime < STALE_UNOWNED_SECONDS:
                continue
            config = json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue
        if isinstance(config, dict) and config.get("api_key") == api_key and config.get("secret_key") == secret_key:
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_quietly(path: Optional[Path]) -> None:
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)


class DiskBudget:
    """Free temporary disk shared by everything of a read that is on disk at once (downloads in flight, converted
    files): each reserves its size first, so that two of them cannot both count the same free space."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reserved = 0

    def fits(self, size: int, directory: Path) -> bool:
        with self._lock:
            return size + self._reserved + DISK_HEADROOM_BYTES <= shutil.disk_usage(directory).free

    def reserve(self, size: int, directory: Path) -> None:
        with self._lock:
            free = shutil.disk_usage(directory).free
            if size + self._reserved + DISK_HEADROOM_BYTES > free:
                others = f", {self._reserved / 1e9:.2f} GB of it held by files in flight" if self._reserved else ""
                raise NotEnoughDisk(
                    f"the export needs {size / 1e9:.2f} GB of temporary disk in {directory} "
                    f"but only {free / 1e9:.2f} GB are free{others}"
                )
            self._reserved += size

    def release(self, size: int) -> None:
        with self._lock:
            self._reserved -= size
