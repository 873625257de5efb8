"""Full-refresh catalog streams: annotations, cohorts, events_list."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Optional

from airbyte_cdk.models import SyncMode

from source_amplitude.errors import DEFAULT_POLICY, Policy, skip
from source_amplitude.http import AmplitudeStream
from source_amplitude.parsers.catalog import annotation_v2_record, annotation_v3_record, events_list_record
from source_amplitude.parsers.common import Record, object_items

ANNOTATIONS_V3_PATH = "3/annotations"
ANNOTATIONS_V2_PATH = "2/annotations"


class Cohorts(AmplitudeStream):
    name = "cohorts"
    primary_key = "id"

    def path(self, **_: Any) -> str:
        return "3/cohorts"

    def parse_body(self, body: Any, stream_slice: Mapping[str, Any]) -> Iterable[Record]:
        return object_items(body, "cohorts")


class EventsList(AmplitudeStream):
    primary_key = "id"

    name = "events_list"

    def path(self, **_: Any) -> str:
        return "2/events/list"

    def parse_body(self, body: Any, stream_slice: Mapping[str, Any]) -> Iterable[Record]:
        return [events_list_record(item) for item in object_items(body, "data")]


class Annotations(AmplitudeStream):
    """v3 first; Amplitude replaced v2 in Dec 2025 but a project that does not serve v3 answers 404 there, and then
    the v2 endpoint the official connector reads is used instead (docs/amplitude-api-notes.md)."""

    name = "annotations"
    primary_key = "id"
    policy: ClassVar[Policy] = DEFAULT_POLICY.but({404: skip()})  # not served: the next version is tried

    def stream_slices(self, **_: Any) -> Iterable[Optional[Mapping[str, Any]]]:
        return [{"path": ANNOTATIONS_V3_PATH}]

    def path(self, stream_slice: Optional[Mapping[str, Any]] = None, **_: Any) -> str:
        return str((stream_slice or {}).get("path", ANNOTATIONS_V3_PATH))

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[list[str]] = None,
        stream_slice: Optional[Mapping[str, Any]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Record]:
        for path in (ANNOTATIONS_V3_PATH, ANNOTATIONS_V2_PATH):
            response = self.send({"path": path}, stream_state)
            if not self.skipped(response):
                yield from self.parse_response(response, stream_slice={"path": path})
                return
            self.logger.info(f"annotations: {path} is not served for this project, trying the next version")
        self.logger.warning("annotations: neither /api/3/annotations nor /api/2/annotations is served; no records")

    def parse_body(self, body: Any, stream_slice: Mapping[str, Any]) -> Iterable[Record]:
        to_record = annotation_v3_record if stream_slice.get("path") == ANNOTATIONS_V3_PATH else annotation_v2_record
        return [to_record(item) for item in object_items(body, "data")]
