"""events_ledger: one record for every file of raw events a sync emitted (an Export API zip member, a bucket object),
so that a warehouse can check exactly-once itself (dbt/models/amplitude_airbyte_reconciliation.sql).

The read skeleton (pipeline/raw_read.py) writes a part's row right after the part's records and before the STATE
that covers them, so the platform commits both or neither. A part read twice (a kill, then a resume) gets two rows
with the same key, as its records are emitted twice too; the destination's dedup keeps the last. An upload hour
the Export API mode gives up after the grace period gets a row of its own (`part` empty, `records` 0 and a status)
so that "Amplitude published nothing" is not mistaken for "lost". Nothing here runs unless events_ledger is in the
configured catalog."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional

from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, Type

LEDGER_STREAM = "events_ledger"
READ = "read"  # the part's records were emitted
GIVEN_UP_EMPTY = "given_up_empty"  # Amplitude published nothing for the hour within the grace period
GIVEN_UP_INCOMPLETE = "given_up_incomplete"  # some partitions never came; those that did have rows of their own
# Airbyte passes these to the connector's container (io.airbyte.config.WorkerEnvConstants)
JOB_ID_VARIABLE = "WORKER_JOB_ID"
ATTEMPT_VARIABLE = "WORKER_JOB_ATTEMPT"


@dataclass(frozen=True)
class PartRead:
    """What one part gave, for its row."""

    hour: datetime
    name: str
    compressed_bytes: int
    records: int
    repairs: Mapping[str, int]
    first_upload_time: Optional[str]
    last_upload_time: Optional[str]


@dataclass(frozen=True)
class Ledger:
    stream: str  # events or merged_ids
    source: str  # export_api, s3 or gcs
    job_id: Optional[str] = None
    attempt: Optional[int] = None

    @classmethod
    def for_sync(cls, stream: str, source: str, environ: Mapping[str, str]) -> Ledger:
        attempt = environ.get(ATTEMPT_VARIABLE, "")
        return cls(stream, source, environ.get(JOB_ID_VARIABLE) or None, int(attempt) if attempt.isdigit() else None)

    def part_row(self, part: PartRead) -> AirbyteMessage:
        return self._row(
            part.hour,
            part=part.name,
            bytes=part.compressed_bytes,
            records=part.records,
            repairs=dict(part.repairs),
            first_server_upload_time=part.first_upload_time,
            last_server_upload_time=part.last_upload_time,
            status=READ,
            missing_partitions=None,
        )

    def given_up_row(self, hour: datetime, missing_partitions: list[int]) -> AirbyteMessage:
        """An hour given up after the grace period: nothing published (no partition), or some partitions never."""
        status = GIVEN_UP_INCOMPLETE if missing_partitions else GIVEN_UP_EMPTY
        return self._row(
            hour,
            part="",
            bytes=0,
            records=0,
            repairs={},
            first_server_upload_time=None,
            last_server_upload_time=None,
            status=status,
            missing_partitions=missing_partitions or None,
        )

    def _row(self, hour: datetime, **fields: Any) -> AirbyteMessage:
        now = time.time()
        data = {
            "stream": self.stream,
            "source": self.source,
            "upload_hour": upload_hour(hour),
            **fields,
            "read_at": datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="microseconds"),
            "sync_job_id": self.job_id,
            "sync_attempt": self.attempt,
        }
        record = AirbyteRecordMessage(stream=LEDGER_STREAM, data=data, emitted_at=int(now * 1000))
        return AirbyteMessage(type=Type.RECORD, record=record)


def upload_hour(hour: datetime) -> str:
    """The hour in the very form of the events' server_upload_time, '2026-11-01T05:00:00.000000+00:00', so that every
    destination types and converts both alike (PyAirbyte's Postgres cache reads the form without a fraction as a
    local time)."""
    return hour.astimezone(timezone.utc).isoformat(timespec="microseconds")
