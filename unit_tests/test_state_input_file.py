"""The `--state` file: the connector's own output, however large and however the sync ended, is a valid state file."""

from __future__ import annotations

import logging
import tracemalloc
from pathlib import Path

import orjson
import pytest

from source_amplitude.source import SourceAmplitude
from source_amplitude.state.input_file import read_state_file


def state_line(stream: str, cursor: str) -> bytes:
    state = {"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": {"c": cursor}}}
    return orjson.dumps({"type": "STATE", "state": state}) + b"\n"


def record_line(n: int) -> bytes:
    data = {"uuid": f"u-{n}", "event_properties": {"note": "a STATE of mind"}, "n": n}
    return orjson.dumps({"type": "RECORD", "record": {"stream": "events", "data": data, "emitted_at": 1}}) + b"\n"


def cursors(path: Path) -> dict[str, str]:
    states = SourceAmplitude.read_state(str(path))
    return {s.stream.stream_descriptor.name: s.stream.stream_state.c for s in states if s.stream}  # type: ignore[union-attr]


def test_a_cut_off_last_line_is_skipped_with_a_warning_and_the_last_whole_states_are_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    output = tmp_path / "interrupted.jsonl"
    lines = [record_line(1), state_line("events", "h1"), state_line("active_users", "d1"), record_line(2)]
    lines += [state_line("events", "h2"), record_line(3)[:40]]  # the kill fell in the middle of a record
    output.write_bytes(b"".join(lines))
    with caplog.at_level(logging.WARNING):
        assert cursors(output) == {"events": "h2", "active_users": "d1"}
    assert any("not whole JSON (line 6)" in r.getMessage() and "cut-off end" in r.getMessage() for r in caplog.records)


def test_a_cut_off_state_line_falls_back_to_the_state_before_it(tmp_path: Path) -> None:
    output = tmp_path / "killed.jsonl"
    output.write_bytes(state_line("events", "h1") + record_line(1) + state_line("events", "h2")[:-30])
    assert cursors(output) == {"events": "h1"}


def test_one_state_message_and_a_list_of_them_are_still_documents_not_lines(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_bytes(
        orjson.dumps(
            {"type": "STREAM", "stream": {"stream_descriptor": {"name": "events"}, "stream_state": {"c": "x"}}}
        )
    )
    assert cursors(one) == {"events": "x"}
    pretty = tmp_path / "pretty.json"
    pretty.write_bytes(orjson.dumps([orjson.loads(state_line("events", "y"))], option=orjson.OPT_INDENT_2))
    assert cursors(pretty) == {"events": "y"}


def test_an_output_of_a_million_records_is_read_in_flat_memory(tmp_path: Path) -> None:
    output = tmp_path / "big.jsonl"
    with output.open("wb") as file:
        for block in range(100):
            file.write(b"".join(record_line(block * 10_000 + n) for n in range(10_000)))
            file.write(state_line("events", f"h{block}"))
    size_mb = output.stat().st_size / 1e6
    tracemalloc.start()
    try:
        found = read_state_file(output, logging.getLogger("airbyte"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [m["state"]["stream"]["stream_state"]["c"] for m in found] == ["h99"]
    print(f"state file of 1,000,000 records ({size_mb:.0f} MB): peak Python memory {peak / 1e3:.0f} KB")
    assert peak < 5e6  # independent of the file's size: a line at a time (the old reader needed 12x the file)
