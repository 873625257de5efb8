from __future__ import annotations

import pytest
from airbyte_cdk.test.mock_http import HttpMocker

from test_support.recordings import recorded
from unit_tests.mocked_http.builders import json_response, request, run

STREAMS = [
    ("event_types", "2/taxonomy/event", {"showDeleted": "true"}, "taxonomy_event_types.json"),
    ("event_properties", "2/taxonomy/event-property", {"showDeleted": "true"}, "taxonomy_event_properties.json"),
    ("user_properties", "2/taxonomy/user-property", {"showDeleted": "true"}, "taxonomy_user_properties.json"),
    ("event_categories", "2/taxonomy/category", None, "taxonomy_categories.json"),
]


@pytest.mark.parametrize(("stream", "path", "query", "answer"), STREAMS)
def test_given_recorded_answer_when_read_then_every_item_is_a_record(
    stream: str, path: str, query: dict[str, str] | None, answer: str
) -> None:
    body = recorded(answer)["body"]
    with HttpMocker() as http:
        http.get(request(path, query), json_response(body))
        output = run(stream)
    assert len(output.records) == len(body["data"])
    first = {k: v for k, v in body["data"][0].items() if v is not None}  # the CDK leaves top-level nulls out
    assert {k: v for k, v in output.records[0].record.data.items() if k != "event_type_key"} == first


@pytest.mark.parametrize(("stream", "path", "query", "answer"), STREAMS)
def test_given_no_taxonomy_access_when_read_then_the_stream_is_skipped_with_a_warning(
    stream: str, path: str, query: dict[str, str] | None, answer: str
) -> None:
    refused = {"success": False, "errors": [{"message": "Taxonomy is not enabled for this project."}]}
    with HttpMocker() as http:
        http.get(request(path, query), json_response(refused, 400))
        output = run(stream)
    assert output.records == [] and output.errors == []
    warnings = [log.log.message for log in output.logs if log.log.level.value == "WARN"]
    assert any("Taxonomy is not enabled for this project." in w and stream in w for w in warnings)


def test_given_shared_and_event_specific_properties_when_read_then_the_primary_key_is_never_null() -> None:
    body = recorded("taxonomy_event_properties.json")["body"]
    with HttpMocker() as http:
        http.get(request("2/taxonomy/event-property", {"showDeleted": "true"}), json_response(body))
        output = run("event_properties")
    keys = [(r.record.data["event_type_key"], r.record.data["event_property"]) for r in output.records]
    # Amplitude sends event_type null for a property shared by every event type; a null key column defeats dedup
    assert keys[0] == ("", "test_restore_property_on_event")
    assert keys[-1] == ("TestEventForRestore", "test_property_ingest")
    assert "event_type" not in output.records[0].record.data  # kept as sent: null (the CDK drops top-level nulls)
    assert output.records[-1].record.data["event_type"] == "TestEventForRestore"
