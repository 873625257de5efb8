"""The slow path for an export line orjson refuses (or may misread), one line at a time. Amplitude's export is JSON
written by many SDKs, and some of what they write is valid for most JSON readers but not for orjson. Each change is
counted by kind, so the stream can say per hour what it did (docs/amplitude.md "Unusual export lines"):

* blank lines (spaces, tabs, a lone CR) and a UTF-8 byte order mark are skipped: nothing is lost;
* a lone UTF-16 surrogate escape ("\\ud83d": a string cut inside an emoji by a browser SDK) becomes U+FFFD, as in
  any UTF-8 text (a destination cannot store half a character);
* NaN, Infinity and numbers beyond a double (1e400) become null: JSON has no such number;
* bytes that are not UTF-8 become U+FFFD;
* integers beyond 64 bits are kept exact (orjson would turn them into floats): no change, nothing counted."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from typing import Any, Optional

import orjson

BOM = b"\xef\xbb\xbf"
BLANK_LINE = "blank line(s) skipped"
BYTE_ORDER_MARK = "byte order mark(s) removed"
LONE_SURROGATE = "lone UTF-16 surrogate(s) replaced by U+FFFD"
NOT_A_NUMBER = "NaN or Infinity value(s) set to null"
NUMBER_TOO_LARGE = "number(s) beyond a double (like 1e400) set to null"
INVALID_UTF8 = "invalid UTF-8 byte sequence(s) replaced by U+FFFD"
UNREADABLE_BOOLEAN = "boolean field value(s) that are not a clear true/false set to null"
UNREADABLE_NUMBER = "sample_rate value(s) that are not a number set to null"
Repairs = Counter[str]  # kind (the constants above) -> count

# An integer literal orjson cannot keep exact (below -2**63 or above 2**64-1) has at least 19 digits in a row.
_DIGITS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x2E for byte in range(256))
_LONG_DIGIT_RUN = b"0" * 19
_SURROGATE = re.compile("[\ud800-\udfff]")


def may_hold_big_integer(data: bytes) -> bool:
    """Cheap (one C pass) and conservative: False means no integer in `data` is too large for orjson."""
    return _LONG_DIGIT_RUN in data.translate(_DIGITS)


def loads_leniently(line: bytes, repairs: Repairs) -> Optional[Any]:
    """The line's JSON value, or None for a blank line. Raises ValueError for what is not JSON at all."""
    text = line.strip()
    while text.startswith(BOM):
        text = text[len(BOM) :].strip()
        repairs[BYTE_ORDER_MARK] += 1
    if not text:
        repairs[BLANK_LINE] += 1
        return None
    if not may_hold_big_integer(text):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        decoded = text.decode("utf-8", errors="replace")
        repairs[INVALID_UTF8] += 1

    def constant(_: str) -> None:
        repairs[NOT_A_NUMBER] += 1

    def number(literal: str) -> Optional[float]:
        value = float(literal)
        if math.isinf(value):
            repairs[NUMBER_TOO_LARGE] += 1
            return None
        return value

    value = json.loads(decoded, parse_constant=constant, parse_float=number)
    if "\\u" in decoded:
        value = _without_lone_surrogates(value, repairs)
    return value


def dumps_exactly(value: Any) -> bytes:
    """orjson.dumps, or the standard library's for integers orjson cannot write (beyond 64 bits)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _without_lone_surrogates(value: Any, repairs: Repairs) -> Any:
    if isinstance(value, str):
        fixed, count = _SURROGATE.subn("\ufffd", value)
        if count:
            repairs[LONE_SURROGATE] += count
        return fixed
    if isinstance(value, dict):
        return {_without_lone_surrogates(k, repairs): _without_lone_surrogates(v, repairs) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_lone_surrogates(item, repairs) for item in value]
    return value
