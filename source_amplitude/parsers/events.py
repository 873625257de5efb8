"""Export lines -> records, the hot path. The only change to an event is its timestamps rewritten to RFC 3339 UTC, as
the official connector does. Amplitude writes "YYYY-MM-DD HH:MM:SS.ffffff" (UTC, no zone: docs/amplitude-api-notes.md),
which string slicing handles, as it does the same form with a `T` (Amplitude's S3 export doc shows one); any other
form (no fraction, a date alone, an offset, `Z`) takes the slow path."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import orjson

TIMESTAMP_FIELDS = (
    "client_event_time",
    "client_upload_time",
    "event_time",
    "processed_time",
    "server_received_time",
    "server_upload_time",
    "user_creation_time",
)


AMPLITUDE_TIMESTAMP_LENGTH = len("2026-06-16 11:57:13.345000")
_TIMESTAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE
)


def rfc3339(value: Any) -> Any:
    """'2026-06-16 11:57:13.345000' -> '2026-06-16T11:57:13.345000+00:00' (fractional digits kept as sent);
    '2021-05-27T11:59:53.71+05:00' -> '2021-05-27T06:59:53.71+00:00'; '2021-01-01' -> '2021-01-01T00:00:00+00:00'.
    Values that are not timestamps are returned unchanged."""
    if type(value) is str and len(value) == AMPLITUDE_TIMESTAMP_LENGTH and value[10] in " T" and value[20:].isdigit():
        return f"{value[:10]}T{value[11:]}+00:00"
    return _rfc3339_slow(value) if type(value) is str else value


def _rfc3339_slow(value: str) -> str:
    match = _TIMESTAMP.match(value.strip())
    if not match:
        return value
    day, clock, fraction, zone = match.groups()
    clock = clock or "00:00:00"
    if len(clock) == 5:
        clock += ":00"
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}")
    except ValueError:
        return value
    if zone and zone.upper() != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return f"{moment:%Y-%m-%dT%H:%M:%S}{fraction or ''}+00:00"


def shape_event(event: dict[str, Any]) -> dict[str, Any]:
    """rfc3339() on each timestamp field, with its fast path inlined: this runs 7 times per event."""
    for field in TIMESTAMP_FIELDS:
        value = event.get(field)
        if value.__class__ is str:
            if len(value) == AMPLITUDE_TIMESTAMP_LENGTH and value[10] in " T" and value[20:].isdigit():
                event[field] = f"{value[:10]}T{value[11:]}+00:00"
            else:
                event[field] = _rfc3339_slow(value)
    return event


def parse_line(line: bytes) -> dict[str, Any]:
    event = orjson.loads(line)
    if type(event) is not dict:
        raise ValueError("an export line is not a JSON object")
    return shape_event(event)


def record_messages(lines: list[bytes], stream: str, emitted_at: int) -> bytes:
    """Airbyte RECORD messages, one per line, ready for stdout."""
    head = b'{"type":"RECORD","record":{"stream":"' + stream.encode() + b'","data":'
    tail = b',"emitted_at":' + str(emitted_at).encode() + b"}}\n"
    dumps = orjson.dumps
    return b"".join([head + dumps(parse_line(line)) + tail for line in lines])
