"""What the incremental amplitude_airbyte_event costs on a large table: DuckDB, at least 5,000,000 events, a full
build, then one more upload hour and an incremental run; prints both times (the model's own, from dbt's
run_results.json), their ratio and the rows the incremental run's scans read (DuckDB's EXPLAIN ANALYZE of the
compiled model). Not a test: figures for docs/benchmarks.md.

The events are the fake's (fake_amplitude), read by the connector through PyAirbyte into DuckDB, so the table has the
columns and types a user's has; that day is then repeated, a day earlier each time (new uuids, event ids and times, as
if synced then), up to the size asked for. Run with the PyAirbyte virtualenv and the dbt one (bash
scripts/pyairbyte.sh creates both):

    .venv-pyairbyte/bin/python bench/dbt_incremental_benchmark.py [--events 5000000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
from airbyte.caches import DuckDBCache  # noqa: E402

from fake_amplitude import Dataset  # noqa: E402
from test_support.pyairbyte_reads import read_fake_into  # noqa: E402

DBT = ROOT / ".venv-dbt" / "bin" / "dbt"
EVENTS_PER_HOUR = 5_000


def load_one_day(database: Path) -> int:
    """A day of the fake's events (and its events_list) through the connector and PyAirbyte into DuckDB."""
    data = Dataset.recent(datetime.now(UTC), days=1, events_per_hour=EVENTS_PER_HOUR)
    read_fake_into(DuckDBCache(db_path=database, schema_name="amplitude"), data, ["events", "events_list"])
    with duckdb.connect(str(database)) as connection:
        return int(connection.execute("SELECT count(*) FROM amplitude.events").fetchone()[0])  # type: ignore[index]


def repeat_days(database: Path, wanted: int, per_day: int) -> int:
    """The day again, a day earlier each time (history), until the table holds `wanted` events."""
    copies = -(-wanted // per_day) - 1  # besides the day itself
    with duckdb.connect(str(database)) as connection:
        connection.execute(  # as hourly syncs extract them: each upload hour about 3 hours after it began
            "CREATE TABLE amplitude.one_day AS SELECT * REPLACE (date_trunc('hour', server_upload_time)"
            " + INTERVAL 3 HOUR AS _airbyte_extracted_at) FROM amplitude.events"
        )
        connection.execute("DELETE FROM amplitude.events")
        connection.execute("INSERT INTO amplitude.events SELECT * FROM amplitude.one_day")
        for day in range(1, copies + 1):
            connection.execute(
                f"""INSERT INTO amplitude.events SELECT * REPLACE (
                    uuid || '-{day}' AS uuid,
                    event_id + {day * 100_000_000} AS event_id,
                    server_upload_time - INTERVAL {day} DAY AS server_upload_time,
                    client_event_time - INTERVAL {day} DAY AS client_event_time,
                    _airbyte_extracted_at - INTERVAL {day} DAY AS _airbyte_extracted_at
                ) FROM amplitude.one_day"""
            )
        connection.execute(  # in the order a warehouse receives them: by sync
            "CREATE OR REPLACE TABLE amplitude.events AS SELECT * FROM amplitude.events ORDER BY _airbyte_extracted_at"
        )
        connection.execute("CHECKPOINT")
        return int(connection.execute("SELECT count(*) FROM amplitude.events").fetchone()[0])  # type: ignore[index]


def add_an_upload_hour(database: Path) -> int:
    """One more upload hour after the last, extracted by the next hourly sync."""
    with duckdb.connect(str(database)) as connection:
        last = connection.execute("SELECT max(server_upload_time) FROM amplitude.events").fetchone()[0]  # type: ignore[index]
        first_of_day = connection.execute(
            "SELECT min(date_trunc('hour', server_upload_time)) FROM amplitude.one_day"
        ).fetchone()[0]  # type: ignore[index]
        shift = f"(TIMESTAMPTZ '{last.isoformat()}' - TIMESTAMPTZ '{first_of_day.isoformat()}') + INTERVAL 1 HOUR"
        connection.execute(
            f"""INSERT INTO amplitude.events SELECT * REPLACE (
                uuid || '-next' AS uuid,
                event_id + CAST(9900000000 AS BIGINT) AS event_id,
                server_upload_time + {shift} AS server_upload_time,
                client_event_time + {shift} AS client_event_time,
                date_trunc('hour', server_upload_time + {shift}) + INTERVAL 3 HOUR AS _airbyte_extracted_at
            ) FROM amplitude.one_day
            WHERE date_trunc('hour', server_upload_time) = TIMESTAMPTZ '{first_of_day.isoformat()}'"""
        )
        return int(connection.execute("SELECT count(*) FROM amplitude.events WHERE uuid LIKE '%-next'").fetchone()[0])  # type: ignore[index]


def dbt_run(database: Path, work: Path, *extra: str) -> tuple[float, float]:
    """dbt run of amplitude_airbyte_event: (the command's seconds, the model's own from run_results.json)."""
    profiles = work / "profiles"
    profiles.mkdir(exist_ok=True)
    output = {"type": "duckdb", "path": str(database), "schema": "analytics", "threads": 1}
    (profiles / "profiles.yml").write_text(
        json.dumps({"amplitude_airbyte": {"target": "bench", "outputs": {"bench": output}}})
    )
    command = [
        str(DBT), "run", "--select", "amplitude_airbyte_event", "--project-dir", str(ROOT / "dbt"),
        "--profiles-dir", str(profiles), "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
        "--vars", json.dumps({"amplitude_airbyte_schema": "amplitude"}), *extra,
    ]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        check=False,
    )
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(done.stdout[-4000:] + done.stderr[-2000:])
    results = json.loads((work / "target" / "run_results.json").read_text())
    return seconds, float(results["results"][0]["execution_time"])


