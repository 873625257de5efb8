"""Builders for mock-server tests through the real entry point."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Optional

from airbyte_cdk.models import AirbyteStateMessage, ConfiguredAirbyteCatalog, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.mock_http import HttpRequest, HttpResponse
from airbyte_cdk.test.state_builder import StateBuilder

from source_amplitude import SourceAmplitude

NOW = datetime(2026, 9, 24, 15, 30, tzinfo=UTC)
BASE = "https://amplitude.com/api"
EU_BASE = "https://analytics.eu.amplitude.com/api"
API_KEY = "test-api-key-0123456789"
SECRET_KEY = "test-secret-key-9876543210"


def config(**overrides: Any) -> dict[str, Any]:
    return {"api_key": API_KEY, "secret_key": SECRET_KEY, "start_date": "2026-09-20T00:00:00Z", **overrides}


def catalog(stream: str, sync_mode: SyncMode = SyncMode.full_refresh) -> ConfiguredAirbyteCatalog:
    return CatalogBuilder().with_stream(stream, sync_mode).build()


def state(stream: str, value: dict[str, Any]) -> list[AirbyteStateMessage]:
    return StateBuilder().with_stream_state(stream, value).build()


def run(
    stream: str,
    sync_mode: SyncMode = SyncMode.full_refresh,
    cfg: Optional[dict[str, Any]] = None,
    stream_state: Optional[dict[str, Any]] = None,
    expect_failure: bool = False,
    now: datetime = NOW,
) -> EntrypointOutput:
    from airbyte_cdk.test.entrypoint_wrapper import ExpectedOutcome

    outcome = ExpectedOutcome.EXPECT_EXCEPTION if expect_failure else ExpectedOutcome.EXPECT_SUCCESS
    return read(
        SourceAmplitude(now=now),
        cfg or config(),
        catalog(stream, sync_mode),
        state(stream, stream_state) if stream_state is not None else None,
        expected_outcome=outcome,
    )


def request(path: str, query: Optional[dict[str, Any]] = None, base: str = BASE) -> HttpRequest:
    return HttpRequest(url=f"{base}/{path}", query_params=query)


def json_response(body: Any, status: int = 200, headers: Optional[dict[str, str]] = None) -> HttpResponse:
    return HttpResponse(body=json.dumps(body), status_code=status, headers=headers or {})


def amplitude_error(status: int, message: str, details: str) -> HttpResponse:
    body = {"error": {"http_code": status, "type": "invalid", "message": message, "metadata": {"details": details}}}
    return json_response(body, status)


def error_messages(output: EntrypointOutput) -> list[str]:
    return [e.trace.error.message for e in output.errors if e.trace and e.trace.error]


def stream_error_messages(output: EntrypointOutput) -> list[str]:
    """The message of each failed stream (without the CDK's last, stream-less summary)."""
    return [
        e.trace.error.message for e in output.errors if e.trace and e.trace.error and e.trace.error.stream_descriptor
    ]


def failure_types(output: EntrypointOutput) -> list[Any]:
    """The failure type of each failed stream. (The CDK adds a last, stream-less config_error that only says which
    streams failed; it is left out here.)"""
    return [
        e.trace.error.failure_type
        for e in output.errors
        if e.trace and e.trace.error and e.trace.error.stream_descriptor
    ]


def output_text(output: EntrypointOutput) -> str:
    """Everything the connector printed, to check that no secret leaks."""
    from airbyte_cdk.models import AirbyteMessageSerializer

    printed = [json.dumps(AirbyteMessageSerializer.dump(m)) for m in output.get_message_iterator()]
    return "\n".join([*printed, str(output.stderr)])
