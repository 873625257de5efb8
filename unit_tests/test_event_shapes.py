"""The event parser on the shapes real exports take (parsers/events.py, parsers/lenient_json.py): the fast path and
the slow path give the same bytes, a timestamp is rewritten to RFC 3339 or left exactly as it came, booleans are
booleans or null, and every change the lenient path makes is counted."""

from __future__ import annotations

import json
import random
import re
from collections import Counter

import orjson
import pytest

from source_amplitude.parsers.events import (
    ORJSON_LARGE_FLOAT,
    TIMESTAMP_FIELDS,
    _rfc3339_slow,
    as_boolean,
    parse_line,
    record_messages,
    rfc3339,
    shape_event,
)
from source_amplitude.parsers.lenient_json import (
    BLANK_LINE,
    LONE_SURROGATE,
    NOT_A_NUMBER,
    NUMBER_TOO_LARGE,
    may_hold_big_integer,
)

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00$")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-06-16 11:57:13 UTC", "2026-06-16T11:57:13+00:00"),
        ("2026-06-16 11:57:13.5 utc", "2026-06-16T11:57:13.5+00:00"),
        ("2026-06-16 11:57:13 GMT", "2026-06-16T11:57:13+00:00"),
        ("2026/06/16 11:57:13", "2026-06-16T11:57:13+00:00"),
        ("2026/06/16", "2026-06-16T00:00:00+00:00"),
        ("2026-06-16 11:57:13,345000", "2026-06-16T11:57:13.345000+00:00"),  # 26 characters, a comma
        ("2026/06/16 11:57:13.345000", "2026-06-16T11:57:13.345000+00:00"),  # 26 characters, slashes
        ("2026-06-16T11:57:13+05", "2026-06-16T06:57:13+00:00"),
        ("2026/06-16 11:57:13", "2026/06-16 11:57:13"),  # mixed separators: not read, unchanged
        ("2026-06-16 11:57:13 PST", "2026-06-16 11:57:13 PST"),  # a zone name: unchanged, never half-rewritten
        ("11:57:13,345000", "11:57:13,345000"),
    ],
)
def test_timestamp_forms(value: str, expected: str) -> None:
    assert rfc3339(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "2026-06-16 11:57:13.345000",
        "2026-06-16T11:57:13.345000",
        "2026-12-31 23:59:59.999999",
        "2024-02-29 00:00:00.000000",
    ],
)
def test_the_fast_path_gives_the_slow_paths_bytes(value: str) -> None:
    assert rfc3339(value) == _rfc3339_slow(value)
    line = orjson.dumps({"uuid": "u", "event_time": value})
    fast = record_messages([line], "events", 1)
    slow = record_messages([line, b" "], "events", 1)  # the blank line sends the batch down the slow path
    assert fast == slow


# Values the six-at-once check must tell apart from Amplitude's form: each differs from it in one way.
NEAR_AMPLITUDE_FORMS = [
    "2026-06-16T11:57:13.345000",
    "2026-06-16 11:57:13.34500",
    "2026-06-16 11:57:13.3450000",
    "2026-06-16 11:57:13,345000",
    "2026/06/16 11:57:13.345000",
    "2026-06-16 11:57:13.34500|",
    "2026-06-16 11:57:1|.345000",
    "2026-06-16 11:57:13.34500٣",  # an Arabic-Indic digit: str.isdigit() says yes
    "2026-06-16 11:57:13.34500 ",
    "2026-06-16 11:57 13.345000",
    " 2026-06-16 11:57:13.345000",
    "2026-06-16 11:57:13 UTC",
    "2026-06-16",
    "",
    None,
    1781611033,
    13.5,
    {"at": "2026-06-16 11:57:13.345000"},
]


def amplitude_timestamp(rng: random.Random) -> str:
    return (
        f"{rng.randint(1970, 2099)}-{rng.randint(1, 12):02}-{rng.randint(1, 28):02} "
        f"{rng.randint(0, 23):02}:{rng.randint(0, 59):02}:{rng.randint(0, 59):02}.{rng.randint(0, 999_999):06}"
    )


def test_shaping_the_timestamps_together_gives_what_each_alone_gives() -> None:
    """shape_event rewrites six timestamps at once when all six are in Amplitude's form: on 3,000 events mixing that
    form with near misses, missing fields and other types, each field is what rfc3339() makes of it alone."""
    rng = random.Random(30)
    for _ in range(3_000):
        event: dict[str, object] = {"uuid": "u"}
        for field in rng.sample(TIMESTAMP_FIELDS, len(TIMESTAMP_FIELDS)):  # any order of keys
            roll = rng.random()
            if roll < 0.85:
                event[field] = amplitude_timestamp(rng)
            elif roll < 0.97:
                event[field] = rng.choice(NEAR_AMPLITUDE_FORMS)
            # else: missing
        expected = {field: rfc3339(value) for field, value in event.items()}
        assert shape_event(dict(event)) == expected, event


