"""events and merged_ids read from the files Amplitude exports to the customer's bucket. The read itself (listing,
downloads ahead, conversion, exactly-once by object) is bucket/read.py; these classes only declare the streams."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from datetime import datetime
from pathlib import Path
from typing import Any, Optional, Union

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.sources.streams.core import StreamData

from source_amplitude.bucket.layout import FileLayout, events_layout, merged_ids_layout
from source_amplitude.bucket.read import BucketRead
from source_amplitude.bucket.store import ObjectStore
from source_amplitude.config import AmplitudeConfig, BucketSource
from source_amplitude.parsers.merged_ids import merged_id_record
from source_amplitude.pipeline.hours import HOUR, floor_hour
from source_amplitude.pipeline.members import Member
from source_amplitude.pipeline.raw_read import ParseFile
from source_amplitude.pipeline.reads import cursor_in_future, load_state
from source_amplitude.pipeline.state import parse_bucket_state
from source_amplitude.record_batch import RecordBatch


class BucketFileStream(Stream):
    """An incremental stream over one owner's hourly files (FileLayout)."""

    cursor_field: Union[str, list[str]] = "server_upload_time"
    source_defined_cursor = True

    def __init__(
        self,
        config: AmplitudeConfig,
        source: BucketSource,
        store: ObjectStore,
        now: datetime,
        layout: FileLayout,
        emit_batches: bool = False,
        parse: ParseFile = None,
    ) -> None:
        super().__init__()
        self._config = config
        self._now = now
        self._read = BucketRead(
            self.name, self.primary_key, layout, source, store, now, emit_batches, parse, self.logger
        )

    @property
    def state(self) -> MutableMapping[str, Any]:
        return self._read.state.as_dict()

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        self._read.state = load_state(self.name, parse_bucket_state, value)

    def stream_slices(
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[list[str]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Optional[Mapping[str, Any]]]:
        if cursor_in_future(self.logger, self.name, self._read.state.cursor, self._now):
            return
        last_hour = floor_hour(self._now) - HOUR  # files land minutes after their hour; late ones are listed again
        yield from self._read.slices(floor_hour(self._config.start_date), last_hour)

    def read_records(  # type: ignore[override]  # it may also yield RecordBatch: see record_batch.py
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[list[str]] = None,
        stream_slice: Optional[Mapping[str, Any]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Union[StreamData, RecordBatch]]:
        assert stream_slice is not None
        yield from self._read.read_slice(stream_slice)

    def stop_reading(self) -> Optional[str]:
        """Close whatever this read holds (an interrupted sync); says what it was doing, or None if idle."""
        return self._read.stop()


class BucketEvents(BucketFileStream):
    """events from the bucket: the same records as the Export API mode (streams/events.py), field for field."""

    name = "events"
    primary_key = "uuid"

    def __init__(
        self, config: AmplitudeConfig, source: BucketSource, store: ObjectStore, now: datetime, emit_batches: bool
    ) -> None:
        layout = events_layout(source.path_prefix, source.project_id)
        super().__init__(config, source, store, now, layout, emit_batches)


def merged_id_records(path: Path) -> Iterator[StreamData]:
    for lines in Member(path).lines():
        yield from map(merged_id_record, lines)


class MergedIds(BucketFileStream):
    """merged_ids: which Amplitude ids were merged into which (files -<org_id>_<YYYY-MM-DD>_<H>.json.gz)."""

    name = "merged_ids"
    primary_key = ["amplitude_id", "merged_amplitude_id"]
    cursor_field = "merge_server_time"

    def __init__(self, config: AmplitudeConfig, source: BucketSource, store: ObjectStore, now: datetime) -> None:
        assert source.org_id is not None
        layout = merged_ids_layout(source.path_prefix, source.org_id)
        super().__init__(config, source, store, now, layout, parse=merged_id_records)
