"""The fake Amplitude answers in the recorded formats: same keys, value types and nesting as the recordings in
unit_tests/resources/recorded."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
import requests

from fake_amplitude import FakeAmplitude
from test_support.recordings import recorded_body, recorded_path


def shape(value: Any) -> Any:
    """Keys, JSON types and nesting; lists by the shape of their first item; null matches anything."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if value is None:
        return None
    return "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__


def assert_same_shape(ours: Any, recorded: Any, where: str = "") -> None:
    if recorded is None or ours is None:
        return
    if isinstance(recorded, dict):
        assert isinstance(ours, dict), where
        assert set(recorded) <= set(ours), f"{where}: missing {set(recorded) - set(ours)}"
        for key in recorded:
            assert_same_shape(ours[key], recorded[key], f"{where}.{key}")
    elif isinstance(recorded, list):
        assert isinstance(ours, list), where
        if recorded and ours:
            assert_same_shape(ours[0], recorded[0], f"{where}[0]")
    else:
        assert ours == recorded, f"{where}: {ours} != {recorded}"


def get(fake: FakeAmplitude, path: str, **params: str) -> requests.Response:
    return requests.get(
        f"{fake.url}{path}", params=params, auth=(fake.state.api_key, fake.state.secret_key), timeout=30
    )


@pytest.mark.parametrize(
    ("path", "params", "recorded"),
    [
        ("/api/2/events/list", {}, "events_list.json"),
        ("/api/3/annotations", {}, "annotations_v3.json"),
        ("/api/3/cohorts", {}, "cohorts.json"),
        ("/api/2/sessions/average", {"start": "20260917", "end": "20260924"}, "sessions_average.json"),
        ("/api/2/users", {"start": "20260920", "end": "20260922", "m": "active"}, "users_active_empty.json"),
        ("/api/2/taxonomy/event", {}, "taxonomy_event_types.json"),
        ("/api/2/taxonomy/event-property", {"showDeleted": "true"}, "taxonomy_event_properties.json"),
        ("/api/2/taxonomy/user-property", {}, "taxonomy_user_properties.json"),
        ("/api/2/taxonomy/category", {}, "taxonomy_categories.json"),
    ],
)
def test_json_answers_have_the_recorded_shape(
    shared_fake: FakeAmplitude, path: str, params: dict[str, str], recorded: str
) -> None:
    answer = get(shared_fake, path, **params)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    body = recorded_body(recorded)
    if recorded == "cohorts.json":  # the fake's cohort definitions are simpler; the envelope and fields match
        for cohort in body["cohorts"]:
            cohort["definition"] = None
    assert_same_shape(shape(answer.json()), shape(body))


def test_export_404_and_403_use_the_recorded_envelope(shared_fake: FakeAmplitude) -> None:
    empty = get(shared_fake, "/api/2/export", start="20200101T00", end="20200101T01")
    assert empty.status_code == 404
    assert empty.json() == json.loads(recorded_path("export_404.body.json").read_text())
    refused = requests.get(f"{shared_fake.url}/api/2/events/list", auth=("x", "y"), timeout=30)
    assert refused.status_code == 403
    assert set(refused.json()["error"]) == {"http_code", "type", "message", "metadata"}


def test_export_zip_has_the_recorded_layout_and_line_format(shared_fake: FakeAmplitude) -> None:
    dataset = shared_fake.state.dataset
    hour = dataset.first_hour
    answer = get(shared_fake, "/api/2/export", start=f"{hour:%Y%m%dT%H}", end=f"{hour:%Y%m%dT%H}")
    assert answer.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    (entry,) = archive.infolist()
    assert entry.filename == f"{dataset.app_id}/{dataset.app_id}_{hour:%Y-%m-%d}_{hour.hour}#0.json.gz"
    assert entry.compress_type == zipfile.ZIP_STORED and entry.flag_bits & 0x08
    import gzip

    lines = gzip.decompress(archive.read(entry)).split(b"\n")
    assert lines[-1] == b""  # trailing newline
    event = json.loads(lines[0])
    assert list(event) == sorted(event)  # keys sorted, as Amplitude sends them
    with zipfile.ZipFile(recorded_path("export_200.body.zip")) as real:
        real_event = json.loads(gzip.decompress(real.read(real.namelist()[0])).split(b"\n")[0])
    assert set(real_event) == set(event)
    assert_same_shape(shape(event), shape(real_event))
    assert len(event["server_upload_time"]) == len(real_event["server_upload_time"]) == 26
