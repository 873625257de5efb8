from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from integration_tests.fake_amplitude import Dataset, FakeAmplitude

pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process reads retry after milliseconds, not seconds (the policy itself is unit-tested)."""
    monkeypatch.setattr("source_amplitude.http.BACKOFF_BASE_SECONDS", 0.001)
    monkeypatch.setattr("source_amplitude.errors.MAX_RETRIES", 2)


def small_dataset(**overrides: object) -> Dataset:
    """One day of 60 events per hour: fast, and still every shape the connector meets."""
    params: dict[str, object] = {"days": 1, "events_per_hour": 60, **overrides}
    return Dataset.recent(datetime.now(UTC), **params)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def shared_fake() -> Iterator[FakeAmplitude]:
    """A fake Amplitude for the whole session, also the target of AMPLITUDE_BASE_URL (the CDK standard tests run the
    connector in-process and read integration_tests/config.json, which holds the fake's keys)."""
    with FakeAmplitude(small_dataset()) as fake:
        previous = os.environ.get("AMPLITUDE_BASE_URL")
        os.environ["AMPLITUDE_BASE_URL"] = fake.url
        yield fake
        if previous is None:
            os.environ.pop("AMPLITUDE_BASE_URL", None)
        else:
            os.environ["AMPLITUDE_BASE_URL"] = previous


@pytest.fixture
def fake() -> Iterator[FakeAmplitude]:
    """A fresh fake Amplitude per test, for tests that change its data or inject faults."""
    with FakeAmplitude(small_dataset()) as server:
        yield server
