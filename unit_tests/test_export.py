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
    archive_members,
    save_response,
    validate_archive,
)
from source_amplitude.parsers.events import parse_line, record_messages, rfc3339
from source_amplitude.pipeline.hours import UnexpectedMemberName, last_complete_hour, member_hour
from source_amplitude.pipeline.members import Member, MemberReader
from source_amplitude.pipeline.scratch import NotEnoughDisk
from test_support.hours import at
from test_support.recordings import recorded_path

UTC = timezone.utc


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


@pytest.mark.parametrize(
    "name",
    ["829528/readme.txt", "829528/829528_2026-06-16_11.json.gz", "829528/829528_2026-06-16_24#0.json.gz", "x#0.gz"],
)
def test_a_member_named_otherwise_is_an_error_naming_it_and_the_expected_form(name: str) -> None:
    with pytest.raises(UnexpectedMemberName, match=r"<app>/<app>_<YYYY-MM-DD>_<H>#<n>\.json\.gz") as raised:
        member_hour(name)
    assert repr(name) in str(raised.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-06-16 11:57:13.345000", "2026-06-16T11:57:13.345000+00:00"),
        ("2026-06-16 11:57:13.345", "2026-06-16T11:57:13.345+00:00"),  # fractional digits kept as sent
        ("2026-06-16 11:57:13", "2026-06-16T11:57:13+00:00"),
        ("2026-06-16T11:57:13", "2026-06-16T11:57:13+00:00"),
        ("2026-06-16T11:57:13.345000", "2026-06-16T11:57:13.345000+00:00"),
        ("2026-06-16T11:57:13+00:00", "2026-06-16T11:57:13+00:00"),
        ("2026-06-16T11:57:13.5Z", "2026-06-16T11:57:13.5+00:00"),
        ("2021-05-27 11:59:53.710000+05:00", "2021-05-27T06:59:53.710000+00:00"),
        ("2021-05-27 00:30:00.1+0200", "2021-05-26T22:30:00.1+00:00"),  # 26 characters, yet not the common form
        ("2021-05-27T23:30:00-01:30", "2021-05-28T01:00:00+00:00"),
        ("2021-01-01", "2021-01-01T00:00:00+00:00"),
        ("2021-13-45", "2021-13-45"),  # not a date: unchanged, never malformed
        ("garbage", "garbage"),
        (1622116793, 1622116793),
        (None, None),
        ("", ""),
    ],
)
def test_rfc3339(value: object, expected: object) -> None:
    assert rfc3339(value) == expected


Plan = list[tuple[datetime, list[str]]]  # (upload hour, the member names to read for it), in hour order


def ArchiveReader(path: Path, plan: Plan) -> MemberReader:  # the name these tests were written with
    """Planned members of one archive, read in order, as the events stream reads a window in-process."""
    reader = MemberReader()
    for hour, names in plan:
        for name in names:
            reader.add(hour, Member(path, name))
    return reader


def recorded_zip() -> Path:
    return recorded_path("export_200.body.zip")


def whole_plan(path: Path) -> Plan:
    members = archive_members(path)
    return [(hour, [members[hour][n] for n in sorted(members[hour])]) for hour in sorted(members)]


def test_recorded_archive_reads_as_one_hour_of_three_events() -> None:
    path = recorded_zip()
    validate_archive(path)
    assert archive_members(path) == {at("2026-06-16T11"): {0: "829528/829528_2026-06-16_11#0.json.gz"}}
    reader = ArchiveReader(path, whole_plan(path))
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
    reader = ArchiveReader(path, whole_plan(path))
    assert [orjson.loads(x)["n"] for batch in reader.lines(at("2026-06-16T03")) for x in batch] == [1, 2, 3, 4]
    reader.close()


def numbers(reader: MemberReader, hour: str) -> list[int]:
    return [orjson.loads(x)["n"] for batch in reader.lines(at(hour)) for x in batch]


def test_every_member_is_read_under_its_own_hour_even_with_hours_outside_the_window(tmp_path: Path) -> None:
    """An archive for 03..04 that also holds 02 (before the window) and 05 (after): hour 03 gets only 03's lines,
    04 only 04's; 02 and 05 are not planned, so never read under another hour."""
    members = {
        "9/9_2026-06-16_2#0.json.gz": gzip.compress(b'{"n":2}\n'),
        "9/9_2026-06-16_3#0.json.gz": gzip.compress(b'{"n":3}\n'),
        "9/9_2026-06-16_4#0.json.gz": gzip.compress(b'{"n":4}\n'),
        "9/9_2026-06-16_5#0.json.gz": gzip.compress(b'{"n":5}\n'),
    }
    path = write_zip(tmp_path / "a.zip", members)
    found = archive_members(path)
    assert sorted(found) == [at("2026-06-16T02"), at("2026-06-16T03"), at("2026-06-16T04"), at("2026-06-16T05")]
    plan = [(hour, [found[hour][0]]) for hour in (at("2026-06-16T03"), at("2026-06-16T04"))]
    reader = ArchiveReader(path, plan)
    assert numbers(reader, "2026-06-16T02") == []
    assert numbers(reader, "2026-06-16T03") == [3]
    assert numbers(reader, "2026-06-16T04") == [4]
    assert numbers(reader, "2026-06-16T05") == []
    reader.close()


def test_partitions_left_out_of_the_plan_are_not_read_and_skipped_hours_are_drained(tmp_path: Path) -> None:
    members = {
        "9/9_2026-06-16_3#0.json.gz": gzip.compress(b'{"n":30}\n'),
        "9/9_2026-06-16_3#1.json.gz": gzip.compress(b'{"n":31}\n'),
        "9/9_2026-06-16_3#2.json.gz": gzip.compress(b'{"n":32}\n'),
        "9/9_2026-06-16_4#0.json.gz": gzip.compress(b'{"n":40}\n'),
    }
    path = write_zip(tmp_path / "a.zip", members)
    plan = [
        (at("2026-06-16T03"), ["9/9_2026-06-16_3#1.json.gz"]),
        (at("2026-06-16T04"), ["9/9_2026-06-16_4#0.json.gz"]),
    ]
    reader = ArchiveReader(path, plan)
    assert numbers(reader, "2026-06-16T04") == [40]  # 03 was planned but not asked for: drained, not shifted
    reader.close()
    reader = ArchiveReader(path, plan)
    assert numbers(reader, "2026-06-16T03") == [31]
    reader.close()


def test_an_archive_with_a_member_named_otherwise_is_refused_naming_it(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "a.zip", {"9/9_2026-06-16_3#0.json.gz": b"", "9/notes.txt": b"hello"})
    with pytest.raises(UnexpectedMemberName, match=r"9/notes\.txt"):
        archive_members(path)


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
    reader = ArchiveReader(path, whole_plan(path))
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
    from fake_amplitude.archive import write_export_zip

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
