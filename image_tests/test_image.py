"""The container image as Airbyte runs it: `docker run` with files mounted, against the fake Amplitude.

Run by `bash scripts/image.sh` (podman behind a `docker` shim); deselected from the ordinary suite."""

from __future__ import annotations

import json
import subprocess
import tomllib
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fake_amplitude import FakeAmplitude
from fake_amplitude.bucket_export import ORG_ID, BucketLayout, write_bucket_export
from fake_amplitude.catalog import ANNOTATION_LABELS
from fake_amplitude.object_stores import LocalStore
from test_support.connector_process import configured_catalog, run_connector
from test_support.fixtures import bucket_config, config_for, new_bucket

pytestmark = pytest.mark.image_tests


@pytest.fixture
def image(connector_image_override: str | None) -> str:
    if not connector_image_override:
        pytest.fail("image tests need --connector-image=<image>; `bash scripts/image.sh` builds one and passes it")
    return connector_image_override


def inspect(image: str) -> dict[str, Any]:
    done = subprocess.run(["docker", "image", "inspect", image], capture_output=True, text=True, check=True)
    inspected: dict[str, Any] = json.loads(done.stdout)[0]
    return inspected


def test_image_answers_spec_with_the_connectors_spec(image: str, tmp_path: Path) -> None:
    in_image = run_connector(["spec"], tmp_path, None, image=image)
    local = run_connector(["spec"], tmp_path, None)
    assert in_image.exit_code == 0, in_image.stderr[-2000:]
    assert [m["spec"] for m in in_image.of_type("SPEC")] == [m["spec"] for m in local.of_type("SPEC")]


def test_image_runs_as_airbyte_and_airbyte_entrypoint_matches_the_entrypoint(image: str) -> None:
    config = inspect(image)["Config"]
    assert config["User"] == "airbyte"
    environment = dict(entry.split("=", 1) for entry in config["Env"])
    assert environment["AIRBYTE_ENTRYPOINT"].split() == config["Entrypoint"] == ["source-amplitude"]
    whoami = subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "id", image], capture_output=True, text=True, check=True
    )
    assert whoami.stdout.startswith("uid=1000(airbyte) gid=1000(airbyte)")


def test_image_carries_this_connectors_name_and_version(image: str) -> None:
    """Airbyte reads io.airbyte.name and io.airbyte.version; they are this connector's, and the version is the one
    pyproject.toml and metadata.yaml declare (scripts/image.sh tags the image with it)."""
    root = Path(__file__).resolve().parents[1]
    version = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["poetry"]["version"]
    labels = inspect(image)["Config"]["Labels"]
    assert labels["io.airbyte.name"] == "source-amplitude"
    assert labels["io.airbyte.version"] == version


def test_image_holds_the_versions_poetry_lock_pins(image: str) -> None:
    """The Dockerfile installs poetry.lock's main group with its hashes: every package of it is in the image at its
    locked version, and the connector at pyproject.toml's (an image built next month holds the same)."""
    from test_support.locked import installed_versions, locked_versions

    installed, environment = installed_versions(["docker", "run", "--rm", "--entrypoint", "python", image])
    pinned = locked_versions({"main"}, environment)
    root = Path(__file__).resolve().parents[1]
    version = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["poetry"]["version"]
    assert len(pinned) > 30 and "airbyte-cdk" in pinned
    assert {name: installed.get(name) for name in pinned} == pinned
    assert installed["source-amplitude"] == version


