"""Pure tests (unit_tests/) and mocked-HTTP tests through the real entry point (unit_tests/mocked_http/)."""

import pytest

pytest_plugins = ["test_support.fixtures"]


@pytest.fixture(autouse=True)
def amplitude_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mocked HTTP answers for amplitude.com: no AMPLITUDE_BASE_URL override may leak in from the fake-server tier
    (its session-wide fake sets one) when both tiers run in one pytest process, in any order."""
    monkeypatch.delenv("AMPLITUDE_BASE_URL", raising=False)
    monkeypatch.delenv("AMPLITUDE_EU_BASE_URL", raising=False)
