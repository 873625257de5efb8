"""Fixtures every test tier shares (loaded by each tier's conftest through `pytest_plugins`)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput

from fake_amplitude import Dataset, FakeAmplitude
from fake_amplitude.object_stores import LocalGcs, LocalS3, LocalStore


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process reads retry after milliseconds, not seconds (the policy itself: unit_tests/test_errors.py)."""
    monkeypatch.setattr("source_amplitude.http.BACKOFF_BASE_SECONDS", 0.001)
    monkeypatch.setattr("source_amplitude.bucket.read.BACKOFF_BASE_SECONDS", 0.001)
    monkeypatch.setattr("source_amplitude.errors.MAX_RETRIES", 2)


def small_dataset(**overrides: Any) -> Dataset:
    """One day of 60 events per hour: fast, and still every shape the connector meets."""
    params: dict[str, Any] = {"days": 1, "events_per_hour": 60, **overrides}
    return Dataset.recent(datetime.now(UTC), **params)


def config_for(fake: FakeAmplitude, **extra: Any) -> dict[str, Any]:
    """A config for `fake`: its keys, and start_date on the first day of its data."""
    return {**fake.config, "start_date": fake.state.dataset.first_hour.strftime("%Y-%m-%d"), **extra}


def last_state(output: EntrypointOutput) -> dict[str, Any]:
    """The last stream state an in-process read emitted ({} when none)."""
    if not output.state_messages:
        return {}
    return dict(output.most_recent_state.stream_state.__dict__)


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


@pytest.fixture(scope="session")
def local_s3() -> Iterator[LocalStore]:
    """moto's S3 server for the session (its backend is process-wide: each test takes a bucket of its own)."""
    store = LocalS3()
    yield store
    store.stop()


@pytest.fixture(scope="session")
def local_gcs() -> Iterator[LocalStore]:
    store = LocalGcs()
    yield store
    store.stop()


@pytest.fixture(params=[LocalS3.kind, LocalGcs.kind], ids=["s3", "gcs"])
def object_store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> LocalStore:
    """Each store in turn, with this process's client variables pointing at it (in-process reads)."""
    store: LocalStore = request.getfixturevalue("local_s3" if request.param == LocalS3.kind else "local_gcs")
    for name in ("AWS_ENDPOINT_URL", "STORAGE_EMULATOR_HOST", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in store.env.items():
        monkeypatch.setenv(name, value)
    return store


_buckets = itertools.count()


def new_bucket(store: LocalStore) -> str:
    name = f"amplitude-export-{os.getpid()}-{next(_buckets)}"
    store.create_bucket(name)
    return name


def bucket_config(store: LocalStore, bucket: str, project_id: int, **source: Any) -> dict[str, Any]:
    """The events_source block for `bucket` in `store` (no keys: the environment's, as the user's would be)."""
    return {
        "source_type": store.kind,
        "bucket": bucket,
        "path_prefix": "amplitude/",
        "project_id": str(project_id),
        **source,
    }
