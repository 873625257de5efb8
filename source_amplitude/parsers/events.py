"""Export lines -> records, the hot path. An event is changed in two ways only, as the official connector does and
as the declared schema needs: its timestamps rewritten to RFC 3339 UTC, and its boolean fields made booleans.

Amplitude writes "YYYY-MM-DD HH:MM:SS.ffffff" (UTC, no zone: docs/amplitude-api-notes.md), which string slicing
handles, as it does the same form with a `T` (Amplitude's S3 export doc shows one); any other form takes the slow
path, which reads what other exports and SDKs write ("2026-06-16 11:57:13 UTC", "2026/06/16 11:57:13", a comma
before the fraction, an offset, `Z`, a date alone) and leaves anything else exactly as it came.

A batch of lines goes through orjson in one go; a batch with a line orjson refuses, or that may hold an integer
beyond 64 bits, is read again line by line through parsers/lenient_json.py, which counts what it changed."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any, Optional

import orjson

from source_amplitude.parsers.lenient_json import (
    UNREADABLE_BOOLEAN,
    UNREADABLE_NUMBER,
    Repairs,
    dumps_exactly,
    loads_leniently,
    may_hold_big_integer,
)

TIMESTAMP_FIELDS = (
    "client_event_time",
    "client_upload_time",
    "event_time",
    "processed_time",
    "server_received_time",
    "server_upload_time",
    "user_creation_time",
)
# The forms PostHog's Amplitude importer reads as booleans; anything else is not a clear true or false.
_BOOLEANS: dict[str, bool] = {"true": True, "false": False, "1": True, "0": False, "t": True, "f": False}

AMPLITUDE_TIMESTAMP_LENGTH = len("2026-06-16 11:57:13.345000")
# The separators of that form at positions 4, 7, 10, 13, 16 and 19 (value[4:20:3]), with a space or a T.
_SEPARATORS = ("-- ::.", "--T::.")
_TIMESTAMP = re.compile(
    r"^(\d{4})([-/])(\d{2})\2(\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2})?)([.,]\d+)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)


def rfc3339(value: Any) -> Any:
    """'2026-06-16 11:57:13.345000' -> '2026-06-16T11:57:13.345000+00:00' (fractional digits kept as sent);
    '2021-05-27T11:59:53.71+05:00' -> '2021-05-27T06:59:53.71+00:00'; '2021-01-01' -> '2021-01-01T00:00:00+00:00'.
    Values that are not timestamps are returned unchanged."""
    if type(value) is not str:
        return value
    if len(value) == AMPLITUDE_TIMESTAMP_LENGTH and value[4:20:3] in _SEPARATORS and value[20:].isdigit():
        return f"{value[:10]}T{value[11:]}+00:00"
    return _rfc3339_slow(value)


def _rfc3339_slow(value: str) -> str:
    match = _TIMESTAMP.match(value.strip())
    if not match:
        return value
    year, _, month, day, clock, fraction, zone = match.groups()
    clock = clock or "00:00:00"
    if len(clock) == 5:
        clock += ":00"
    try:
        moment = datetime.fromisoformat(f"{year}-{month}-{day}T{clock}")
    except ValueError:
        return value
    if zone and zone.upper() not in ("Z", "UTC", "GMT"):
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "").ljust(4, "0")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    fraction = "." + fraction[1:] if fraction else ""
    return f"{moment:%Y-%m-%dT%H:%M:%S}{fraction}+00:00"


def as_boolean(value: Any, repairs: Optional[Repairs]) -> Optional[bool]:
    """true/false, 1/0, and the strings "true"/"false"/"1"/"0"/"t"/"f" (any case): a boolean. Else null, counted."""
    if value is None or value.__class__ is bool:
        return value
    clear: Optional[bool] = None
    if isinstance(value, str):
        clear = _BOOLEANS.get(value.strip().lower())
    elif value.__class__ is int and value in (0, 1):
        clear = bool(value)
    if clear is None and repairs is not None:
        repairs[UNREADABLE_BOOLEAN] += 1
    return clear


def as_number(text: str, repairs: Optional[Repairs]) -> Optional[float]:
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if math.isfinite(number):
        return number
    if repairs is not None:
        repairs[UNREADABLE_NUMBER] += 1
    return None


class UploadTimes:
    """The first and last server_upload_time (as emitted) of a part's events, for the ledger (pipeline/ledger.py):
    shape_event appends each event's to `seen`, and each batch is folded into `first` and `last`."""

    __slots__ = ("first", "last", "seen")

    def __init__(self) -> None:
        self.first: Optional[str] = None
        self.last: Optional[str] = None
        self.seen: list[Any] = []

    def fold(self) -> None:
        times = [value for value in self.seen if value.__class__ is str]
        self.seen.clear()
        if times:
            first, last = min(times), max(times)
            self.first = first if self.first is None else min(self.first, first)
            self.last = last if self.last is None else max(self.last, last)

    def update(self, first: Optional[str], last: Optional[str]) -> None:
        self.seen += [first, last]
        self.fold()


