"""The dbt package at dbt/ on what a data team has: the connector's tables read by PyAirbyte into DuckDB, then
`dbt build` with dbt-duckdb (its own virtualenv, .venv-dbt). The two relations it builds are what Fivetran's
dbt_amplitude reads as its `event` and `event_type` sources: every column dbt_amplitude lists, with its type, filled
wherever our tables hold a value; ids unique where they must be; one row per client event; events of a type missing
from events_list kept with a NULL type id."""

from __future__ import annotations

import gc
import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import airbyte as ab
import duckdb
import orjson
from airbyte.caches import DuckDBCache

from fake_amplitude import Dataset, FakeAmplitude
from fake_amplitude.dataset import EVENT_TYPES

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


def read_into_duckdb(tmp_path: Path) -> Path:
    """The fake's day through PyAirbyte into a DuckDB file, the last upload hour replaced by the shapes under test:
    an event re-uploaded with a new uuid, and an event whose type is not in events_list."""
    hours = list(DATASET.upload_hours())
    raw = event("dup-first", server_upload_time="2026-06-16 12:00:01.000000")
    raw += event("dup-reupload", server_upload_time="2026-06-24 12:00:01.000000")  # after the 7-day window
    raw += event("hidden-type", event_id=8, event_type="A type events_list does not list")
    database = tmp_path / "warehouse.duckdb"  # not amplitude.duckdb: the catalog would shadow the schema
    with FakeAmplitude(DATASET, raw_hours={hours[-1]: raw}) as fake:
        launcher = tmp_path / "source-amplitude"
        launcher.write_text(f'#!/bin/sh\nexport AMPLITUDE_BASE_URL={fake.url}\nexec {CONNECTOR} "$@"\n')
        launcher.chmod(0o755)
        config = {**fake.config, "start_date": f"{DATASET.first_hour:%Y-%m-%dT%H:00:00Z}"}
        source = ab.get_source("source-amplitude", local_executable=launcher, config=config)
        source.select_streams(["events", "events_list"])
        cache = DuckDBCache(db_path=database, schema_name="amplitude")
        source.read(cache=cache)
        cache.get_sql_engine().dispose()
        del cache
        gc.collect()
    return database


def dbt_build(database: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    profile = {
        "amplitude_airbyte": {
            "target": "test",
            "outputs": {"test": {"type": "duckdb", "path": str(database), "schema": "analytics", "threads": 1}},
        }
    }
    (profiles / "profiles.yml").write_text(json.dumps(profile))  # JSON is YAML
    command = [
        str(DBT), "build", "--project-dir", str(ROOT / "dbt"), "--profiles-dir", str(profiles),
        "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
        "--vars", json.dumps({"amplitude_airbyte_schema": "amplitude"}),
    ]  # fmt: skip
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, check=False)


def columns(db: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = db.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'analytics' "
        "AND table_name = ?",
        [table],
    ).fetchall()
    return {name: kind for name, kind in rows}


def test_the_dbt_package_builds_what_dbt_amplitude_reads(tmp_path: Path) -> None:
    assert DBT.exists(), "needs .venv-dbt: bash scripts/pyairbyte.sh creates it"
    database = read_into_duckdb(tmp_path)
    built = dbt_build(database, tmp_path)
    print(built.stdout[-3000:])
    assert built.returncode == 0, built.stdout[-5000:] + built.stderr[-2000:]

    db = duckdb.connect(str(database), read_only=True)
    event_columns = columns(db, "amplitude_airbyte_event")
    for name, kind in DBT_AMPLITUDE_EVENT.items():
        assert event_columns.get(name) == kind, (name, event_columns.get(name), kind)
    raw_columns = {
        row[0]
        for row in db.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'amplitude' "
            "AND table_name = 'events'"
        ).fetchall()
    }
    assert raw_columns - {"_airbyte_raw_id", "_airbyte_meta"} <= set(event_columns)  # all our columns stay
    type_columns = columns(db, "amplitude_airbyte_event_type")
    for name, kind in DBT_AMPLITUDE_EVENT_TYPE.items():
        assert type_columns.get(name) == kind, (name, type_columns.get(name), kind)

    for name in DBT_AMPLITUDE_EVENT:
        ours = OURS.get(name, name)
        if ours not in raw_columns:
            continue
        lost = db.execute(
            f"SELECT count(*) FROM analytics.amplitude_airbyte_event v JOIN amplitude.events r USING (uuid) "
            f'WHERE r."{ours}" IS NOT NULL AND v."{name}" IS NULL'
        ).fetchone()
        assert lost == (0,), f"{name} is NULL where events.{ours} has a value"

    uuids = [row[0] for row in db.execute("SELECT uuid FROM analytics.amplitude_airbyte_event").fetchall()]
    assert len(uuids) == len(set(uuids))
    assert "dup-first" in uuids and "dup-reupload" not in uuids  # one row per client event
    raw_count = db.execute("SELECT count(*) FROM amplitude.events").fetchone()
    assert raw_count == (len(uuids) + 1,)  # the raw table keeps the re-upload
    keys = db.execute(
        "SELECT count(*), count(DISTINCT (id, device_id, client_event_time, coalesce(user_id, amplitude_id))) "
        "FROM analytics.amplitude_airbyte_event"
    ).fetchone()
    assert keys is not None and keys[0] == keys[1]
    typed = db.execute(
        "SELECT count(*) FILTER (WHERE event_type_id IS NULL), count(*) FROM analytics.amplitude_airbyte_event "
        "WHERE event_type <> 'A type events_list does not list'"
    ).fetchone()
    assert typed is not None and typed[0] == 0 and typed[1] > 0  # every listed type found its stable id
    hidden = db.execute(
        "SELECT event_type_id, event_type FROM analytics.amplitude_airbyte_event WHERE uuid = 'hidden-type'"
    ).fetchall()
    assert hidden == [(None, "A type events_list does not list")]
    ids = db.execute("SELECT count(*), count(DISTINCT id) FROM analytics.amplitude_airbyte_event_type").fetchone()
    assert ids is not None and ids[0] == ids[1] > 0
