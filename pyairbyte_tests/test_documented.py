"""The PyAirbyte example of the README and the docs, and the docs' "Try it locally" dbt block, run as pasted from a
folder laid out like the repository, against the fake Amplitude started as the README starts it (port 8765)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from fake_amplitude import Dataset, FakeAmplitude
from test_support.documented import ROOT, block_under, blocks_after, runnable_lines


def test_the_pyairbyte_example_and_the_local_dbt_block_run_as_pasted(tmp_path: Path) -> None:
    example = block_under("docs/amplitude.md", "PyAirbyte", "python")
    assert block_under("README.md", "PyAirbyte", "python") == example  # one example, in both places
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    (tmp_path / ".venv-dbt").symlink_to(Path(os.environ.get("DBT_EXECUTABLE", ROOT / ".venv-dbt/bin/dbt")).parents[1])
    subprocess.run(["cp", "-r", str(ROOT / "dbt"), str(tmp_path / "dbt")], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMPLITUDE_", "AIRBYTE_"))}
    with FakeAmplitude(Dataset.recent(datetime.now(UTC), days=2, events_per_hour=20), port=8765):
        read = subprocess.run(
            [sys.executable, "-c", example], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )
    assert read.returncode == 0, read.stderr[-3000:]
    assert "[5 rows x" in read.stdout  # the events table's first rows, printed
    (dbt_block,) = blocks_after("docs/amplitude.md", "**Try it locally**", "bash", 1)
    built = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "\n".join(runnable_lines(dbt_block))],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout[-3000:]
    with duckdb.connect(str(tmp_path / ".cache/default_cache/default_cache.duckdb"), read_only=True) as db:
        (built_events,) = db.execute("SELECT count(*) FROM analytics.amplitude_airbyte_event").fetchone() or (0,)
        (raw_events,) = db.execute("SELECT count(DISTINCT uuid) FROM main.events").fetchone() or (0,)
    assert 0 < built_events <= raw_events
