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

Bucket mode (BucketState, for events and merged_ids): which objects were read, by position and by write time.

{"server_upload_time": "YYYYMMDDTHH", "state_version": 2, "written_before": "2026-12-05T08:00:00+00:00",
 "objects_read": {"YYYYMMDDTHH": {"0": "<fingerprint>"}},
 "sweep": {"written_before": "...", "through": "YYYYMMDDTHH#n"}}

Amplitude writes its bucket files "on a best-effort basis", sometimes hours or days late, several hours at once, or as
a backfill of history asked for at any time, so what was read is kept by when each object was written (its
last-modified time in the store), not by its upload hour:
* `written_before`: every object written before this time (the store's clock) has been read.
* `objects_read`: the objects written since then that were read, by upload hour -> partition -> content fingerprint:
  at most those written in the WRITE_VISIBLE_HOURS before the last sync. An object whose fingerprint changed
  (written again with other bytes) is read again.
* `sweep`: only while a sync is under way (or after one stopped): every object written before its `written_before`
  up to position (upload hour, partition) `through` has been read. A sync lists everything from start_date on, reads
  in position order what the state does not cover, and at its end moves `written_before` to WRITE_VISIBLE_HOURS
  before the sync started (or just past the newest object listed, if that is earlier).
* `server_upload_time`: the newest upload hour all of whose listed objects were read (what the Export API mode
  carries on from). An empty fingerprint means "read by the Export API" (a state carried over from that mode).
A state without `written_before` (an earlier version's, or the Export API mode's) means "every object of an hour up
to server_upload_time was read, except the hours objects_read lists"; it holds until the first sweep ends.

Switching modes carries the state at whole hours: Amplitude numbers an hour's Export API members from #0 but may number
its bucket files from #1, and need not cut an hour into the same parts in both, so a partition number means nothing
in the other mode. Every hour up to the cursor that is not pending is done in both. An hour the Export API mode had
pending (some partitions emitted, others not published yet) loads here as an hour with nothing read (`objects_read`
{"YYYYMMDDTHH": {}}) and is read whole from the bucket. Every hour the bucket state names one by one in
`objects_read` (written in the last WRITE_VISIBLE_HOURS, so Amplitude may still add files to it, or read in part by
a stopped sync) loads there as pending with no partition delivered: the Export API reads it whole and asks again
until it is complete. Never a loss; the rows of an hour read again are emitted again and dedupe on uuid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import Any, Optional

from source_amplitude.pipeline.hours import HOUR, export_hour, floor_hour, hours_between, parse_export_hour
from source_amplitude.state.protocol import UnusableState, quote

STATE_VERSION = 2
# Amplitude documents ~2 h from upload to export, but its status page reports delays of many hours. An hour that is
# still empty or incomplete this long after it ended is taken as final (a quiet hour, or data Amplitude lost).
LATE_DATA_GRACE_HOURS = 48
# The official connector re-read 2 hours before its cursor (manifest lookback_window PT2H): its state does not say
# whether the cursor's hour was complete, so a migrated state resumes that far back (re-emitted rows dedupe on uuid).
OFFICIAL_LOOKBACK_HOURS = 2
# Bucket mode: an object becomes visible in listings at most this long after the last-modified time the store gives
# it (S3 gives a multipart upload the time it started). Objects written this close to the newest one listed are
# remembered one by one; older ones by a time (BucketState.written_before).
WRITE_VISIBLE_HOURS = 2
MAX_REMEMBERED_DURING_SWEEP = 500  # objects_read entries while a sync runs (~25 KB in each state message)


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
        for read_hour in parse_objects_read(value.get("objects_read")):  # bucket mode's: see the module doc
            pending[read_hour] = frozenset()
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
Position = tuple[datetime, int]  # (upload hour, partition): the order objects are read in


@dataclass(frozen=True)
class Listed:
    """What the state needs of a listed object: where it stands in the read order, its content and when it was
    written (the store's last-modified time)."""

    hour: datetime
    partition: int
    fingerprint: str
    written_at: datetime

    @property
    def position(self) -> Position:
        return self.hour, self.partition


@dataclass(frozen=True)
class Sweep:
    """A sync's pass over the listing, while it is under way: every object written before `written_before` up to
    position `through` has been read. `carried_through` keeps a carried-over state's cursor (see BucketState) until
    the first sweep of this version ends."""

    written_before: datetime
    through: Optional[Position] = None
    carried_through: Optional[datetime] = None


@dataclass(frozen=True)
class BucketState:
    cursor: Optional[datetime] = None
    read: Read = field(default_factory=dict)
    written_before: Optional[datetime] = None
    sweep: Optional[Sweep] = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self._as_dict)

    @cached_property
    def _as_dict(self) -> dict[str, Any]:
        if self.cursor is None and not self.read and self.written_before is None and self.sweep is None:
            return {}
        state: dict[str, Any] = {"state_version": STATE_VERSION}
        if self.cursor is not None:
            state["server_upload_time"] = export_hour(self.cursor)
        state["objects_read"] = {
            export_hour(hour): {str(n): self.read[hour][n] for n in sorted(self.read[hour])}
            for hour in sorted(self.read)
        }
        if self.written_before is not None:
            state["written_before"] = _instant(self.written_before)
        if self.sweep is not None:
            sweep: dict[str, Any] = {"written_before": _instant(self.sweep.written_before)}
            if self.sweep.through is not None:
                sweep["through"] = _position(self.sweep.through)
            if self.sweep.carried_through is not None:
                sweep["carried_through"] = export_hour(self.sweep.carried_through)
            state["sweep"] = sweep
        return state

    @property
    def carried_through(self) -> Optional[datetime]:
        """A state of an earlier version or of the Export API mode says only "every hour up to the cursor was read,
        except what objects_read lists": it holds until this version's first sweep ends."""
        if self.sweep is not None:
            return self.sweep.carried_through
        return self.cursor if self.written_before is None else None

    def was_read(self, hour: datetime, partition: int) -> Optional[str]:
        """The fingerprint the partition had when it was read, if objects_read remembers it ('' : read by the Export
        API, any content)."""
        return self.read.get(hour, {}).get(partition)

    def has_read(self, obj: Listed) -> bool:
        before = self.was_read(obj.hour, obj.partition)
        if before is not None:
            return before in ("", obj.fingerprint)
        if self.written_before is not None and obj.written_at < self.written_before:
            return True
        if self._swept(obj):
            return True
        return self._carried(obj)

    def _swept(self, obj: Listed) -> bool:
        sweep = self.sweep
        if sweep is None or sweep.through is None:
            return False
        return obj.written_at < sweep.written_before and obj.position <= sweep.through

    def _carried(self, obj: Listed) -> bool:
        carried = self.carried_through
        return carried is not None and obj.hour <= carried and obj.hour not in self.read

    def sweeping(self, newest_write: datetime, now: datetime) -> BucketState:
        """The state at the start of a sync whose listing's newest object was written at `newest_write`: a sweep
        left unfinished by a stopped sync goes on; otherwise a new one covers what was written more than
        WRITE_VISIBLE_HOURS ago (objects written since are remembered one by one), and never past the newest object
        listed (should the store's clock be behind this one)."""
        if self.sweep is not None:
            return self
        written_before = min(now - timedelta(hours=WRITE_VISIBLE_HOURS), newest_write + timedelta(seconds=1))
        if self.written_before is not None:
            written_before = max(written_before, self.written_before)
        return replace(self, sweep=Sweep(written_before, None, self.carried_through))

    def after_object(self, obj: Listed) -> BucketState:
        """`obj` was read (the sweep reads in position order). During a sweep at most MAX_REMEMBERED_DURING_SWEEP
        objects are named (the oldest positions are dropped first: a sync stopped then reads those again, a repeat
        that dedupes on the primary key, never a loss), so that a backfill written just before a sync does not make
        every state message as large as the backfill; the sweep's end names every one again (after_sweep)."""
        sweep = self.sweep
        if sweep is not None and obj.written_at < sweep.written_before:
            read = self.read
            if obj.partition in read.get(obj.hour, {}):  # read again (new content): the sweep covers it now
                read = {**read, obj.hour: {n: f for n, f in read[obj.hour].items() if n != obj.partition}}
            return replace(self, read=read, sweep=replace(sweep, through=obj.position))
        read = {**self.read, obj.hour: {**self.read.get(obj.hour, {}), obj.partition: obj.fingerprint}}
        if sweep is not None:
            read = _newest_positions(read, MAX_REMEMBERED_DURING_SWEEP)
        return replace(self, read=read)

    def after_hour(self, hour: datetime, last_hour: datetime) -> BucketState:
        """Every object listed for `hour` has been read: the cursor may pass it (never past `last_hour`)."""
        hour = min(hour, last_hour)
        return replace(self, cursor=hour if self.cursor is None else max(self.cursor, hour))

    def after_sweep(self, listing: Iterable[Listed]) -> BucketState:
        """Every listed object has been read: what the sweep covers is forgotten one by one, and only the objects
        written since (at most WRITE_VISIBLE_HOURS of writes) stay in objects_read."""
        if self.sweep is None:
            return self
        written_before = self.sweep.written_before
        read: dict[datetime, dict[int, str]] = {}
        for obj in listing:
            if obj.written_at >= written_before:
                before = self.was_read(obj.hour, obj.partition)
                read.setdefault(obj.hour, {})[obj.partition] = obj.fingerprint if before != "" else ""
        return BucketState(self.cursor, read, written_before, None)

    def without_before(self, first: datetime) -> BucketState:
        """Hours before `first` (a start_date moved later) are no longer wanted."""
        return replace(self, read={hour: parts for hour, parts in self.read.items() if hour >= first})


