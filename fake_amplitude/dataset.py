"""Deterministic sample events and every dashboard number derived from them.

Events are a pure function of (seed, upload hour, index), so any hour can be regenerated without keeping the data:
tests, the demo and the benchmark see the same events every time. Field names, order and formats follow
unit_tests/resources/recorded/export_200.body.zip (keys sorted, "YYYY-MM-DD HH:MM:SS.ffffff" timestamps,
session_id -1 = none)."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

DATASET_VERSION = 2  # bump when generated events change, so cached archives are rebuilt
COUNTRIES = ("United States", "Germany", "France", "Brazil", "India", "Japan", "(none)")
EVENT_TYPES = ("page_view", "sign_up", "purchase", "search", "add_to_cart", "share")
PLATFORMS = (("Web", "Chrome", "126"), ("iOS", "ios", "17.5"), ("Android", "android", "14"))
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
USER_NAMESPACE = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")
SESSION_MS = 30 * 60 * 1000


def ts(moment: datetime) -> str:
    return moment.strftime(TIMESTAMP_FORMAT)


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class User:
    index: int
    user_id: str
    device_id: str
    amplitude_id: int
    country: str
    platform: tuple[str, str, str]
    created: datetime


@dataclass(frozen=True)
class Dataset:
    first_hour: datetime  # first upload hour (UTC, aware, on the hour)
    hours: int  # upload hours with data
    events_per_hour: int
    seed: int = 7
    app_id: int = 829528
    users: int = 400
    late_fraction: float = 0.05  # share of events uploaded 1-5 days after they happened
    events_per_member: int = 100_000  # Amplitude splits busy hours into several gzip members (#0, #1, ...)
    padding_properties: int = 0  # extra event properties, to make records as large as a real project's
    _users: tuple[User, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        created = self.first_hour - timedelta(days=60)
        users = tuple(
            User(
                index=i,
                user_id=f"user-{i:05d}",
                device_id=str(uuid.uuid5(USER_NAMESPACE, f"{self.seed}-{i}")),
                amplitude_id=1_610_000_000_000 + i,
                country=rng.choice(COUNTRIES),
                platform=rng.choice(PLATFORMS),
                created=created + timedelta(minutes=rng.randrange(0, 60 * 24 * 50)),
            )
            for i in range(self.users)
        )
        object.__setattr__(self, "_users", users)

    @classmethod
    def recent(
        cls, now: datetime, days: int = 2, events_per_hour: int = 500, delay_hours: int = 4, **kwargs: Any
    ) -> Dataset:
        """`days` of data whose last upload hour ends `delay_hours` before now: what a demo or a test wants."""
        last_hour = floor_hour(now) - timedelta(hours=delay_hours)
        hours = days * 24
        return cls(
            first_hour=last_hour - timedelta(hours=hours - 1), hours=hours, events_per_hour=events_per_hour, **kwargs
        )

    @property
    def end_hour(self) -> datetime:
        """The first hour after the data."""
        return self.first_hour + timedelta(hours=self.hours)

    @property
    def partitions_per_hour(self) -> int:
        return max(1, -(-self.events_per_hour // self.events_per_member))

    def partition_uuids(self, hour: datetime, partition: int) -> set[str]:
        events = list(self.events_in_hour(hour))
        chunk = events[partition * self.events_per_member : (partition + 1) * self.events_per_member]
        return {event["uuid"] for event in chunk}

    def upload_hours(self) -> Iterator[datetime]:
        for offset in range(self.hours):
            yield self.first_hour + timedelta(hours=offset)

    def events_in_hour(self, hour: datetime) -> Iterator[dict[str, Any]]:
        """The events uploaded during `hour`, in upload order, keys sorted as in Amplitude's export."""
        offset = int((hour - self.first_hour).total_seconds() // 3600)
        if not 0 <= offset < self.hours:
            return
        rng = random.Random(self.seed * 1_000_003 + offset)
        step_us = 3_600_000_000 // max(1, self.events_per_hour)
        for i in range(self.events_per_hour):
            user = self._users[rng.randrange(self.users)]
            uploaded = hour + timedelta(microseconds=i * step_us + rng.randrange(step_us))
            late = rng.random() < self.late_fraction
            happened = uploaded - (
                timedelta(days=rng.randint(1, 5), minutes=rng.randrange(1440))
                if late
                else timedelta(milliseconds=rng.randrange(50, 5000))
            )
            yield self._event(rng, user, happened, uploaded)

    def _event(self, rng: random.Random, user: User, happened: datetime, uploaded: datetime) -> dict[str, Any]:
        platform, os_name, os_version = user.platform
        event_ms = int(happened.timestamp() * 1000)
        session_id = (event_ms // SESSION_MS) * SESSION_MS + user.index % 1000 if rng.random() > 0.1 else -1
        event_type = rng.choice(EVENT_TYPES)
        properties: dict[str, Any] = {"source": rng.choice(("organic", "ads", "email")), "value": rng.randrange(1000)}
        for p in range(self.padding_properties):
            properties[f"attribute_{p:02d}"] = f"value-{rng.randrange(10_000):05d}"
        received = ts(uploaded - timedelta(milliseconds=6))
        return {
            "$insert_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "$insert_key": None,
            "$schema": 13,
            "adid": None,
            "amplitude_attribution_ids": None,
            "amplitude_event_type": None,
            "amplitude_id": user.amplitude_id,
            "app": self.app_id,
            "city": None,
            "client_event_time": ts(happened),
            "client_upload_time": received,
            "country": user.country,
            "data": {"path": "/batch", "user_properties_updated": True, "group_first_event": {}, "group_ids": {}},
            "data_type": "event",
            "device_brand": None,
            "device_carrier": None,
            "device_family": None,
            "device_id": user.device_id,
            "device_manufacturer": None,
            "device_model": None,
            "device_type": None,
            "dma": None,
            "event_id": rng.randrange(1, 2**31),
            "event_properties": properties,
            "event_time": ts(happened),
            "event_type": event_type,
            "global_user_properties": None,
            "group_properties": {},
            "groups": {},
            "idfa": None,
            "ip_address": None,
            "is_attribution_event": None,
            "language": "English",
            "library": "amplitude-ts/2.16.1",
            "location_lat": None,
            "location_lng": None,
            "os_name": os_name,
            "os_version": os_version,
            "partner_id": None,
            "paying": None,
            "plan": {},
            "platform": platform,
            "processed_time": ts(uploaded + timedelta(milliseconds=1500)),
            "region": None,
            "sample_rate": None,
            "server_received_time": received,
            "server_upload_time": ts(uploaded),
            "session_id": session_id,
            "source_id": "",
            "start_version": None,
            "user_creation_time": ts(user.created),
            "user_id": user.user_id,
            "user_properties": {"plan": "pro" if user.index % 3 == 0 else "free"},
            "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "version_name": None,
        }

    def merged_ids_in_hour(self, hour: datetime) -> list[dict[str, Any]]:
        """Merged Amplitude ids written for `hour` (the bucket export's merged-ids file): a few anonymous ids a
        day merged into a user's id, times in epoch milliseconds within the hour, the fields of Amplitude's S3 doc."""
        offset = int((hour - self.first_hour).total_seconds() // 3600)
        if not 0 <= offset < self.hours:
            return []
        rng = random.Random(self.seed * 7_919 + offset)
        merges = []
        for i in range(rng.randrange(0, 4)):
            user = self._users[rng.randrange(self.users)]
            merged_at = int(hour.timestamp() * 1000) + rng.randrange(3_600_000)
            merges.append(
                {
                    "amplitude_id": user.amplitude_id,
                    "merge_server_time": merged_at + rng.randrange(50, 2000),
                    "merge_time": merged_at,
                    "merged_amplitude_id": 1_700_000_000_000 + offset * 10 + i,
                    "scope": self.app_id,
                }
            )
        return merges

    def uuids(self, until_hour: datetime | None = None) -> set[str]:
        """Every event uuid uploaded before `until_hour` (default: all)."""
        until = until_hour or self.end_hour
        return {e["uuid"] for h in self.upload_hours() if h < until for e in self.events_in_hour(h)}

    def events_in_range(self, first_hour: datetime, last_hour: datetime) -> int:
        """How many events were uploaded in the inclusive hour range."""
        first = max(first_hour, self.first_hour)
        last = min(last_hour, self.end_hour - timedelta(hours=1))
        if last < first:
            return 0
        return (int((last - first).total_seconds() // 3600) + 1) * self.events_per_hour

    @lru_cache(maxsize=1)  # noqa: B019 - the dataset is immutable and lives as long as the server
    def daily_stats(self) -> DailyStats:
        """Dashboard numbers by event_time day (the fake project's time zone is UTC)."""
        active: dict[date, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        sessions: dict[tuple[str, int], list[datetime]] = {}
        totals_by_type: dict[str, int] = defaultdict(int)
        for hour in self.upload_hours():
            for event in self.events_in_hour(hour):
                happened = datetime.fromisoformat(event["event_time"])
                active[happened.date()][event["country"]].add(event["user_id"])
                totals_by_type[event["event_type"]] += 1
                if event["session_id"] != -1:
                    bounds = sessions.setdefault((event["user_id"], event["session_id"]), [happened, happened])
                    bounds[0] = min(bounds[0], happened)
                    bounds[1] = max(bounds[1], happened)
        lengths: dict[date, list[float]] = defaultdict(list)
        for (_, session_id), (first, last) in sessions.items():
            start_day = datetime.fromtimestamp(session_id // 1000, tz=UTC).date()
            lengths[start_day].append((last - first).total_seconds())
        return DailyStats(
            active_users={day: {c: len(u) for c, u in by_country.items()} for day, by_country in active.items()},
            all_active_users={day: len(set().union(*by_country.values())) for day, by_country in active.items()},
            average_session_seconds={day: sum(v) / len(v) for day, v in lengths.items()},
            totals_by_event_type=dict(totals_by_type),
        )


@dataclass(frozen=True)
class DailyStats:
    active_users: dict[date, dict[str, int]]  # day -> country -> distinct users
    all_active_users: dict[date, int]
    average_session_seconds: dict[date, float]
    totals_by_event_type: dict[str, int]
