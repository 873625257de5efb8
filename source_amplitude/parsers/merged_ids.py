"""Merged-id lines -> records. Amplitude's S3 doc types merge_time and merge_server_time as epoch numbers without a
unit, so each is kept as written and given an RFC 3339 form (`*_utc`) only when its size leaves one reading: seconds
in [1e9, 1e10), milliseconds in [1e12, 1e13) or microseconds in [1e15, 1e16), that is 2001-09-09 to 2286-11-20 in
each unit. The three ranges do not overlap; any other value (or a string, or null) gets null."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Optional

import orjson

TIME_FIELDS = ("merge_time", "merge_server_time")
_UNITS = ((1e9, 1e10, 1_000_000, "seconds"), (1e12, 1e13, 1_000, "milliseconds"), (1e15, 1e16, 1, "microseconds"))
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_rfc3339(value: Any) -> Optional[str]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    for low, high, microseconds_per_unit, timespec in _UNITS:
        if low <= value < high:
            moment = EPOCH + timedelta(microseconds=round(value * microseconds_per_unit))
            finer = moment.microsecond % (1_000_000 if timespec == "seconds" else 1000)  # a fraction the unit lacks
            return moment.isoformat(timespec="microseconds" if finer else timespec)
    return None


def merged_id_record(line: bytes) -> dict[str, Any]:
    record = orjson.loads(line)
    if type(record) is not dict:
        raise ValueError("a merged-ids line is not a JSON object")
    for field in TIME_FIELDS:
        record[f"{field}_utc"] = epoch_rfc3339(record.get(field))
    return record
