"""Upload hours written the short way in tests: at("2026-06-16T11")."""

from __future__ import annotations

from datetime import UTC, datetime


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H").replace(tzinfo=UTC)
