"""The dbt package at dbt/ on what a data team has: the connector's tables read by PyAirbyte into DuckDB, and into a
real PostgreSQL server, then `dbt build` with dbt-duckdb or dbt-postgres (their own virtualenv, .venv-dbt). The two
relations it builds are what Fivetran's dbt_amplitude reads as its `event` and `event_type` sources: every column
dbt_amplitude lists, with its type, filled wherever our tables hold a value; times in UTC; ids unique where they must
be; one row per client event; events of a type missing from events_list kept with a NULL type id."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson
import psycopg2
import pytest
from airbyte.caches import CacheBase, DuckDBCache, PostgresCache

from fake_amplitude import Dataset
from fake_amplitude.dataset import EVENT_TYPES
from test_support.postgres_server import SERVER_TIME_ZONE, postgres_server
from test_support.pyairbyte_reads import read_fake_into

ROOT = Path(__file__).resolve().parents[1]
CONNECTOR = Path(os.environ.get("SOURCE_AMPLITUDE_EXECUTABLE", ROOT / ".venv" / "bin" / "source-amplitude"))
DBT = Path(os.environ.get("DBT_EXECUTABLE", ROOT / ".venv-dbt" / "bin" / "dbt"))

# dbt_amplitude 1.3.3 (macros get_event_columns, get_event_type_columns): the columns it reads, and their types.
DBT_AMPLITUDE_EVENT = {
    **dict.fromkeys(
        [
            "_insert_id",
            "ad_id",
            "amplitude_id",
            "app",
            "city",
            "country",
            "data",
            "device_brand",
            "device_carrier",
            "device_family",
            "device_id",
            "device_manufacturer",
            "device_model",
            "device_type",
            "dma",
            "event_properties",
            "event_type",
            "group_properties",
            "groups",
            "idfa",
            "ip_address",
            "language",
            "library",
            "location_lat",
            "location_lng",
            "os_name",
            "os_version",
            "platform",
            "project_name",
            "region",
            "start_version",
            "user_id",
            "user_properties",
            "uuid",
            "version_name",
        ],
        "VARCHAR",
    ),
    **dict.fromkeys(
        [
            "_fivetran_synced",
            "client_event_time",
            "client_upload_time",
            "event_time",
            "processed_time",
            "server_received_time",
            "server_upload_time",
            "user_creation_time",
        ],
        "TIMESTAMP",
    ),
    **dict.fromkeys(["event_type_id", "id", "schema", "session_id"], "BIGINT"),
    **dict.fromkeys(["is_attribution_event", "paying"], "BOOLEAN"),
}
DBT_AMPLITUDE_EVENT_TYPE = {
    **dict.fromkeys(
        [
            "_fivetran_deleted",
            "autohidden",
            "deleted",
            "flow_hidden",
            "hidden",
            "in_waitroom",
            "non_active",
            "timeline_hidden",
        ],
        "BOOLEAN",
    ),
    "_fivetran_synced": "TIMESTAMP",
    **dict.fromkeys(["display", "name", "project_name", "value", "waitroom_approved"], "VARCHAR"),
    **dict.fromkeys(["id", "totals", "totals_delta"], "BIGINT"),
}
# where our events hold each of them (dbt/macros/amplitude_airbyte_columns.sql), for "no NULL where we have a value"
OURS = {"_insert_id": "_insert_id", "ad_id": "adid", "id": "event_id", "schema": "_schema", "project_name": "app"}

NOW = datetime.now(UTC)
DATASET = Dataset.recent(NOW, days=1, events_per_hour=40)


def event(uuid: str, **fields: Any) -> bytes:
    base = {
        "uuid": uuid,
        "event_id": 7,
        "device_id": "dev-dup",
        "user_id": "user-dup",
        "client_event_time": "2026-06-16 11:57:13.345000",
        "event_type": EVENT_TYPES[0],  # listed in events_list
        "amplitude_id": 1_620_000_000_000,
        "session_id": -1,
    }
    return orjson.dumps({**base, **fields}) + b"\n"


@dataclass
class Warehouse:
    """Where PyAirbyte writes the connector's tables and dbt builds the package: a cache, a dbt profile output, and a
    DB-API connection for the assertions."""

    name: str
    cache: CacheBase
    dbt_output: dict[str, Any]
    connect: Callable[[], Any]
    type_names: dict[str, set[str]]  # dbt_amplitude's type (DuckDB's name) -> this warehouse's information_schema names
    connect_rw: Callable[[], Any]  # for the tests that change the tables

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        connection = self.connect()
        try:
            cursor = connection.cursor()
            cursor.execute(sql)
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            connection.close()


@contextmanager
def duckdb_warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    database = tmp_path / "warehouse.duckdb"  # not amplitude.duckdb: the catalog would shadow the schema
    yield Warehouse(
        "duckdb",
        DuckDBCache(db_path=database, schema_name="amplitude"),
        {"type": "duckdb", "path": str(database), "schema": "analytics", "threads": 1},
        lambda: duckdb.connect(str(database), read_only=True),
        {kind: {kind.lower()} for kind in ("VARCHAR", "TIMESTAMP", "BIGINT", "BOOLEAN")},
        lambda: duckdb.connect(str(database)),
    )


@contextmanager
def postgres_warehouse(_: Path, time_zone: str = SERVER_TIME_ZONE) -> Iterator[Warehouse]:
    with postgres_server(time_zone) as server:
        login = {"host": server.host, "port": server.port, "user": server.user, "dbname": server.database}
        yield Warehouse(
            "postgres",
            PostgresCache(
                host=server.host,
                port=server.port,
                username=server.user,
                password="unused",
                database=server.database,
                schema_name="amplitude",
            ),
            {**login, "type": "postgres", "password": "unused", "schema": "analytics", "threads": 1},
            lambda: psycopg2.connect(**login),
            {
                "VARCHAR": {"character varying", "text"},
                "TIMESTAMP": {"timestamp without time zone"},
                "BIGINT": {"bigint"},
                "BOOLEAN": {"boolean"},
            },
            lambda: psycopg2.connect(**login),
        )


def read_into(warehouse: Warehouse) -> None:
    """The fake's day through PyAirbyte into the warehouse, the last upload hour replaced by the shapes under test:
    an event re-uploaded with a new uuid, and an event whose type is not in events_list."""
    hours = list(DATASET.upload_hours())
    raw = event("dup-first", server_upload_time="2026-06-16 12:00:01.000000")
    raw += event("dup-reupload", server_upload_time="2026-06-24 12:00:01.000000")  # after the 7-day window
    raw += event("hidden-type", event_id=8, event_type="A type events_list does not list")
    read_fake_into(warehouse.cache, DATASET, ["events", "events_list"], raw_hours={hours[-1]: raw})


def dbt_build(warehouse: Warehouse, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    profiles = tmp_path / "profiles"
    profiles.mkdir(exist_ok=True)
    profile = {"amplitude_airbyte": {"target": "test", "outputs": {"test": warehouse.dbt_output}}}
    (profiles / "profiles.yml").write_text(json.dumps(profile))  # JSON is YAML
    command = [
        str(DBT), "build", "--project-dir", str(ROOT / "dbt"), "--profiles-dir", str(profiles),
        "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
        "--vars", json.dumps({"amplitude_airbyte_schema": "amplitude", "amplitude_airbyte_reconciliation": False}),
        *extra,
    ]  # fmt: skip  # the reconciliation has its own test (test_reconciliation.py)
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, check=False)


def columns(warehouse: Warehouse, schema: str, table: str) -> dict[str, str]:
    rows = warehouse.query(
        "SELECT column_name, data_type FROM information_schema.columns "
        f"WHERE table_schema = '{schema}' AND table_name = '{table}'"
    )
    return {name: kind.lower() for name, kind in rows}


def assert_types(warehouse: Warehouse, found: dict[str, str], expected: dict[str, str]) -> None:
    for name, kind in expected.items():
        assert found.get(name) in warehouse.type_names[kind], (warehouse.name, name, found.get(name), kind)


@pytest.mark.parametrize("make_warehouse", [duckdb_warehouse, postgres_warehouse], ids=["duckdb", "postgres"])
def test_the_dbt_package_builds_what_dbt_amplitude_reads(
    make_warehouse: Callable[[Path], AbstractContextManager[Warehouse]], tmp_path: Path
) -> None:
    assert DBT.exists(), "needs .venv-dbt: bash scripts/pyairbyte.sh creates it"
    with make_warehouse(tmp_path) as warehouse:
        read_into(warehouse)
        built = dbt_build(warehouse, tmp_path)
        print(built.stdout[-3000:])
        assert built.returncode == 0, built.stdout[-5000:] + built.stderr[-2000:]
        assert_built_relations(warehouse)


def assert_built_relations(warehouse: Warehouse) -> None:
    event_columns = columns(warehouse, "analytics", "amplitude_airbyte_event")
    assert_types(warehouse, event_columns, DBT_AMPLITUDE_EVENT)
    raw_columns = set(columns(warehouse, "amplitude", "events"))
    assert raw_columns - {"_airbyte_raw_id", "_airbyte_meta"} <= set(event_columns)  # all our columns stay
    assert_types(warehouse, columns(warehouse, "analytics", "amplitude_airbyte_event_type"), DBT_AMPLITUDE_EVENT_TYPE)

    for name in DBT_AMPLITUDE_EVENT:
        ours = OURS.get(name, name)
        if ours not in raw_columns:
            continue
        lost = warehouse.query(
            f"SELECT count(*) FROM analytics.amplitude_airbyte_event v JOIN amplitude.events r USING (uuid) "
            f'WHERE r."{ours}" IS NOT NULL AND v."{name}" IS NULL'
        )
        assert lost == [(0,)], f"{warehouse.name}: {name} is NULL where events.{ours} has a value"

    uuids = [row[0] for row in warehouse.query("SELECT uuid FROM analytics.amplitude_airbyte_event")]
    assert len(uuids) == len(set(uuids))
    assert "dup-first" in uuids and "dup-reupload" not in uuids  # one row per client event
    assert warehouse.query("SELECT count(*) FROM amplitude.events") == [(len(uuids) + 1,)]  # the raw table keeps it
    keys = warehouse.query(
        "SELECT count(*), count(DISTINCT (id, device_id, client_event_time, coalesce(user_id, amplitude_id))) "
        "FROM analytics.amplitude_airbyte_event"
    )
    assert keys[0][0] == keys[0][1]
    # The connector's UTC times stay the same instants, whatever the warehouse's time zone (the Postgres server's
    # is America/New_York): dbt_amplitude reads them as UTC timestamps without a zone.
    times = warehouse.query(
        "SELECT client_event_time, server_upload_time FROM analytics.amplitude_airbyte_event WHERE uuid = 'dup-first'"
    )
    assert times == [(datetime(2026, 6, 16, 11, 57, 13, 345000), datetime(2026, 6, 16, 12, 0, 1))], times
    typed = warehouse.query(
        "SELECT count(*) FILTER (WHERE event_type_id IS NULL), count(*) FROM analytics.amplitude_airbyte_event "
        "WHERE event_type <> 'A type events_list does not list'"
    )
    assert typed[0][0] == 0 and typed[0][1] > 0  # every listed type found its stable id
    hidden = warehouse.query(
        "SELECT event_type_id, event_type FROM analytics.amplitude_airbyte_event WHERE uuid = 'hidden-type'"
    )
    assert hidden == [(None, "A type events_list does not list")]
    ids = warehouse.query("SELECT count(*), count(DISTINCT id) FROM analytics.amplitude_airbyte_event_type")
    assert ids[0][0] == ids[0][1] > 0


def execute(warehouse: Warehouse, *statements: str) -> None:
    connection = warehouse.connect_rw()
    try:
        cursor = connection.cursor()
        for statement in statements:
            cursor.execute(statement)
        connection.commit()
    finally:
        connection.close()


@pytest.mark.parametrize("make_warehouse", [duckdb_warehouse, postgres_warehouse], ids=["duckdb", "postgres"])
def test_an_incremental_build_holds_the_rows_a_full_refresh_builds(
    make_warehouse: Callable[[Path], AbstractContextManager[Warehouse]], tmp_path: Path
) -> None:
    """amplitude_airbyte_event is an incremental table: one more upload hour, extracted later, holding new events and
    re-uploads of events the table already holds (same client event, a new uuid), is added by an incremental run to
    the very rows a full refresh builds."""
    with make_warehouse(tmp_path) as warehouse:
        read_into(warehouse)
        first = dbt_build(warehouse, tmp_path)
        assert first.returncode == 0, first.stdout[-5000:]
        before = warehouse.query("SELECT count(*) FROM analytics.amplitude_airbyte_event")[0][0]
        execute(
            warehouse,
            "CREATE TEMP TABLE arriving AS SELECT * FROM amplitude.events WHERE event_id IS NOT NULL",
            "UPDATE arriving SET uuid = uuid || '-later', "
            "server_upload_time = server_upload_time + interval '1 hour', "
            "_airbyte_extracted_at = _airbyte_extracted_at + interval '1 hour'",
            "UPDATE arriving SET event_id = event_id + 1000000 WHERE uuid < '8'",  # about half: new client events
            "INSERT INTO amplitude.events SELECT * FROM arriving",
        )
        incremental = dbt_build(warehouse, tmp_path)
        assert incremental.returncode == 0, incremental.stdout[-5000:]
        rows = "SELECT * FROM analytics.amplitude_airbyte_event ORDER BY uuid"
        built_incrementally = warehouse.query(rows)
        refreshed = dbt_build(warehouse, tmp_path, "--full-refresh")
        assert refreshed.returncode == 0, refreshed.stdout[-5000:]
        assert built_incrementally == warehouse.query(rows)
        later = "SELECT count(*) FROM analytics.amplitude_airbyte_event WHERE uuid LIKE '%-later' AND uuid"
        assert warehouse.query(f"{later} >= '8'") == [(0,)]  # the re-uploads were left out
        assert warehouse.query(f"{later} < '8'")[0][0] == len(built_incrementally) - before > 0  # the new ones added
