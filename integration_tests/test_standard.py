"""The CDK's standard connector tests, driven by acceptance-test-config.yml, against the fake Amplitude."""

from __future__ import annotations

from typing import Any

import pytest
from airbyte_cdk.test.standard_tests.source_base import SourceTestSuiteBase

from source_amplitude import SourceAmplitude


@pytest.fixture(autouse=True)
def _fake_amplitude(shared_fake: Any) -> None:
    """Every standard test talks to the session's fake server through AMPLITUDE_BASE_URL."""


class TestSourceAmplitude(SourceTestSuiteBase):
    connector = SourceAmplitude
