"""The event taxonomy (docs/amplitude-api-notes.md): event_types, event_properties, user_properties, event_categories.

Answers are {"success": true, "data": [...]}. A plan or key without taxonomy access answers a 4xx with
{"success": false, "errors": [{"message": ...}]}: that stream is skipped with a WARN quoting Amplitude, and the sync
goes on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Union

from source_amplitude.errors import DEFAULT_POLICY, Policy, skip
from source_amplitude.http import AmplitudeStream
from source_amplitude.parsers.catalog import taxonomy_record
from source_amplitude.parsers.common import Record, object_items

TAXONOMY_REFUSED = "skipped, Amplitude refused the taxonomy API (HTTP {status}): {detail}"
NO_ACCESS = skip(TAXONOMY_REFUSED)
NO_ACCESS_POLICY = DEFAULT_POLICY.but({400: NO_ACCESS, 401: NO_ACCESS, 403: NO_ACCESS, 404: NO_ACCESS})


class TaxonomyStream(AmplitudeStream):
    policy: ClassVar[Policy] = NO_ACCESS_POLICY
    taxonomy_path: ClassVar[str]
    include_deleted: ClassVar[bool] = True

    def path(self, **_: Any) -> str:
        return f"2/taxonomy/{self.taxonomy_path}"

    def query_params(self, stream_slice: Mapping[str, Any]) -> Mapping[str, str]:
        return {"showDeleted": "true"} if self.include_deleted else {}

    def parse_body(self, body: Any, stream_slice: Mapping[str, Any]) -> Iterable[Record]:
        return [self.record(taxonomy_record(item)) for item in object_items(body, "data")]

    def record(self, item: Record) -> Record:
        return item


class EventTypes(TaxonomyStream):
    primary_key = "event_type"
    name = "event_types"
    taxonomy_path = "event"


class EventProperties(TaxonomyStream):
    primary_key: ClassVar[Union[str, list[str]]] = ["event_type_key", "event_property"]
    name = "event_properties"
    taxonomy_path = "event-property"

    def record(self, item: Record) -> Record:
        # A property shared by every event type comes with event_type null (recorded/taxonomy_event_properties.json).
        # The key column says "" instead, so that destinations can dedupe on it (NULL never equals NULL in SQL).
        return {**item, "event_type_key": item.get("event_type") or ""}


class UserProperties(TaxonomyStream):
    primary_key = "user_property"
    name = "user_properties"
    taxonomy_path = "user-property"


class EventCategories(TaxonomyStream):
    primary_key = "id"
    name = "event_categories"
    taxonomy_path = "category"
    include_deleted = False
