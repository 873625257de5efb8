"""The events state, both views of it, and how each loads as the other. Pure: `now` is a parameter.

Export API mode (ExportState): which upload hours are done, which are still pending.

{"server_upload_time": "YYYYMMDDTHH", "state_version": 2, "pending_hours": {"YYYYMMDDTHH": [0, 2]}, "window_hours": 6}

* Every upload hour up to `server_upload_time` has been asked for at least once, and every hour up to it that is not
  in `pending_hours` is final: all its events have been emitted.
* `pending_hours` are hours Amplitude had not (fully) published when they were read: no data yet (404, or no member
  in the archive), or a gap in their partition numbers (#0 and #2 without #1). Each lists the partitions already
  emitted. Every sync asks for them again until they are complete or older than LATE_DATA_GRACE_HOURS.
* `window_hours` (only after a 400/504 split) is the export window that last worked, and `window_since` the first
  upload hour read with it; a day of upload hours later it doubles, back up to request_time_range.

Bucket mode (BucketState, for events and merged_ids): which objects were read.

{"server_upload_time": "YYYYMMDDTHH", "state_version": 2,
 "objects_read": {"YYYYMMDDTHH": {"0": "<fingerprint>", "1": "<fingerprint>"}}}

* Every upload hour up to `server_upload_time` has been listed and every object found was read.
* `objects_read` remembers, for each hour still inside the grace period (LATE_DATA_GRACE_HOURS after it ended) and for
  an hour being read when the sync stopped, the partitions read and their content fingerprint. Every sync lists those
  hours again: an object not read before is read (it came late); one read before is skipped unless its fingerprint
  changed (written again with other bytes: read again, rows dedupe on the primary key). An empty fingerprint means
  "read by the Export API" (a state carried over from Export API mode): skipped.
* Past the grace period an hour is listed one last time and forgotten, so the state holds at most about 50 hours.

The Export API mode's state loads here (its pending hours' partitions count as read) and this one loads there
(its pending hours are read from `objects_read`), so switching modes neither loses nor repeats an hour.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import Any, Optional

from source_amplitude.pipeline.hours import HOUR, export_hour, floor_hour, hours_between, parse_export_hour

STATE_VERSION = 2
# Amplitude documents ~2 h from upload to export, but its status page reports delays of many hours. An hour that is
# still empty or incomplete this long after it ended is taken as final (a quiet hour, or data Amplitude lost).
LATE_DATA_GRACE_HOURS = 48
# The official connector re-read 2 hours before its cursor (manifest lookback_window PT2H): its state does not say
# whether the cursor's hour was complete, so a migrated state resumes that far back (re-emitted rows dedupe on uuid).
OFFICIAL_LOOKBACK_HOURS = 2
QUOTE_CHARS = 80


class UnusableState(ValueError):
    """The saved state cannot be used; the message says what was found."""


def quote(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 3] + "..."


def is_complete(partitions: frozenset[int]) -> bool:
    """An hour is published when it has partitions #0..#n with no gap (docs/amplitude-api-notes.md: numbering starts at
    #0 in the Export API)."""
    return bool(partitions) and len(partitions) == max(partitions) + 1 and min(partitions) == 0


def missing_partitions(partitions: frozenset[int]) -> list[int]:
    if not partitions:
        return []
    return [n for n in range(max(partitions)) if n not in partitions]


def grace_over(hour: datetime, now: datetime) -> bool:
    return hour + HOUR + timedelta(hours=LATE_DATA_GRACE_HOURS) <= now


@dataclass(frozen=True)
class HourOutcome:
    """What reading one upload hour did to the state, for the stream to log."""

    hour: datetime
    was_pending: bool
    complete: bool
    pending: bool  # still pending after this read
    given_up: bool  # not complete, but past the grace period: final from now on
    delivered: frozenset[int]


