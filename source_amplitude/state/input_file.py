"""The `--state` file, read and checked before the CDK parses it: anything the connector cannot use fails as a
config_error that names the stream, quotes what was found and says how to fix it (the CDK's own answer is "Something
went wrong"). The connector's own output is a valid state file, whatever its size and however the sync ended."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson
from airbyte_cdk.models import AirbyteStateMessage, AirbyteStateMessageSerializer

from source_amplitude.config import ConfigError
from source_amplitude.errors import unusable_state_message
from source_amplitude.state.protocol import quote

WHOLE_STATE_MESSAGE = (
    "The saved state cannot be used: {detail}. It should be a JSON list of Airbyte state messages (or an object of "
    "stream name -> stream state). Clear (reset) the connection's data, or fix the state file, so that every stream "
    "starts again from start_date."
)


def read_state_file(path: Path, logger: logging.Logger) -> Any:
    """The state file's JSON; or, for a file of JSON lines (a saved copy of the connector's own output, however large),
    the last STATE message of each stream in it, read line by line: RECORD, LOG and TRACE lines are skipped without
    being parsed, so memory does not grow with the records. A line that is not JSON (the cut-off last line of a
    killed or interrupted sync's output) is skipped with a WARN: the STATE lines before it are complete. Raises
    OSError, or ValueError for anything else."""
    with path.open("rb") as file:
        first = next((line for line in file if line.strip()), b"")
        if not _is_message_line(first):
            return json.loads(first + file.read())
        file.seek(0)
        return _last_states(file, path, logger)


def _is_message_line(line: bytes) -> bool:
    """The line starts an Airbyte message of the connector's output (a JSON lines file, even one whose only line is
    cut off), not a JSON document such as a list of state messages or one stream's state message."""
    return AIRBYTE_MESSAGE_LINE.match(line) is not None


def _last_states(lines: Iterable[bytes], path: Path, logger: logging.Logger) -> list[Any]:
    latest: dict[Any, Any] = {}  # stream name (or None for a global / legacy state) -> its last STATE message
    unreadable: list[int] = []
    number, line = 0, b"\n"
    for number, line in enumerate(lines, start=1):
        if STATE_TYPE not in line[:STATE_TYPE_WITHIN]:
            continue  # the CDK writes "type" first: a RECORD, LOG or TRACE line, never parsed
        try:
            message = orjson.loads(line)
        except orjson.JSONDecodeError:
            unreadable.append(number)
            continue
        if not isinstance(message, Mapping) or message.get("type") != "STATE":
            continue
        state = message.get("state")
        stream = state.get("stream") if isinstance(state, Mapping) else None
        name = stream.get("stream_descriptor", {}).get("name") if isinstance(stream, Mapping) else None
        latest[name if isinstance(name, str) else None] = message
    if not line.endswith(b"\n") and number not in unreadable and not _whole_json(line):
        unreadable.append(number)  # a last line cut off: every line the connector writes ends with a newline
    if unreadable:
        logger.warning(CUT_OFF_LINES_MESSAGE.format(path=path, count=len(unreadable), lines=_line_numbers(unreadable)))
    return list(latest.values())


def _whole_json(line: bytes) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


def _line_numbers(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:5]))
    return shown + (f" and {len(numbers) - 5} more" if len(numbers) > 5 else "")


STATE_TYPE = b'"STATE"'
MESSAGE_TYPES = b"RECORD|STATE|LOG|TRACE|CONTROL|SPEC|CATALOG|CONNECTION_STATUS"
AIRBYTE_MESSAGE_LINE = re.compile(rb'^\s*\{\s*"type"\s*:\s*"(' + MESSAGE_TYPES + rb')"')
STATE_TYPE_WITHIN = 40  # bytes: '{"type":"STATE"' with room for spaces
CUT_OFF_LINES_MESSAGE = (
    "The state file {path} has {count} line(s) that are not whole JSON (line {lines}): the cut-off end of an "
    "interrupted or killed sync's output. They are skipped; the last whole STATE message of each stream before "
    "them is used."
)


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
