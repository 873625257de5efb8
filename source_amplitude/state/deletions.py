"""The user_deletions state and what each sync re-reads. Pure: `today` is a parameter.

{"state_version": 1, "synced_on": "YYYY-MM-DD",
 "open_jobs": [{"app": "829528", "day": "2026-06-28", "status": "staging", "active_scrub_done_date": null,
                "ids": [{"amplitude_id": 1610447902357, "requested_on_day": "2026-06-16", "requester": "rest",
                         "user_id": null}]}]}

* `synced_on`: the day the last complete sync listed jobs. Amplitude lists jobs by the day they run (`day`), which is
  about 10 to 13 days after the request: a job first listed after `synced_on` was requested after it, so its `day`
  is after `synced_on` minus a week (NEW_JOB_LOOKBACK_DAYS, for clocks and time zones).
* `open_jobs`: the jobs not `done` yet when last listed, with their ids. They can still change (staging ->
  submitted -> done; an id taken back out before the job runs), so every sync lists from the oldest of their days.
  A `done` job never changes again and is forgotten; the state holds only jobs still in flight.
* Each sync lists from min(synced_on - NEW_JOB_LOOKBACK_DAYS, oldest open job's day) (the first sync: start_date) to
  today + FUTURE_DAYS (jobs are scheduled up to about a month ahead), in ranges of at most MAX_RANGE_DAYS (Amplitude
  refuses more than six months at once).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Optional

from source_amplitude.parsers.user_deletions import deletion_record
from source_amplitude.state.dates import date_slices
from source_amplitude.state.protocol import UnusableState, quote

STATE_VERSION = 1
NEW_JOB_LOOKBACK_DAYS = 7
FUTURE_DAYS = 31
MAX_RANGE_DAYS = 180
ID_FIELDS = ("amplitude_id", "requested_on_day", "requester", "user_id")
JOB_FIELDS = ("app", "day", "status", "active_scrub_done_date")


@dataclass(frozen=True)
class OpenJob:
    app: Optional[str]
    day: str
    status: Optional[str]
    active_scrub_done_date: Optional[str]
    ids: tuple[Mapping[str, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        job: dict[str, Any] = {name: getattr(self, name) for name in JOB_FIELDS}
        return {**job, "ids": [dict(entry) for entry in self.ids]}


@dataclass(frozen=True)
class DeletionsState:
    synced_on: Optional[date] = None
    open_jobs: tuple[OpenJob, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        if self.synced_on is None and not self.open_jobs:
            return {}
        return {
            "state_version": STATE_VERSION,
            "synced_on": self.synced_on.isoformat() if self.synced_on else None,
            "open_jobs": [job.as_dict() for job in self.open_jobs],
        }

    def ranges(self, start_date: date, today: date) -> list[tuple[date, date]]:
        """The day ranges to list this sync, oldest first."""
        start = start_date
        if self.synced_on is not None:
            start = max(start_date, self.synced_on - timedelta(days=NEW_JOB_LOOKBACK_DAYS))
        for job in self.open_jobs:
            start = min(start, date.fromisoformat(job.day))
        return list(date_slices(start, today + timedelta(days=FUTURE_DAYS), MAX_RANGE_DAYS))

    def after_range(
        self, first: date, last: date, records: list[dict[str, Any]], observed_at: str
    ) -> tuple[DeletionsState, list[dict[str, Any]]]:
        """The state once the jobs of first..last were listed as `records`, and the records of ids that were listed
        before in a job still in flight and are gone from it now (taken back out: the deletion was cancelled)."""
        listed: dict[tuple[Optional[str], str], list[dict[str, Any]]] = {}
        for record in records:
            listed.setdefault((record["app"], record["day"]), []).append(record)
        removed = []
        kept = []
        for job in self.open_jobs:
            if not first <= date.fromisoformat(job.day) <= last:
                kept.append(job)
                continue
            now_ids = {record["amplitude_id"] for record in listed.get((job.app, job.day), [])}
            gone = [entry for entry in job.ids if entry["amplitude_id"] not in now_ids]
            removed += [deletion_record(job.as_dict(), entry, observed_at, removed_from_job=True) for entry in gone]
        for (app, day), job_records in listed.items():
            head = job_records[0]
            if head["status"] == "done":
                continue
            ids = tuple({name: record.get(name) for name in ID_FIELDS} for record in job_records)
            kept.append(OpenJob(app, day, head["status"], head["active_scrub_done_date"], ids))
        kept.sort(key=lambda job: (job.day, str(job.app)))
        return DeletionsState(self.synced_on, tuple(kept)), removed

    def synced(self, today: date) -> DeletionsState:
        return DeletionsState(today, self.open_jobs)


def parse_deletions_state(value: Any) -> DeletionsState:
    if not value:
        return DeletionsState()
    if not isinstance(value, Mapping):
        raise UnusableState(f"the state is {quote(value)}, not an object")
    synced_on = value.get("synced_on")
    try:
        day = date.fromisoformat(synced_on) if synced_on is not None else None
    except (TypeError, ValueError):
        raise UnusableState(f"synced_on is {quote(synced_on)}, not a day such as '2026-06-16'") from None
    jobs = value.get("open_jobs") or []
    if not isinstance(jobs, list):
        raise UnusableState(f"open_jobs is {quote(jobs)}, not a list")
    return DeletionsState(day, tuple(_parse_job(job) for job in jobs))


def _parse_job(job: Any) -> OpenJob:
    try:
        date.fromisoformat(job["day"])
        ids = tuple({name: entry.get(name) for name in ID_FIELDS} for entry in _entries(job["ids"]))
        return OpenJob(job.get("app"), job["day"], job.get("status"), job.get("active_scrub_done_date"), ids)
    except (TypeError, KeyError, ValueError, AttributeError):
        raise UnusableState(f"an open job is {quote(job)}, not a job with a day and ids") from None


def _entries(ids: Any) -> Iterable[Mapping[str, Any]]:
    if not isinstance(ids, list) or not all(isinstance(entry, Mapping) and "amplitude_id" in entry for entry in ids):
        raise ValueError("ids")
    return ids
