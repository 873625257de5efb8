"""Parse the user's config once into a frozen, typed object. Every invalid value gets a message naming the field
and the fix. No I/O: `now` and the environment are parameters."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Optional, Union
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
class ExportApi:
    """Raw events (and nothing else) from the Export API: the default."""


@dataclass(frozen=True)
class BucketSource:
    """Raw events (and merged ids) from the files Amplitude writes to the customer's bucket (bucket mode)."""

    bucket: str
    path_prefix: str  # '' or 'folder/sub/': always ends with '/' when set
    project_id: str  # digits
    org_id: Optional[str]  # digits; None: no merged_ids stream
    store_name: ClassVar[str] = ""
    scheme: ClassVar[str] = ""

    def location(self, prefix: Optional[str] = None) -> str:
        """s3://bucket/prefix, for messages."""
        return f"{self.scheme}://{self.bucket}/{self.path_prefix if prefix is None else prefix}"


@dataclass(frozen=True, repr=False)
class S3Source(BucketSource):
    region: Optional[str]
    aws_access_key_id: Optional[str]
    aws_secret_access_key: Optional[str]
    role_arn: Optional[str]

    store_name: ClassVar[str] = "Amazon S3"
    scheme: ClassVar[str] = "s3"

    def __repr__(self) -> str:  # never print the keys
        return f"S3Source(bucket={self.bucket!r}, path_prefix={self.path_prefix!r}, region={self.region!r})"


@dataclass(frozen=True, repr=False)
class GcsSource(BucketSource):
    service_account_info: Optional[dict[str, Any]]

    store_name: ClassVar[str] = "Google Cloud Storage"
    scheme: ClassVar[str] = "gs"

    def __repr__(self) -> str:  # never print the service account
        return f"GcsSource(bucket={self.bucket!r}, path_prefix={self.path_prefix!r})"


EventsSource = Union[ExportApi, S3Source, GcsSource]


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
    events_source: EventsSource = field(default_factory=lambda: ExportApi())

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
        events_source=_parse_events_source(raw.get("events_source")),
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
        zone = _time_zone_problem(value)
        if zone:
            raise ConfigError(
                f"'start_date' {value!r} {zone}: start_date is in UTC. Write it as "
                f"{value[:19]}Z (or convert it to UTC first), or as a day such as {value[:10]}."
            )
    raise ConfigError(
        f"'start_date' {value!r} is not a date. Use the UTC form 2024-01-25T00:00:00Z or 2024-01-25, "
        "or leave it empty to start 30 days ago."
    )


