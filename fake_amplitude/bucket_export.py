"""The files Amplitude's Amazon S3 / Google Cloud Storage export writes, from the same dataset the fake Export API
serves (docs/amplitude-api-notes.md, "Bucket exports"): one gzip JSON-lines object per upload hour and partition, named
{project}_{YYYY-MM-DD}_{H}#{n}.json.gz with an unpadded hour, in {prefix}{project}/ (the GCS doc) or directly under
the prefix; merged ids as -{org}_{YYYY-MM-DD}_{H}.json.gz in {prefix}-{org}/."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from fake_amplitude.dataset import Dataset

ORG_ID = 36958
Put = Callable[[str, bytes], None]  # (key, bytes) -> the object written


@dataclass(frozen=True)
class BucketLayout:
    prefix: str = "amplitude/"  # '' or ending with '/'
    in_project_folder: bool = True  # False: files directly under the prefix (the S3 doc names only the file)
    first_partition: int = 0  # the Export API numbers from #0; Amplitude's S3 doc calls #1 the first
    timestamp_separator: str = " "  # the S3 doc's sample writes 'T'
    org_id: int = ORG_ID

    def events_key(self, app_id: int, hour: datetime, partition: int) -> str:
        folder = f"{self.prefix}{app_id}/" if self.in_project_folder else self.prefix
        return f"{folder}{app_id}_{hour:%Y-%m-%d}_{hour.hour}#{partition + self.first_partition}.json.gz"

    def merged_ids_key(self, hour: datetime) -> str:
        return f"{self.prefix}-{self.org_id}/-{self.org_id}_{hour:%Y-%m-%d}_{hour.hour}.json.gz"


def _lines(rows: list[dict[str, Any]], separator: str) -> bytes:
    if separator != " ":  # '2026-06-16 11:57:13.345000' -> '2026-06-16T11:57:13.345000', as the S3 doc's sample
        rows = [{key: _separated(value, separator) for key, value in row.items()} for row in rows]
    return gzip.compress(b"".join(orjson.dumps(row) + b"\n" for row in rows), compresslevel=1, mtime=0)


def _separated(value: Any, separator: str) -> Any:
    if isinstance(value, str) and len(value) == 26 and value[10] == " " and value[4] == "-":
        return f"{value[:10]}{separator}{value[11:]}"
    return value


def hour_partitions(dataset: Dataset, hour: datetime) -> Iterator[list[dict[str, Any]]]:
    """The hour's events cut into partitions as the Export API's archive cuts them."""
    events = list(dataset.events_in_hour(hour))
    for start in range(0, len(events), dataset.events_per_member):
        yield events[start : start + dataset.events_per_member]


def write_hour(
    dataset: Dataset, hour: datetime, put: Put, layout: BucketLayout, partitions: set[int] | None = None
) -> int:
    """Write the hour's event files (only `partitions`, 0-based, when given). Returns the number of events."""
    written = 0
    for partition, rows in enumerate(hour_partitions(dataset, hour)):
        if partitions is not None and partition not in partitions:
            continue
        put(layout.events_key(dataset.app_id, hour, partition), _lines(rows, layout.timestamp_separator))
        written += len(rows)
    return written


def write_merged_ids(dataset: Dataset, hour: datetime, put: Put, layout: BucketLayout) -> int:
    rows = dataset.merged_ids_in_hour(hour)
    if rows:
        put(layout.merged_ids_key(hour), _lines(rows, " "))
    return len(rows)


def write_bucket_export(dataset: Dataset, put: Put, layout: BucketLayout = BucketLayout()) -> int:
    """Every upload hour of the dataset, with its merged ids, and a `complete` marker (not data). Returns events."""
    written = 0
    for hour in dataset.upload_hours():
        written += write_hour(dataset, hour, put, layout)
        write_merged_ids(dataset, hour, put, layout)
    put(f"{layout.prefix}{dataset.app_id}/complete", b"")
    return written
