"""Bucket mode's pure parts: the events_source config, file names, the per-object state, merged-id times."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from source_amplitude.bucket.layout import BucketObject, by_hour, events_layout, merged_ids_layout
from source_amplitude.config import ConfigError, ExportApi, GcsSource, S3Source, parse_config
from source_amplitude.parsers.merged_ids import epoch_rfc3339, merged_id_record
from source_amplitude.pipeline.state import (
    BucketState,
    ExportState,
    UnusableState,
    parse_bucket_state,
    parse_export_state,
)

NOW = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)
KEYS = {"api_key": "k" * 32, "secret_key": "s" * 32}
H = datetime(2026, 11, 20, 3, tzinfo=UTC)
S3 = {"source_type": "Amazon S3", "bucket": "acme-amplitude", "path_prefix": "/exports/amp/", "project_id": "829528"}


def events_source(**source: Any) -> Any:
    return parse_config({**KEYS, "events_source": source}, NOW, {}).events_source


def test_no_events_source_is_the_export_api_and_s3_parses_with_a_normalised_prefix() -> None:
    assert parse_config(KEYS, NOW, {}).events_source == ExportApi()
    assert events_source(source_type="Export API") == ExportApi()
    s3 = events_source(**S3, region="eu-west-1", org_id=36958)
    assert isinstance(s3, S3Source)
    assert (s3.bucket, s3.path_prefix, s3.project_id, s3.org_id, s3.region) == (
        "acme-amplitude",
        "exports/amp/",
        "829528",
        "36958",
        "eu-west-1",
    )
    assert s3.location() == "s3://acme-amplitude/exports/amp/"


def test_secrets_never_appear_in_the_config_repr() -> None:
    s3 = events_source(**S3, aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="very-secret")
    account = {"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----x", "client_email": "a@b"}
    gcs = events_source(
        source_type="Google Cloud Storage", bucket="b-1", project_id="1", service_account_json=json.dumps(account)
    )
    assert isinstance(gcs, GcsSource) and gcs.service_account_info == account
    assert "very-secret" not in repr(s3) and "PRIVATE" not in repr(gcs)


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ({"source_type": "Azure"}, "'events_source.source_type' is 'Azure'"),
        ({**S3, "bucket": "s3://acme-amplitude/exports"}, "give the bucket's name alone"),
        ({**S3, "bucket": ""}, "'events_source.bucket' is missing"),
        ({**S3, "bucket": "Acme_Bucket"}, "not a valid bucket name"),
        ({**S3, "path_prefix": "s3://acme/x"}, "give the folder inside the bucket"),
        ({**S3, "project_id": None}, "'events_source.project_id' is missing"),
        ({**S3, "project_id": "my-project"}, "must be the Amplitude project id, a number"),
        ({**S3, "org_id": "acme"}, "must be the Amplitude organization id"),
        ({**S3, "aws_access_key_id": "AKIA"}, "go together"),
        ({**S3, "region": "Frankfurt"}, "not an AWS region"),
        ({**S3, "role_arn": "reader"}, "not an IAM role ARN"),
        (
            {
                "source_type": "Google Cloud Storage",
                "bucket": "b-1",
                "project_id": "1",
                "service_account_json": "{oops",
            },
            "not a service account key",
        ),
    ],
)
def test_each_bad_field_is_named_with_its_fix(source: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigError) as raised:
        events_source(**source)
    assert fragment in raised.value.message
    assert "{oops" not in raised.value.message  # a service account is never quoted


def test_file_names_give_hour_and_partition_in_either_folder_and_nothing_else() -> None:
    layout = events_layout("amp/", "829528")
    assert layout.hour_and_partition("amp/829528/829528_2026-11-20_3#1.json.gz") == (H, 1)
    assert layout.hour_and_partition("amp/829528_2026-11-20_13#0.json.gz") == (H.replace(hour=13), 0)
    for other in (
        "amp/829528/complete",
        "amp/829528/829528_2026-11-20_3#1.json",
        "amp/829528/111_2026-11-20_3#1.json.gz",
        "amp/elsewhere/829528_2026-11-20_3#1.json.gz",
        "amp/829528/829528_2026-11-20_24#0.json.gz",
        "amp/829528/829528_2026-02-30_3#0.json.gz",
    ):
        assert layout.hour_and_partition(other) is None, other
    assert layout.day_prefixes(date(2026, 11, 20)) == ["amp/829528/829528_2026-11-20_", "amp/829528_2026-11-20_"]
    merged = merged_ids_layout("", "36958")
    assert merged.hour_and_partition("-36958/-36958_2026-11-20_3.json.gz") == (H, 0)
    assert merged.hour_and_partition("-36958_2026-11-20_3.json.gz") == (H, 0)


def test_the_same_partition_in_both_folders_is_one_file_and_the_later_wins() -> None:
    layout = events_layout("", "1")
    old = BucketObject("1/1_2026-11-20_3#0.json.gz", NOW, 10, "a")
    new = BucketObject("1_2026-11-20_3#0.json.gz", NOW + timedelta(minutes=1), 10, "b")
    assert by_hour(layout, [new, old], {H}) == {H: {0: new}}


def test_an_hour_is_remembered_through_its_grace_period_then_forgotten() -> None:
    state = BucketState().after_object(H, 0, "etag0").after_hour(H, now=H + timedelta(hours=2))
    assert state.cursor == H and state.read == {H: {0: "etag0"}}
    assert state.hours_to_list(H - timedelta(hours=5), H + timedelta(hours=2)) == [
        H,
        H + timedelta(hours=1),
        H + timedelta(hours=2),
    ]
    assert state.was_read(H, 0) == "etag0" and state.was_read(H, 1) is None
    later = state.after_hour(H, now=H + timedelta(hours=49))
    assert later.read == {} and later.cursor == H


def test_an_hour_without_files_is_listed_again_while_in_its_grace_period() -> None:
    state = BucketState().after_hour(H, now=H + timedelta(hours=1, minutes=5))
    assert state.read == {H: {}}
    assert state.hours_to_list(H, H + timedelta(hours=1)) == [H, H + timedelta(hours=1)]


def test_state_round_trips_and_bounds_itself() -> None:
    state = BucketState()
    hour = H
    for _ in range(24 * 10):  # ten days of hourly syncs, two objects an hour
        state = (
            state.after_object(hour, 0, "a")
            .after_object(hour, 1, "b")
            .after_hour(hour, now=hour + timedelta(hours=1, minutes=5))
        )
        hour += timedelta(hours=1)
    assert len(state.read) <= 49
    assert parse_bucket_state(json.loads(json.dumps(state.as_dict()))) == state


def test_modes_read_each_others_state() -> None:
    exported = {"server_upload_time": "20261120T05", "state_version": 2, "pending_hours": {"20261120T03": [0, 2]}}
    bucket = parse_bucket_state(exported)
    assert bucket.cursor == H.replace(hour=5) and bucket.read == {H: {0: "", 2: ""}}
    back = parse_export_state(BucketState(H, {H: {0: "e0", 1: "e1"}}).as_dict())
    assert back == ExportState(H, {H: frozenset({0, 1})})


@pytest.mark.parametrize(
    "objects_read",
    ["x", {"someday": {}}, {"20261120T03": [0, 1]}, {"20261120T03": {"first": "etag"}}, {"20261120T03": {"0": 7}}],
)
def test_unusable_objects_read_is_refused(objects_read: Any) -> None:
    with pytest.raises(UnusableState, match="objects_read"):
        parse_bucket_state({"server_upload_time": "20261120T03", "state_version": 2, "objects_read": objects_read})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1764489600, "2025-11-30T08:00:00+00:00"),
        (1764489600123, "2025-11-30T08:00:00.123+00:00"),
        (1764489600123456, "2025-11-30T08:00:00.123456+00:00"),
        (1764489600.5, "2025-11-30T08:00:00.500000+00:00"),
        (86400, None),  # a day after 1970 in seconds, or 86 s in ms: not a unit anyone can tell
        (17644896001, None),  # between the ranges
        ("1764489600", None),
        (None, None),
        (True, None),
    ],
)
def test_merged_id_times_get_an_rfc3339_form_only_when_the_unit_is_unambiguous(value: Any, expected: Any) -> None:
    assert epoch_rfc3339(value) == expected


def test_a_merged_id_line_keeps_amplitudes_fields_and_adds_the_utc_forms() -> None:
    line = (
        b'{"scope":829528,"merge_time":1764489600000,"merge_server_time":1764489601000,'
        b'"amplitude_id":1,"merged_amplitude_id":2}'
    )
    assert merged_id_record(line) == {
        "scope": 829528,
        "merge_time": 1764489600000,
        "merge_server_time": 1764489601000,
        "amplitude_id": 1,
        "merged_amplitude_id": 2,
        "merge_time_utc": "2025-11-30T08:00:00.000+00:00",
        "merge_server_time_utc": "2025-11-30T08:00:01.000+00:00",
    }
    with pytest.raises(ValueError):
        merged_id_record(b"[1, 2]")