def _time_zone_problem(value: str) -> Optional[str]:
    """What is wrong with a date and time that is otherwise readable: no zone, or a zone other than Z."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if len(value) < 19:  # a day alone, or a day and hour: not one of the forms that have a time
        return None
    if moment.tzinfo is None:
        return "has no time zone"
    return f"is in the time zone {value[19:].lstrip('.0123456789')}"


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


EXPORT_API, AMAZON_S3, GOOGLE_CLOUD_STORAGE = "Export API", "Amazon S3", "Google Cloud Storage"
_S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_GCS_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
_AWS_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


def _parse_events_source(value: Any) -> EventsSource:
    if value is None:
        return ExportApi()
    if not isinstance(value, Mapping):
        raise ConfigError(
            f'\'events_source\' must be an object such as {{"source_type": "{EXPORT_API}"}}; got {_kind(value)}.'
        )
    source_type = value.get("source_type", EXPORT_API)
    if source_type == EXPORT_API:
        return ExportApi()
    if source_type not in (AMAZON_S3, GOOGLE_CLOUD_STORAGE):
        raise ConfigError(
            f"'events_source.source_type' is {source_type!r}; set it to '{EXPORT_API}', '{AMAZON_S3}' or "
            f"'{GOOGLE_CLOUD_STORAGE}'."
        )
    s3 = source_type == AMAZON_S3
    bucket = _parse_bucket(value.get("bucket"), _S3_BUCKET if s3 else _GCS_BUCKET, "s3" if s3 else "gs")
    prefix = _parse_prefix(value.get("path_prefix"))
    project_id = _parse_amplitude_id(value.get("project_id"), "project_id", required=True) or ""
    org_id = _parse_amplitude_id(value.get("org_id"), "org_id", required=False)
    if not s3:
        account = _parse_service_account(value.get("service_account_json"))
        return GcsSource(bucket, prefix, project_id, org_id, service_account_info=account)
    key_id = _optional_text(value, "aws_access_key_id")
    secret = _optional_text(value, "aws_secret_access_key")
    if bool(key_id) != bool(secret):
        raise ConfigError(
            "'events_source.aws_access_key_id' and 'events_source.aws_secret_access_key' go together: give both, or "
            "neither to use role_arn or the environment's AWS credentials (instance profile, AWS_* variables)."
        )
    region = _optional_text(value, "region")
    if region and not _AWS_REGION.match(region):
        raise ConfigError(
            f"'events_source.region' is {region!r}, not an AWS region such as 'us-east-1': use the region shown "
            "next to the bucket in the S3 console, or leave it empty."
        )
    role_arn = _optional_text(value, "role_arn")
    if role_arn and not _ROLE_ARN.match(role_arn):
        raise ConfigError(
            f"'events_source.role_arn' is {role_arn!r}, not an IAM role ARN such as "
            "'arn:aws:iam::123456789012:role/amplitude-export-reader'."
        )
    return S3Source(bucket, prefix, project_id, org_id, region, key_id, secret, role_arn)


def _kind(value: Any) -> str:
    return f"JSON {type(value).__name__}" if not isinstance(value, str) else repr(value)


def _optional_text(raw: Mapping[str, Any], field_name: str) -> Optional[str]:
    value = raw.get(field_name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"'events_source.{field_name}' must be text; got {_kind(value)}.")
    return value.strip() or None


def _parse_bucket(value: Any, pattern: re.Pattern[str], scheme: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            "'events_source.bucket' is missing: set it to the name of the bucket Amplitude exports to (the bucket "
            "of the export destination in Amplitude > Data > Destinations)."
        )
    name = value.strip()
    if "://" in name or "/" in name:
        raise ConfigError(
            f"'events_source.bucket' is {name!r}: give the bucket's name alone (such as 'acme-amplitude') and put "
            f"any folder in 'events_source.path_prefix', not a {scheme}:// URL or a path."
        )
    if not pattern.match(name):
        rules = (
            "lower-case letters, digits, dots and hyphens, 3 to 63 characters"
            if scheme == "s3"
            else "lower-case letters, digits, dots, hyphens and underscores, 3 to 222 characters, starting and "
            "ending with a letter or digit"
        )
        raise ConfigError(f"'events_source.bucket' is {name!r}, which is not a valid bucket name ({rules}).")
    return name


def _parse_prefix(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigError(
            f"'events_source.path_prefix' must be text (a folder such as 'amplitude/'); got {_kind(value)}."
        )
    if "://" in value:
        raise ConfigError(
            f"'events_source.path_prefix' is {value!r}: give the folder inside the bucket (such as 'amplitude/' or "
            "empty), not a URL; the bucket's name goes in 'events_source.bucket'."
        )
    prefix = value.strip().strip("/")
    return f"{prefix}/" if prefix else ""


def _parse_amplitude_id(value: Any, field_name: str, required: bool) -> Optional[str]:
    if value is None or value == "":
        if not required:
            return None
        raise ConfigError(
            f"'events_source.{field_name}' is missing: set it to the Amplitude project id (a number: Settings > "
            "Organization settings > Projects > Project ID). Amplitude names its export files "
            "<project_id>_<date>_<hour>#<n>.json.gz."
        )
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not text.isdigit():
        what = "project id" if field_name == "project_id" else "organization id"
        where = "Projects > Project ID" if field_name == "project_id" else "General > Org ID"
        raise ConfigError(
            f"'events_source.{field_name}' is {value!r}; it must be the Amplitude {what}, a number (Settings > "
            f"Organization settings > {where})."
        )
    return text


def _parse_service_account(value: Any) -> Optional[dict[str, Any]]:
    if value is None or value == "":
        return None
    info: Any = value
    if isinstance(value, str):
        try:
            info = json.loads(value)
        except ValueError:
            info = None
    if not isinstance(info, dict) or info.get("type") != "service_account" or "private_key" not in info:
        raise ConfigError(  # never quote the value: it is a secret
            "'events_source.service_account_json' is not a service account key: paste the whole JSON key file of a "
            "service account (Google Cloud console > IAM > Service accounts > Keys > Add key > JSON), or leave it "
            "empty to use the environment's default credentials."
        )
    return info
