"""A full-refresh stream reads everything on every sync, whatever state the client hands back.

PyAirbyte stores every STATE it sees and passes all of it to the next read, including the CDK's
`{"__ab_full_refresh_sync_complete": true}`; a stream that treated that as "already done" would never refresh."""

from __future__ import annotations

from typing import Any

import pytest
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.mocked_http.builders import json_response, request, run

LEFT_BY_AN_EARLIER_SYNC: list[dict[str, Any]] = [
    {"__ab_full_refresh_sync_complete": True},
    {"__ab_no_cursor_state_message": True},
]


@pytest.mark.parametrize("state", LEFT_BY_AN_EARLIER_SYNC)
@pytest.mark.parametrize(
    ("stream", "path", "query", "body"),
    [
        ("cohorts", "3/cohorts", None, {"cohorts": [{"id": "c1"}]}),
        ("events_list", "2/events/list", None, {"data": [{"id": 1, "value": "x"}]}),
        ("annotations", "3/annotations", None, {"data": [{"id": 7, "start": "2026-09-01T00:00:00", "label": "x"}]}),
        ("event_categories", "2/taxonomy/category", None, {"success": True, "data": [{"id": 3, "name": "c"}]}),
        ("event_types", "2/taxonomy/event", {"showDeleted": "true"}, {"success": True, "data": [{"event_type": "e"}]}),
    ],
)
def test_given_the_state_an_earlier_sync_left_when_read_full_refresh_then_every_record_again(
    stream: str, path: str, query: dict[str, str] | None, body: dict[str, Any], state: dict[str, Any]
) -> None:
    with HttpMocker() as http:
        http.get(request(path, query), json_response(body))
        output = run(stream, stream_state=state)
    assert len(output.records) == 1
