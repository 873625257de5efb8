"""events and merged_ids read from the files Amplitude exports to the customer's bucket (bucket/).

Exactly once by object. A sync lists, one UTC day at a time, the hours it has not finished (pipeline/state.py: hours
after the cursor, and hours still in their grace period), and reads every object not read before, in upload-hour and
partition order. One slice per object, so STATE follows every object and a kill re-emits at most the object in
progress; the last slice of an hour (or the only one, for an hour with nothing new) also finishes the hour. While an
object is read, the next ones download (bucket/downloads.py)."""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from datetime import date, datetime
from itertools import groupby
from typing import Any, Optional, Union

from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_amplitude.bucket.downloads import CutOff, Downloaded, ObjectDownloads
from source_amplitude.bucket.layout import BucketObject, FileLayout, by_hour, events_layout, merged_ids_layout
from source_amplitude.bucket.messages import problem_message
from source_amplitude.bucket.store import ObjectStore, Problem, StoreError
from source_amplitude.config import AmplitudeConfig, BucketSource, ConfigError
from source_amplitude.http import JitteredBackoff
from source_amplitude.parsers.merged_ids import merged_id_record
from source_amplitude.pipeline.conversion import Conversion
from source_amplitude.pipeline.convert_pool import ConvertPool
from source_amplitude.pipeline.gzip_lines import ArchiveError
from source_amplitude.pipeline.hours import HOUR, export_hour, floor_hour, parse_export_hour
from source_amplitude.pipeline.members import Member
from source_amplitude.pipeline.reads import cursor_in_future, load_state, stopped_message
from source_amplitude.pipeline.scratch import DiskBudget, NotEnoughDisk, remove_stale_work_dirs
from source_amplitude.pipeline.state import BucketState, parse_bucket_state
from source_amplitude.record_batch import RecordBatch
from source_amplitude.settings import BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS

CONFIG_PROBLEMS = {Problem.MISSING_BUCKET, Problem.DENIED, Problem.CREDENTIALS, Problem.WRONG_REGION}


def download_backoff(attempt: int) -> float:
    return JitteredBackoff(BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS).backoff_time(None, attempt) or 1.0


def store_failure(source: BucketSource, error: StoreError) -> AirbyteTracedException:
    failure = FailureType.transient_error
    if error.problem in CONFIG_PROBLEMS:
        failure = FailureType.config_error
    elif error.problem is Problem.OTHER:
        failure = FailureType.system_error
    message = problem_message(source, error)
    return AirbyteTracedException(message=message, internal_message=message, failure_type=failure)