def rows_scanned(database: Path, work: Path) -> list[str]:
    """The table scans of the compiled incremental model, from DuckDB's profile: which table, how many rows each
    scan produced (after the filters pushed into it) and how many the table holds."""
    compiled = next((work / "target" / "compiled").rglob("amplitude_airbyte_event.sql")).read_text()
    profile = work / "profile.json"
    with duckdb.connect(str(database)) as connection:
        connection.execute("PRAGMA enable_profiling = 'json'")
        connection.execute(f"PRAGMA profiling_output = '{profile}'")
        connection.execute(compiled).fetchall()
        connection.execute("PRAGMA disable_profiling")
        sizes = dict(
            connection.execute(
                "SELECT schema_name || '.' || table_name, estimated_size FROM duckdb_tables()"
            ).fetchall()
        )
    lines: list[str] = []

    def walk(node: dict[str, object]) -> None:
        kind = str(node.get("operator_type") or node.get("name") or "")
        if "SCAN" in kind:
            info = node.get("extra_info") or {}
            table = info.get("Table", "?") if isinstance(info, dict) else "?"
            rows = node.get("operator_cardinality", node.get("cardinality", "?"))
            held = next((size for name, size in sizes.items() if name.endswith(f".{table}")), None)
            lines.append(f"{kind} {table}: {rows:,} rows" + (f" (of {held:,})" if held else ""))
        for child in node.get("children", []) or []:  # type: ignore[union-attr]
            walk(child)

    walk(json.loads(profile.read_text()))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dbt-bench-") as tmp:
        work = Path(tmp)
        database = work / "warehouse.duckdb"
        started = time.monotonic()
        per_day = load_one_day(database)
        total = repeat_days(database, args.events, per_day)
        print(
            f"events table: {total:,} events ({per_day:,} a day through the connector and PyAirbyte, then repeated); "
            f"{time.monotonic() - started:.1f} s to build"
        )
        full_seconds, full_model = dbt_run(database, work, "--full-refresh")
        print(f"full build:        {full_model:7.2f} s (model)  {full_seconds:7.2f} s (dbt run)")
        added = add_an_upload_hour(database)
        incremental_seconds, incremental_model = dbt_run(database, work)
        print(
            f"incremental (+{added:,} events, one upload hour): {incremental_model:7.2f} s (model)  "
            f"{incremental_seconds:7.2f} s (dbt run)"
        )
        print(
            f"incremental / full: {incremental_model / full_model:.1%} (model), "
            f"{incremental_seconds / full_seconds:.1%} (dbt run)"
        )
        with duckdb.connect(str(database)) as connection:
            modelled = connection.execute("SELECT count(*) FROM analytics.amplitude_airbyte_event").fetchone()[0]  # type: ignore[index]
        print(f"rows in amplitude_airbyte_event: {modelled:,}")
        print("the incremental model's scans (EXPLAIN ANALYZE):")
        for line in rows_scanned(database, work):
            print(f"  {line}")


if __name__ == "__main__":
    main()
