"""Pure parts of the raw-events path: hours, state, shaping, archives (the recorded one and damaged ones)."""

from __future__ import annotations

import gzip
import io
import shutil
import zipfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import orjson
import pytest

from source_amplitude.export.archive import (
    ArchiveError,
    ArchiveReader,
    NotEnoughDisk,
    hours_in_archive,
    save_response,
    validate_archive,
)
from source_amplitude.export.hours import (
    ExportState,
    last_complete_hour,
    member_hour,
    parse_export_state,
)
from source_amplitude.export.shaping import parse_line, record_messages, rfc3339
from unit_tests.recordings import recorded_path

UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H").replace(tzinfo=UTC)


def test_last_complete_hour_leaves_the_export_delay() -> None:
    assert last_complete_hour(datetime(2026, 6, 16, 15, 30, tzinfo=UTC)) == at("2026-06-16T11")
    assert last_complete_hour(datetime(2026, 6, 16, 15, 0, tzinfo=UTC)) == at("2026-06-16T11")


@pytest.mark.parametrize(
    ("name", "hour", "partition"),
    [
        ("829528/829528_2026-06-16_11#0.json.gz", "2026-06-16T11", 0),
        ("374182/374182_2024-03-02_0#0.json.gz", "2024-03-02T00", 0),  # the hour is not zero-padded
        ("1/1_2024-03-02_23#12.json.gz", "2024-03-02T23", 12),
    ],
)
def test_member_names(name: str, hour: str, partition: int) -> None:
    assert member_hour(name) == (at(hour), partition)


def test_unknown_member_name_is_an_error() -> None:
    with pytest.raises(ValueError, match="unexpected member name"):
        member_hour("829528/readme.txt")


def test_our_state_round_trips() -> None:
    state = ExportState(at("2026-06-16T11"), 6)
    assert state.as_dict() == {"server_upload_time": "20260616T11", "state_version": 1, "window_hours": 6}
    assert parse_export_state(state.as_dict()) == state


@pytest.mark.parametrize(
    "official",
    ["2026-06-16 11:57:13.417000", "20260616T11", "2026-06-16T11:57:13.417000+00:00", "2026-06-16T11:00:00Z"],
)
def test_official_states_resume_two_hours_before_their_possibly_partial_hour(official: str) -> None:
    state = parse_export_state({"server_upload_time": official})
    assert state.last_exported_hour == at("2026-06-16T08")  # next hour read: 09, two before 11


def test_empty_and_invalid_states() -> None:
    assert parse_export_state({}) == ExportState()
    with pytest.raises(ValueError):
        parse_export_state({"server_upload_time": "yesterday"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-06-16 11:57:13.345000", "2026-06-16T11:57:13.345000+00:00"),
        ("2026-06-16 11:57:13", "2026-06-16T11:57:13+00:00"),
        ("2026-06-16T11:57:13+00:00", "2026-06-16T11:57:13+00:00"),
        (None, None),
        ("", ""),
    ],
)
def test_rfc3339(value: str | None, expected: str | None) -> None:
    assert rfc3339(value) == expected


def recorded_zip() -> Path:
    return recorded_path("export_200.body.zip")


def test_recorded_archive_reads_as_one_hour_of_three_events() -> None:
    path = recorded_zip()
    validate_archive(path)
    assert [h.hour for h in hours_in_archive(path)] == [at("2026-06-16T11")]
    reader = ArchiveReader(path)
    lines = [line for batch in reader.lines(at("2026-06-16T11")) for line in batch]
    reader.close()
    records = [parse_line(line) for line in lines]
    assert len(records) == 3
    assert records[0]["server_upload_time"] == "2026-06-16T11:57:13.417000+00:00"
    assert records[0]["user_creation_time"] is None  # nulls stay null
    assert records[0]["data"]["path"] == "/2/httpapi"  # objects stay objects
    assert records[0]["uuid"] == "dce23c5f-7e0e-47df-b6ea-632fdb1084c2"


