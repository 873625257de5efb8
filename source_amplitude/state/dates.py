"""Date arithmetic for slicing and state. Pure."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any, Optional


def date_slices(start: date, end: date, max_days: int) -> Iterator[tuple[date, date]]:
    """Inclusive [first, last] ranges of at most `max_days` days covering start..end (inclusive)."""
    first = start
    while first <= end:
        last = min(end, first + timedelta(days=max_days - 1))
        yield first, last
        first = last + timedelta(days=1)


def parse_state_date(value: Any) -> Optional[date]:
    """A dashboard stream's cursor: ours is YYYY-MM-DD; the official connector also wrote YYYY-MM-DDTHH:MM:SS."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return datetime.strptime(value[:10], "%Y-%m-%d").date()
    except ValueError:
        return None
