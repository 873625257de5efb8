from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

RECORDED = Path(__file__).resolve().parents[2] / "shared" / "recorded"


def recorded(name: str) -> dict[str, Any]:
    """A recorded exchange from ../shared/recorded (status, headers, body)."""
    path = RECORDED / name
    if not path.exists():
        pytest.skip(f"{path} is not beside this checkout")
    return json.loads(path.read_text())


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries wait milliseconds, not seconds, in tests (the policy itself is tested in test_http_policy.py)."""
    monkeypatch.setattr("source_amplitude.http.BACKOFF_BASE_SECONDS", 0.001)
    monkeypatch.setattr("source_amplitude.errors.MAX_RETRIES", 2)
