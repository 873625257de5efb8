"""Export API archives exactly as Amplitude builds them (unit_tests/resources/recorded/export_200.body.zip): a zip
of STORED gzip members with data descriptors, named <app>/<app>_<YYYY-MM-DD>_<H>#<n>.json.gz with an unpadded hour."""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import IO, Any, Optional

import orjson


class _Unseekable(io.RawIOBase):
    """zipfile writes data descriptors (local header flag 0x08), as Amplitude does, only to unseekable streams."""

    def __init__(self, sink: IO[bytes]) -> None:
        self._sink = sink

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return self._sink.write(data)


def member_name(app_id: int, hour: datetime, partition: int) -> str:
    return f"{app_id}/{app_id}_{hour:%Y-%m-%d}_{hour.hour}#{partition}.json.gz"


def _chunks(events: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for event in events:
        chunk.append(event)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def write_export_zip(
    sink: IO[bytes],
    app_id: int,
    hours: Iterable[tuple[datetime, Iterable[dict[str, Any]]]],
    events_per_member: int,
    published: Callable[[datetime, int], bool] = lambda hour, partition: True,
    raw: Optional[Mapping[datetime, bytes]] = None,
) -> int:
    """Write the archive for (upload hour, events) pairs to `sink`; hours without events get no member, and neither
    do partitions not `published` yet. An hour in `raw` gets one member holding exactly those bytes (the shapes real
    SDKs write that the dataset never has) instead. Returns the number of events written."""
    written = 0
    with zipfile.ZipFile(_Unseekable(sink), "w", compression=zipfile.ZIP_STORED) as archive:
        for hour, events in hours:
            if raw and hour in raw:
                with archive.open(member_name(app_id, hour, 0), "w") as member:
                    member.write(gzip.compress(raw[hour], compresslevel=1, mtime=0))
                continue
            for partition, chunk in enumerate(_chunks(events, events_per_member)):
                if not published(hour, partition):
                    continue
                payload = b"".join(orjson.dumps(event) + b"\n" for event in chunk)
                with archive.open(member_name(app_id, hour, partition), "w") as member:
                    member.write(gzip.compress(payload, compresslevel=1, mtime=0))
                written += len(chunk)
    return written
