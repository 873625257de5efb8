"""user_deletions against the fake Amplitude over real HTTP: a job's status moving across syncs ends as one row per
(job, id) with the latest status, an id taken back out is marked as such, the backfill asks at most six months at a
time and never faster than Amplitude allows, and the documented deletion SQL (docs/amplitude.md, the DuckDB block)
removes exactly the deleted users' events, including events under an older merged id, from a DuckDB copy and from a
real PostgreSQL server's."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Optional

import duckdb
import orjson
import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.state_builder import StateBuilder

from fake_amplitude import Dataset, FakeAmplitude
from source_amplitude import SourceAmplitude
from source_amplitude.parsers.merged_ids import merged_id_record
from test_support.fixtures import last_state
from test_support.postgres_server import postgres_available, postgres_server, psql

FIRST = datetime(2026, 11, 1, tzinfo=UTC)
DOCS = Path(__file__).parents[1] / "docs" / "amplitude.md"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAmplitude]:
    with FakeAmplitude(Dataset(FIRST, hours=24, events_per_hour=200)) as server:
        monkeypatch.setenv("AMPLITUDE_BASE_URL", server.url)
        yield server


def today(fake: FakeAmplitude) -> date:
    return fake.state.dataset.end_hour.date()  # the day the fake's deletion jobs are scheduled around


def sync(
    fake: FakeAmplitude, now: datetime, state: Optional[dict[str, Any]] = None, streams: tuple[str, ...] = ()
) -> EntrypointOutput:
    catalog = CatalogBuilder()
    for stream in streams or ("user_deletions",):
        catalog = catalog.with_stream(stream, SyncMode.incremental)
    states = StateBuilder().with_stream_state("user_deletions", state).build() if state else None
    config = {**fake.config, "start_date": f"{now - timedelta(days=60):%Y-%m-%dT00:00:00Z}"}
    return read(SourceAmplitude(now=now), config, catalog.build(), states)


def deletion_rows(output: EntrypointOutput) -> list[dict[str, Any]]:
    return [r.record.data for r in output.records if r.record.stream == "user_deletions"]


def job(fake: FakeAmplitude, offset_days: int) -> dict[str, Any]:
    day = (today(fake) + timedelta(days=offset_days)).isoformat()
    jobs = fake.state.deletion_jobs or []
    return next(j for j in jobs if j["day"] == day)


def test_statuses_move_across_syncs_and_dedupe_to_the_latest_with_a_cancelled_id_marked(fake: FakeAmplitude) -> None:
    noon = datetime.combine(today(fake), datetime.min.time(), UTC) + timedelta(hours=12)
    users = [1_610_000_000_000 + i for i in range(6)]
    rows: list[dict[str, Any]] = []

    first = sync(fake, noon)
    rows += deletion_rows(first)
    assert sorted(r["amplitude_id"] for r in deletion_rows(first)) == users

    job(fake, -2)["status"] = "done"
    staged = job(fake, 10)
    staged["status"] = "submitted"
    staged["amplitude_ids"] = [e for e in staged["amplitude_ids"] if e["amplitude_id"] != users[4]]  # taken back out
    second = sync(fake, noon + timedelta(days=1), last_state(first))
    rows += deletion_rows(second)

    staged["status"] = "done"
    job(fake, 25)["status"] = "submitted"
    third = sync(fake, noon + timedelta(days=2), last_state(second))
    rows += deletion_rows(third)

    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: r["observed_at"]):  # what Append + Deduped keeps: the latest cursor
        latest[(row["app"], row["day"], row["amplitude_id"])] = row
    outcome = {key[2]: (row["status"], row.get("removed_from_job")) for key, row in latest.items()}
    assert outcome == {
        users[0]: ("done", False),
        users[1]: ("done", False),
        users[2]: ("done", False),
        users[3]: ("done", False),
        users[4]: ("staging", True),  # cancelled: visible as such, not "not seen yet"
        users[5]: ("submitted", False),
    }
    assert len(latest) == 6
    assert [j["day"] for j in last_state(third)["open_jobs"]] == [job(fake, 25)["day"]]  # only the job in flight


def test_the_backfill_asks_six_months_at_most_once_a_second(fake: FakeAmplitude) -> None:
    now = datetime.combine(today(fake), datetime.min.time(), UTC) + timedelta(hours=12)
    catalog = CatalogBuilder().with_stream("user_deletions", SyncMode.incremental).build()
    config = {**fake.config, "start_date": f"{now - timedelta(days=400):%Y-%m-%dT00:00:00Z}"}
    output = read(SourceAmplitude(now=now), config, catalog)
    assert output.errors == []
    asked = fake.requests_to("/api/2/deletions/users")
    spans = [(date.fromisoformat(a["start_day"]), date.fromisoformat(a["end_day"])) for a in asked]
    assert len(spans) == 3  # 431 days in 180-day ranges, and no retry: the fake answers 429 to calls under 1 s apart
    assert all((last - first).days < 180 for first, last in spans)
    assert all(spans[i][1] + timedelta(days=1) == spans[i + 1][0] for i in range(len(spans) - 1))
    assert spans[-1][1] == now.date() + timedelta(days=31)
    assert len(deletion_rows(output)) == 6


def documented_sql(flavour: str) -> str:
    text = DOCS.read_text()
    match = re.search(r"```sql\n-- " + flavour + r"\n(.*?)```", text, re.S)
    assert match, f"docs/amplitude.md has no ```sql block starting with '-- {flavour}'"
    return match.group(1)


def load(db: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]], directory: Path) -> None:
    path = directory / f"{table}.jsonl"
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    db.execute(f"CREATE TABLE amplitude.{table} AS SELECT * FROM read_json_auto('{path}')")


@dataclass
class Scenario:
    """Events, deletion jobs and merges as the connector emits them, and what must be left once the SQL ran."""

    events: list[dict[str, Any]]
    deletions: list[dict[str, Any]]
    merged_ids: list[dict[str, Any]]
    remaining: set[str]
    merges_left: list[tuple[int]]


def deletion_scenario(fake: FakeAmplitude) -> Scenario:
    deleted = [1_610_000_000_000 + i for i in range(3)]  # jobs 'done' and 'submitted'; users 3..5 are still staging
    older_id, other_older_id = 1_700_000_009_001, 1_700_000_009_002
    # the last upload hour holds events sent before a merge, under the older ids (instead of the dataset's events)
    fake.state.raw_hours[FIRST + timedelta(hours=23)] = (
        orjson.dumps({"uuid": "older-id-of-deleted", "amplitude_id": older_id, "user_id": None})
        + b"\n"
        + orjson.dumps({"uuid": "older-id-of-kept", "amplitude_id": other_older_id, "user_id": None})
        + b"\n"
    )
    now = datetime.combine(today(fake), datetime.min.time(), UTC) + timedelta(hours=12)
    output = sync(fake, now, streams=("events", "user_deletions"))
    assert output.errors == []
    events = [r.record.data for r in output.records if r.record.stream == "events"]
    merges = [
        {"amplitude_id": deleted[0], "merged_amplitude_id": older_id, "merge_time": 1, "merge_server_time": 1},
        {"amplitude_id": 1_610_000_000_100, "merged_amplitude_id": other_older_id, "merge_time": 1},
    ]
    deletions = deletion_rows(output)
    forgotten_ids = {*deleted, older_id}
    listed_user_ids = {r["user_id"] for r in deletions if r.get("user_id")}
    assert listed_user_ids == {"user-00002"}
    remaining = {
        e["uuid"] for e in events if e["amplitude_id"] not in forgotten_ids and e.get("user_id") not in listed_user_ids
    }
    assert "older-id-of-deleted" not in remaining and "older-id-of-kept" in remaining
    assert len(events) - len(remaining) > 1  # the deleted users' own events go too
    merged_ids = [merged_id_record(orjson.dumps(row)) for row in merges]
    return Scenario(events, deletions, merged_ids, remaining, [(other_older_id,)])


def test_the_documented_sql_deletes_exactly_the_deleted_users_events_in_duckdb(
    fake: FakeAmplitude, tmp_path: Path
) -> None:
    scenario = deletion_scenario(fake)
    db = duckdb.connect()
    db.execute("CREATE SCHEMA amplitude")
    load(db, "events", scenario.events, tmp_path)
    load(db, "user_deletions", scenario.deletions, tmp_path)
    load(db, "merged_ids", scenario.merged_ids, tmp_path)

    db.execute(documented_sql("duckdb"))

    assert {row[0] for row in db.execute("SELECT uuid FROM amplitude.events").fetchall()} == scenario.remaining
    assert db.execute("SELECT merged_amplitude_id FROM amplitude.merged_ids").fetchall() == scenario.merges_left


# The columns the statements read, typed as Airbyte's Postgres destination types them from the streams' schemas.
POSTGRES_TABLES = {
    "events": "uuid text, amplitude_id bigint, user_id text, event_type text",
    "user_deletions": 'app text, "day" date, amplitude_id bigint, user_id text, status text, removed_from_job boolean, '
    "observed_at timestamptz",
    "merged_ids": "amplitude_id bigint, merged_amplitude_id bigint, merge_time bigint",
}


def postgres_load_sql(table: str, rows: list[dict[str, Any]]) -> str:
    """The rows as JSON, typed by jsonb_to_record, into amplitude.<table> (as a destination would have them)."""
    values = ",\n".join(f"($json${orjson.dumps(row).decode()}$json$::jsonb)" for row in rows)
    return (
        f"CREATE TABLE amplitude.{table} AS SELECT typed.* FROM (VALUES {values}) AS raw(j), "
        f"jsonb_to_record(raw.j) AS typed({POSTGRES_TABLES[table]});\n"
    )


def test_the_documented_sql_deletes_exactly_the_deleted_users_events_in_postgres(
    fake: FakeAmplitude, tmp_path: Path
) -> None:
    """The docs' Postgres form (the DuckDB block with CREATE TEMP TABLE) on a real PostgreSQL server (Debian's
    postgresql: scripts/test.sh installs it; without it this test is skipped locally and fails in CI)."""
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail("CI needs Debian's postgresql for this test: scripts/test.sh installs it as root")
        pytest.skip("no PostgreSQL server binaries (Debian's postgresql package)")
    scenario = deletion_scenario(fake)
    statements = documented_sql("duckdb").replace("CREATE OR REPLACE TEMP TABLE", "CREATE TEMP TABLE")
    assert "CREATE TEMP TABLE amplitude_forget_ids AS" in statements
    script = tmp_path / "deletions.sql"
    script.write_text(
        "CREATE SCHEMA amplitude;\n"
        + postgres_load_sql("events", scenario.events)
        + postgres_load_sql("user_deletions", scenario.deletions)
        + postgres_load_sql("merged_ids", scenario.merged_ids)
        + statements
    )
    with postgres_server() as server:
        psql(server, "-f", str(script))  # one session: the temp table lives until the statements end
        remaining = set(psql(server, sql="SELECT uuid FROM amplitude.events").split())
        merges_left = psql(server, sql="SELECT merged_amplitude_id FROM amplitude.merged_ids").split()
    assert remaining == scenario.remaining
    assert [(int(m),) for m in merges_left] == scenario.merges_left
