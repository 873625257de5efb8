"""One bucket read of events or merged_ids, from listing to last checkpoint: it owns the object downloads (ahead, in
listed order: bucket/downloads.py), the conversion of events objects (pipeline/conversion.py), the bucket state
(pipeline/state.py) and everything they hold on disk and in processes; close() releases all of it, whatever stopped
the read. streams/bucket_files.py only declares the streams and hands each slice here.

Exactly once by object. A sync lists, one UTC day at a time, the hours it has not finished (hours after the cursor,
and hours still in their grace period), and reads every object not read before, in upload-hour and partition order.
One slice per object, so STATE follows every object and a kill re-emits at most the object in progress; the last
slice of an hour (or the only one, for an hour with nothing new) also finishes the hour."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from itertools import groupby
from pathlib import Path
from typing import Any, Optional, Union

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_amplitude.bucket.downloads import CutOff, Downloaded, ObjectDownloads
from source_amplitude.bucket.layout import BucketObject, FileLayout, by_hour
from source_amplitude.bucket.messages import store_failure
from source_amplitude.bucket.store import ObjectStore, StoreError
from source_amplitude.config import BucketSource, ConfigError
from source_amplitude.http import JitteredBackoff
from source_amplitude.pipeline.conversion import Conversion
from source_amplitude.pipeline.convert_pool import ConvertPool
from source_amplitude.pipeline.gzip_lines import ArchiveError
from source_amplitude.pipeline.hours import export_hour, parse_export_hour
from source_amplitude.pipeline.members import Member
from source_amplitude.pipeline.reads import stopped_message, warn_late, warn_repaired
from source_amplitude.pipeline.scratch import DiskBudget, NotEnoughDisk, remove_stale_work_dirs
from source_amplitude.pipeline.state import BucketState
from source_amplitude.record_batch import RecordBatch
from source_amplitude.settings import BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS

Item = Union[StreamData, RecordBatch]
# How a stream's object becomes records; None: raw events, through the conversion pipeline.
ParseObject = Optional[Callable[[Path], Iterator[StreamData]]]


def download_backoff(attempt: int) -> float:
    return JitteredBackoff(BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS).backoff_time(None, attempt) or 1.0


class BucketRead:
    def __init__(
        self,
        stream: str,
        primary_key: Any,
        layout: FileLayout,
        source: BucketSource,
        store: ObjectStore,
        now: datetime,
        emit_batches: bool,
        parse: ParseObject,
        logger: logging.Logger,
    ) -> None:
        self.state = BucketState()
        self._stream = stream
        self._primary_key = primary_key
        self._layout = layout
        self._source = source
        self._store = store
        self._now = now
        self._emit_batches = emit_batches
        self._parse = parse
        self._logger = logger
        self._disk = DiskBudget()  # one per read: downloads and converted files
        self._pool = ConvertPool()
        self._downloads: Optional[ObjectDownloads] = None
        self._conversion: Optional[Conversion] = None
        self._queued: set[str] = set()  # objects handed to the workers, not read yet
        self._doing: Optional[str] = None  # what the read is doing, for an interruption's message

    def slices(self, start: datetime, last_hour: datetime) -> Iterator[Mapping[str, Any]]:
        self.state = self.state.without_before(start)
        hours = self.state.hours_to_list(start, last_hour)
        remove_stale_work_dirs()  # left by a killed run of this connector
        self._downloads = ObjectDownloads(self._store, self._logger, download_backoff, self._disk)
        try:
            for day, day_hours in groupby(hours, key=lambda hour: hour.date()):
                yield from self._day_slices(day, list(day_hours))
        finally:
            self.close()
            self._doing = None

    def read_slice(self, stream_slice: Mapping[str, Any]) -> Iterator[Item]:
        """The slice's object's records, then its checkpoint in `state` (and the hour's, if the slice ends it)."""
        hour = parse_export_hour(stream_slice["hour"])
        try:
            if "object" in stream_slice:
                location = self._source.location(stream_slice["object"])
                self._doing = f"downloading {location}"
                downloaded = self._next_download(stream_slice["object"])
                self._doing = f"reading {location}"
                try:
                    yield from self._read_object(downloaded, hour)
                finally:
                    downloaded.discard()
                self.state = self.state.after_object(hour, stream_slice["partition"], downloaded.obj.fingerprint)
        except BaseException:
            self.close()
            raise
        if stream_slice["ends_hour"]:
            self.state = self.state.after_hour(hour, self._now)
        self._doing = f"listing or reading after upload hour {export_hour(hour)}"

    def stop(self) -> Optional[str]:
        """Close everything (an interrupted sync); says what the read was doing, or None if idle."""
        doing, self._doing = self._doing, None
        self.close()
        return stopped_message(self._stream, doing, self.state.cursor, " and the objects read in its state")

    def close(self) -> None:
        if self._conversion:
            self._conversion.close()
        self._conversion = None
        self._queued.clear()
        self._pool.close()
        if self._downloads:
            self._downloads.close()
        self._downloads = None

    def _day_slices(self, day: date, hours: list[datetime]) -> Iterator[Mapping[str, Any]]:
        listing = by_hour(self._layout, self._list(day), set(hours))
        plan = {hour: self._objects_to_read(hour, listing.get(hour, {})) for hour in hours}
        assert self._downloads is not None
        self._downloads.add(obj for objects in plan.values() for _, obj in objects)
        for hour in hours:
            objects = plan[hour]
            for index, (partition, obj) in enumerate(objects):
                last = index == len(objects) - 1
                yield {"hour": export_hour(hour), "object": obj.uri, "partition": partition, "ends_hour": last}
            if not objects:
                yield {"hour": export_hour(hour), "ends_hour": True}

    def _list(self, day: date) -> Iterator[BucketObject]:
        for prefix in self._layout.day_prefixes(day):
            try:
                yield from self._store.list(prefix)
            except StoreError as error:
                raise store_failure(self._source, error) from None

    def _objects_to_read(self, hour: datetime, found: Mapping[int, BucketObject]) -> list[tuple[int, BucketObject]]:
        to_read = []
        late = []
        for partition in sorted(found):
            obj = found[partition]
            before = self.state.was_read(hour, partition)
            if before is None:
                if self.state.cursor is not None and hour <= self.state.cursor:
                    late.append(partition)
                to_read.append((partition, obj))
            elif before and before != obj.fingerprint:
                self._logger.warning(
                    f"{self._stream}: {self._source.location(obj.uri)} was written again with other content "
                    f"(fingerprint {before} -> {obj.fingerprint}); it is read again, and its rows replace the earlier "
                    f"ones by primary key {self._primary_key}."
                )
                to_read.append((partition, obj))
        if late:
            where = f" ({', '.join(self._source.location(found[n].uri) for n in late)})"
            warn_late(self._logger, self._stream, hour, late, self._now, where)
        return to_read

    def _next_download(self, key: str) -> Downloaded:
        assert self._downloads is not None
        location = self._source.location(key)
        try:
            downloaded = self._downloads.next()
        except StoreError as error:
            raise store_failure(self._source, error) from None
        except CutOff as error:
            raise AirbyteTracedException(
                message=f"{location} kept arriving cut off ({error}) after retries. Nothing from it on was saved; "
                "retry the sync later.",
                failure_type=FailureType.transient_error,
            ) from None
        except NotEnoughDisk as error:
            raise ConfigError(f"Not enough temporary disk to download {location}: {error}. Free disk space.") from None
        if downloaded.obj.uri != key:
            downloaded.discard()
            raise AssertionError(f"{self._stream}: expected {key}, got {downloaded.obj.uri}")
        return downloaded

    def _read_object(self, downloaded: Downloaded, hour: datetime) -> Iterator[Item]:
        obj = downloaded.obj
        started = time.monotonic()
        records = 0
        try:
            for item in self._records(downloaded):
                records += item.count if isinstance(item, RecordBatch) else 1
                yield item
            if self._conversion is not None:
                where = f"{self._source.location(obj.uri)} (upload hour {export_hour(hour)})"
                warn_repaired(self._logger, self._stream, where, self._conversion.take_repairs())
        except (ArchiveError, ValueError) as error:
            raise AirbyteTracedException(
                message=f"{self._source.location(obj.uri)} (upload hour {export_hour(hour)}) cannot be read: "
                f"{error}. Nothing from this object on was saved: the next sync starts with it again. If the object "
                "stays damaged, ask Amplitude to export that hour again (a backfill), or move start_date past it.",
                failure_type=FailureType.system_error,
            ) from error
        self._logger.info(
            f"{self._stream}: {self._source.location(obj.uri)}: {obj.size / 1e6:.1f} MB, {records} records; "
            f"download {downloaded.seconds:.1f} s, read {time.monotonic() - started:.1f} s"
        )

    def _records(self, downloaded: Downloaded) -> Iterable[Item]:
        if self._parse is not None:
            return self._parse(downloaded.path)
        if self._conversion is None:
            self._conversion = Conversion(self._stream, self._emit_batches, self._pool, self._disk)
        ahead = self._downloads.done_ahead() if self._downloads else []
        for ready in [downloaded, *ahead]:  # converted ahead, on the workers
            if ready.obj.uri not in self._queued:
                self._queued.add(ready.obj.uri)
                self._conversion.add(ready.obj.uri, Member(ready.path), ready.path.parent / "records")
        self._queued.discard(downloaded.obj.uri)
        return self._conversion.records(downloaded.obj.uri)