class BucketFileStream(Stream):
    """An incremental stream over one owner's hourly files (FileLayout)."""

    cursor_field: Union[str, list[str]] = "server_upload_time"
    source_defined_cursor = True

    def __init__(self, config: AmplitudeConfig, source: BucketSource, store: ObjectStore, now: datetime) -> None:
        self._config = config
        self._source = source
        self._store = store
        self._now = now
        self._last_hour = floor_hour(now) - HOUR  # files land minutes after their hour; late ones are listed again
        self._state = BucketState()
        self._downloads: Optional[ObjectDownloads] = None
        self._disk = DiskBudget()  # one per read: downloads and converted files
        self._doing: Optional[str] = None  # what the read is doing, for an interruption's message
        super().__init__()

    @property
    @abstractmethod
    def layout(self) -> FileLayout: ...

    @abstractmethod
    def records(self, downloaded: Downloaded, hour: datetime) -> Iterator[Union[StreamData, RecordBatch]]: ...


    @property
    def state(self) -> MutableMapping[str, Any]:
        return self._state.as_dict()

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        self._state = load_state(self.name, parse_bucket_state, value)

    def stream_slices(
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[list[str]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Optional[Mapping[str, Any]]]:
        start = floor_hour(self._config.start_date)
        self._state = self._state.without_before(start)
        if cursor_in_future(self.logger, self.name, self._state.cursor, self._now):
            return
        hours = self._state.hours_to_list(start, self._last_hour)
        remove_stale_work_dirs()  # left by a killed run of this connector
        self._downloads = ObjectDownloads(self._store, self.logger, download_backoff, self._disk)
        try:
            for day, day_hours in groupby(hours, key=lambda hour: hour.date()):
                yield from self._day_slices(day, list(day_hours))
        finally:
            self._close_downloads()
            self._doing = None

    def _day_slices(self, day: date, hours: list[datetime]) -> Iterator[Mapping[str, Any]]:
        listing = by_hour(self.layout, self._list(day), set(hours))
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
        for prefix in self.layout.day_prefixes(day):
            try:
                yield from self._store.list(prefix)
            except StoreError as error:
                raise store_failure(self._source, error) from None

    def _objects_to_read(self, hour: datetime, found: Mapping[int, BucketObject]) -> list[tuple[int, BucketObject]]:
        to_read = []
        for partition in sorted(found):
            obj = found[partition]
            before = self._state.was_read(hour, partition)
            if before is None:
                if self._state.cursor is not None and hour <= self._state.cursor:
                    late = (self._now - hour - HOUR).total_seconds() / 3600
                    self.logger.warning(
                        f"{self.name}: {self._source.location(obj.uri)} (upload hour {export_hour(hour)}) arrived "
                        f"late: it turned up {late:.0f} h after the hour ended (since the previous sync); read now."
                    )
                to_read.append((partition, obj))
            elif before and before != obj.fingerprint:
                self.logger.warning(
                    f"{self.name}: {self._source.location(obj.uri)} was written again with other content (fingerprint "
                    f"{before} -> {obj.fingerprint}); it is read again, and its rows replace the earlier ones by "
                    f"primary key {self.primary_key}."
                )
                to_read.append((partition, obj))
        return to_read

    def read_records(  # type: ignore[override]  # it may also yield RecordBatch: see record_batch.py
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[list[str]] = None,
        stream_slice: Optional[Mapping[str, Any]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Union[StreamData, RecordBatch]]:
        assert stream_slice is not None
        hour = parse_export_hour(stream_slice["hour"])
        try:
            if "object" in stream_slice:
                self._doing = f"downloading {self._source.location(stream_slice['object'])}"
                downloaded = self._next_download(stream_slice["object"])
                self._doing = f"reading {self._source.location(stream_slice['object'])}"
                try:
                    yield from self._read_object(downloaded, hour)
                finally:
                    downloaded.discard()
                self._state = self._state.after_object(hour, stream_slice["partition"], downloaded.obj.fingerprint)
        except BaseException:
            self._close_downloads()
            raise
        if stream_slice["ends_hour"]:
            self._state = self._state.after_hour(hour, self._now)
        self._doing = f"listing or reading after upload hour {export_hour(hour)}"

    def stop_reading(self) -> Optional[str]:
        """Close whatever this read holds (an interrupted sync); says what it was doing, or None if idle."""
        doing, self._doing = self._doing, None
        self._close_downloads()
        return stopped_message(self.name, doing, self._state.cursor, " and the objects read in its state")

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
            raise AssertionError(f"{self.name}: expected {key}, got {downloaded.obj.uri}")
        return downloaded

    def _read_object(self, downloaded: Downloaded, hour: datetime) -> Iterator[Union[StreamData, RecordBatch]]:
        obj = downloaded.obj
        started = time.monotonic()
        records = 0
        try:
            for item in self.records(downloaded, hour):
                records += item.count if isinstance(item, RecordBatch) else 1
                yield item
        except (ArchiveError, ValueError) as error:
            raise AirbyteTracedException(
                message=f"{self._source.location(obj.uri)} (upload hour {export_hour(hour)}) cannot be read: "
                f"{error}. Nothing from this object on was saved: the next sync starts with it again. If the object "
                "stays damaged, ask Amplitude to export that hour again (a backfill), or move start_date past it.",
                failure_type=FailureType.system_error,
            ) from error
        self.logger.info(
            f"{self.name}: {self._source.location(obj.uri)}: {obj.size / 1e6:.1f} MB, {records} records; download "
            f"{downloaded.seconds:.1f} s, read {time.monotonic() - started:.1f} s"
        )

    def _close_downloads(self) -> None:
        if self._downloads:
            self._downloads.close()
        self._downloads = None


class BucketEvents(BucketFileStream):
    """events from the bucket: the same records as the Export API mode (streams/events.py), field for field."""

    name = "events"
    primary_key = "uuid"

    def __init__(
        self, config: AmplitudeConfig, source: BucketSource, store: ObjectStore, now: datetime, emit_batches: bool
    ) -> None:
        super().__init__(config, source, store, now)
        self._emit_batches = emit_batches
        self._layout = events_layout(source.path_prefix, source.project_id)
        self._pool = ConvertPool()
        self._conversion: Optional[Conversion] = None
        self._queued: set[str] = set()  # objects handed to the workers, not printed yet

    @property
    def layout(self) -> FileLayout:
        return self._layout

    def records(self, downloaded: Downloaded, hour: datetime) -> Iterator[Union[StreamData, RecordBatch]]:
        if self._conversion is None:
            self._conversion = Conversion(self.name, self._emit_batches, self._pool, self._disk)
        for ready in [downloaded, *self._downloads_done_ahead()]:  # converted ahead, on the workers
            if ready.obj.uri not in self._queued:
                self._queued.add(ready.obj.uri)
                self._conversion.add(ready.obj.uri, Member(ready.path), ready.path.parent / "records")
        self._queued.discard(downloaded.obj.uri)
        yield from self._conversion.records(downloaded.obj.uri)

    def _downloads_done_ahead(self) -> list[Downloaded]:
        return self._downloads.done_ahead() if self._downloads else []

    def _close_downloads(self) -> None:
        if self._conversion:
            self._conversion.close()
        self._conversion = None
        self._queued.clear()
        self._pool.close()
        super()._close_downloads()


class MergedIds(BucketFileStream):
    """merged_ids: which Amplitude ids were merged into which (files -<org_id>_<YYYY-MM-DD>_<H>.json.gz)."""

    name = "merged_ids"
    primary_key = ["amplitude_id", "merged_amplitude_id"]
    cursor_field = "merge_server_time"

    def __init__(self, config: AmplitudeConfig, source: BucketSource, store: ObjectStore, now: datetime) -> None:
        super().__init__(config, source, store, now)
        assert source.org_id is not None
        self._layout = merged_ids_layout(source.path_prefix, source.org_id)

    @property
    def layout(self) -> FileLayout:
        return self._layout

    def records(self, downloaded: Downloaded, hour: datetime) -> Iterator[Union[StreamData, RecordBatch]]:
        for lines in Member(downloaded.path).lines():
            yield from map(merged_id_record, lines)
