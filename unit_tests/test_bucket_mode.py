"""Bucket mode's pure parts: the events_source config, file names, the per-object state, merged-id times."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from source_amplitude.bucket.layout import BucketObject, by_hour, events_layout, merged_ids_layout
from source_amplitude.config import ConfigError, ExportApi, GcsSource, S3Source, parse_config
from source_amplitude.parsers.merged_ids import epoch_rfc3339, merged_id_record
from source_amplitude.state.events import (
    MAX_REMEMBERED_DURING_SWEEP,
    WRITE_VISIBLE_HOURS,
    BucketState,
    ExportState,
    Listed,
    parse_bucket_state,
    parse_export_state,
)
from source_amplitude.state.protocol import UnusableState

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
        ({**S3, "bucket": "acme_bucket"}, "(lower-case letters, digits, dots and hyphens, 3 to 63 characters)"),
        (
            {"source_type": "Google Cloud Storage", "bucket": "Acme_Bucket", "project_id": "1"},
            "dots, hyphens and underscores, 3 to 222 characters",
        ),
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
    assert layout.listing_prefixes(date(2026, 11, 20)) == [
        ("amp/829528/829528_", "amp/829528/829528_2026-11-20"),
        ("amp/829528_", "amp/829528_2026-11-20"),
    ]
    merged = merged_ids_layout("", "36958")
    assert merged.hour_and_partition("-36958/-36958_2026-11-20_3.json.gz") == (H, 0)
    assert merged.hour_and_partition("-36958_2026-11-20_3.json.gz") == (H, 0)


def test_the_same_partition_in_both_folders_is_one_file_and_the_later_wins() -> None:
    layout = events_layout("", "1")
    old = BucketObject("1/1_2026-11-20_3#0.json.gz", NOW, 10, "a")
    new = BucketObject("1_2026-11-20_3#0.json.gz", NOW + timedelta(minutes=1), 10, "b")
    assert by_hour(layout, [new, old], {H}) == {H: {0: new}}


def listed(hour: datetime, partition: int, written_at: datetime, fingerprint: str = "f") -> Listed:
    return Listed(hour, partition, fingerprint, written_at)


def sync(state: BucketState, listing: list[Listed], now: datetime) -> tuple[BucketState, list[Listed]]:
    """What BucketRead does with a listing: a sweep, the objects not read yet in order, then the sweep's end."""
    state = state.sweeping(max(obj.written_at for obj in listing), now)
    plan = sorted((obj for obj in listing if not state.has_read(obj)), key=lambda obj: obj.position)
    for obj in plan:
        state = state.after_object(obj).after_hour(obj.hour, now)
    return state.after_sweep(listing), plan


def test_an_object_is_read_once_however_late_it_is_written() -> None:
    on_time = [listed(H + timedelta(hours=n), 0, H + timedelta(hours=n + 1, minutes=10)) for n in range(48)]
    state, read = sync(BucketState(), on_time, H + timedelta(hours=49))
    assert read == on_time and state.cursor == H + timedelta(hours=47)
    late = listed(H + timedelta(hours=3), 1, H + timedelta(days=5))  # partition #1 of an old hour, 5 days late
    state, read = sync(state, [*on_time, late], H + timedelta(days=5, hours=1))
    assert read == [late]
    state, read = sync(state, [*on_time, late], H + timedelta(days=6))
    assert read == []
    assert state.read == {} and state.written_before == late.written_at + timedelta(seconds=1)


def test_objects_written_in_the_last_hours_are_remembered_one_by_one_then_by_time() -> None:
    now = H + timedelta(hours=3)
    objects = [listed(H, 0, now - timedelta(hours=3)), listed(H + timedelta(hours=1), 0, now - timedelta(minutes=30))]
    state, _ = sync(BucketState(), objects, now)
    assert state.written_before == now - timedelta(hours=WRITE_VISIBLE_HOURS)
    assert state.read == {H + timedelta(hours=1): {0: "f"}}  # written 30 min ago: it may have company not listed yet
    hidden = listed(H + timedelta(hours=1), 1, now - timedelta(minutes=40))  # visible only now (a slow upload)
    state, read = sync(state, [*objects, hidden], now + timedelta(hours=1))
    assert read == [hidden]
    assert len(state.read) <= 1


def test_an_object_written_again_with_other_bytes_is_read_again() -> None:
    first = listed(H, 0, H + timedelta(hours=1), "a")
    state, _ = sync(BucketState(), [first], H + timedelta(hours=2))
    again = listed(H, 0, H + timedelta(days=3), "b")
    state, read = sync(state, [again], H + timedelta(days=3, hours=1))
    assert read == [again]
    same_bytes = listed(H, 0, H + timedelta(days=3), "b")
    assert sync(state, [same_bytes], H + timedelta(days=3, hours=2))[1] == []


