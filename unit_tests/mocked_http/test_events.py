"""events through the real entry point with mocked HTTP: the recorded archive, the recorded 404, a 403."""

from __future__ import annotations

import gzip
import io
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse

from test_support.recordings import recorded, recorded_path
from unit_tests.mocked_http.builders import (
    amplitude_error,
    config,
    failure_types,
    request,
    run,
    stream_error_messages,
)

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


def zip_with(members: dict[str, bytes]) -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return sink.getvalue()


def test_given_a_member_named_otherwise_when_read_then_the_message_names_it_and_the_expected_form() -> None:
    body = zip_with({"829528/829528_2026-06-16_11#0.json.gz": gzip.compress(b'{"uuid":"u"}\n'), "829528/x.csv": b""})
    with HttpMocker() as http:
        http.get(request("2/export", ONE_HOUR), HttpResponse(body, 200, {"Content-Type": "application/zip"}))
        output = run("events", SyncMode.incremental, cfg=config(start_date=START), now=NOW, expect_failure=True)
    (message,) = stream_error_messages(output)
    assert "'829528/x.csv'" in message and "<app>/<app>_<YYYY-MM-DD>_<H>#<n>.json.gz" in message
    assert "Something went wrong" not in message
    assert output.records == [] and not output.state_messages


def test_given_an_archive_that_also_holds_an_earlier_hour_then_each_hour_gets_only_its_own_events() -> None:
    """Asked for 11..12, Amplitude also sends 10: hour 11 must not get 10's events, and 12 must not be dropped."""
    body = zip_with(
        {
            "829528/829528_2026-06-16_10#0.json.gz": gzip.compress(b'{"uuid":"ten"}\n'),
            "829528/829528_2026-06-16_11#0.json.gz": gzip.compress(b'{"uuid":"eleven"}\n'),
            "829528/829528_2026-06-16_12#0.json.gz": gzip.compress(b'{"uuid":"twelve"}\n'),
        }
    )
    with HttpMocker() as http:
        http.get(
            request("2/export", {"start": "20260616T11", "end": "20260616T12"}),
            HttpResponse(body, 200, {"Content-Type": "application/zip"}),
        )
        output = run("events", SyncMode.incremental, cfg=config(start_date=START), now=NOW + timedelta(hours=1))
    assert [r.record.data["uuid"] for r in output.records] == ["eleven", "twelve"]
    assert output.most_recent_state.stream_state.__dict__["server_upload_time"] == "20260616T12"
    assert output.most_recent_state.stream_state.__dict__["pending_hours"] == {}


def test_given_a_cursor_later_than_now_then_a_warning_and_nothing_is_read() -> None:
    future = {"server_upload_time": "20270101T00", "state_version": 2, "pending_hours": {}}
    with HttpMocker():
        output = run("events", SyncMode.incremental, cfg=config(start_date=START), now=NOW, stream_state=future)
    assert output.records == []
    warnings = [m.log.message for m in output.logs if m.log.level.value == "WARN"]
    assert any("20270101T00" in w and "later than now" in w for w in warnings)


@pytest.mark.parametrize(
    ("state", "fragment"),
    [
        ({"server_upload_time": "soon"}, "server_upload_time is 'soon', not an upload hour"),
        ({"server_upload_time": "20260616T11", "window_hours": -3}, "window_hours is -3"),
    ],
)
def test_given_an_unusable_events_state_then_a_config_error_naming_the_stream_and_the_fix(
    state: dict[str, object], fragment: str
) -> None:
    with HttpMocker():
        output = run(
            "events",
            SyncMode.incremental,
            cfg=config(start_date=START),
            now=NOW,
            stream_state=state,
            expect_failure=True,
        )
    (message,) = stream_error_messages(output)
    assert failure_types(output) == [FailureType.config_error]
    assert "The saved state of the events stream cannot be used" in message and fragment in message
    assert "Clear (reset) the events stream" in message


def test_given_a_200_with_an_empty_zip_then_the_hour_has_no_data_yet_and_stays_pending() -> None:
    with HttpMocker() as http:
        http.get(request("2/export", ONE_HOUR), HttpResponse(zip_with({}), 200, {"Content-Type": "application/zip"}))
        output = run("events", SyncMode.incremental, cfg=config(start_date=START), now=NOW)
    assert output.records == [] and not output.errors
    state = output.most_recent_state.stream_state.__dict__
    assert state["server_upload_time"] == "20260616T11" and state["pending_hours"] == {"20260616T11": []}


def test_no_hour_to_read_yet_says_which_hour_is_next_and_when_it_is_exported() -> None:
    with HttpMocker():
        output = run("events", SyncMode.incremental, cfg=config(start_date="2026-06-16T14:00:00Z"), now=NOW)
    assert output.records == [] and output.errors == []
    said = [m.log.message for m in output.logs if "no upload hour to read yet" in m.log.message]
    assert said and "20260616T14" in said[0] and "2026-06-16 18:00 UTC" in said[0]
