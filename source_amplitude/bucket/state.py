"""Bucket mode's state for events and merged_ids: which objects were read. Pure: `now` is a parameter.

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
(export/state.py reads `objects_read` as pending hours), so switching modes neither loses nor repeats an hour.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Any, Optional

from source_amplitude.export.hours import HOUR, export_hour, hours_between
from source_amplitude.export.state import STATE_VERSION, grace_over, parse_export_state, parse_objects_read

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
