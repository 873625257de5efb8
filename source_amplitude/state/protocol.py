"""The one protocol of a stream's state (see state/__init__.py), its one loader and its one way of quoting a value
it cannot use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from source_amplitude.config import ConfigError
from source_amplitude.errors import unusable_state_message

QUOTE_CHARS = 80


class UnusableState(ValueError):
    """The saved state cannot be used; the message says what was found."""


class StreamState(Protocol):
    def as_dict(self) -> dict[str, Any]:
        """The state message's content ({} before anything was read)."""


S = TypeVar("S", bound=StreamState)


def quote(value: Any) -> str:
    """A value found in a state, for a message: its repr, cut at QUOTE_CHARS."""
    text = repr(value)
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 3] + "..."


def load_state(stream: str, parse: Callable[[Any], S], value: Any) -> S:
    """`parse(value)`, or the config_error that says which stream's state is unusable and why."""
    try:
        return parse(value)
    except UnusableState as error:
        raise ConfigError(unusable_state_message(stream, str(error))) from error


def state_property(attribute: str, parse: Callable[[Any], StreamState]) -> Any:
    """A stream's `state` (what the CDK reads after each slice and sets from the saved state), kept as the StreamState
    at `attribute` (a dotted path: "_read.state" is the state of the stream's read)."""
    owner_path, _, name = attribute.rpartition(".")

    def owner(stream: Any) -> Any:
        for step in owner_path.split(".") if owner_path else []:
            stream = getattr(stream, step)
        return stream

    def get(stream: Any) -> dict[str, Any]:
        state: StreamState = getattr(owner(stream), name)
        return state.as_dict()

    def put(stream: Any, value: Any) -> None:
        setattr(owner(stream), name, load_state(stream.name, parse, value))

    return property(get, put)
