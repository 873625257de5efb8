from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from airbyte_cdk.models import FailureType

from source_amplitude.config import ConfigError, parse_config
from source_amplitude.settings import DataRegion

NOW = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)
KEYS = {"api_key": "k" * 32, "secret_key": "s" * 32}


def parse(raw: dict[str, Any], environ: dict[str, str] | None = None) -> Any:
    return parse_config(raw, NOW, environ or {})


def test_official_connector_config_is_accepted_unchanged() -> None:
    official = {
        **KEYS,
        "start_date": "2024-01-25T00:00:00Z",
        "data_region": "EU Residency Server",
        "request_time_range": 6,
        "active_users_group_by_country": False,
        "some_future_option": "ignored",
    }
    config = parse(official)
    assert config.start_date == datetime(2024, 1, 25, tzinfo=UTC)
    assert config.data_region is DataRegion.EU
    assert config.base_url == "https://analytics.eu.amplitude.com"
    assert config.request_time_range_hours == 6
    assert config.active_users_group_by_country is False
    assert config.chart_ids == ()


def test_defaults_start_30_days_ago_on_the_standard_server() -> None:
    config = parse(KEYS)
    assert config.start_date == datetime(2026, 10, 23, 15, tzinfo=UTC)
    assert config.base_url == "https://amplitude.com"
    assert config.request_time_range_hours == 24
    assert config.export_concurrency == 2
    assert config.active_users_group_by_country is True


@pytest.mark.parametrize(
    "start_date, expected",
    [
        ("2024-01-25", datetime(2024, 1, 25, tzinfo=UTC)),
        ("2024-01-25T06:00:00Z", datetime(2024, 1, 25, 6, tzinfo=UTC)),
        ("2024-01-25T06:00:00.000Z", datetime(2024, 1, 25, 6, tzinfo=UTC)),
    ],
)
def test_start_date_forms(start_date: str, expected: datetime) -> None:
    assert parse({**KEYS, "start_date": start_date}).start_date == expected


@pytest.mark.parametrize(
    "override, expected_fragments",
    [
        ({"api_key": ""}, ["'api_key' is missing or empty", "Settings"]),
        ({"secret_key": "   "}, ["'secret_key' is missing or empty"]),
        ({"start_date": "25/01/2024"}, ["'start_date' '25/01/2024' is not a date", "2024-01-25T00:00:00Z"]),
        ({"start_date": "2027-01-01"}, ["'start_date' '2027-01-01' is in the future", "leave it empty"]),
        (
            {"start_date": "2024-01-25T00:00:00"},
            ["'start_date' '2024-01-25T00:00:00' has no time zone", "Write it as 2024-01-25T00:00:00Z"],
        ),
        ({"start_date": "2024-01-25T00:00:00+02:00"}, ["is in the time zone +02:00", "start_date is in UTC"]),
        ({"data_region": "Asia"}, ["'data_region' is 'Asia'", "'Standard Server' or 'EU Residency Server'"]),
        ({"request_time_range": 0}, ["'request_time_range' is 0", "from 1 to 8760"]),
        ({"request_time_range": 9000}, ["'request_time_range' is 9000"]),
        ({"export_concurrency": 5}, ["'export_concurrency' is 5", "from 1 to 4", "5 concurrent requests"]),
        ({"export_concurrency": 0}, ["'export_concurrency' is 0"]),
        ({"request_time_range": "24"}, ["'request_time_range' is '24'"]),
        ({"active_users_group_by_country": "yes"}, ["'active_users_group_by_country' is 'yes'", "true or false"]),
        ({"chart_ids": "abc"}, ["'chart_ids' must be a list"]),
        ({"chart_ids": ["ok1", "has space"]}, ["'chart_ids' holds 'has space'", "after /chart/"]),
    ],
)
def test_invalid_values_name_the_field_and_the_fix(override: dict[str, Any], expected_fragments: list[str]) -> None:
    with pytest.raises(ConfigError) as raised:
        parse({**KEYS, **override})
    assert raised.value.failure_type == FailureType.config_error
    for fragment in expected_fragments:
        assert fragment in raised.value.message


def test_error_messages_never_contain_the_keys() -> None:
    with pytest.raises(ConfigError) as raised:
        parse({**KEYS, "request_time_range": -1})
    assert KEYS["api_key"] not in str(raised.value.message)
    assert KEYS["secret_key"] not in repr(parse(KEYS))


def test_base_url_override_replaces_scheme_and_host_for_both_regions() -> None:
    env = {"AMPLITUDE_BASE_URL": "http://127.0.0.1:8765/"}
    assert parse(KEYS, env).base_url == "http://127.0.0.1:8765"
    assert parse({**KEYS, "data_region": "EU Residency Server"}, env).base_url == "http://127.0.0.1:8765"
    env_eu = {**env, "AMPLITUDE_EU_BASE_URL": "http://127.0.0.1:9999"}
    assert parse({**KEYS, "data_region": "EU Residency Server"}, env_eu).base_url == "http://127.0.0.1:9999"
    assert parse(KEYS, env_eu).base_url == "http://127.0.0.1:8765"


@pytest.mark.parametrize("bad", ["127.0.0.1:8765", "ftp://host", "http://host/api", "http://host?x=1"])
def test_base_url_override_must_be_scheme_and_host(bad: str) -> None:
    with pytest.raises(ConfigError, match="AMPLITUDE_BASE_URL"):
        parse(KEYS, {"AMPLITUDE_BASE_URL": bad})


def test_chart_ids_are_deduplicated_in_order() -> None:
    assert parse({**KEYS, "chart_ids": ["b2", "a1", "b2"]}).chart_ids == ("b2", "a1")
