"""One bucket read of events or merged_ids, from listing to last checkpoint: the plug of the read skeleton
(pipeline/raw_read.py, which owns the downloads ahead, the conversion, the disk and the failures) that says what to
fetch (the listed objects the bucket state, state/events.py, has not read: bucket/downloads.py fetches one) and
what each object does to the state. streams/bucket_files.py only declares the streams and hands each slice here.

Exactly once by object, however late it is written. A sync lists every object from start_date's day on, and reads,
in upload-hour and partition order, each one the state does not cover (state/events.py, BucketState: by write
time, so a file written days late, or a backfill of history, is read whenever it comes). One slice per object, so
STATE follows every object and a kill re-emits at most the object in progress."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Optional

from source_amplitude.bucket.downloads import DownloadedObject, ObjectDownload
from source_amplitude.bucket.layout import BucketObject, FileLayout, by_hour
from source_amplitude.bucket.messages import store_failure
from source_amplitude.bucket.store import ObjectStore, StoreError
from source_amplitude.config import BucketSource
from source_amplitude.http import JitteredBackoff
from source_amplitude.pipeline.hours import HOUR, export_hour, parse_export_hour
from source_amplitude.pipeline.ledger import Ledger
from source_amplitude.pipeline.members import Member
from source_amplitude.pipeline.raw_read import Item, ParseFile, Part, RawRead, Tally
from source_amplitude.pipeline.read_messages import warn_repaired
from source_amplitude.settings import BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS
from source_amplitude.state.events import BucketState, Listed, Position

# The one line a late object gets (docs/amplitude.md quotes it).
LATE_OBJECT_MESSAGE = (
    "{stream}: {location} (upload hour {hour}, partition #{partition}) arrived late: written {late} after its hour "
    "ended, when later hours had been read already. It is read now."
)


def late_object_message(stream: str, location: str, listed: Listed) -> str:
    hours = (listed.written_at - listed.hour - HOUR).total_seconds() / 3600
    late = f"{hours:.0f} h" if hours < 72 else f"{hours / 24:.1f} days"
    return LATE_OBJECT_MESSAGE.format(
        stream=stream, location=location, hour=export_hour(listed.hour), partition=listed.partition, late=late
    )


def _listed(hour: datetime, partition: int, obj: BucketObject) -> Listed:
    return Listed(hour, partition, obj.fingerprint, obj.last_modified)


def _position(entry: tuple[Listed, BucketObject]) -> Position:
    return entry[0].position


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
        parse: ParseFile,
        logger: logging.Logger,
    ) -> None:
        self.state = BucketState()
        self._stream = stream
        self._primary_key = primary_key
        self._layout = layout
        self._source = source
        self._store = store
        self._now = now
        self._logger = logger
        self._raw: RawRead[BucketObject, DownloadedObject] = RawRead(stream, emit_batches, parse)
        self._listed: list[tuple[Listed, BucketObject]] = []  # this sync's listing, for the end of its sweep
        self._planned: dict[str, Listed] = {}  # the objects to read, by key
        self._last_hour = now

    def slices(self, start: datetime, last_hour: datetime) -> Iterator[Mapping[str, Any]]:
        self.state = self.state.without_before(start)
        self._last_hour = last_hour
        self._raw.doing = f"listing {self._source.location()}"
        listing = self._listing(start)
        self._listed = list(listing.values())
        if not listing:
            return
        self.state = self.state.sweeping(max(listed.written_at for listed, _ in listing.values()), self._now)
        in_order = sorted(listing.values(), key=_position)
        plan = [(listed, obj) for listed, obj in in_order if not self.state.has_read(listed)]
        self._planned = {obj.uri: listed for listed, obj in plan}
        self._say_plan(plan)
        downloads = ObjectDownload(self._store, self._logger, download_backoff, self._raw.disk)
        self._raw.start(iter([obj for _, obj in plan]), downloads.download, downloads.limit, "bucket-download")
        try:
            for index, (listed, obj) in enumerate(plan):
                following = plan[index + 1][0] if index + 1 < len(plan) else None
                yield {
                    "hour": export_hour(listed.hour),
                    "object": obj.uri,
                    "partition": listed.partition,
                    "ends_hour": following is None or following.hour != listed.hour,
                    "ends_sweep": following is None,
                }
            if not plan:
                yield {"ends_sweep": True}
        finally:
            self.close()
            self._raw.doing = None

    def read_slice(self, stream_slice: Mapping[str, Any]) -> Iterator[Item]:
        """The slice's object's records, then its checkpoint in `state` (and the hour's and the sweep's, if the
        slice ends them)."""
        try:
            if "object" in stream_slice:
                hour = parse_export_hour(stream_slice["hour"])
                location = self._source.location(stream_slice["object"])
                self._raw.doing = f"downloading {location}"
                downloaded = self._next_download(stream_slice["object"])
                self._raw.doing = f"reading {location}"
                try:
                    yield from self._read_object(downloaded, hour)
                finally:
                    self._raw.discard(downloaded)
                self.state = self.state.after_object(_listed(hour, stream_slice["partition"], downloaded.obj))
                if stream_slice["ends_hour"]:
                    self.state = self.state.after_hour(hour, self._last_hour)
                self._raw.doing = f"listing or reading after upload hour {export_hour(hour)}"
        except BaseException:
            self.close()
            raise
        if stream_slice["ends_sweep"]:
            self.state = self.state.after_sweep(listed for listed, _ in self._listed)

    def use_ledger(self, ledger: Ledger) -> None:
        self._raw.ledger = ledger

    def stop(self) -> Optional[str]:
        """Close everything (an interrupted sync); says what the read was doing, or None if idle."""
        return self._raw.stop(self.state.cursor, " and the objects read in its state")

    def close(self) -> None:
        self._raw.close()

    def _listing(self, start: datetime) -> dict[Position, tuple[Listed, BucketObject]]:
        """Every object of an upload hour from `start` on, by position. Two objects at one position (one in the
        owner's folder, one directly under the prefix) are one file written twice: the later one wins."""
        wanted: list[BucketObject] = []
        hours: set[datetime] = set()
        not_amplitude: list[str] = []
        before_start = 0
        for prefix, start_after in self._layout.listing_prefixes(start.date()):
            try:
                objects = list(self._store.list(prefix, start_after))
            except StoreError as error:
                raise store_failure(self._source, error) from None
            for obj in objects:
                found = self._layout.hour_and_partition(obj.uri)
                if found is None:
                    not_amplitude.append(obj.uri)
                elif found[0] < start:
                    before_start += 1
                else:
                    wanted.append(obj)
                    hours.add(found[0])
        listing = {
            (hour, partition): (_listed(hour, partition, obj), obj)
            for hour, partitions in by_hour(self._layout, wanted, hours).items()
            for partition, obj in partitions.items()
        }
        left_out = []
        if before_start:
            left_out.append(f"{before_start} of upload hours before start_date ({export_hour(start)})")
        if not_amplitude:
            left_out.append(
                f"{len(not_amplitude)} not named as Amplitude names its export files (such as "
                f"{self._source.location(not_amplitude[0])})"
            )
        self._logger.info(
            f"{self._stream}: {len(listing)} export file(s) of upload hours from {export_hour(start)} on listed under "
            f"{self._source.location()}"
            + (f"; not read: {', '.join(left_out)}" if left_out else "")
            + f" (files of days before {start:%Y-%m-%d} are not listed)"
        )
        return listing

    def _say_plan(self, plan: list[tuple[Listed, BucketObject]]) -> None:
        """One WARN per object of an upload hour the state had already passed: Amplitude wrote it late."""
        cursor = self.state.cursor
        for listed, obj in plan:
            if cursor is None or listed.hour > cursor:
                continue
            before = self.state.was_read(listed.hour, listed.partition)
            if before:
                self._logger.warning(
                    f"{self._stream}: {self._source.location(obj.uri)} was written again with other content "
                    f"(fingerprint {before} -> {obj.fingerprint}); it is read again, and its rows replace the earlier "
                    f"ones by primary key {self._primary_key}."
                )
                continue
            self._logger.warning(late_object_message(self._stream, self._source.location(obj.uri), listed))

    def _next_download(self, key: str) -> DownloadedObject:
        location = self._source.location(key)
        try:
            downloaded = self._raw.next(what=f"the download of {location}")
        except StoreError as error:
            raise store_failure(self._source, error) from None
        if downloaded.obj.uri != key:
            raise AssertionError(f"{self._stream}: expected {key}, got {downloaded.obj.uri}")
        return downloaded

    def _read_object(self, downloaded: DownloadedObject, hour: datetime) -> Iterator[Item]:
        obj = downloaded.obj
        where = self._source.location(obj.uri)
        started = time.monotonic()
        tally = Tally()
        # in the order they are read: this object, then those after it already on disk
        self._raw.convert(self._part(ready) for ready in [downloaded, *self._raw.ahead()])
        yield from self._raw.records(self._part(downloaded), tally)
        warn_repaired(self._logger, self._stream, f"{where} (upload hour {export_hour(hour)})", tally.repairs)
        self._logger.info(
            f"{self._stream}: {where}: {obj.size / 1e6:.1f} MB, {tally.records} records; "
            f"download {downloaded.seconds:.1f} s, read {time.monotonic() - started:.1f} s"
        )

    def _part(self, downloaded: DownloadedObject) -> Part:
        listed = self._planned[downloaded.obj.uri]
        where = self._source.location(downloaded.obj.uri)
        return Part(listed.hour, listed.partition, Member(downloaded.path), downloaded.obj.uri, where)
