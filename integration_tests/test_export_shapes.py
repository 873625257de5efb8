"""Shapes real exports take that the dataset never has (what other Amplitude connectors' tests met in production),
each in its own upload hour, through every real entry point: the CDK's in-process read (plain records), the console
script (conversion workers), the console script pinned to one CPU (in-process RECORD batches), and bucket mode
(in-process and console script). Every hour is read, checkpointed, said in a WARN when a line was changed, and every
record validates against the discovered schema."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read

from fake_amplitude import Dataset, FakeAmplitude
from fake_amplitude.bucket_export import BucketLayout
from fake_amplitude.object_stores import LocalStore
from source_amplitude import SourceAmplitude
from source_amplitude.pipeline.hours import floor_hour
from test_support.connector_process import connector_command, events_catalog, run_connector
from test_support.fixtures import bucket_config, new_bucket

SCHEMA = json.loads((Path(__file__).parents[1] / "source_amplitude" / "schemas" / "events.json").read_text())
SURROGATE_LINE = b'{"uuid":"surrogate-a","event_properties":{"title":"cut \\ud83d","whole":"\\ud83d\\ude00"}}\n'
# upload hour payload -> (uuid -> the fields to expect), the WARN's words (None: no WARN)
SHAPES: dict[str, tuple[bytes, dict[str, dict[str, Any]], str | None]] = {
    "blank lines": (
        b'{"uuid":"blank-a"}\n \n\t\n\r\n{"uuid":"blank-b"}\n',
        {"blank-a": {}, "blank-b": {}},
        "3 blank line(s) skipped",
    ),
    "crlf": (b'{"uuid":"crlf-a"}\r\n{"uuid":"crlf-b"}\r\n', {"crlf-a": {}, "crlf-b": {}}, None),
    "lone surrogate": (
        SURROGATE_LINE,
        {"surrogate-a": {"event_properties": {"title": "cut \ufffd", "whole": "\U0001f600"}}},
        "1 lone UTF-16 surrogate(s) replaced by U+FFFD",
    ),
    "nan and infinity": (
        b'{"uuid":"nan-a","event_properties":{"x":NaN,"y":Infinity,"z":-Infinity,"w":1e400,"v":1.5}}\n',
        {"nan-a": {"event_properties": {"x": None, "y": None, "z": None, "w": None, "v": 1.5}}},
        "3 NaN or Infinity value(s) set to null",
    ),
    "byte order mark": (
        b'\xef\xbb\xbf{"uuid":"bom-a"}\n\xef\xbb\xbf{"uuid":"bom-b"}\n',
        {"bom-a": {}, "bom-b": {}},
        "2 byte order mark(s) removed",
    ),
    "big integers": (
        b'{"uuid":"big-a","event_properties":{"n":123456789012345678901234567890,"m":-9223372036854775809,'
        b'"k":18446744073709551615}}\n',
        {"big-a": {"event_properties": {"n": 123456789012345678901234567890, "m": -9223372036854775809}}},
        None,
    ),
    "boolean forms": (
        b'{"uuid":"bool-a","paying":"true","is_attribution_event":"0","data":{"user_properties_updated":1}}\n'
        b'{"uuid":"bool-b","paying":1,"is_attribution_event":"FALSE"}\n'
        b'{"uuid":"bool-c","paying":"maybe","is_attribution_event":true}\n',
        {
            "bool-a": {"paying": True, "is_attribution_event": False, "data": {"user_properties_updated": True}},
            "bool-b": {"paying": True, "is_attribution_event": False},
            "bool-c": {"paying": None, "is_attribution_event": True},
        },
        "1 boolean field value(s) that are not a clear true/false set to null",
    ),
    "one type per field": (
        b'{"uuid":"type-a","sample_rate":"0.5","amplitude_attribution_ids":"a1b2"}\n'
        b'{"uuid":"type-b","sample_rate":"n/a","amplitude_attribution_ids":["c3"]}\n',
        {
            "type-a": {"sample_rate": 0.5, "amplitude_attribution_ids": ["a1b2"]},
            "type-b": {"sample_rate": None, "amplitude_attribution_ids": ["c3"]},
        },
        "1 sample_rate value(s) that are not a number set to null",
    ),
    "timestamp forms": (
        b'{"uuid":"time-a","event_time":"2026-06-16 11:57:13 UTC","client_event_time":"2026/06/16 11:57:13",'
        b'"server_received_time":"2026-06-16 11:57:13,345000","processed_time":"not a time"}\n',
        {
            "time-a": {
                "event_time": "2026-06-16T11:57:13+00:00",
                "client_event_time": "2026-06-16T11:57:13+00:00",
                "server_received_time": "2026-06-16T11:57:13.345000+00:00",
                "processed_time": "not a time",
            }
        },
        None,
    ),
}
NOW = datetime.now(UTC)
FIRST = floor_hour(NOW) - timedelta(hours=len(SHAPES) + 4)
HOURS = {name: FIRST + timedelta(hours=index) for index, name in enumerate(SHAPES)}
LAST = FIRST + timedelta(hours=len(SHAPES) - 1)


@dataclass
class Read:
    records: list[dict[str, Any]]
    warnings: list[str]
    state: dict[str, Any]


def dataset() -> Dataset:
    return Dataset(FIRST, hours=len(SHAPES), events_per_hour=1)


def config(start: datetime) -> dict[str, Any]:
    return {"start_date": f"{start:%Y-%m-%dT%H:%M:%SZ}", "request_time_range": 24}


def from_console(command: list[str], env: dict[str, str], pinned: bool) -> Read:
    done = subprocess.run(
        ["taskset", "-c", "0", *command] if pinned else command, capture_output=True, text=True, env=env, timeout=300
    )
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    records = [m["record"]["data"] for m in messages if m["type"] == "RECORD"]
    warnings = [m["log"]["message"] for m in messages if m["type"] == "LOG" and m["log"]["level"] == "WARN"]
    states = [m["state"]["stream"]["stream_state"] for m in messages if m["type"] == "STATE"]
    return Read(records, warnings, states[-1])


def in_process(config: dict[str, Any]) -> Read:
    catalog = CatalogBuilder().with_stream("events", SyncMode.incremental).build()
    output = read(SourceAmplitude(), config, catalog)
    assert not output.errors, [e.trace.error.message for e in output.errors]
    warnings = [m.log.message for m in output.logs if m.log.level.value == "WARN"]
    state = dict(output.most_recent_state.stream_state.__dict__)
    return Read([r.record.data for r in output.records], warnings, state)


@pytest.fixture(scope="module")
def reads(tmp_path_factory: pytest.TempPathFactory, local_s3: LocalStore) -> Iterator[dict[str, Read]]:
    results: dict[str, Read] = {}
    raw = {HOURS[name]: payload for name, (payload, _, _) in SHAPES.items()}
    with FakeAmplitude(dataset(), raw_hours=raw) as fake, pytest.MonkeyPatch.context() as patch:
        export_config = {**fake.config, **config(FIRST)}
        patch.setenv("AMPLITUDE_BASE_URL", fake.url)
        results["export, in-process"] = in_process(export_config)
        command, env = connector_command(
            ["read"], tmp_path_factory.mktemp("export"), fake.url, config=export_config, catalog=events_catalog()
        )
        results["export, conversion workers"] = from_console(command, env, pinned=False)
        if shutil.which("taskset"):
            results["export, one CPU"] = from_console(command, env, pinned=True)
    bucket = new_bucket(local_s3)
    for hour, payload in raw.items():
        local_s3.put(bucket, BucketLayout().events_key(dataset().app_id, hour, 0), gzip.compress(payload))
    bucket_mode = {
        "api_key": "unused",
        "secret_key": "unused",
        **config(FIRST),
        "events_source": bucket_config(local_s3, bucket, dataset().app_id),
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in local_s3.env.items():
            patch.setenv(name, value)
        results["bucket, in-process"] = in_process(bucket_mode)
    bucket_run = run_connector(
        ["read"],
        tmp_path_factory.mktemp("bucket"),
        None,
        config=bucket_mode,
        catalog=events_catalog(),
        extra_env=local_s3.env,
    )
    assert bucket_run.exit_code == 0, bucket_run.stderr[-3000:]
    results["bucket, conversion workers"] = Read(
        bucket_run.records("events"),
        [m["log"]["message"] for m in bucket_run.of_type("LOG") if m["log"]["level"] == "WARN"],
        bucket_run.stream_states()["events"],
    )
    yield results


PATHS = [
    "export, in-process",
    "export, conversion workers",
    "export, one CPU",
    "bucket, in-process",
    "bucket, conversion workers",
]


def contains(record: Any, expected: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(record, dict) and all(contains(record.get(k), v) for k, v in expected.items())
    return bool(record == expected and type(record) is type(expected))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_shape_is_read_checkpointed_and_reported(reads: dict[str, Read], path: str, shape: str) -> None:
    if path not in reads:
        pytest.skip("taskset (util-linux) is not installed")
    read = reads[path]
    _, expected, warning = SHAPES[shape]
    by_uuid = {record["uuid"]: record for record in read.records if record["uuid"] in expected}
    assert sorted(by_uuid) == sorted(expected)
    assert sum(record["uuid"] in expected for record in read.records) == len(expected)  # each once
    for uuid, fields in expected.items():
        if shape == "big integers" and "in-process" in path:
            # The CDK's test kit reads printed messages back with orjson, which makes floats of them: the console
            # paths check the printed bytes (below), unit_tests/test_event_shapes.py the in-process printing.
            fields = {}
        assert contains(by_uuid[uuid], fields), (by_uuid[uuid], fields)
        jsonschema.validate(by_uuid[uuid], SCHEMA)
    hour = f"{HOURS[shape]:%Y%m%dT%H}"
    said = [w for w in read.warnings if hour in w and "unusual lines or values" in w]
    if warning is None:
        assert said == []
    else:
        assert len(said) == 1 and warning in said[0], read.warnings
    assert read.state["server_upload_time"] >= f"{LAST:%Y%m%dT%H}"  # read past every shape: no hour is stuck
    assert hour not in read.state.get("pending_hours", {})


def test_big_integers_stay_integers_on_the_wire(reads: dict[str, Read]) -> None:
    for path in ("export, conversion workers", "export, one CPU", "bucket, conversion workers"):
        if path not in reads:
            continue
        record = next(r for r in reads[path].records if r["uuid"] == "big-a")
        assert record["event_properties"]["k"] == 18446744073709551615
        assert isinstance(record["event_properties"]["n"], int)