def test_a_stopped_sweep_resumes_after_the_last_object_it_read() -> None:
    now = H + timedelta(days=2)
    objects = [listed(H + timedelta(hours=n), p, H + timedelta(hours=n + 1)) for n in range(24) for p in (0, 1)]
    state = BucketState().sweeping(max(obj.written_at for obj in objects), now)
    for obj in objects[:7]:  # then killed
        state = state.after_object(obj)
    carried = parse_bucket_state(json.loads(json.dumps(state.as_dict())))
    assert carried == state and carried.read == {}  # the sweep's position holds it all: the state stays small
    new_late = listed(H + timedelta(hours=1), 2, now + timedelta(minutes=5))  # written after the stopped listing
    resumed, read = sync(carried, [*objects, new_late], now + timedelta(minutes=10))
    assert read == sorted([*objects[7:], new_late], key=lambda obj: obj.position)
    assert resumed.sweep is None


def test_a_carried_state_holds_until_the_first_sweep_ends() -> None:
    """An earlier version's (or the Export API mode's) state: every hour up to its cursor was read, except the hours
    it lists as still open, which are read whole (state/events.py: states cross modes at whole hours)."""
    carried = parse_bucket_state(
        {"server_upload_time": "20261120T05", "state_version": 2, "pending_hours": {"20261120T03": [0, 2]}}
    )
    objects = [listed(H + timedelta(hours=n), p, H + timedelta(hours=n + 1)) for n in range(5) for p in range(3)]
    state, read = sync(carried, objects, H + timedelta(hours=8))
    after_cursor = [(H + timedelta(hours=n), p) for n in (3, 4) for p in range(3)]
    assert [obj.position for obj in read] == [(H, 0), (H, 1), (H, 2), *after_cursor]  # the pending hour whole, then new
    assert sync(state, objects, H + timedelta(hours=9))[1] == []


def test_state_round_trips_and_bounds_itself() -> None:
    state = BucketState()
    objects: list[Listed] = []
    hour = H
    for _ in range(24 * 10):  # ten days of hourly syncs, two objects an hour
        objects += [listed(hour, 0, hour + timedelta(minutes=70), "a"), listed(hour, 1, hour + timedelta(minutes=70))]
        state, _ = sync(state, objects, hour + timedelta(minutes=80))
        hour += timedelta(hours=1)
    assert len(state.read) <= 3
    assert len(json.dumps(state.as_dict())) < 500
    assert parse_bucket_state(json.loads(json.dumps(state.as_dict()))) == state


def test_modes_read_each_others_state() -> None:
    exported = {"server_upload_time": "20261120T05", "state_version": 2, "pending_hours": {"20261120T03": [0, 2]}}
    bucket = parse_bucket_state(exported)
    assert bucket.cursor == H.replace(hour=5) and bucket.read == {H: {}}  # nothing of it read: read whole
    back = parse_export_state(BucketState(H, {H: {0: "e0", 1: "e1"}}).as_dict())
    assert back == ExportState(H, {H: frozenset()})  # pending, nothing delivered: read whole, asked until complete
    assert parse_export_state(bucket.as_dict()) == ExportState(H.replace(hour=5), {H: frozenset()})


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


def test_the_docs_quote_the_late_file_warning_as_the_code_writes_it() -> None:
    from pathlib import Path

    from source_amplitude.bucket.read import late_object_message

    docs = " ".join((Path(__file__).parents[1] / "docs" / "amplitude.md").read_text().split())
    hour = datetime(2026, 6, 16, 10, tzinfo=UTC)
    late = Listed(hour, 1, "f", hour + timedelta(hours=61))
    location = "s3://acme-amplitude/amplitude/829528/829528_2026-06-16_10#1.json.gz"
    assert f"`{late_object_message('events', location, late)}`" in docs


def test_a_backfill_written_just_before_a_sync_keeps_each_state_message_small() -> None:
    now = H + timedelta(days=400)
    backfill = [listed(H + timedelta(hours=n), 0, now - timedelta(minutes=10)) for n in range(24 * 100)]
    state = BucketState().sweeping(now - timedelta(minutes=10), now)
    largest = 0
    for obj in backfill[:2000]:
        state = state.after_object(obj)
        largest = max(largest, sum(len(parts) for parts in state.read.values()))
    assert largest <= MAX_REMEMBERED_DURING_SWEEP
    stopped = parse_bucket_state(json.loads(json.dumps(state.as_dict())))
    resumed, read = sync(stopped, backfill, now + timedelta(minutes=5))
    assert read == backfill[: 2000 - MAX_REMEMBERED_DURING_SWEEP] + backfill[2000:]  # the dropped ones, then the rest
    assert sync(resumed, backfill, now + timedelta(hours=3))[1] == []