def test_six_timestamps_in_amplitudes_form_each_keep_their_own_value() -> None:
    days = dict(zip(TIMESTAMP_FIELDS, range(1, 8)))
    shaped = shape_event({field: f"2026-06-{day:02} 11:57:13.34500{day}" for field, day in days.items()})
    assert shaped == {field: f"2026-06-{day:02}T11:57:13.34500{day}+00:00" for field, day in days.items()}


def test_every_rewritten_timestamp_is_rfc3339() -> None:
    forms = ["2026-06-16 11:57:13 UTC", "2026/06/16 11:57:13", "2026-06-16 11:57:13,345000", "2026-06-16"]
    for value in forms:
        assert RFC3339.match(rfc3339(value)), value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (None, None),
        ("true", True),
        ("FALSE", False),
        (" True ", True),
        ("1", True),
        ("0", False),
        ("t", True),
        ("f", False),
        (1, True),
        (0, False),
        ("yes please", None),
        (2, None),
        (0.5, None),
        ({}, None),
    ],
)
def test_boolean_forms(value: object, expected: object) -> None:
    assert as_boolean(value, Counter()) is expected


def test_an_unclear_boolean_is_counted() -> None:
    repairs: Counter[str] = Counter()
    as_boolean("maybe", repairs)
    as_boolean("true", repairs)
    assert sum(repairs.values()) == 1


def test_lenient_lines_are_counted_by_kind() -> None:
    repairs: Counter[str] = Counter()
    lines = [b" ", b"\t", b"\r", b'{"uuid":"a","x":NaN,"y":1e400,"s":"\\udc00"}']
    printed = record_messages(lines, "events", 1, repairs)
    assert printed.count(b"\n") == 1
    data = json.loads(printed)["record"]["data"]
    assert data == {"uuid": "a", "x": None, "y": None, "s": "\ufffd"}
    assert repairs == {BLANK_LINE: 3, NOT_A_NUMBER: 1, NUMBER_TOO_LARGE: 1, LONE_SURROGATE: 1}


def test_integers_beyond_64_bits_stay_exact_and_ordinary_ids_take_the_fast_path() -> None:
    assert not may_hold_big_integer(b'{"session_id":1750000000000,"amplitude_id":123456789012,"event_id":7}')
    assert may_hold_big_integer(b'{"n":123456789012345678901234567890}')
    printed = record_messages([b'{"uuid":"a","n":123456789012345678901234567890}'], "events", 1)
    assert b'"n":123456789012345678901234567890' in printed
    assert parse_line(b'{"uuid":"a","n":-9223372036854775809}') == {"uuid": "a", "n": -9223372036854775809}


@pytest.mark.parametrize("digits", ["18446744073709551616", "-9223372036854775809", "123456789012345678901234567890"])
def test_a_big_integer_anywhere_in_a_batch_is_found_by_the_output_check(digits: str) -> None:
    ordinary = b'{"uuid":"a","event_time":"2026-06-16 11:57:13.345000","p":{"os":"C++ +1"}}'
    nested = b'{"uuid":"b","event_properties":{"list":[1,{"n":%s}]},"event_time":"2026-06-16 11:57:13.345000"}'
    printed = record_messages([ordinary, nested % digits.encode(), ordinary], "events", 1)
    assert f'"n":{digits}}}'.encode() in printed
    assert printed.count(b"+00:00") == 3
    assert ORJSON_LARGE_FLOAT.search(orjson.dumps(orjson.loads(digits))) is not None
    assert ORJSON_LARGE_FLOAT.search(record_messages([ordinary], "events", 1)) is None  # "+" alone: no second pass


def test_a_line_that_is_no_json_at_all_is_still_an_error() -> None:
    with pytest.raises(ValueError):
        record_messages([b'{"uuid":"a"}', b'{"uuid": '], "events", 1)
    with pytest.raises(ValueError):
        parse_line(b"[1, 2]")


def test_an_in_process_record_with_a_big_integer_is_printed_exactly_by_the_cdk() -> None:
    """Plain records (the CDK's own printing, not ours) fall back from orjson to json, which keeps the digits."""
    from airbyte_cdk.entrypoint import AirbyteEntrypoint
    from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, Type

    event = parse_line(b'{"uuid":"a","n":123456789012345678901234567890}')
    assert event is not None
    record = AirbyteRecordMessage(stream="events", data=event, emitted_at=1)
    printed = AirbyteEntrypoint.airbyte_message_to_string(AirbyteMessage(type=Type.RECORD, record=record))
    assert '"n": 123456789012345678901234567890' in printed or '"n":123456789012345678901234567890' in printed
