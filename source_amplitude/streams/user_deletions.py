"""user_deletions: Amplitude's GDPR/CCPA deletion jobs (User Privacy API), one record per (app, day, amplitude_id),
so that the warehouse can follow Amplitude's deletions (docs/amplitude.md, "Deleting users in the warehouse"). What
each sync re-reads and why: state/deletions.py. A plan or key that may not use this API skips the stream with a WARN."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar, Optional

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams.core import StreamData

from source_amplitude.config import AmplitudeConfig
from source_amplitude.errors import DEFAULT_POLICY, Policy, skip
from source_amplitude.http import AmplitudeStream, deletions_budget
from source_amplitude.parsers.common import Record
from source_amplitude.parsers.user_deletions import deletion_records
from source_amplitude.state.deletions import DeletionsState, parse_deletions_state
from source_amplitude.state.protocol import state_property

PRIVACY_REFUSED = "skipped, Amplitude refused the User Privacy API (HTTP {status}): {detail}"
NO_PRIVACY_ACCESS = skip(PRIVACY_REFUSED)
PRIVACY_POLICY = DEFAULT_POLICY.but({401: NO_PRIVACY_ACCESS, 403: NO_PRIVACY_ACCESS, 404: NO_PRIVACY_ACCESS})


class UserDeletions(AmplitudeStream):
    name = "user_deletions"
    primary_key = ["app", "day", "amplitude_id"]
    cursor_field = "observed_at"
    policy: ClassVar[Policy] = PRIVACY_POLICY

    def __init__(self, config: AmplitudeConfig, now: datetime) -> None:
        self._now = now
        self._observed_at = now.isoformat(timespec="seconds")
        self._deletions = DeletionsState()
        super().__init__(config, deletions_budget())

    state = state_property("_deletions", parse_deletions_state)

    def path(self, **_: Any) -> str:
        return "2/deletions/users"

    def stream_slices(
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[list[str]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Optional[Mapping[str, Any]]]:
        if sync_mode != SyncMode.incremental:
            self._deletions = DeletionsState()
        ranges = self._deletions.ranges(self._config.start_date.date(), self._now.date())
        for index, (first, last) in enumerate(ranges):
            yield {"start_day": first.isoformat(), "end_day": last.isoformat(), "last": index == len(ranges) - 1}

    def query_params(self, stream_slice: Mapping[str, Any]) -> Mapping[str, str]:
        return {"start_day": stream_slice["start_day"], "end_day": stream_slice["end_day"]}

    def slice_read(self, stream_slice: Mapping[str, Any], whole: bool) -> None:
        """A range Amplitude refused was not listed: `synced_on` moves only when every range of the sync was."""
        if stream_slice["last"] and not self.skipped_answers:  # `whole` for every slice of the sync
            self._deletions = self._deletions.synced(self._now.date())

    def parse_body(self, body: Any, stream_slice: Mapping[str, Any]) -> Iterable[Record]:
        return deletion_records(body, self._observed_at)

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[list[str]] = None,
        stream_slice: Optional[Mapping[str, Any]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[StreamData]:
        """The range's jobs, then the ids taken back out of a job since the last sync (the state knows them): the
        state advances only on a range Amplitude listed."""
        skipped_before = self.skipped_answers
        listed: list[dict[str, Any]] = []
        for record in super().read_records(sync_mode, cursor_field, stream_slice, stream_state):
            listed.append(dict(record))  # type: ignore[arg-type]  # parse_body's records: plain dicts
            yield record
        if stream_slice is not None and self.skipped_answers == skipped_before:
            first, last = (datetime.fromisoformat(stream_slice[key]).date() for key in ("start_day", "end_day"))
            self._deletions, removed = self._deletions.after_range(first, last, listed, self._observed_at)
            yield from removed