@dataclass(frozen=True)
class ExportState:
    cursor: Optional[datetime] = None
    pending: Mapping[datetime, frozenset[int]] = field(default_factory=dict)
    window_hours: Optional[int] = None
    window_since: Optional[datetime] = None

    def as_dict(self) -> dict[str, Any]:
        """The state message's content. Cached: the CDK asks for it after every record batch."""
        return dict(self._as_dict)

    @cached_property
    def _as_dict(self) -> dict[str, Any]:
        if self.cursor is None:
            return {}
        state: dict[str, Any] = {
            "server_upload_time": export_hour(self.cursor),
            "state_version": STATE_VERSION,
            "pending_hours": {export_hour(h): sorted(self.pending[h]) for h in sorted(self.pending)},
        }
        if self.window_hours:
            state["window_hours"] = self.window_hours
            state["window_since"] = export_hour(self.window_since or self.cursor)
        return state

    def delivered(self, hour: datetime) -> frozenset[int]:
        """Partitions of `hour` already emitted (only pending hours remember theirs)."""
        return self.pending.get(hour, frozenset())

    def hours_to_read(self, first: datetime, last: datetime) -> list[datetime]:
        """Pending hours from `first` on, then every hour after the cursor, in order, up to `last`."""
        start = first if self.cursor is None else max(first, self.cursor + HOUR)
        pending = sorted(h for h in self.pending if first <= h <= last and h < start)
        return [*pending, *hours_between(start, last)]

    def with_window(self, window_hours: Optional[int], since: Optional[datetime] = None) -> ExportState:
        return replace(self, window_hours=window_hours, window_since=since if window_hours else None)

    def after_hour(self, hour: datetime, emitted: frozenset[int], now: datetime) -> tuple[ExportState, HourOutcome]:
        was_pending = hour in self.pending
        delivered = self.delivered(hour) | emitted
        complete = is_complete(delivered)
        given_up = not complete and grace_over(hour, now)
        pending = dict(self.pending)
        pending.pop(hour, None)
        still_pending = not complete and not given_up
        if still_pending:
            pending[hour] = delivered
        cursor = hour if self.cursor is None else max(self.cursor, hour)
        outcome = HourOutcome(hour, was_pending, complete, still_pending, given_up, delivered)
        return replace(self, cursor=cursor, pending=pending), outcome

    def skipping(self, hour: datetime) -> ExportState:
        """This state with `hour` taken as read (the user gives it up): what the refused-hour message offers."""
        pending = {h: parts for h, parts in self.pending.items() if h != hour}
        cursor = hour if self.cursor is None else max(self.cursor, hour)
        return replace(self, cursor=cursor, pending=pending)

    def without_pending_before(self, first: datetime) -> ExportState:
        """Pending hours before `first` (a start_date moved later) are no longer wanted."""
        return replace(self, pending={h: p for h, p in self.pending.items() if h >= first})


def parse_export_state(value: Any) -> ExportState:
    """Ours (v1 or v2), or the official connector's {"server_upload_time": "2024-01-01 20:00:00.000000" |
    "20240101T20" | RFC 3339}, whose hour may be partial: resume OFFICIAL_LOOKBACK_HOURS before it.
    Raises UnusableState naming what was found."""
    if value is None:
        return ExportState()
    if not isinstance(value, Mapping):
        raise UnusableState(f"the state is {quote(value)}, not an object")
    if not value.get("server_upload_time"):
        return ExportState()
    raw = value["server_upload_time"]
    hour = parse_any_hour(raw) if isinstance(raw, str) else None
    if hour is None:
        raise UnusableState(f"server_upload_time is {quote(raw)}, not an upload hour such as '20240101T20'")
    window_hours = _parse_window(value.get("window_hours"))
    since = _parse_since(value.get("window_since"), hour) if window_hours else None
    version = value.get("state_version")
    if version == STATE_VERSION:
        pending = _parse_pending(value.get("pending_hours"))
        for read_hour, partitions in parse_objects_read(value.get("objects_read")).items():  # bucket mode's state
            pending[read_hour] = pending.get(read_hour, frozenset()) | frozenset(partitions)
        return ExportState(hour, pending, window_hours, since)
    if version == 1:  # 0.1: every hour up to the cursor was taken as final
        return ExportState(hour, {}, window_hours, since)
    if version is not None:
        raise UnusableState(
            f"state_version is {quote(version)}; this connector writes version {STATE_VERSION} and reads 1 and "
            f"{STATE_VERSION} (a newer connector version wrote it?)"
        )
    return ExportState(hour - timedelta(hours=OFFICIAL_LOOKBACK_HOURS + 1), {}, window_hours, since)


def _parse_window(value: Any) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UnusableState(f"window_hours is {quote(value)}, not a positive whole number of hours")
    return value


def _parse_since(value: Any, cursor: datetime) -> datetime:
    if value is None:
        return cursor  # written before window_since existed: count from now on
    try:
        return parse_export_hour(value)
    except (TypeError, ValueError):
        raise UnusableState(f"window_since is {quote(value)}, not an upload hour such as '20240101T20'") from None


