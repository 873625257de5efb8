"""Export archives on disk: download with flat memory, validate, list the members by upload hour."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Optional

import requests

from source_amplitude.pipeline.gzip_lines import ArchiveError as ArchiveError  # raised here too
from source_amplitude.pipeline.hours import member_hour
from source_amplitude.pipeline.scratch import DiskBudget

DOWNLOAD_CHUNK_BYTES = 1 << 20
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


def member_sizes(path: Path) -> dict[str, int]:
    """Each member's compressed size, by name: read once per archive rather than once per member."""
    with zipfile.ZipFile(path) as archive:
        return {info.filename: info.compress_size for info in archive.infolist()}


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
