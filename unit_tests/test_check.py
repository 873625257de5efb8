"""`check` says what it did: one request, no retries, so a 429 or a 5xx is reported as such, not as an error that
"did not clear after retries"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests_mock

from source_amplitude.check import check_credentials
from source_amplitude.config import parse_config

BASE_URL = "https://amplitude.test"


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_transient_answer_says_check_asked_once_and_what_a_sync_does(status: int) -> None:
    environ = {"AMPLITUDE_BASE_URL": BASE_URL}
    config = parse_config({"api_key": "k", "secret_key": "s"}, datetime.now(UTC), environ)
    with requests_mock.Mocker() as mocked:
        mocked.get(f"{BASE_URL}/api/2/events/list", status_code=status, text="busy")
        ok, message = check_credentials(config, environ)
        assert mocked.call_count == 1
    assert not ok
    assert f"check made one request to {BASE_URL} and Amplitude answered HTTP {status}" in message
    assert "after retries" not in message
    assert "A sync retries this with backoff" in message


def connected(mocked: requests_mock.Mocker) -> None:
    mocked.get(f"{BASE_URL}/api/2/events/list", json={"data": []})
    mocked.get(f"{BASE_URL}/api/2/taxonomy/category", json={"success": True, "data": []})


def test_check_says_when_the_key_pair_may_not_read_deletion_jobs() -> None:
    environ = {"AMPLITUDE_BASE_URL": BASE_URL}
    config = parse_config({"api_key": "k", "secret_key": "s"}, datetime.now(UTC), environ)
    refused = {"error": {"http_code": 403, "metadata": {"details": "Permission denied: User Privacy API"}}}
    with requests_mock.Mocker() as mocked:
        connected(mocked)
        mocked.get(f"{BASE_URL}/api/2/deletions/users", status_code=403, json=refused)
        ok, message = check_credentials(config, environ)
    assert ok
    assert "user_deletions will be skipped, Amplitude refused the User Privacy API (HTTP 403)" in message


def test_check_says_when_the_key_pair_may_read_deletion_jobs() -> None:
    environ = {"AMPLITUDE_BASE_URL": BASE_URL}
    config = parse_config({"api_key": "k", "secret_key": "s"}, datetime.now(UTC), environ)
    with requests_mock.Mocker() as mocked:
        connected(mocked)
        mocked.get(f"{BASE_URL}/api/2/deletions/users", text="[]", headers={"content-type": "text/html"})
        ok, message = check_credentials(config, environ)
    assert ok and "may read deletion jobs" in message


def test_a_successful_check_says_what_it_verified_first_and_notes_after() -> None:
    environ = {"AMPLITUDE_BASE_URL": BASE_URL}
    config = parse_config({"api_key": "k", "secret_key": "s"}, datetime.now(UTC), environ)
    refused = {"success": False, "errors": [{"message": "Taxonomy API not on your plan"}]}
    with requests_mock.Mocker() as mocked:
        mocked.get(f"{BASE_URL}/api/2/events/list", json={"data": []})
        mocked.get(f"{BASE_URL}/api/2/taxonomy/category", status_code=403, json=refused)
        mocked.get(f"{BASE_URL}/api/2/deletions/users", text="[]", headers={"content-type": "text/html"})
        ok, message = check_credentials(config, environ)
    assert ok
    verified, notes = message.split(" Notes: ")
    assert verified == "Verified: Amplitude accepts the API key pair (US (standard) data center)."
    assert notes.startswith("The streams event_types") and notes.endswith("may read deletion jobs (user_deletions).")
