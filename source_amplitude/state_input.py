"""The `--state` file, checked before the CDK parses it: anything the connector cannot use fails as a config_error
that names the stream, quotes what was found and says how to fix it (the CDK's own answer is "Something went wrong").
Pure: JSON in, state messages out."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from airbyte_cdk.models import AirbyteStateMessage, AirbyteStateMessageSerializer

from source_amplitude.config import ConfigError
from source_amplitude.errors import unusable_state_message
from source_amplitude.pipeline.state import quote

WHOLE_STATE_MESSAGE = (
    "The saved state cannot be used: {detail}. It should be a JSON list of Airbyte state messages (or an object of "
    "stream name -> stream state). Clear (reset) the connection's data, or fix the state file, so that every stream "
    "starts again from start_date."
)


def parse_state_text(text: str) -> Any:
    """The state file's JSON; or, for a file of JSON lines (a saved copy of the connector's own output), the list of
    its STATE messages (RECORD, LOG and TRACE lines are skipped). Raises ValueError for anything else."""
    try:
        return json.loads(text)
    except ValueError:
        lines = [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]
        if not lines:
            raise
        return [line for line in lines if isinstance(line, Mapping) and line.get("type") == "STATE"]


def state_messages(raw: Any) -> list[AirbyteStateMessage]:
    if raw is None or raw == [] or raw == {}:
        return []
    if isinstance(raw, Mapping):  # the legacy form: {"events": {...}, "active_users": {...}}
        if "type" in raw or "stream" in raw:
            raw = [raw]
        else:
            return [_stream_message(name, state) for name, state in raw.items()]
    if not isinstance(raw, list):
        raise ConfigError(WHOLE_STATE_MESSAGE.format(detail=f"it is {quote(raw)}"))
    return _last_per_stream(_messages(raw))


def _last_per_stream(messages: list[AirbyteStateMessage]) -> list[AirbyteStateMessage]:
    """The connector's own output has a STATE after every slice: for each stream the last one wins."""
    latest: dict[str, AirbyteStateMessage] = {}
    others = []
    for message in messages:
        if message.stream is not None:
            latest[message.stream.stream_descriptor.name] = message
        else:
            others.append(message)
    return [*others, *latest.values()]


def _messages(raw: list[Any]) -> list[AirbyteStateMessage]:
    messages = []
    for item in raw:
        if isinstance(item, Mapping) and item.get("type") == "STATE" and isinstance(item.get("state"), Mapping):
            item = item["state"]  # an Airbyte message as the connector prints it: {"type": "STATE", "state": {...}}
        if not isinstance(item, Mapping):
            raise _not_a_state_message(item)
        stream = item.get("stream")
        if item.get("type") in (None, "STREAM") and stream is not None:
            if not isinstance(stream, Mapping) or not isinstance(stream.get("stream_descriptor"), Mapping):
                raise _not_a_state_message(item)
            name = str(stream["stream_descriptor"].get("name"))
            _check_stream_state(name, stream.get("stream_state"))
        if item.get("type") == "LEGACY" and isinstance(item.get("data"), Mapping):
            messages += [_stream_message(name, state) for name, state in item["data"].items()]
            continue
        try:
            messages.append(AirbyteStateMessageSerializer.load(dict(item)))
        except Exception as error:  # the serializer's own errors say nothing a user can act on
            raise _not_a_state_message(item) from error
    return messages


def _not_a_state_message(item: Any) -> ConfigError:
    return ConfigError(WHOLE_STATE_MESSAGE.format(detail=f"it holds {quote(item)}, not a state message"))


def _check_stream_state(name: str, state: Any) -> None:
    if state is not None and not isinstance(state, Mapping):
        raise ConfigError(unusable_state_message(name, f"stream_state is {quote(state)}, not an object"))


def _stream_message(name: str, state: Any) -> AirbyteStateMessage:
    _check_stream_state(name, state)
    return AirbyteStateMessageSerializer.load(
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": state}}
    )
