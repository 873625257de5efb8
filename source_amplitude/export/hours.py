"""Upload-hour arithmetic and the events stream's state. Pure: `now` is a parameter."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

HOUR = timedelta(hours=1)
# amplitude-api.md §2.1: an upload hour becomes exportable about 2 hours after it ends. One more hour of margin, as
# Nango uses, so that no hour is exported while it can still grow.
EXPORT_DELAY_HOURS = 3
# The official connector re-read 2 hours before its cursor (manifest lookback_window PT2H): its state does not say
# whether the cursor's hour was complete, so a migrated state resumes that far back (re-emitted rows dedupe on uuid).
OFFICIAL_LOOKBACK_HOURS = 2
STATE_VERSION = 1
EXPORT_HOUR_FORMAT = "%Y%m%dT%H"

_MEMBER_NAME = re.compile(r"(?:^|/)\d+_(\d{4}-\d{2}-\d{2})_(\d{1,2})#(\d+)\.json\.gz$")


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def last_complete_hour(now: datetime) -> datetime:
    """The latest upload hour that has ended at least EXPORT_DELAY_HOURS ago."""
    return floor_hour(now - HOUR - timedelta(hours=EXPORT_DELAY_HOURS))


def export_hour(hour: datetime) -> str:
    return hour.strftime(EXPORT_HOUR_FORMAT)


def hours_between(first: datetime, last: datetime) -> Iterator[datetime]:
    hour = first
    while hour <= last:
        yield hour
        hour += HOUR


def member_hour(name: str) -> tuple[datetime, int]:
    """Upload hour and partition of an archive member `<app>/<app>_<YYYY-MM-DD>_<H>#<n>.json.gz` (unpadded hour,
    partitions from #0: shared/recorded/export_200.body.zip)."""
    match = _MEMBER_NAME.search(name)
    if not match:
        raise ValueError(f"unexpected member name {name!r} in the export archive")
    day = datetime.strptime(match.group(1), "%Y-%m-%d").replace(tzinfo=timezone.utc)
    return day + timedelta(hours=int(match.group(2))), int(match.group(3))


@dataclass(frozen=True)
class ExportState:
    """{"server_upload_time": "YYYYMMDDTHH", "window_hours": N, "state_version": 1}: every event uploaded in or
    before that hour has been emitted; `window_hours` is the export window that last worked."""

    last_exported_hour: Optional[datetime] = None
    window_hours: Optional[int] = None

    def as_dict(self) -> dict[str, Any]:
        if self.last_exported_hour is None:
            return {}
        state: dict[str, Any] = {
            "server_upload_time": export_hour(self.last_exported_hour),
            "state_version": STATE_VERSION,
        }
        if self.window_hours:
            state["window_hours"] = self.window_hours
        return state


def parse_export_state(value: Optional[Mapping[str, Any]]) -> ExportState:
    """Ours, or the official connector's {"server_upload_time": "2024-01-01 20:00:00.000000" | "20240101T20" |
    RFC 3339}, whose hour may be partial: resume OFFICIAL_LOOKBACK_HOURS before it."""
    if not value or not value.get("server_upload_time"):
        return ExportState()
    raw = str(value["server_upload_time"])
    hour = _parse_any_hour(raw)
    if hour is None:
        raise ValueError(f"events state server_upload_time {raw!r} is not an hour this connector understands")
    window = value.get("window_hours")
    window_hours = window if isinstance(window, int) and not isinstance(window, bool) and window > 0 else None
    if value.get("state_version") == STATE_VERSION:
        return ExportState(hour, window_hours)
    return ExportState(hour - timedelta(hours=OFFICIAL_LOOKBACK_HOURS + 1), window_hours)


def _parse_any_hour(raw: str) -> Optional[datetime]:
    moment: Optional[datetime] = None
    for fmt in (EXPORT_HOUR_FORMAT, "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            moment = datetime.strptime(raw, fmt)
            break
        except ValueError:
            continue
    if moment is None:
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return None
    moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    return floor_hour(moment)