def test_record_messages_are_airbyte_records_with_the_shaped_event() -> None:
    line = b'{"uuid":"u1","event_time":"2026-06-16 11:57:13.345000","event_properties":{"event_time":"keep me"}}'
    message = orjson.loads(record_messages([line], "events", 123))
    assert message == {
        "type": "RECORD",
        "record": {
            "stream": "events",
            "data": {
                "uuid": "u1",
                "event_time": "2026-06-16T11:57:13.345000+00:00",
                "event_properties": {"event_time": "keep me"},
            },
            "emitted_at": 123,
        },
    }


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_concatenated_gzip_members_and_partitions_are_read_in_order(tmp_path: Path) -> None:
    part0 = gzip.compress(b'{"n":1}\n') + gzip.compress(b'{"n":2}\n{"n":3}')  # no trailing newline at the end
    part1 = gzip.compress(b'{"n":4}\n')
    path = write_zip(tmp_path / "a.zip", {"9/9_2026-06-16_3#1.json.gz": part1, "9/9_2026-06-16_3#0.json.gz": part0})
    validate_archive(path)
    reader = ArchiveReader(path)
    assert [orjson.loads(x)["n"] for batch in reader.lines(at("2026-06-16T03")) for x in batch] == [1, 2, 3, 4]
    reader.close()


def test_a_body_that_is_not_a_zip_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "page.zip"
    path.write_bytes(b'{"error":"too many requests"}')
    with pytest.raises(ArchiveError, match="not a zip"):
        validate_archive(path)


def test_a_truncated_zip_is_rejected(tmp_path: Path) -> None:
    full = write_zip(tmp_path / "full.zip", {"9/9_2026-06-16_3#0.json.gz": gzip.compress(b'{"n":1}\n' * 1000)})
    cut = tmp_path / "cut.zip"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(ArchiveError):
        validate_archive(cut)


def test_a_truncated_gzip_member_fails_the_hour(tmp_path: Path) -> None:
    data = gzip.compress(b'{"n":1}\n' * 1000)
    path = write_zip(tmp_path / "a.zip", {"9/9_2026-06-16_3#0.json.gz": data[: len(data) // 2]})
    validate_archive(path)  # the zip itself is fine: Amplitude wrote a broken member
    reader = ArchiveReader(path)
    with pytest.raises(ArchiveError, match="gzip"):
        for _ in reader.lines(at("2026-06-16T03")):
            pass
    reader.close()


def test_invalid_json_line_is_an_error() -> None:
    with pytest.raises(ValueError):
        parse_line(b'{"uuid": ')
    with pytest.raises(ValueError):
        parse_line(b"[1, 2]")


def test_recorded_zip_entry_layout_is_what_the_fake_server_writes(tmp_path: Path) -> None:
    from integration_tests.fake_amplitude.archive import write_export_zip

    recorded = zipfile.ZipFile(recorded_zip()).infolist()[0]
    sink = io.BytesIO()
    write_export_zip(sink, 829528, [(at("2026-06-16T11"), [{"a": 1}])], 100)
    ours = zipfile.ZipFile(io.BytesIO(sink.getvalue())).infolist()[0]
    assert (ours.filename, ours.compress_type, ours.flag_bits & 0x08) == (
        recorded.filename,
        recorded.compress_type,
        recorded.flag_bits & 0x08,
    )


class FakeBody:
    """Just enough of requests.Response for save_response."""

    def __init__(self, body: bytes, content_length: int) -> None:
        self.headers = {"Content-Length": str(content_length)}
        self._body = body

    def iter_content(self, size: int) -> Iterator[bytes]:
        for start in range(0, len(self._body), size):
            yield self._body[start : start + size]


def test_a_download_shorter_than_its_content_length_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="truncated"):
        save_response(FakeBody(b"PK\x03\x04" + b"x" * 10, 1000), tmp_path / "a.zip")  # type: ignore[arg-type]


def test_free_disk_is_checked_before_downloading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.disk_usage", lambda _: shutil._ntuple_diskusage(10**12, 10**12 - 10**6, 10**6))
    with pytest.raises(NotEnoughDisk, match=r"needs 5\.00 GB"):
        save_response(FakeBody(b"", 5 * 10**9), tmp_path / "a.zip")  # type: ignore[arg-type]
    assert not (tmp_path / "a.zip").exists()
