"""PyAirbyte, a real Airbyte client, runs the connector as a local executable against the fake Amplitude and
writes every stream into its default DuckDB cache; a second read resumes from the state PyAirbyte stored.

Run by `bash scripts/pyairbyte.sh` in its own virtualenv. Time moves between the two reads through libfaketime,
for the connector process only: the export delay makes new upload hours readable only once they are 3 hours old."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import airbyte as ab
import pytest

from fake_amplitude import Dataset, FakeAmplitude, catalog

ROOT = Path(__file__).resolve().parent.parent
CONNECTOR = Path(os.environ.get("SOURCE_AMPLITUDE_EXECUTABLE", ROOT / ".venv" / "bin" / "source-amplitude"))
LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")

FIRST_HOUR = datetime(2026, 11, 1, tzinfo=UTC)
DATASET = Dataset(FIRST_HOUR, hours=30, events_per_hour=50)
FIRST_READ_AT = FIRST_HOUR + timedelta(hours=24 + 3)  # upload hours 0..23 are complete (3 h export delay)
SECOND_READ_AT = FIRST_READ_AT + timedelta(hours=6)  # and now 24..29 too
CHART_IDS = ["act1vusr", "grp2plat", "fun3step"]
INCREMENTAL_STREAMS = {"events", "active_users", "average_session_length", "user_deletions", "events_ledger"}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAmplitude]:
    with FakeAmplitude(DATASET) as server:
        yield server


def connector_at(clock: datetime, fake: FakeAmplitude, directory: Path) -> Path:
    """A launcher for the connector whose clock reads `clock` (libfaketime) and whose host is the fake."""
    launcher = directory / f"source-amplitude-at-{clock:%Y%m%dT%H}"
    launcher.write_text(
        "#!/bin/sh\n"
        f"export TZ=UTC LD_PRELOAD={LIBFAKETIME} FAKETIME='@{clock:%Y-%m-%d %H:%M:%S}'"
        f" AMPLITUDE_BASE_URL={fake.url}\n"
        f'exec {CONNECTOR} "$@"\n'
    )
    launcher.chmod(0o755)
    return launcher


def source_at(clock: datetime, fake: FakeAmplitude, directory: Path) -> ab.Source:
    source = ab.get_source(
        "source-amplitude",
        local_executable=connector_at(clock, fake, directory),
        config={**fake.config, "start_date": "2026-11-01T00:00:00Z", "chart_ids": CHART_IDS},
    )
    source.select_all_streams()
    return source


def expected_rows() -> dict[str, int]:
    """Rows per table after the first read, derived from the fake's data."""
    days_to_first_read = (FIRST_READ_AT.date() - FIRST_HOUR.date()).days + 1
    return {
        "events": len(DATASET.uuids(FIRST_HOUR + timedelta(hours=24))),
        "annotations": len(catalog.ANNOTATION_LABELS),
        "cohorts": len(catalog.cohorts(DATASET)),
        "events_list": len(catalog.events_list(DATASET)),
        "active_users": days_to_first_read,
        "average_session_length": days_to_first_read,
        "event_types": len(catalog.taxonomy_event_types()),
        "event_properties": len(catalog.taxonomy_event_properties(DATASET)),
        "user_properties": len(catalog.taxonomy_user_properties()),
        "event_categories": len(catalog.taxonomy_categories()),
        "charts_metadata": len(CHART_IDS),
        # catalog.sample_charts: one segment x the data's days; 4 rows x 2 days; a 3-step funnel
        "chart_act1vusr": len(DATASET.daily_stats().all_active_users),
        "chart_grp2plat": 8,
        "chart_fun3step": 3,
        "user_deletions": deletions_listed(FIRST_READ_AT),
        "events_ledger": 24 * DATASET.partitions_per_hour,  # a row per export member read: upload hours 0..23
    }


def deletions_listed(clock: datetime) -> int:
    """The fake's deletion jobs' ids whose day the connector lists at `clock`: start_date to 31 days ahead."""
    jobs = catalog.deletion_jobs(DATASET, DATASET.end_hour.date())
    last = (clock + timedelta(days=31)).date().isoformat()
    return sum(len(job["amplitude_ids"]) for job in jobs if "2026-11-01" <= job["day"] <= last)


def test_pyairbyte_reads_every_stream_into_duckdb_then_only_the_new_hours(fake: FakeAmplitude, tmp_path: Path) -> None:
    assert shutil.which("uv"), "PyAirbyte expects uv on PATH"
    assert LIBFAKETIME.exists(), "needs Debian's libfaketime: bash scripts/pyairbyte.sh installs it"
    cache = ab.get_default_cache()

    first = source_at(FIRST_READ_AT, fake, tmp_path).read(cache=cache)

    counts = {stream: len(dataset) for stream, dataset in first.streams.items()}
    print_table("first read (clock 2026-11-02T03:00Z)", counts)
    assert counts == expected_rows()
    first_events = {row["uuid"] for row in cache["events"]}
    assert first_events == DATASET.uuids(FIRST_HOUR + timedelta(hours=24))
    exports_in_first_read = len(fake.requests_to("/api/2/export"))

    second = source_at(SECOND_READ_AT, fake, tmp_path).read(cache=cache)

    new_exports = fake.requests_to("/api/2/export")[exports_in_first_read:]
    assert new_exports, "the second read asked for no export"
    assert min(params["start"] for params in new_exports) == "20261102T00"  # upload hour 24: nothing re-read
    expected = expected_rows()
    new_events = len(DATASET.uuids()) - expected["events"]
    dashboard_days = expected["active_users"] + expected["average_session_length"]  # the 3-day lookback, from Nov 1
    full_refresh = sum(rows for table, rows in expected.items() if table not in INCREMENTAL_STREAMS)
    deletions = deletions_listed(SECOND_READ_AT)  # the jobs still in flight are listed again
    new_ledger_rows = 6 * DATASET.partitions_per_hour  # upload hours 24..29
    assert second.processed_records == new_events + dashboard_days + full_refresh + deletions + new_ledger_rows
    all_events = [row["uuid"] for row in cache["events"]]
    assert len(all_events) == len(set(all_events)) == len(DATASET.uuids())  # every event once
    ledger_rows = DATASET.hours * DATASET.partitions_per_hour
    assert {table: len(cache[table]) for table in counts} == {
        **expected,
        "events": len(DATASET.uuids()),
        "events_ledger": ledger_rows,
    }
    ledger = cache["events_ledger"].to_pandas()
    assert int(ledger["records"].sum()) == len(all_events)  # the ledger adds up to the events, after both reads
    print_table(
        f"second read (clock 2026-11-02T09:00Z, {second.processed_records} records read)",
        {stream: len(cache[stream]) for stream in counts},
    )


def print_table(title: str, rows_per_table: dict[str, int]) -> None:
    print(f"\n{title}\n" + "\n".join(f"  {table:<24}{rows:>8}" for table, rows in sorted(rows_per_table.items())))
