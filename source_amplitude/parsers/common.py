"""What every parser shares: the record type, shape checks that say what was expected, parsed results with warnings.
Parsers are pure: JSON (or bytes) in, records out; no HTTP, no state, no logging."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Record = dict[str, Any]


class UnexpectedAnswer(ValueError):
    """Amplitude answered JSON of another shape than the parser reads; `expected` says what it reads."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


@dataclass(frozen=True)
class Parsed:
    """Records, and what the stream should WARN about (parsers are pure: they do not log)."""

    records: list[Record]
    warnings: list[str]


def expect_object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise UnexpectedAnswer(f"{what} to be a JSON object, not {_json_type(value)}")
    return value


def expect_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise UnexpectedAnswer(f"{what} to be a list, not {_json_type(value)}")
    return value


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def list_field(body: Any, field: str) -> list[Any]:
    """The list under `field` ({"data": [...]}, {"cohorts": [...]}); a missing or null list means no records."""
    items = expect_object(body, "the answer").get(field)
    if items is None:
        return []
    return expect_list(items, f"{field!r}")


def object_items(body: Any, field: str) -> list[Record]:
    """list_field whose items must be objects (every catalog item is one)."""
    return [dict(expect_object(item, f"each item of {field!r}")) for item in list_field(body, field)]