def _parse_pending(value: Any) -> dict[datetime, frozenset[int]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise UnusableState(f"pending_hours is {quote(value)}, not an object of upload hour -> partitions")
    pending: dict[datetime, frozenset[int]] = {}
    for key, partitions in value.items():
        try:
            hour = parse_export_hour(key)
        except (TypeError, ValueError):
            raise UnusableState(f"pending_hours holds {quote(key)}, not an upload hour such as '20240101T20'") from None
        if not isinstance(partitions, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in partitions
        ):
            raise UnusableState(f"pending_hours[{key!r}] is {quote(partitions)}, not a list of partition numbers")
        pending[hour] = frozenset(partitions)
    return pending


def parse_objects_read(value: Any) -> dict[datetime, dict[int, str]]:
    """Bucket mode's `objects_read` (BucketState): upload hour -> partition -> fingerprint."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise UnusableState(f"objects_read is {quote(value)}, not an object of upload hour -> partitions read")
    read: dict[datetime, dict[int, str]] = {}
    for key, partitions in value.items():
        try:
            hour = parse_export_hour(key)
        except (TypeError, ValueError):
            raise UnusableState(f"objects_read holds {quote(key)}, not an upload hour such as '20240101T20'") from None
        if not isinstance(partitions, Mapping) or not all(
            isinstance(n, str) and n.isdigit() and isinstance(fingerprint, str) for n, fingerprint in partitions.items()
        ):
            raise UnusableState(
                f"objects_read[{key!r}] is {quote(partitions)}, not an object of partition number -> fingerprint"
            )
        read[hour] = {int(n): fingerprint for n, fingerprint in partitions.items()}
    return read


def parse_any_hour(raw: str) -> Optional[datetime]:
    moment: Optional[datetime] = None
    for fmt in ("%Y%m%dT%H", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
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


Read = Mapping[datetime, Mapping[int, str]]  # upload hour -> partition -> fingerprint


@dataclass(frozen=True)
class BucketState:
    cursor: Optional[datetime] = None
    read: Read = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._as_dict)

    @cached_property
    def _as_dict(self) -> dict[str, Any]:
        if self.cursor is None and not self.read:
            return {}
        state: dict[str, Any] = {"state_version": STATE_VERSION}
        if self.cursor is not None:
            state["server_upload_time"] = export_hour(self.cursor)
        state["objects_read"] = {
            export_hour(hour): {str(n): self.read[hour][n] for n in sorted(self.read[hour])}
            for hour in sorted(self.read)
        }
        return state

    def hours_to_list(self, first: datetime, last: datetime) -> list[datetime]:
        """Hours read before that are still in their grace period, then every hour after the cursor, up to `last`."""
        start = first if self.cursor is None else max(first, self.cursor + HOUR)
        again = sorted(hour for hour in self.read if first <= hour < start)
        return [*again, *hours_between(start, last)]

    def was_read(self, hour: datetime, partition: int) -> Optional[str]:
        """The fingerprint the partition had when it was read, or None if it never was."""
        return self.read.get(hour, {}).get(partition)

    def after_object(self, hour: datetime, partition: int, fingerprint: str) -> BucketState:
        read = {**self.read, hour: {**self.read.get(hour, {}), partition: fingerprint}}
        return replace(self, read=read)

    def after_hour(self, hour: datetime, now: datetime) -> BucketState:
        """Every object listed for `hour` has been read: the cursor may pass it; it is remembered while late objects
        may still come, and forgotten with every earlier hour whose grace period is over."""
        # Hours before it were listed earlier in this sync (hours_to_list is in order): past their grace period, that
        # was their last look.
        read = {h: parts for h, parts in self.read.items() if h > hour or not grace_over(h, now)}
        if not grace_over(hour, now):
            read.setdefault(hour, {})  # an hour with no file yet is listed again too
        cursor = hour if self.cursor is None else max(self.cursor, hour)
        return BucketState(cursor, read)

    def without_before(self, first: datetime) -> BucketState:
        """Hours before `first` (a start_date moved later) are no longer wanted."""
        return replace(self, read={hour: parts for hour, parts in self.read.items() if hour >= first})


def parse_bucket_state(value: Any) -> BucketState:
    """This mode's state, the Export API mode's (v1, v2) or the official connector's; raises UnusableState."""
    exported = parse_export_state(value)
    read: dict[datetime, Mapping[int, str]] = {
        hour: dict.fromkeys(partitions, "") for hour, partitions in exported.pending.items()
    }
    if isinstance(value, Mapping):
        read.update(parse_objects_read(value.get("objects_read")))
    return BucketState(exported.cursor, read)