def _newest_positions(read: Read, limit: int) -> dict[datetime, Mapping[int, str]]:
    count = sum(len(parts) for parts in read.values())
    if count <= limit:
        return dict(read)
    kept: dict[datetime, Mapping[int, str]] = {}
    for hour in sorted(read, reverse=True):
        if limit <= 0:
            break
        partitions = sorted(read[hour], reverse=True)[:limit]
        kept[hour] = {n: read[hour][n] for n in partitions}
        limit -= len(partitions)
    return kept


def _instant(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def _position(position: Position) -> str:
    return f"{export_hour(position[0])}#{position[1]}"


def _parse_instant(value: Any, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise UnusableState(f"{name} is {quote(value)}, not a time such as '2026-12-01T10:00:00+00:00'") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _parse_sweep(value: Any) -> Optional[Sweep]:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise UnusableState(f"sweep is {quote(value)}, not an object")
    written_before = _parse_instant(value.get("written_before"), "sweep.written_before")
    through: Optional[Position] = None
    if value.get("through") is not None:
        raw = value["through"]
        hour, _, partition = str(raw).partition("#")
        try:
            through = (parse_export_hour(hour), int(partition))
        except (TypeError, ValueError):
            raise UnusableState(f"sweep.through is {quote(raw)}, not a position such as '20240101T20#0'") from None
    carried: Optional[datetime] = None
    if value.get("carried_through") is not None:
        carried = parse_any_hour(str(value["carried_through"]))
        if carried is None:
            raise UnusableState(f"sweep.carried_through is {quote(value['carried_through'])}, not an upload hour")
    return Sweep(written_before, through, carried)


def parse_bucket_state(value: Any) -> BucketState:
    """This mode's state, the Export API mode's (v1, v2) or the official connector's; raises UnusableState."""
    exported = parse_export_state(value)
    read: dict[datetime, Mapping[int, str]] = {hour: {} for hour in exported.pending}  # read whole: see the doc
    if isinstance(value, Mapping):
        read.update(parse_objects_read(value.get("objects_read")))
        written_before = value.get("written_before")
        parsed_before = None if written_before is None else _parse_instant(written_before, "written_before")
        return BucketState(exported.cursor, read, parsed_before, _parse_sweep(value.get("sweep")))
    return BucketState(exported.cursor, read)
