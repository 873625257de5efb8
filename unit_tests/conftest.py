from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries wait milliseconds, not seconds, in tests (the policy itself is tested in test_http_policy.py)."""
    monkeypatch.setattr("source_amplitude.http.BACKOFF_BASE_SECONDS", 0.001)
    monkeypatch.setattr("source_amplitude.errors.MAX_RETRIES", 2)
