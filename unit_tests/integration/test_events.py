"""events through the real entry point with mocked HTTP: the recorded archive, the recorded 404, a 403."""

from __future__ import annotations

from datetime import datetime, timezone

from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse

from unit_tests.integration.builders import amplitude_error, config, failure_types, request, run
from unit_tests.recordings import recorded, recorded_path

# At 15:30 UTC the last complete upload hour is 11:00, the hour of the recorded archive.
NOW = datetime(2026, 6, 16, 15, 30, tzinfo=timezone.utc)
START = "2026-06-16T11:00:00Z"
ONE_HOUR = {"start": "20260616T11", "end": "20260616T11"}


def test_given_the_recorded_archive_when_read_then_three_reshaped_events_and_hourly_state() -> None:
    body = recorded_path("export_200.body.zip").read_bytes()
    with HttpMocker() as http:
        http.get(request("2/export", ONE_HOUR), HttpResponse(body, 200, {"Content-Type": "application/zip"}))
        output = run("events", SyncMode.incremental, cfg=config(start_date=START), now=NOW)
    records = [r.record.data for r in output.records]
    assert records[0]["uuid"] == "dce23c5f-7e0e-47df-b6ea-632fdb1084c2"
    assert len(records) == 3
    assert records[0]["client_event_time"] == "2026-06-16T11:57:13.345000+00:00"
    assert output.most_recent_state.stream_state.__dict__ == {
        "server_upload_time": "20260616T11",
        "state_version": 2,
        "pending_hours": {},
    }


def test_given_the_recorded_404_when_read_then_no_records_and_state_moves_on() -> None:
    body = recorded("export_404.json")
    envelope = recorded_path(body["body"]).read_text()
    with HttpMocker() as http:
        http.get(request("2/export", ONE_HOUR), HttpResponse(envelope, 404))
        output = run("events", SyncMode.incremental, cfg=config(start_date=START), now=NOW)
    assert output.records == []
    assert output.most_recent_state.stream_state.__dict__["server_upload_time"] == "20260616T11"


def test_given_403_when_read_events_then_config_error_and_no_state() -> None:
    with HttpMocker() as http:
        http.get(request("2/export", ONE_HOUR), amplitude_error(403, "Forbidden", "Invalid API/Secret Key combination"))
        output = run("events", SyncMode.incremental, cfg=config(start_date=START), now=NOW, expect_failure=True)
    assert failure_types(output) == [FailureType.config_error]
    assert output.state_messages == []
