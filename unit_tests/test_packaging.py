"""The files Airbyte reads besides the code: metadata.yaml, the Dockerfile's contract, the docs page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from airbyte_connector_models.metadata.v0.connector_metadata_definition_v0 import ConnectorMetadataDefinitionV0

from source_amplitude import errors
from source_amplitude.streams import charts as chart_streams

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


@pytest.mark.parametrize(
    "template",
    [
        errors.AUTH_MESSAGE,
        errors.RATE_LIMIT_MESSAGE,
        errors.SERVER_ERROR_MESSAGE,
        errors.NETWORK_ERROR_MESSAGE,
        errors.REQUEST_REJECTED_MESSAGE,
        errors.GROUP_BY_COUNTRY_HINT,
        chart_streams.MISSING_CHART,
    ],
)
def test_the_docs_troubleshooting_table_lists_each_error_message(template: str) -> None:
    fixed_start = template.split("{")[0].split(". ")[0].strip()  # the docs abridge after the first sentence
    assert fixed_start in (ROOT / "docs" / "amplitude.md").read_text()
