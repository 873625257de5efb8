"""events_ledger: declared here, written by the events streams' reads (pipeline/ledger.py): a ledger row is emitted
right after its part's records, in the events stream's turn, so this stream's own turn emits nothing. The source
reads it after the events streams (source.py), so that no ledger row comes after this stream's own end."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Optional

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.sources.streams.core import StreamData

from source_amplitude.pipeline.ledger import LEDGER_STREAM

ALONE_MESSAGE = (
    "events_ledger describes the files the events stream reads in the same sync, and events is not selected: it has "
    "no rows this sync. Select events too."
)


class EventsLedger(Stream):
    name = LEDGER_STREAM
    primary_key = ["stream", "upload_hour", "part"]
    cursor_field = "read_at"
    source_defined_cursor = True

    def __init__(self, with_events: bool = True) -> None:
        super().__init__()
        self._with_events = with_events

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[list[str]] = None,
        stream_slice: Optional[Mapping[str, Any]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[StreamData]:
        if not self._with_events:
            self.logger.warning(ALONE_MESSAGE)
        return []
