"""The fake Amplitude read by the connector through PyAirbyte into a cache: what the PyAirbyte tier's dbt tests and
bench/dbt_incremental_benchmark.py load their warehouse with. Needs PyAirbyte (.venv-pyairbyte)."""

from __future__ import annotations

import gc
import os
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

import airbyte as ab
from airbyte.caches import CacheBase

from fake_amplitude import Dataset, FakeAmplitude

ROOT = Path(__file__).resolve().parents[1]
CONNECTOR = Path(os.environ.get("SOURCE_AMPLITUDE_EXECUTABLE", ROOT / ".venv" / "bin" / "source-amplitude"))


def read_fake_into(
    cache: CacheBase,
    data: Dataset,
    streams: list[str],
    raw_hours: Optional[Mapping[datetime, bytes]] = None,
    **read_options: Any,
) -> None:
    """`streams` of the fake holding `data` (its upload hours in `raw_hours` replaced by those lines) into `cache`,
    from the data's first hour; `read_options` go to PyAirbyte's read (write_strategy, force_full_refresh)."""
    with tempfile.TemporaryDirectory() as launcher_dir, FakeAmplitude(data, raw_hours=dict(raw_hours or {})) as fake:
        launcher = Path(launcher_dir) / "source-amplitude"
        launcher.write_text(f'#!/bin/sh\nexport AMPLITUDE_BASE_URL={fake.url}\nexec {CONNECTOR} "$@"\n')
        launcher.chmod(0o755)
        config = {**fake.config, "start_date": f"{data.first_hour:%Y-%m-%dT%H:00:00Z}"}
        source = ab.get_source("source-amplitude", local_executable=launcher, config=config)
        source.select_streams(streams)
        source.read(cache=cache, **read_options)
    cache.get_sql_engine().dispose()  # DuckDB: let dbt and the assertions open the file
    gc.collect()
