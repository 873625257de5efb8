"""User Privacy API deletion jobs -> one record per (app, day, amplitude_id) (docs/amplitude-api-notes.md,
"User Privacy API"). The answer is a JSON list of jobs (an empty one may come as `[]` labelled text/html)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from source_amplitude.parsers.common import Record, expect_list, expect_object

ID_FIELDS = ("requested_on_day", "requester", "user_id")


def deletion_records(body: Any, observed_at: str) -> list[Record]:
    records = []
    for raw_job in expect_list(body, "the answer"):
        job = expect_object(raw_job, "each deletion job")
        for raw_id in expect_list(job.get("amplitude_ids") or [], "'amplitude_ids'"):
            entry = expect_object(raw_id, "each item of 'amplitude_ids'")
            records.append(deletion_record(job, entry, observed_at))
    return records


def deletion_record(
    job: Mapping[str, Any], entry: Mapping[str, Any], observed_at: str, removed_from_job: bool = False
) -> Record:
    """One (job, id) row: the job's fields, the id's, and when this sync saw it so."""
    app = job.get("app")
    return {
        "app": None if app is None else str(app),  # Amplitude sends the project id as a string
        "day": job["day"],
        "amplitude_id": int(entry["amplitude_id"]),
        "status": job.get("status"),
        "active_scrub_done_date": job.get("active_scrub_done_date"),
        **{field: entry.get(field) for field in ID_FIELDS},
        "removed_from_job": removed_from_job,
        "observed_at": observed_at,
    }