# Six of the timestamps are in every export line: read in one call, joined with "|" and checked at once (digits read
# as 0, it is the text of six values in Amplitude's form), then rewritten by three string operations. One field at a
# time cost ~0.6 us each; measured in six interleaved pairs on one CPU, record_batch went from 13.4 to 12.8 us a line.
_SIX_ALWAYS_SENT = TIMESTAMP_FIELDS[:6]  # the order shape_event assigns them in
_OTHER_TIMESTAMPS: tuple[str, ...] = TIMESTAMP_FIELDS[6:]  # user_creation_time: null for many users
_SIX_TIMESTAMPS = itemgetter(*_SIX_ALWAYS_SENT)
_SIX_IN_AMPLITUDE_FORM = "0000-00-00 00:00:00.000000|" * len(_SIX_ALWAYS_SENT)
_DIGITS_AS_ZERO = str.maketrans("123456789", "000000000")


def shape_event(
    event: dict[str, Any], repairs: Optional[Repairs] = None, upload_times: Optional[list[Any]] = None
) -> dict[str, Any]:
    """rfc3339() on each timestamp field: the six every line has at once when they are all in Amplitude's form, else
    one by one with its fast path inlined. Then the few fields whose declared type Amplitude does not always keep,
    each checked with the cheapest test (identity, class)."""
    try:
        joined = "|".join(_SIX_TIMESTAMPS(event)) + "|"
    except (KeyError, TypeError):  # one is missing or not text (or the event is not an object: found below)
        joined = ""
    if joined.translate(_DIGITS_AS_ZERO) == _SIX_IN_AMPLITUDE_FORM:
        (
            event["client_event_time"],
            event["client_upload_time"],
            event["event_time"],
            event["processed_time"],
            event["server_received_time"],
            event["server_upload_time"],
            _,
        ) = joined.replace(" ", "T").replace("|", "+00:00|").split("|")
        fields = _OTHER_TIMESTAMPS
    else:
        fields = TIMESTAMP_FIELDS
    for field in fields:
        value = event.get(field)
        if value.__class__ is str:
            if len(value) == AMPLITUDE_TIMESTAMP_LENGTH and value[4:20:3] in _SEPARATORS and value[20:].isdigit():
                event[field] = f"{value[:10]}T{value[11:]}+00:00"
            else:
                event[field] = _rfc3339_slow(value)
    if upload_times is not None:
        upload_times.append(event.get("server_upload_time"))
    value = event.get("paying")
    if value is not None and value is not True and value is not False:
        event["paying"] = as_boolean(value, repairs)
    value = event.get("is_attribution_event")
    if value is not None and value is not True and value is not False:
        event["is_attribution_event"] = as_boolean(value, repairs)
    data = event.get("data")
    if data.__class__ is dict:
        value = data.get("user_properties_updated")
        if value is not None and value is not True and value is not False:
            data["user_properties_updated"] = as_boolean(value, repairs)
    value = event.get("sample_rate")  # declared a number; Amplitude has sent it as text
    if value.__class__ is str:
        event["sample_rate"] = as_number(value, repairs)
    value = event.get("amplitude_attribution_ids")  # declared a list; Amplitude has sent a single hash
    if value.__class__ is str:
        event["amplitude_attribution_ids"] = [value]
    return event


def parse_line(line: bytes, repairs: Optional[Repairs] = None) -> Optional[dict[str, Any]]:
    """One export line as a record; None for a blank line. Raises ValueError for a line that is not a JSON object."""
    event = loads_leniently(line, Repairs() if repairs is None else repairs)
    if event is None:
        return None
    if type(event) is not dict:
        raise ValueError("an export line is not a JSON object")
    return shape_event(event, repairs)


