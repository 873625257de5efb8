"""events and merged_ids read from the files Amplitude exports to the customer's bucket. The read itself (listing,
downloads ahead, conversion, exactly-once by object) is bucket/read.py; these classes only declare the streams."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Union

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
from source_amplitude.state.events import parse_bucket_state
from source_amplitude.state.protocol import state_property
from source_amplitude.streams.raw_events import RawEventsStream


class BucketFileStream(RawEventsStream, Stream):  # type: ignore[misc]  # read_records may yield RecordBatch
    """An incremental stream over one owner's hourly files (FileLayout)."""

    cursor_field: Union[str, list[str]] = "server_upload_time"
    source_defined_cursor = True
    state = state_property("_read.state", parse_bucket_state)

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

    def last_hour(self) -> datetime:
        return floor_hour(self._now) - HOUR  # files land minutes after their hour; late ones are listed again


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
