"""Exactly once, checked in the warehouse: the dbt package's amplitude_airbyte_reconciliation and its test, on the
connector's events and events_ledger as PyAirbyte writes them into DuckDB and into a real PostgreSQL server, in
append + dedup mode (PyAirbyte's merge) and in append mode. A clean load passes; rows deleted from one hour fail
naming that hour (unless they were deleted on purpose and recorded); a second full load fails in append mode
(duplicated hours, named) and passes with the dedup."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fake_amplitude import Dataset
from pyairbyte_tests.test_dbt import DBT, ROOT, Warehouse, duckdb_warehouse, execute, postgres_warehouse
from test_support.pyairbyte_reads import read_fake_into

NOW = datetime.now(UTC)
DATASET = Dataset.recent(NOW, days=1, events_per_hour=40, events_per_member=15)  # three members an hour


def postgres_in_utc(path: Path) -> AbstractContextManager[Warehouse]:
    """PyAirbyte's Postgres cache writes timestamps without a time zone and converts some values to the server's zone
    but not others (in this test, an upload_hour on the whole hour was kept as written while read_at and the events'
    times were converted), so two loads of one hour can disagree on a server in New York. Airbyte's Postgres
    destination writes timestamptz and has no such case: the reconciliation runs on a server in UTC."""
    return postgres_warehouse(path, "UTC")


WAREHOUSES = pytest.mark.parametrize("make_warehouse", [duckdb_warehouse, postgres_in_utc], ids=["duckdb", "postgres"])


def load(warehouse: Warehouse, write_strategy: str, force_full_refresh: bool = False) -> None:
    """The fake's day (events and events_ledger) through PyAirbyte into the warehouse."""
    streams = ["events", "events_ledger"]
    read_fake_into(
        warehouse.cache, DATASET, streams, write_strategy=write_strategy, force_full_refresh=force_full_refresh
    )


def reconcile(warehouse: Warehouse, tmp_path: Path, **dbt_vars: str) -> subprocess.CompletedProcess[str]:
    """dbt build of the reconciliation model and its tests alone."""
    profiles = tmp_path / "profiles"
    profiles.mkdir(exist_ok=True)
    profile = {"amplitude_airbyte": {"target": "test", "outputs": {"test": warehouse.dbt_output}}}
    (profiles / "profiles.yml").write_text(json.dumps(profile))
    dbt_vars = {"amplitude_airbyte_schema": "amplitude", **dbt_vars}
    command = [
        str(DBT), "build", "--select", "amplitude_airbyte_reconciliation", "--project-dir", str(ROOT / "dbt"),
        "--profiles-dir", str(profiles), "--target-path", str(tmp_path / "target"),
        "--log-path", str(tmp_path / "logs"), "--vars", json.dumps(dbt_vars),
    ]  # fmt: skip
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, check=False)


def named_hours(built: subprocess.CompletedProcess[str], status: str) -> list[str]:
    prefix = "amplitude_airbyte_reconciliation: upload hour "
    return sorted(
        line.split(prefix, 1)[1].split(" is ", 1)[0]
        for line in built.stdout.splitlines()
        if prefix in line and f" is {status}:" in line
    )


def hour_text(hour: datetime) -> str:
    return f"{hour:%Y-%m-%d %H:%M:%S}"


@WAREHOUSES
def test_a_clean_load_passes_and_rows_lost_from_one_hour_fail_naming_it(
    make_warehouse: Callable[[Path], AbstractContextManager[Warehouse]], tmp_path: Path
) -> None:
    assert DBT.exists(), "needs .venv-dbt: bash scripts/pyairbyte.sh creates it"
    hours = list(DATASET.upload_hours())
    with make_warehouse(tmp_path) as warehouse:
        load(warehouse, "merge")
        clean = reconcile(warehouse, tmp_path)
        assert clean.returncode == 0, clean.stdout[-4000:]
        statuses = warehouse.query("SELECT status, count(*) FROM analytics.amplitude_airbyte_reconciliation GROUP BY 1")
        assert dict(statuses).get("ok", 0) >= len(hours) - 3 and set(dict(statuses)) <= {"ok", "given_up_empty"}

        lost = hours[5]
        gone = ", ".join(f"'{event['uuid']}'" for event in list(DATASET.events_in_hour(lost))[:3])
        execute(warehouse, f"DELETE FROM amplitude.events WHERE uuid IN ({gone})")
        failed = reconcile(warehouse, tmp_path)
        assert failed.returncode != 0
        assert named_hours(failed, "missing") == [hour_text(lost)], failed.stdout[-4000:]

        # the same loss, recorded as deleted on purpose (docs/amplitude.md, "Check that nothing is missing")
        execute(
            warehouse,
            "CREATE TABLE amplitude.amplitude_deleted_events (upload_hour TIMESTAMP, events BIGINT)",
            f"INSERT INTO amplitude.amplitude_deleted_events VALUES ('{hour_text(lost)}', 3)",
        )
        accounted = reconcile(
            warehouse, tmp_path, amplitude_airbyte_deleted_events_identifier="amplitude_deleted_events"
        )
        assert accounted.returncode == 0, accounted.stdout[-4000:]


@WAREHOUSES
@pytest.mark.parametrize("write_strategy", ["append", "merge"])
def test_a_second_full_load_fails_in_append_mode_and_passes_with_the_dedup(
    make_warehouse: Callable[[Path], AbstractContextManager[Warehouse]], tmp_path: Path, write_strategy: str
) -> None:
    with make_warehouse(tmp_path) as warehouse:
        load(warehouse, write_strategy)
        load(warehouse, write_strategy, force_full_refresh=True)  # every event and ledger row again
        built = reconcile(warehouse, tmp_path)
        if write_strategy == "merge":
            assert built.returncode == 0, built.stdout[-4000:]
        else:
            assert built.returncode != 0
            read = warehouse.query(
                "SELECT upload_hour FROM analytics.amplitude_airbyte_reconciliation WHERE ledger_records > 0"
            )
            assert len(read) >= 12 and named_hours(built, "duplicated") == sorted(hour_text(row[0]) for row in read)
