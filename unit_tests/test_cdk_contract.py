"""The CDK code source_amplitude/cdk_internals.py copies or overrides, pinned: a CDK upgrade that changes any of it
fails here, naming what to re-check, instead of the fast path drifting silently (as it did twice: LOG_LEVEL=debug was
ignored by the copied read branch, and "Read N records" counted batches)."""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from airbyte_cdk.connector import DefaultConnectorMixin
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.sources.streams.http import HttpStream
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_amplitude import cdk_internals

# sha256 (first 16 hex digits) of each function's source in airbyte-cdk 7.39.1, and what depends on it.
PINNED: list[tuple[str, Callable[..., Any], str, str]] = [
    (
        "AirbyteEntrypoint.run",
        AirbyteEntrypoint.run,
        "b5d0edc048e7e051",
        "BatchingEntrypoint._read_command copies its debug switch and read branch",
    ),
    (
        "AirbyteEntrypoint.handle_record_counts",
        AirbyteEntrypoint.handle_record_counts,
        "4b1eb114b5a430cf",
        "BatchingEntrypoint.handle_record_counts wraps it",
    ),
    (
        "AbstractSource._get_message",
        AbstractSource._get_message,
        "33de63a259588125",
        "BatchingSource._get_message passes RecordBatch through",
    ),
    (
        "AbstractSource._read_stream",
        AbstractSource._read_stream,
        "be87865274c2961d",
        "READ_LOG_LINE and the batch count correction",
    ),
    (
        "AbstractSource.read",
        AbstractSource.read,
        "03a07ff511e7b773",
        "BatchingSource.read installs the count filter on its logger",
    ),
    (
        "HttpStream._fetch_next_page",
        HttpStream._fetch_next_page,
        "975f2858fc95f0a6",
        "RequestingStream.send and its message rewrite",
    ),
    (
        "Stream.read",
        Stream.read,
        "f8f1c7db3b3c11b3",
        "RecordBatch has type RECORD and a record attribute, so that Stream.read counts it as a record for checkpoints",
    ),
    (
        "DefaultConnectorMixin.configure",
        DefaultConnectorMixin.configure,
        "aa1382afb5f4f74b",
        "SourceAmplitude.configure keeps the config in memory instead of writing it (keys included) to disk",
    ),
    (
        "AirbyteTracedException.__init__",
        AirbyteTracedException.__init__,
        "5284a712a7838997",
        "RequestingStream reads error._exception",
    ),
]


@pytest.mark.parametrize(("name", "function", "digest", "depends"), PINNED, ids=[p[0] for p in PINNED])
def test_the_cdk_code_we_copy_or_override_is_the_one_we_read(
    name: str, function: Callable[..., Any], digest: str, depends: str
) -> None:
    found = hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]
    assert found == digest, (
        f"airbyte-cdk changed {name} ({depends}): re-read it against source_amplitude/cdk_internals.py, adapt, then "
        f"update the digest to {found}"
    )


def test_the_read_log_line_is_the_cdks() -> None:
    assert 'f"Read {record_counter} records from {stream_name} stream"' in inspect.getsource(
        AbstractSource._read_stream
    )
    assert cdk_internals.READ_LOG_LINE.match("Read 48 records from events stream")


def test_the_batch_count_correction_rewrites_only_streams_that_had_batches() -> None:
    extra: Counter[str] = Counter({"events": 23_952})
    counts = cdk_internals._BatchedRecordCounts(extra)
    events = logging.LogRecord("airbyte", logging.INFO, __file__, 1, "Read 48 records from events stream", (), None)
    cohorts = logging.LogRecord("airbyte", logging.INFO, __file__, 1, "Read 3 records from cohorts stream", (), None)
    assert counts.filter(events) and events.getMessage() == "Read 24000 records from events stream"
    assert counts.filter(cohorts) and cohorts.getMessage() == "Read 3 records from cohorts stream"


def test_the_copied_read_branch_honours_the_platforms_log_level(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """LOG_LEVEL=debug is how the platform asks for debug logs (airbyte_cdk.logger.is_platform_debug_log_enabled)."""
    from source_amplitude.run import AmplitudeEntrypoint
    from source_amplitude.source import SourceAmplitude

    monkeypatch.setenv("LOG_LEVEL", "debug")
    (tmp_path / "config.json").write_text(json.dumps({"api_key": "k", "secret_key": "s"}))
    (tmp_path / "catalog.json").write_text(json.dumps({"streams": []}))
    entrypoint = AmplitudeEntrypoint(SourceAmplitude())
    args = entrypoint.parse_args(
        ["read", "--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json")]
    )
    list(entrypoint.run(args))
    assert entrypoint.logger.isEnabledFor(logging.DEBUG)
