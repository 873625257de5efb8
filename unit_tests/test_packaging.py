"""The files Airbyte reads besides the code: metadata.yaml, the Dockerfile's contract, the docs page."""

from __future__ import annotations

import json
import logging
import os
import random
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from airbyte_cdk.models import AirbyteMessage, AirbyteMessageSerializer, Type
from airbyte_cdk.test.standard_tests._spec_compatibility import compare_specs
from airbyte_connector_models.metadata.v0.connector_metadata_definition_v0 import ConnectorMetadataDefinitionV0

from source_amplitude import check, errors
from source_amplitude.source import SourceAmplitude
from source_amplitude.state import input_file
from source_amplitude.streams import charts as chart_streams

ROOT = Path(__file__).resolve().parents[1]


def test_metadata_validates_against_the_airbyte_model() -> None:
    metadata = ConnectorMetadataDefinitionV0.model_validate(yaml.safe_load((ROOT / "metadata.yaml").read_text()))
    # This connector's image, never the official airbyte/source-amplitude (issue 20: metadata names this connector).
    assert metadata.data.docker_repository == "source-amplitude"
    assert {"language:python", "cdk:python"} <= set(metadata.data.tags or [])


def test_one_version_and_one_docs_page_everywhere() -> None:
    """pyproject.toml's version is the image tag metadata.yaml declares, the Dockerfile's io.airbyte.version label,
    the default tag scripts/image.sh builds (it reads pyproject.toml) and the changelog's newest row; the spec and
    metadata.yaml link this connector's docs page, never the official connector's."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["poetry"]  # where Airbyte's tooling reads
    version, docs_url = project["version"], project["documentation"]
    metadata = yaml.safe_load((ROOT / "metadata.yaml").read_text())["data"]
    spec = yaml.safe_load((ROOT / "source_amplitude" / "spec.yaml").read_text())
    dockerfile = (ROOT / "Dockerfile").read_text()
    changelog = (ROOT / "docs" / "amplitude.md").read_text().split("## Changelog", 1)[1]
    newest = re.search(r"^\| (\d+\.\d+\.\d+) \|", changelog, re.MULTILINE)
    assert metadata["dockerImageTag"] == version
    assert f'io.airbyte.version="{version}"' in dockerfile
    assert f'io.airbyte.name="{metadata["dockerRepository"]}"' in dockerfile
    assert newest and newest.group(1) == version
    tag = subprocess.run(
        ["bash", "scripts/image.sh", "tag"], cwd=ROOT, env={**os.environ, "IMAGE": ""}, capture_output=True, text=True
    )
    assert tag.stdout.strip() == f"{metadata['dockerRepository']}:{version}", tag.stderr
    assert spec["documentationUrl"] == metadata["documentationUrl"] == docs_url
    assert docs_url.endswith("/docs/amplitude.md") and "docs.airbyte.com" not in docs_url


def test_this_virtualenv_holds_the_versions_poetry_lock_pins() -> None:
    """scripts/setup.sh installs .venv with `poetry sync`: every package of the lock's main and dev groups is here at
    its locked version (the image's test checks the main group in the image)."""
    import sys

    from test_support.locked import installed_versions, locked_versions

    installed, environment = installed_versions([sys.executable])
    pinned = locked_versions({"main", "dev"}, environment)
    assert len(pinned) > 50 and "airbyte-cdk" in pinned
    assert {name: installed.get(name) for name in pinned} == pinned


def test_the_image_builds_with_the_tools_the_scripts_pin() -> None:
    """The Dockerfile's throwaway Poetry, its export plugin and uv are the versions scripts/lib/tools.sh pins."""
    tools = (ROOT / "scripts" / "lib" / "tools.sh").read_text()
    pinned = dict(re.findall(r"^(\w+)_VERSION=(\S+)$", tools, re.MULTILINE))
    in_image = dict(re.findall(r'"([\w-]+)==([^"]+)"', (ROOT / "Dockerfile").read_text()))
    assert set(pinned) == {"POETRY", "POETRY_EXPORT", "UV"}
    assert in_image == {
        "poetry": pinned["POETRY"],
        "poetry-plugin-export": pinned["POETRY_EXPORT"],
        "uv": pinned["UV"],
    }


def test_dockerfile_entrypoint_matches_airbyte_entrypoint_and_runs_as_airbyte() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    env = re.search(r'ENV AIRBYTE_ENTRYPOINT="([^"]+)"', dockerfile)
    entrypoint = re.search(r'ENTRYPOINT \["([^"]+)"\]', dockerfile)
    assert env and entrypoint and env.group(1) == entrypoint.group(1) == "source-amplitude"
    assert dockerfile.strip().splitlines()[-1] == "USER airbyte"
    assert "ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.2@sha256:" in dockerfile


# `spec` of airbyte/source-amplitude 0.6.19 (the official connector), as its console script printed it.
OFFICIAL_SPEC = json.loads((ROOT / "unit_tests" / "resources" / "official_0.6.19_spec.json").read_text())
OFFICIAL_START_DATE = re.compile(OFFICIAL_SPEC["connectionSpecification"]["properties"]["start_date"]["pattern"])


def our_spec() -> dict[str, Any]:
    spec = SourceAmplitude().spec(logging.getLogger("test"))
    message = AirbyteMessage(type=Type.SPEC, spec=spec)
    return dict(AirbyteMessageSerializer.dump(message)["spec"])


def test_every_config_the_official_connector_accepts_our_spec_accepts() -> None:
    """The CDK's own comparator (the one `test_docker_image_spec_backward_compatibility` runs
    against the registry, unreachable here), run against the official connector's spec."""
    comparison = compare_specs(OFFICIAL_SPEC, our_spec())
    # The comparator cannot prove that a new regex accepts everything the old one did, so it
    # reports any change of `pattern` as breaking; the next test proves ours is wider.
    assert len(comparison.breaking) == 1, comparison.breaking
    assert comparison.breaking[0].startswith("`connectionSpecification.properties.start_date.pattern` changed from")
    assert "`connectionSpecification.properties.chart_ids` was added" in comparison.compatible


def our_start_date_pattern() -> re.Pattern[str]:
    return re.compile(our_spec()["connectionSpecification"]["properties"]["start_date"]["pattern"])


def test_our_start_date_pattern_accepts_every_official_start_date() -> None:
    ours = our_start_date_pattern()
    draw = random.Random(5)
    official_dates = [
        "".join(str(draw.randrange(10)) if c == "9" else c for c in "9999-99-99T99:99:99Z") for _ in range(2000)
    ] + ["2021-01-25T00:00:00Z", "0000-00-00T00:00:00Z", "9999-99-99T99:99:99Z"]
    for value in official_dates:
        assert OFFICIAL_START_DATE.search(value), value
        assert ours.search(value), value
    assert ours.search("2024-01-25") and ours.search("2024-01-25T00:00:00.000Z") and ours.search("")
    assert not ours.search("2024-01-25 00:00:00") and not ours.search("25/01/2024")


def test_console_script_is_declared() -> None:
    # launch.main starts run.run without the CDK's package index (integration_tests/test_start_up.py)
    assert 'source-amplitude = "source_amplitude.launch:main"' in (ROOT / "pyproject.toml").read_text()


@pytest.mark.parametrize(
    "template",
    [
        errors.AUTH_MESSAGE,
        errors.RATE_LIMIT_MESSAGE,
        errors.SERVER_ERROR_MESSAGE,
        errors.NETWORK_ERROR_MESSAGE,
        errors.UNREACHABLE_MESSAGE,
        errors.REQUEST_REJECTED_MESSAGE,
        errors.GROUP_BY_COUNTRY_HINT,
        errors.NOT_JSON_MESSAGE,
        errors.UNEXPECTED_ANSWER_MESSAGE,
        errors.UNUSABLE_STATE_MESSAGE,
        input_file.WHOLE_STATE_MESSAGE,
        chart_streams.MISSING_CHART,
        check.CHECK_TRANSIENT_MESSAGE,
    ],
)
def test_the_docs_troubleshooting_table_lists_each_error_message(template: str) -> None:
    fixed_start = template.split("{")[0].split(". ")[0].strip()  # the docs abridge after the first sentence
    assert fixed_start in (ROOT / "docs" / "amplitude.md").read_text()


def test_the_docs_page_has_airbytes_connector_page_sections_in_their_order() -> None:
    """The sections Airbyte's connector pages have, in their order (Airbyte's QA checks look for them), and the
    changelog folded in a <details> block; and the icon metadata.yaml names exists."""
    docs = (ROOT / "docs" / "amplitude.md").read_text()
    sections = re.findall(r"^## (.+)$", docs, re.MULTILINE)
    expected = [
        "Prerequisites",
        "Setup guide",
        "Supported sync modes",
        "Supported streams",
        "Performance considerations",
        "Data type map",
        "Limitations & troubleshooting",
        "Changelog",
    ]
    assert sections == expected
    changelog = docs.split("## Changelog", 1)[1]
    assert "<details>" in changelog and "</details>" in changelog
    icon = yaml.safe_load((ROOT / "metadata.yaml").read_text())["data"]["icon"]
    assert icon == "icon.svg" and (ROOT / icon).read_text().lstrip().startswith("<svg")


def test_the_readme_layout_names_every_module_of_the_package() -> None:
    readme = (ROOT / "README.md").read_text()
    layout = readme.split("## Layout", 1)[1].split("```", 2)[1]
    listed = subprocess.run(["git", "ls-files", "source_amplitude"], cwd=ROOT, capture_output=True, text=True)
    modules = [path for path in listed.stdout.split() if path.endswith(".py") and not path.endswith("__init__.py")]
    assert modules
    named = {path for path in modules if re.search(rf"(?<![\w/.]){re.escape(Path(path).name)}", layout)}
    assert [path for path in modules if path not in named] == []  # a whole name: ledger.py is not events_ledger.py


def test_every_stream_is_in_the_docs_streams_table_and_the_example_catalog() -> None:
    """Steps of README's new-stream checklist that no read checks (a throwaway stream added by the checklist alone
    passed every tier without them)."""
    from source_amplitude import SourceAmplitude

    config = json.loads((ROOT / "examples" / "config.json").read_text())
    names = {stream.name for stream in SourceAmplitude().streams(config)}
    assert {"events", "charts_metadata", "chart_act1vusr"} <= names
    streams_section = (ROOT / "docs" / "amplitude.md").read_text().split("## Supported streams", 1)[1]
    documented = set(re.findall(r"^\| `([a-z_<>]+)`", streams_section.split("\n## ", 1)[0], re.MULTILINE))
    as_documented = {"chart_<id>" if n.startswith("chart_") else n for n in names}
    assert as_documented - documented == set()
    example = json.loads((ROOT / "examples" / "catalog.json").read_text())
    assert names - {entry["stream"]["name"] for entry in example["streams"]} == set()
