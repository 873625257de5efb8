"""What every stream of raw-event files declares the same way, whichever source reads them (export/read.py,
bucket/read.py): its state is its read's, a slice is what its read plans, and an interrupted sync asks the read
what it was doing. The classes that use it (streams/events.py, streams/bucket_files.py) say only where the files
come from."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Optional, Protocol, Union

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams.core import StreamData

from source_amplitude.config import AmplitudeConfig
from source_amplitude.pipeline.hours import floor_hour
from source_amplitude.pipeline.ledger import Ledger
from source_amplitude.pipeline.read_messages import cursor_in_future
from source_amplitude.pipeline.record_batch import RecordBatch


class FilesRead(Protocol):
    """A read of raw-event files: its state, its slices and each slice's records."""

    state: Any

    def slices(self, start: datetime, last_hour: datetime) -> Iterator[Mapping[str, Any]]: ...

    def read_slice(self, stream_slice: Mapping[str, Any]) -> Iterator[Any]: ...

    def stop(self) -> Optional[str]: ...

    def use_ledger(self, ledger: Ledger) -> None: ...


class RawEventsStream:
    """Mixed into a CDK stream; `_read`, `_config`, `_now` and `_parse_state` are set by the class."""

    name: str
    logger: Any
    _read: FilesRead
    _config: AmplitudeConfig
    _now: datetime

    def last_hour(self) -> datetime:
        """The newest upload hour this sync may read."""
        raise NotImplementedError

    def stream_slices(
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[list[str]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Optional[Mapping[str, Any]]]:
        if cursor_in_future(self.logger, self.name, self._read.state.cursor, self._now):
            return
        yield from self._read.slices(floor_hour(self._config.start_date), self.last_hour())

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[list[str]] = None,
        stream_slice: Optional[Mapping[str, Any]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Union[StreamData, RecordBatch]]:
        assert stream_slice is not None
        yield from self._read.read_slice(stream_slice)

    def keep_ledger(self, source: str, environ: Mapping[str, str]) -> None:
        """events_ledger is in the catalog: a row after each part this stream reads (pipeline/ledger.py)."""
        self._read.use_ledger(Ledger.for_sync(self.name, source, environ))

    def stop_reading(self) -> Optional[str]:
        """Close whatever this read holds (an interrupted sync); says what it was doing, or None if idle."""
        return self._read.stop()
