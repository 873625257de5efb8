"""Parse the user's config once into a frozen, typed object. Every invalid value gets a message naming the field
and the fix. No I/O: `now` and the environment are parameters."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_amplitude.settings import (
    BASE_URL_ENV,
    DEFAULT_EXPORT_CONCURRENCY,
    DEFAULT_REQUEST_TIME_RANGE_HOURS,
    DEFAULT_START_DAYS_AGO,
    EU_BASE_URL_ENV,
    MAX_EXPORT_CONCURRENCY,
    MAX_REQUEST_TIME_RANGE_HOURS,
    REGION_BASE_URLS,
    DataRegion,
)

_START_DATE_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%d")
_CHART_ID = re.compile(r"^[A-Za-z0-9_-]+$")


class ConfigError(AirbyteTracedException):
    def __init__(self, message: str) -> None:
        super().__init__(message=message, internal_message=message, failure_type=FailureType.config_error)


@dataclass(frozen=True)
class AmplitudeConfig:
    api_key: str
    secret_key: str
    start_date: datetime  # UTC, aware
    data_region: DataRegion
    request_time_range_hours: int
    export_concurrency: int
    active_users_group_by_country: bool
    chart_ids: tuple[str, ...]
    base_url: str  # scheme://host[:port] every request goes to

    def __repr__(self) -> str:  # never print the keys
        region, start = self.data_region.value, self.start_date.isoformat()
        return f"AmplitudeConfig(data_region={region!r}, start_date={start}, base_url={self.base_url!r})"


def parse_config(raw: Mapping[str, Any], now: datetime, environ: Mapping[str, str]) -> AmplitudeConfig:
    region = _parse_region(raw.get("data_region", DataRegion.STANDARD.value))
    return AmplitudeConfig(
        api_key=_parse_key(raw, "api_key"),
        secret_key=_parse_key(raw, "secret_key"),
        start_date=_parse_start_date(raw.get("start_date"), now),
        data_region=region,
        request_time_range_hours=_parse_request_time_range(
            raw.get("request_time_range", DEFAULT_REQUEST_TIME_RANGE_HOURS)
        ),
        export_concurrency=_parse_export_concurrency(raw.get("export_concurrency", DEFAULT_EXPORT_CONCURRENCY)),
        active_users_group_by_country=_parse_bool(raw, "active_users_group_by_country", default=True),
        chart_ids=_parse_chart_ids(raw.get("chart_ids")),
        base_url=resolve_base_url(region, environ),
    )


def resolve_base_url(region: DataRegion, environ: Mapping[str, str]) -> str:
    override = environ.get(EU_BASE_URL_ENV) if region is DataRegion.EU else None
    override = override or environ.get(BASE_URL_ENV)
    if not override:
        return REGION_BASE_URLS[region]
    parts = urlsplit(override)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") or parts.query:
        raise ConfigError(
            f"The environment variable {BASE_URL_ENV} (or {EU_BASE_URL_ENV}) must be a scheme and host such as "
            f"'http://127.0.0.1:8765', with no path; got {override!r}. Unset it to talk to Amplitude itself."
        )
    return f"{parts.scheme}://{parts.netloc}"


def _parse_key(raw: Mapping[str, Any], field: str) -> str:
    value = raw.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"'{field}' is missing or empty. Copy the project's API Key and Secret Key from Amplitude: "
            "Settings > Organization settings > Projects > <your project> > General."
        )
    return value.strip()


def _parse_region(value: Any) -> DataRegion:
    for region in DataRegion:
        if value == region.value:
            return region
    choices = " or ".join(f"'{r.value}'" for r in DataRegion)
    raise ConfigError(f"'data_region' is {value!r}; set it to {choices} (EU projects live on the EU Residency Server).")


def _parse_start_date(value: Any, now: datetime) -> datetime:
    if value is None or value == "":
        return (now - timedelta(days=DEFAULT_START_DAYS_AGO)).replace(minute=0, second=0, microsecond=0)
    if isinstance(value, str):
        for fmt in _START_DATE_FORMATS:
            try:
                parsed = datetime.strptime(value, fmt).replace(tzinfo=UTC)
            except ValueError:
                continue
            if parsed > now:
                raise ConfigError(
                    f"'start_date' {value!r} is in the future (now is {now:%Y-%m-%dT%H:%M:%SZ}). "
                    "Set it to a past date such as 2024-01-01T00:00:00Z, or leave it empty for the last 30 days."
                )
            return parsed
    raise ConfigError(
        f"'start_date' {value!r} is not a date. Use the UTC form 2024-01-25T00:00:00Z or 2024-01-25, "
        "or leave it empty to start 30 days ago."
    )


def _parse_request_time_range(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_REQUEST_TIME_RANGE_HOURS:
        raise ConfigError(
            f"'request_time_range' is {value!r}; it is the number of hours per export request and must be a whole "
            f"number from 1 to {MAX_REQUEST_TIME_RANGE_HOURS}. The default, 24, suits most projects."
        )
    return value


def _parse_export_concurrency(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_EXPORT_CONCURRENCY:
        raise ConfigError(
            f"'export_concurrency' is {value!r}; it is how many export requests may be in flight at once and must be "
            f"a whole number from 1 to {MAX_EXPORT_CONCURRENCY} (Amplitude allows 5 concurrent requests per project, "
            f"shared with every other client). The default, {DEFAULT_EXPORT_CONCURRENCY}, suits most projects."
        )
    return value


def _parse_bool(raw: Mapping[str, Any], field: str, default: bool) -> bool:
    value = raw.get(field, default)
    if not isinstance(value, bool):
        raise ConfigError(f"'{field}' is {value!r}; set it to true or false.")
    return value


def _parse_chart_ids(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError("'chart_ids' must be a list of saved-chart ids such as [\"gl9dulhv\"].")
    ids: list[str] = []
    for item in value:
        chart_id = str(item).strip() if isinstance(item, (str, int)) and not isinstance(item, bool) else ""
        if not _CHART_ID.match(chart_id):
            raise ConfigError(
                f"'chart_ids' holds {item!r}, which is not a chart id. A chart id is the short code after /chart/ "
                "in the chart's URL, e.g. 'gl9dulhv' in https://app.amplitude.com/analytics/acme/chart/gl9dulhv."
            )
        if chart_id not in ids:
            ids.append(chart_id)
    return tuple(ids)