def parse_lines(lines: list[bytes], repairs: Repairs, times: Optional[UploadTimes] = None) -> list[dict[str, Any]]:
    """Plain records (the CDK's test kit, an embedding program): not the hot path, so it checks the bytes for
    integers beyond 64 bits first."""
    if not may_hold_big_integer(b"\n".join(lines)):
        events = _through_orjson(lines)
        if events is not None:
            records = [shape_event(event, repairs) for event in events]
            _note_times(records, times)
            return records
    records = _leniently(lines, repairs)
    _note_times(records, times)
    return records


def _note_times(records: list[dict[str, Any]], times: Optional[UploadTimes]) -> None:
    if times is not None:
        times.seen += [record.get("server_upload_time") for record in records]
        times.fold()


def record_messages(lines: list[bytes], stream: str, emitted_at: int, repairs: Optional[Repairs] = None) -> bytes:
    """Airbyte RECORD messages, one per line (blank lines give none), ready for stdout."""
    return record_batch(lines, stream, emitted_at, Repairs() if repairs is None else repairs)[0]


def record_batch(
    lines: list[bytes], stream: str, emitted_at: int, repairs: Repairs, times: Optional[UploadTimes] = None
) -> tuple[bytes, int]:
    """record_messages and how many records it holds. One pass, each event parsed, shaped and written before the next
    (a batch's dicts, or even orjson's outputs, held at once cost more than the work itself: measured, 1,000 dicts
    held made a record 60 % slower than 128, and 1,000 outputs joined at once 35 % slower than framing each as it
    comes); a batch with a line orjson refuses is written again through the lenient path. `times`, when given,
    learns the batch's first and last server_upload_time."""
    head = b'{"type":"RECORD","record":{"stream":"' + stream.encode() + b'","data":'
    tail = b',"emitted_at":' + str(emitted_at).encode() + b"}}\n"
    loads, dumps = orjson.loads, orjson.dumps
    fast_repairs = Repairs()
    seen = None if times is None else times.seen
    try:
        payload = b"".join([head + dumps(shape_event(loads(line), fast_repairs, seen)) + tail for line in lines])
    except (orjson.JSONDecodeError, AttributeError):  # AttributeError: a line that is JSON but not an object
        events = _leniently(lines, repairs)
        if times is not None:
            times.seen.clear()  # what the fast pass saw before the line it refused: seen again below
            _note_times(events, times)
        return b"".join([head + dumps_exactly(event) + tail for event in events]), len(events)
    if times is not None:
        times.fold()
    repairs.update(fast_repairs)
    if ORJSON_LARGE_FLOAT.search(payload):  # maybe an integer beyond 64 bits that orjson made a float: read again
        data = []
        for line in lines:
            item = dumps(shape_event(loads(line)))
            if ORJSON_LARGE_FLOAT.search(item) and may_hold_big_integer(line):
                item = dumps_exactly(parse_line(line))
            data.append(item)
        payload = b"".join([head + item + tail for item in data])
    return payload, len(lines)


# orjson writes a float of magnitude 1e16 or more with an exponent and a plus sign ("1.2345678901234568e+29"), which
# JSON text of Amplitude's never has otherwise (no plus in ids, hashes or timestamps): a one-pass check of the output
# instead of a digit scan of every input byte. A compiled pattern that stops at each "+" (seven a record: the
# timestamps' "+00:00") and looks behind it for the "e": on a batch's output 0.95 us a line against 1.54 for `e\+`
# (which stops at every "e") and 2.3 for `b"e+" in payload` (a byte-by-byte search in CPython).
ORJSON_LARGE_FLOAT = re.compile(rb"\+(?<=e\+)")


def _through_orjson(lines: list[bytes]) -> Optional[list[dict[str, Any]]]:
    """The lines' events by orjson in one go, or None when a line needs the lenient path."""
    try:
        events = [orjson.loads(line) for line in lines]
    except orjson.JSONDecodeError:
        return None
    return events if all(type(event) is dict for event in events) else None


def _leniently(lines: list[bytes], repairs: Repairs) -> list[dict[str, Any]]:
    return [event for line in lines if (event := parse_line(line, repairs)) is not None]
