"""The golden recorded responses in unit_tests/resources/recorded (see its README). A missing file is a failure, never
a skip: a clone that lost them must not pass by testing less."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RECORDED = Path(__file__).resolve().parents[1] / "unit_tests" / "resources" / "recorded"


def recorded_path(name: str) -> Path:
    path = RECORDED / name
    if not path.exists():
        raise FileNotFoundError(f"golden recording {path} is missing from the repository")
    return path


def recorded(name: str) -> dict[str, Any]:
    """A recorded exchange: {method, path, query, status, content_type, body}."""
    return json.loads(recorded_path(name).read_text())


def recorded_body(name: str) -> Any:
    return recorded(name)["body"]
