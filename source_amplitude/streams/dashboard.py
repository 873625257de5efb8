"""Dashboard REST streams with a `date` cursor: active_users, average_session_length."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, timedelta
from typing import Any, ClassVar, Optional

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams.call_rate import APIBudget

from source_amplitude.config import AmplitudeConfig
from source_amplitude.errors import (
    DEFAULT_POLICY,
    GROUP_BY_COUNTRY_HINT,
    REJECTED,
    Hint,
    Policy,
    future_state_message,
)
from source_amplitude.http import AmplitudeStream
from source_amplitude.parsers.common import Parsed, Record
from source_amplitude.parsers.dashboard import active_users_records, average_session_length_records
from source_amplitude.settings import DASHBOARD_LOOKBACK_DAYS, DASHBOARD_MAX_SLICE_DAYS
from source_amplitude.state.dashboard import DayState, parse_day_state
from source_amplitude.state.dates import date_slices
from source_amplitude.state.protocol import state_property


class DashboardStream(AmplitudeStream, ABC):
    """Daily figures requested in slices of at most 30 days (start/end are inclusive YYYYMMDD in the project's time
    zone, docs/amplitude-api-notes.md). State (state/dashboard.py) is the last day of the last slice fully read,
    never after `today`. Incremental syncs restart DASHBOARD_LOOKBACK_DAYS before it, because recent days still
    change."""

    primary_key = "date"
    cursor_field = "date"

    def __init__(self, config: AmplitudeConfig, today: date, api_budget: Optional[APIBudget] = None) -> None:
        self._today = today
        self._day = DayState()
        super().__init__(config, api_budget)

    state = state_property("_day", parse_day_state)

    def stream_slices(
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[list[str]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Optional[Mapping[str, Any]]]:
        start = self._config.start_date.date()
        cursor = self._day.day
        if sync_mode == SyncMode.incremental and cursor:
            if cursor - timedelta(days=DASHBOARD_LOOKBACK_DAYS) > self._today:  # even the lookback
                today = f"today ({self._today.isoformat()})"
                self.logger.warning(future_state_message(self.name, cursor.isoformat(), today))
                return
            start = max(start, cursor - timedelta(days=DASHBOARD_LOOKBACK_DAYS))
        for first, last in date_slices(start, self._today, DASHBOARD_MAX_SLICE_DAYS):
            yield {"start": first.isoformat(), "end": last.isoformat()}

    def query_params(self, stream_slice: Mapping[str, Any]) -> Mapping[str, str]:
        return {
            "start": stream_slice["start"].replace("-", ""),
            "end": stream_slice["end"].replace("-", ""),
            **self.metric_params(),
        }

    def slice_read(self, stream_slice: Mapping[str, Any], whole: bool) -> None:
        if whole:  # the whole slice was read: the cursor may move to its last day
            self._day = self._day.after_slice(date.fromisoformat(stream_slice["end"]))

    def parse_body(self, body: Any, stream_slice: Mapping[str, Any]) -> Iterable[Record]:
        parsed = self.parse_dashboard(body)
        for warning in parsed.warnings:
            self.logger.warning(f"{self.name} {stream_slice.get('start')}..{stream_slice.get('end')}: {warning}")
        return parsed.records

    @abstractmethod
    def metric_params(self) -> Mapping[str, str]: ...

    @abstractmethod
    def parse_dashboard(self, body: Any) -> Parsed: ...


class ActiveUsers(DashboardStream):
    policy: ClassVar[Policy] = DEFAULT_POLICY.but(
        {400: replace(REJECTED, hint=Hint("Invalid user property country", GROUP_BY_COUNTRY_HINT))}
    )

    name = "active_users"

    def path(self, **_: Any) -> str:
        return "2/users"

    def metric_params(self) -> Mapping[str, str]:
        params = {"m": "active", "i": "1"}
        if self._config.active_users_group_by_country:
            params["g"] = "country"
        return params

    def parse_dashboard(self, body: Any) -> Parsed:
        return active_users_records(body)


class AverageSessionLength(DashboardStream):
    name = "average_session_length"

    def path(self, **_: Any) -> str:
        return "2/sessions/average"

    def metric_params(self) -> Mapping[str, str]:
        return {}

    def parse_dashboard(self, body: Any) -> Parsed:
        return average_session_length_records(body)
