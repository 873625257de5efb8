"""The dashboard streams' state: {"date": "YYYY-MM-DD"}, the last day of the last slice fully read. The official
connector also wrote "YYYY-MM-DDTHH:MM:SS"; both load."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Optional

from source_amplitude.state.dates import parse_state_date
from source_amplitude.state.protocol import UnusableState, quote


@dataclass(frozen=True)
class DayState:
    day: Optional[date] = None

    def as_dict(self) -> dict[str, Any]:
        return {"date": self.day.isoformat()} if self.day else {}

    def after_slice(self, last_day: date) -> DayState:
        return DayState(last_day if self.day is None else max(self.day, last_day))


def parse_day_state(value: Any) -> DayState:
    if not value:
        return DayState()
    if not isinstance(value, Mapping):
        raise UnusableState(f"the state is {quote(value)}, not an object")
    raw = value.get("date")
    day = parse_state_date(raw)
    if raw and day is None:
        raise UnusableState(f"date is {quote(raw)}, not a day such as '2024-01-31'")
    return DayState(day)
