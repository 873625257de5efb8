"""The files Airbyte reads besides the code: metadata.yaml and the Dockerfile's contract."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from airbyte_connector_models.metadata.v0.connector_metadata_definition_v0 import ConnectorMetadataDefinitionV0

ROOT = Path(__file__).resolve().parents[1]


def test_metadata_validates_against_the_airbyte_model() -> None:
    metadata = ConnectorMetadataDefinitionV0.model_validate(yaml.safe_load((ROOT / "metadata.yaml").read_text()))
    assert metadata.data.docker_repository == "airbyte/source-amplitude"
    assert {"language:python", "cdk:python"} <= set(metadata.data.tags or [])


def test_dockerfile_entrypoint_matches_airbyte_entrypoint_and_runs_as_airbyte() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    env = re.search(r'ENV AIRBYTE_ENTRYPOINT="([^"]+)"', dockerfile)
    entrypoint = re.search(r'ENTRYPOINT \["([^"]+)"\]', dockerfile)
    assert env and entrypoint and env.group(1) == entrypoint.group(1) == "source-amplitude"
    assert dockerfile.strip().splitlines()[-1] == "USER airbyte"
    assert "ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.2@sha256:" in dockerfile


def test_console_script_is_declared() -> None:
    assert 'source-amplitude = "source_amplitude.run:run"' in (ROOT / "pyproject.toml").read_text()