def test_image_check_succeeds_with_good_keys_and_fails_with_bad_ones_leaking_nothing(
    image: str, fake: FakeAmplitude, tmp_path: Path
) -> None:
    good = run_connector(["check"], tmp_path, fake.url, config=config_for(fake), image=image)
    assert good.exit_code == 0, good.stderr[-2000:]
    assert good.of_type("CONNECTION_STATUS")[0]["connectionStatus"]["status"] == "SUCCEEDED"

    bad_config = {**config_for(fake), "secret_key": "wrong-secret-7654321"}
    bad = run_connector(["check"], tmp_path, fake.url, config=bad_config, image=image)
    status = bad.of_type("CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "FAILED"
    assert "refused the API Key / Secret Key pair" in status["message"]
    assert "wrong-secret-7654321" not in bad.stdout + bad.stderr


def test_image_reads_every_stream_then_resumes_from_its_state(image: str, fake: FakeAmplitude, tmp_path: Path) -> None:
    config = config_for(fake)
    discovered = run_connector(["discover"], tmp_path, fake.url, config=config, image=image)
    assert discovered.exit_code == 0, discovered.stderr[-2000:]
    catalog = configured_catalog(discovered.of_type("CATALOG")[0]["catalog"])

    first = run_connector(["read"], tmp_path, fake.url, config=config, catalog=catalog, image=image)
    assert first.exit_code == 0, first.stderr[-2000:]
    assert first.errors() == []
    counts = Counter(m["record"]["stream"] for m in first.of_type("RECORD"))
    dataset = fake.state.dataset
    assert sorted(r["uuid"] for r in first.records("events")) == sorted(dataset.uuids())
    assert counts["annotations"] == len(ANNOTATION_LABELS)
    assert (counts["cohorts"], counts["events_list"], counts["event_types"]) == (3, 6, 6)
    assert counts["active_users"] == (datetime.now(UTC).date() - dataset.first_hour.date()).days + 1
    last_hour = dataset.first_hour + timedelta(hours=dataset.hours - 1)
    assert first.stream_states()["events"]["server_upload_time"] >= last_hour.strftime("%Y%m%dT%H")

    state = first.state_to_resume()
    second = run_connector(["read"], tmp_path, fake.url, config=config, catalog=catalog, state=state, image=image)
    assert second.exit_code == 0, second.stderr[-2000:]
    assert second.records("events") == []
    assert second.stream_states()["events"] == first.stream_states()["events"]


@pytest.mark.parametrize("store_kind", ["s3", "gcs"])
def test_image_reads_events_and_merged_ids_from_a_bucket(
    image: str, fake: FakeAmplitude, store_kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Bucket mode in the container: the image holds boto3 / google-cloud-storage, and the clients' standard
    variables reach the local store over the host network."""
    store: LocalStore = request.getfixturevalue(f"local_{store_kind}")
    bucket = new_bucket(store)
    dataset = fake.state.dataset
    layout = BucketLayout()
    write_bucket_export(dataset, lambda key, data: store.put(bucket, key, data), layout)
    source = bucket_config(store, bucket, dataset.app_id, org_id=str(ORG_ID))
    config = {**config_for(fake), "events_source": source}
    discovered = run_connector(["discover"], tmp_path, fake.url, config=config, image=image)
    streams = [
        s
        for s in discovered.of_type("CATALOG")[0]["catalog"]["streams"]
        if s["name"] in ("events", "merged_ids", "events_ledger")
    ]
    catalog = configured_catalog({"streams": streams})
    read = run_connector(["read"], tmp_path, fake.url, config=config, catalog=catalog, image=image, extra_env=store.env)
    assert read.exit_code == 0 and read.errors() == [], read.stdout[-2000:]
    assert sorted(r["uuid"] for r in read.records("events")) == sorted(dataset.uuids())
    merges = sum(len(dataset.merged_ids_in_hour(hour)) for hour in dataset.upload_hours())
    assert len(read.records("merged_ids")) == merges > 0
    ledger = read.records("events_ledger")  # a row per object read, adding up to what was emitted
    assert sum(row["records"] for row in ledger if row["stream"] == "events") == len(dataset.uuids())
    assert sum(row["records"] for row in ledger if row["stream"] == "merged_ids") == merges
    assert {row["source"] for row in ledger} == {store_kind}
