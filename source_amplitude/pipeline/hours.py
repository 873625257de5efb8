"""Upload-hour arithmetic and archive member names. Pure: `now` is a parameter."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

HOUR = timedelta(hours=1)
# docs/amplitude-api-notes.md: an upload hour becomes exportable about 2 hours after it ends. One more hour of margin,
# as Nango uses, so that an on-time hour is complete when first asked for (late ones stay pending: state.py).
EXPORT_DELAY_HOURS = 3
EXPORT_HOUR_FORMAT = "%Y%m%dT%H"
MEMBER_NAME_FORM = "<app>/<app>_<YYYY-MM-DD>_<H>#<n>.json.gz"

_MEMBER_NAME = re.compile(r"(?:^|/)\d+_(\d{4}-\d{2}-\d{2})_(\d{1,2})#(\d+)\.json\.gz$")


class UnexpectedMemberName(ValueError):
    pass


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def last_complete_hour(now: datetime) -> datetime:
    """The latest upload hour that has ended at least EXPORT_DELAY_HOURS ago."""
    return floor_hour(now - HOUR - timedelta(hours=EXPORT_DELAY_HOURS))


def export_hour(hour: datetime) -> str:
    return hour.strftime(EXPORT_HOUR_FORMAT)


def parse_export_hour(value: str) -> datetime:
    """'20240101T20' -> 2024-01-01 20:00 UTC; raises ValueError otherwise."""
    if not isinstance(value, str) or len(value) != 11:
        raise ValueError(f"{value!r} is not an upload hour YYYYMMDDTHH")
    return datetime.strptime(value, EXPORT_HOUR_FORMAT).replace(tzinfo=timezone.utc)


def hours_between(first: datetime, last: datetime) -> Iterator[datetime]:
    hour = first
    while hour <= last:
        yield hour
        hour += HOUR


def member_hour(name: str) -> tuple[datetime, int]:
    """Upload hour and partition of an archive member `<app>/<app>_<YYYY-MM-DD>_<H>#<n>.json.gz` (unpadded hour,
    partitions from #0: unit_tests/resources/recorded/export_200.body.zip)."""
    match = _MEMBER_NAME.search(name)
    if not match:
        raise UnexpectedMemberName(f"the member {name!r} is not named {MEMBER_NAME_FORM}")
    try:
        day = datetime.strptime(match.group(1), "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise UnexpectedMemberName(f"the member {name!r} is not named {MEMBER_NAME_FORM}") from None
    hour = int(match.group(2))
    if hour > 23:
        raise UnexpectedMemberName(f"the member {name!r} is not named {MEMBER_NAME_FORM} (hour {hour})")
    return day + timedelta(hours=hour), int(match.group(3))
