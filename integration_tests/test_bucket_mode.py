"""Bucket mode end to end: the connector reads the files Amplitude's export writes, from a real local S3 (moto's
server) and a real local GCS (gcp-storage-emulator), with the fake Amplitude's dataset laid out as Amplitude lays
it out. Consecutive syncs while files arrive on time, late and again: every event exactly once."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

import pytest
from airbyte_cdk.models import Status, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.state_builder import StateBuilder

from fake_amplitude import Dataset, FakeAmplitude
from fake_amplitude.bucket_export import ORG_ID, BucketLayout, hour_partitions, write_hour, write_merged_ids
from fake_amplitude.object_stores import LocalStore
from source_amplitude import SourceAmplitude
from test_support.connector_process import (
    events_catalog,
    orphaned_conversion_workers,
    run_connector,
    run_connector_until,
)
from test_support.fault_proxy import FaultProxy, StoreFault
from test_support.fixtures import bucket_config, new_bucket

UTC = timezone.utc
FIRST = datetime(2026, 11, 1, tzinfo=UTC)
LAYOUT = BucketLayout()


def dataset(hours: int = 24) -> Dataset:
    # 3 partitions an hour (#0, #1, #2)
    return Dataset(FIRST, hours=hours, events_per_hour=30, events_per_member=10, late_fraction=0.2)


class Bucket:
    def __init__(self, store: LocalStore, data: Dataset, layout: BucketLayout = LAYOUT) -> None:
        self.store, self.data, self.layout = store, data, layout
        self.name = new_bucket(store)

    def put(self, key: str, payload: bytes, written_at: Optional[datetime] = None) -> None:
        self.store.put(self.name, key, payload, written_at)

    def publish(
        self,
        hour: datetime,
        partitions: Optional[set[int]] = None,
        written_at: Optional[datetime] = None,
        merged_ids: bool = True,
        events: bool = True,
    ) -> None:
        """The hour's files as Amplitude writes them; `written_at`: the store's last-modified time (a test's time)."""

        def put(key: str, payload: bytes) -> None:
            self.put(key, payload, written_at)

        if events:
            write_hour(self.data, hour, put, self.layout, partitions)
        if merged_ids and (partitions is None or 0 in partitions):
            write_merged_ids(self.data, hour, put, self.layout)

    def config(self, **source: Any) -> dict[str, Any]:
        events_source = bucket_config(self.store, self.name, self.data.app_id, **source)
        return {
            "api_key": "unused-in-bucket-mode",
            "secret_key": "unused-in-bucket-mode",
            "start_date": f"{self.data.first_hour:%Y-%m-%dT%H:%M:%SZ}",
            "events_source": events_source,
        }


def sync(
    config: dict[str, Any], now: datetime, states: dict[str, Any], streams: tuple[str, ...] = ("events",)
) -> EntrypointOutput:
    catalog = CatalogBuilder()
    for stream in streams:
        catalog = catalog.with_stream(stream, SyncMode.incremental)
    builder = StateBuilder()
    for stream, value in states.items():
        builder = builder.with_stream_state(stream, value)
    return read(SourceAmplitude(now=now), config, catalog.build(), builder.build() if states else None)


def latest_states(output: EntrypointOutput, states: dict[str, Any]) -> dict[str, Any]:
    result = dict(states)
    for message in output.state_messages:
        stream = message.state.stream
        result[stream.stream_descriptor.name] = stream.stream_state.__dict__
    return result


def records(output: EntrypointOutput, stream: str) -> list[dict[str, Any]]:
    return [message.record.data for message in output.records if message.record.stream == stream]


def test_files_on_time_late_and_written_again_give_every_event_once(object_store: LocalStore) -> None:
    data = dataset()
    bucket = Bucket(object_store, data)
    late_hour, same_again = FIRST + timedelta(hours=5), FIRST + timedelta(hours=3)
    late_whole_hour = FIRST + timedelta(hours=7)
    seen: Counter[str] = Counter()
    merges: Counter[tuple[int, int]] = Counter()
    states: dict[str, Any] = {}
    published: set[datetime] = set()
    warnings: list[str] = []
    config = bucket.config(org_id=str(ORG_ID))
    for offset in (3, 4, 6, 10, 15, 20, 26, 40):
        now = FIRST + timedelta(hours=offset, minutes=10)
        for hour in data.upload_hours():
            if hour + timedelta(hours=1, minutes=5) <= now and hour not in published and hour != late_whole_hour:
                bucket.publish(hour, {0, 2} if hour == late_hour else None)  # partition #1 of late_hour comes 9 h late
                published.add(hour)
        if offset == 15:
            bucket.publish(late_hour, {1})
            bucket.publish(same_again)  # the same key, the same bytes
        if offset == 20:
            bucket.publish(late_whole_hour)  # no file at all until 12 h after the hour
        output = sync(config, now, states, ("events", "merged_ids"))
        assert not output.errors, [error.trace.error.message for error in output.errors]
        seen.update(record["uuid"] for record in records(output, "events"))
        merges.update((r["amplitude_id"], r["merged_amplitude_id"]) for r in records(output, "merged_ids"))
        warnings += [log.log.message for log in output.logs if log.log.level.name == "WARN"]
        states = latest_states(output, states)
    assert set(seen) == data.uuids()
    assert [uuid for uuid, count in seen.items() if count > 1] == []
    expected_merges = {
        (m["amplitude_id"], m["merged_amplitude_id"]) for h in data.upload_hours() for m in data.merged_ids_in_hour(h)
    }
    assert set(merges) == expected_merges and max(merges.values()) == 1
    assert any("20261101T05" in w and "arrived late" in w and "#1" in w for w in warnings), warnings
    assert len(states["events"]["objects_read"]) <= 50


def test_an_object_written_again_with_other_bytes_is_read_again_with_a_warning(object_store: LocalStore) -> None:
    data = dataset(hours=4)
    bucket = Bucket(object_store, data)
    for hour in data.upload_hours():
        bucket.publish(hour)
    now = FIRST + timedelta(hours=6)
    first = sync(bucket.config(), now, {})
    rewritten = FIRST + timedelta(hours=2)
    bucket.store.put(bucket.name, LAYOUT.events_key(data.app_id, rewritten, 1), gzip_lines([{"uuid": "new-row"}]))
    second = sync(bucket.config(), now + timedelta(hours=1), latest_states(first, {}))
    assert [record["uuid"] for record in records(second, "events")] == ["new-row"]
    assert any("written again with other content" in log.log.message for log in second.logs)


def gzip_lines(rows: list[dict[str, Any]]) -> bytes:
    import gzip

    import orjson

    return gzip.compress(b"".join(orjson.dumps(row) + b"\n" for row in rows))


def test_both_modes_give_the_same_events_field_for_field(
    object_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = dataset(hours=3)
    bucket = Bucket(
        object_store, data, BucketLayout(timestamp_separator="T", first_partition=1, in_project_folder=False)
    )
    for hour in data.upload_hours():
        bucket.publish(hour)
    now = FIRST + timedelta(hours=8)
    from_bucket = records(sync(bucket.config(), now, {}), "events")
    with FakeAmplitude(data) as fake:
        monkeypatch.setenv("AMPLITUDE_BASE_URL", fake.url)
        config = {**fake.config, "start_date": "2026-11-01T00:00:00Z"}
        from_export = records(sync(config, now, {}), "events")
    assert len(from_bucket) == len(from_export) == 90
    assert sorted(from_bucket, key=lambda r: r["uuid"]) == sorted(from_export, key=lambda r: r["uuid"])


def hour_uuids(data: Dataset, *hours: datetime) -> Counter[str]:
    return Counter(event["uuid"] for hour in hours for rows in hour_partitions(data, hour) for event in rows)


def test_switching_modes_carries_whole_hours_so_bucket_files_numbered_from_1_lose_nothing(
    object_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Amplitude's bucket files may be numbered from #1 while the Export API's members start at #0, so a partition
    number means nothing in the other mode: a state crosses at whole hours. Each way, a partly read hour is read
    whole, nothing is lost, and only that hour's rows come twice (they dedupe on uuid)."""
    data = dataset(hours=4)
    hours = list(data.upload_hours())
    numbered_from_1 = BucketLayout(first_partition=1)
    now = FIRST + timedelta(hours=12)

    # Export API -> bucket: the Export API had emitted its members #0 and #1 of the second hour (waiting for #2).
    export_state = {
        "server_upload_time": f"{hours[2]:%Y%m%dT%H}",
        "state_version": 2,
        "pending_hours": {f"{hours[1]:%Y%m%dT%H}": [0, 1]},
    }
    bucket = Bucket(object_store, data, numbered_from_1)
    for hour in hours:
        bucket.publish(hour, written_at=hour + timedelta(hours=1))
    emitted = Counter(
        record["uuid"] for record in records(sync(bucket.config(), now, {"events": export_state}), "events")
    )
    assert emitted == hour_uuids(data, hours[1], hours[3])  # the pending hour whole (files #1..#3), then the new one

    # Bucket -> Export API: a bucket sync read the third hour's file #1 alone (Amplitude had written no other yet).
    bucket = Bucket(object_store, data, numbered_from_1)
    for hour in hours[:2]:
        bucket.publish(hour, written_at=hour + timedelta(hours=1))
    bucket.publish(hours[2], partitions={0}, written_at=hours[2] + timedelta(hours=1))
    first = sync(bucket.config(), hours[2] + timedelta(hours=2), {})
    from_bucket = Counter(record["uuid"] for record in records(first, "events"))
    assert from_bucket == hour_uuids(data, *hours[:2]) + Counter(
        event["uuid"] for event in next(hour_partitions(data, hours[2]))
    )
    with FakeAmplitude(data) as fake:
        monkeypatch.setenv("AMPLITUDE_BASE_URL", fake.url)
        config = {**fake.config, "start_date": f"{FIRST:%Y-%m-%dT%H:%M:%SZ}"}
        second = sync(config, now, latest_states(first, {}))
    from_export = Counter(record["uuid"] for record in records(second, "events"))
    assert set(from_bucket) | set(from_export) == set(hour_uuids(data, *hours))  # nothing lost
    # the hours the bucket state names one by one (written in its last 2 h: Amplitude may still add to them; the
    # third was read in part) are read whole again, then the new one
    assert from_export == hour_uuids(data, *hours[1:])


def test_check_names_the_bucket_and_what_to_fix(object_store: LocalStore, shared_fake: FakeAmplitude) -> None:
    data = dataset(hours=1)
    bucket = Bucket(object_store, data)
    bucket.publish(FIRST)
    base = {**shared_fake.config}
    ok = SourceAmplitude().check(None, {**base, "events_source": bucket_config(object_store, bucket.name, data.app_id)})  # type: ignore[arg-type]
    assert ok.status is Status.SUCCEEDED, ok.message
    wrong = SourceAmplitude().check(
        None, {**base, "events_source": bucket_config(object_store, "no-such-bucket-here", data.app_id)}
    )  # type: ignore[arg-type]
    assert wrong.status is Status.FAILED
    assert "'no-such-bucket-here' does not exist" in (wrong.message or "") and "events_source.bucket" in (
        wrong.message or ""
    )
    empty = SourceAmplitude().check(
        None, {**base, "events_source": bucket_config(object_store, bucket.name, data.app_id, path_prefix="elsewhere/")}
    )  # type: ignore[arg-type]
    assert empty.status is Status.FAILED
    assert "No Amplitude export file of project 829528 under" in (empty.message or "") and "path_prefix" in (
        empty.message or ""
    )


def test_throttling_5xx_and_cut_off_bodies_are_retried(
    object_store: LocalStore, monkeypatch: pytest.MonkeyPatch, fast_backoff: None
) -> None:
    data = dataset(hours=2)
    bucket = Bucket(object_store, data)
    for hour in data.upload_hours():
        bucket.publish(hour)
    variable = "STORAGE_EMULATOR_HOST" if "STORAGE_EMULATOR_HOST" in object_store.env else "AWS_ENDPOINT_URL"
    proxy = FaultProxy(object_store.env[variable])
    monkeypatch.setenv(variable, proxy.url)
    throttled = 429 if variable == "STORAGE_EMULATOR_HOST" else 503
    proxy.faults = [
        StoreFault("prefix=", status=throttled, times=2),  # listing
        StoreFault("%23", status=500, times=2),  # object GETs (keys hold '#')
        StoreFault("%23", status=0, times=2),  # cut off half-way
    ]
    try:
        output = sync(bucket.config(), FIRST + timedelta(hours=5), {})
    finally:
        proxy.stop()
    assert not output.errors, [error.trace.error.message for error in output.errors]
    assert {record["uuid"] for record in records(output, "events")} == data.uuids()
    assert len(proxy.injected) == 6, proxy.injected


def test_a_corrupt_object_fails_the_sync_naming_it_with_the_state_before_it(object_store: LocalStore) -> None:
    data = dataset(hours=3)
    bucket = Bucket(object_store, data)
    for hour in data.upload_hours():
        bucket.publish(hour)
    broken_key = LAYOUT.events_key(data.app_id, FIRST + timedelta(hours=1), 1)
    bucket.put(broken_key, b"\x1f\x8b not really gzip")
    now = FIRST + timedelta(hours=6)
    failed = sync(bucket.config(), now, {})
    message = failed.errors[0].trace.error.message
    assert broken_key in message and "cannot be read" in message, message
    state = latest_states(failed, {})["events"]
    assert state["server_upload_time"] == "20261101T00" and state["objects_read"]["20261101T01"] == {
        "0": state["objects_read"]["20261101T01"]["0"]
    }
    bucket.publish(FIRST + timedelta(hours=1), {1})  # Amplitude writes it again, whole
    resumed = sync(bucket.config(), now, latest_states(failed, {}))
    both = [r["uuid"] for r in records(failed, "events")] + [r["uuid"] for r in records(resumed, "events")]
    assert sorted(both) == sorted(data.uuids())


def test_kill_and_resume_loses_nothing_and_repeats_at_most_the_object_in_progress(
    object_store: LocalStore, tmp_path: Path
) -> None:
    data = dataset(hours=6)
    bucket = Bucket(object_store, data)
    for hour in data.upload_hours():
        bucket.publish(hour)
    config = bucket.config()
    extra_env = {**object_store.env, "TMPDIR": str(tmp_path)}
    options = {"config": config, "catalog": events_catalog(), "extra_env": extra_env}
    killed = run_connector_until(["read"], tmp_path, None, kill_after_states=5, **options)
    assert orphaned_conversion_workers() == []  # they die with the connector
    first = [m["record"]["data"]["uuid"] for m in killed.messages if m["type"] == "RECORD"]
    states = [m for m in killed.messages if m["type"] == "STATE"]
    assert len(states) == 5
    resumed = run_connector(["read"], tmp_path, None, state=[states[-1]["state"]], **options)
    assert resumed.exit_code == 0, resumed.stderr[-2000:]
    second = [m["record"]["data"]["uuid"] for m in resumed.messages if m["type"] == "RECORD"]
    assert set(first) | set(second) == data.uuids()
    repeated = set(first) & set(second)
    assert len(repeated) <= data.events_per_member  # at most the object that was being read
    assert not list(tmp_path.glob("amplitude-export-*"))  # the resumed run removed what the kill left, and its own


DENIED = {
    "s3": b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
    "gcs": b'{"error": {"code": 403, "message": "reader does not have storage.objects.list access"}}',
}


def test_check_says_which_permission_a_denied_listing_needs(
    object_store: LocalStore, shared_fake: FakeAmplitude, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = dataset(hours=1)
    bucket = Bucket(object_store, data)
    bucket.publish(FIRST)
    variable = "STORAGE_EMULATOR_HOST" if "STORAGE_EMULATOR_HOST" in object_store.env else "AWS_ENDPOINT_URL"
    proxy = FaultProxy(object_store.env[variable])
    proxy.faults = [StoreFault("prefix=", status=403, body=DENIED["gcs" if "STORAGE" in variable else "s3"], times=9)]
    monkeypatch.setenv(variable, proxy.url)
    try:
        config = {**shared_fake.config, "events_source": bucket_config(object_store, bucket.name, data.app_id)}
        status = SourceAmplitude().check(None, config)  # type: ignore[arg-type]
    finally:
        proxy.stop()
    assert status.status is Status.FAILED
    needed = "s3:ListBucket" if variable == "AWS_ENDPOINT_URL" else "storage.objects.list"
    assert f"denied access to {'s3' if 'AWS' in variable else 'gs'}://{bucket.name}/amplitude/" in (
        status.message or ""
    )
    assert needed in (status.message or ""), status.message


def test_the_aws_secret_never_appears_in_the_output(
    local_s3: LocalStore, shared_fake: FakeAmplitude, tmp_path: Path
) -> None:
    secret = "wJalrXUtnFEMI-this-is-the-secret-K7MDENG"
    source = {"aws_access_key_id": "AKIAEXAMPLEEXAMPLE", "aws_secret_access_key": secret}
    config = {**shared_fake.config, "events_source": bucket_config(local_s3, "no-such-bucket-for-secrets", 1, **source)}
    env = {"AWS_ENDPOINT_URL": local_s3.env["AWS_ENDPOINT_URL"], "AWS_DEFAULT_REGION": "us-east-1"}
    for command, catalog in ((["check"], None), (["read"], events_catalog())):
        run = run_connector(command, tmp_path, shared_fake.url, config=config, catalog=catalog, extra_env=env)
        assert "no-such-bucket-for-secrets" in run.stdout
        assert secret not in run.stdout and secret not in run.stderr


def test_the_console_scripts_fast_path_names_a_corrupt_object_too(local_s3: LocalStore, tmp_path: Path) -> None:
    """The console script converts objects on worker processes (export/convert_pool.py): same records, same error."""
    data = dataset(hours=3)
    bucket = Bucket(local_s3, data)
    for hour in data.upload_hours():
        bucket.publish(hour)
    broken_key = LAYOUT.events_key(data.app_id, FIRST + timedelta(hours=2), 0)
    bucket.put(broken_key, gzip_lines([{"uuid": "fine"}])[:-8] + b"garbage!")
    options = {"config": bucket.config(), "catalog": events_catalog(), "extra_env": local_s3.env}
    run = run_connector(["read"], tmp_path, None, **options)
    assert run.exit_code != 0
    assert any(broken_key in error["message"] and "cannot be read" in error["message"] for error in run.errors())
    emitted = [record["uuid"] for record in run.records("events")]
    assert len(emitted) == len(set(emitted)) == 60  # hours 0 and 1, each once, in order
    assert run.stream_states()["events"]["server_upload_time"] == "20261101T01"


def test_role_arn_is_assumed_through_sts(local_s3: LocalStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's server answers STS as well: the role's temporary credentials read the bucket. moto does not enforce IAM,
    so the test looks at the requests themselves (through a recording proxy): an AssumeRole call, then every object
    read signed with the role's temporary key, never with the base key."""
    proxy = FaultProxy(local_s3.env["AWS_ENDPOINT_URL"])
    for name, value in {**local_s3.env, "AWS_ENDPOINT_URL": proxy.url}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ASSUME_ROLE_EXTERNAL_ID", "airbyte-workspace-1")
    data = dataset(hours=2)
    bucket = Bucket(local_s3, data)
    for hour in data.upload_hours():
        bucket.publish(hour)
    config = bucket.config(role_arn="arn:aws:iam::123456789012:role/amplitude-export-reader")
    try:
        output = sync(config, FIRST + timedelta(hours=4), {})
    finally:
        proxy.stop()
    assert not output.errors, [error.trace.error.message for error in output.errors]
    assert {record["uuid"] for record in records(output, "events")} == data.uuids()
    base_key = f"Credential={local_s3.env['AWS_ACCESS_KEY_ID']}/"
    assume = [auth for method, _, auth in proxy.seen if method == "POST" and base_key in auth]
    reads = [auth for method, path, auth in proxy.seen if method == "GET" and "%23" in path]
    assert assume, "no STS request signed with the base credentials"
    assert reads and not any(base_key in auth for auth in reads), "objects read with the base key: role ignored"


# Late files, played in the store's own clock: each object gets the last-modified time it would have had in the
# test's timeline (fake_amplitude/object_stores.py), and each sync runs at the test's "now".


class Timeline:
    """Hourly files written on time unless a test says otherwise, and syncs at chosen times; counts every uuid and
    merge emitted, and keeps the state as Airbyte carries it."""

    def __init__(self, bucket: Bucket, streams: tuple[str, ...] = ("events",), **source: Any) -> None:
        self.bucket = bucket
        self.streams = streams
        self.config = bucket.config(**source)
        self.states: dict[str, Any] = {}
        self.seen: Counter[str] = Counter()
        self.merges: Counter[tuple[int, int]] = Counter()
        self.warnings: list[str] = []
        self.infos: list[str] = []
        self.state_sizes: list[int] = []
        self.published: set[datetime] = set()
        self.published_merges: set[datetime] = set()

    def publish_on_time(self, until: datetime, skip: frozenset[datetime] = frozenset()) -> None:
        """Every hour that ended before `until`, written 70 minutes after it began, unless in `skip` (late later)."""
        for hour in self.bucket.data.upload_hours():
            written = hour + timedelta(minutes=70)
            if written <= until and hour not in skip and hour not in self.published:
                self.bucket.publish(hour, written_at=written)
                self.published.add(hour)

    def sync(self, now: datetime) -> EntrypointOutput:
        output = sync(self.config, now, self.states, self.streams)
        assert not output.errors, [error.trace.error.message for error in output.errors]
        self.seen.update(record["uuid"] for record in records(output, "events"))
        self.merges.update((r["amplitude_id"], r["merged_amplitude_id"]) for r in records(output, "merged_ids"))
        self.warnings += [log.log.message for log in output.logs if log.log.level.name == "WARN"]
        self.infos += [log.log.message for log in output.logs if log.log.level.name == "INFO"]
        self.states = latest_states(output, self.states)
        self.state_sizes.append(len(json.dumps(self.states)))
        return output

    def assert_every_event_once(self) -> None:
        assert set(self.bucket.data.uuids()) - set(self.seen) == set(), "lost"
        assert [uuid for uuid, count in self.seen.items() if count > 1] == [], "duplicated"
        assert set(self.seen) == self.bucket.data.uuids()


def timeline(store: LocalStore, data: Dataset, **kwargs: Any) -> Timeline:
    return Timeline(Bucket(store, data), **kwargs)


def test_six_hours_delivered_together_7_hours_late_are_read_once(object_store: LocalStore) -> None:
    data = dataset(hours=24)
    line = timeline(object_store, data)
    together = frozenset(FIRST + timedelta(hours=h) for h in range(6, 12))
    for offset in range(2, 30, 2):
        now = FIRST + timedelta(hours=offset, minutes=20)
        line.publish_on_time(now, skip=together)
        if offset == 18:  # hours 6..11 come in one delivery, 7 h after the last of them ended
            for hour in sorted(together):
                line.bucket.publish(hour, written_at=FIRST + timedelta(hours=12 + 7))
                line.published.add(hour)
        line.sync(now)
    line.assert_every_event_once()


@pytest.mark.parametrize(
    ("late_by", "said"), [(timedelta(hours=60), "60 h"), (timedelta(days=5), "5.0 days")], ids=["60h", "5days"]
)
def test_an_hour_written_days_late_is_read_once_with_a_warning_naming_it(
    object_store: LocalStore, late_by: timedelta, said: str
) -> None:
    data = dataset(hours=24)
    line = timeline(object_store, data)
    late_hour = FIRST + timedelta(hours=4)
    written = late_hour + timedelta(hours=1) + late_by
    syncs = [FIRST + timedelta(hours=h, minutes=20) for h in range(2, 24 * 7, 12)]
    for now in syncs:
        line.publish_on_time(now, skip=frozenset({late_hour}))
        if late_hour not in line.published and written <= now:
            line.bucket.publish(late_hour, written_at=written)
            line.published.add(late_hour)
        line.sync(now)
    line.assert_every_event_once()
    late = [w for w in line.warnings if "arrived late" in w]
    key = LAYOUT.events_key(data.app_id, late_hour, 0)
    assert any(key in w and "upload hour 20261101T04" in w for w in late), late
    assert all(f"written {said} after its hour ended" in w for w in late), late
    assert len(late) == 3  # one per object (the hour's three partitions), once
    assert max(line.state_sizes) < 4000, line.states


def test_a_backfill_of_ten_days_written_after_two_days_of_syncs_is_read_once(object_store: LocalStore) -> None:
    data = Dataset(FIRST, hours=12 * 24, events_per_hour=2, events_per_member=10, late_fraction=0.0)
    line = timeline(object_store, data)
    recent = FIRST + timedelta(days=10)  # the connection starts here; start_date is 10 days earlier
    for hours in range(0, 48, 8):
        now = recent + timedelta(hours=hours, minutes=20)
        line.publish_on_time(now, skip=frozenset(h for h in data.upload_hours() if h < recent))
        line.sync(now)
    backfill_at = recent + timedelta(hours=49)
    for hour in data.upload_hours():
        if hour < recent:  # the customer asks Amplitude to backfill the 10 older days
            line.bucket.publish(hour, written_at=backfill_at)
            line.published.add(hour)
    line.publish_on_time(recent + timedelta(hours=50))
    output = line.sync(recent + timedelta(hours=50))
    line.publish_on_time(recent + timedelta(hours=56))
    line.sync(recent + timedelta(hours=56))
    line.assert_every_event_once()
    assert len([w for w in line.warnings if "arrived late" in w]) == 10 * 24
    assert max(line.state_sizes[-1:]) < 4000, line.states
    assert any("export file(s) of upload hours from" in info for info in (log.log.message for log in output.logs))


def test_a_merged_ids_file_written_60_hours_late_is_read_once(object_store: LocalStore) -> None:
    data = dataset(hours=24)
    line = timeline(object_store, data, streams=("events", "merged_ids"), org_id=str(ORG_ID))
    late_hour = next(h for h in data.upload_hours() if data.merged_ids_in_hour(h))
    written = late_hour + timedelta(hours=61)
    for offset in range(2, 24 * 4, 6):
        now = FIRST + timedelta(hours=offset, minutes=20)
        for hour in data.upload_hours():
            if hour + timedelta(minutes=70) <= now and hour not in line.published:
                line.bucket.publish(hour, written_at=hour + timedelta(minutes=70), merged_ids=hour != late_hour)
                line.published.add(hour)
        if written <= now and late_hour not in line.published_merges:
            line.bucket.publish(late_hour, written_at=written, events=False)
            line.published_merges.add(late_hour)
        line.sync(now)
    line.assert_every_event_once()
    expected = {
        (m["amplitude_id"], m["merged_amplitude_id"]) for h in data.upload_hours() for m in data.merged_ids_in_hour(h)
    }
    assert set(line.merges) == expected and max(line.merges.values()) == 1
    assert any("merged_ids" in w and "arrived late" in w for w in line.warnings)


def test_an_object_rewritten_with_more_rows_days_later_is_read_again(object_store: LocalStore) -> None:
    """Past any grace period too: the rewritten object has a new last-modified time, so it is read again whole
    (its rows dedupe on uuid) and only the new row is new."""
    data = dataset(hours=6)
    line = timeline(object_store, data)
    line.publish_on_time(FIRST + timedelta(hours=8))
    line.sync(FIRST + timedelta(hours=8))
    rewritten = FIRST + timedelta(hours=2)
    key = LAYOUT.events_key(data.app_id, rewritten, 1)
    before = {r["uuid"] for r in records(line.sync(FIRST + timedelta(hours=9)), "events")}
    assert before == set()
    rows = [{"uuid": uuid} for uuid in sorted(data.uuids())[:3]] + [{"uuid": "the-added-row"}]
    line.bucket.put(key, gzip_lines(rows), FIRST + timedelta(days=4))
    again = records(line.sync(FIRST + timedelta(days=4, hours=1)), "events")
    assert sorted(r["uuid"] for r in again) == sorted(r["uuid"] for r in rows)
    assert records(line.sync(FIRST + timedelta(days=4, hours=2)), "events") == []


def test_a_sync_with_nothing_new_reads_nothing_and_the_state_stays_small(object_store: LocalStore) -> None:
    data = dataset(hours=24)
    line = timeline(object_store, data)
    for offset in range(2, 24 * 3, 8):
        now = FIRST + timedelta(hours=offset, minutes=20)
        line.publish_on_time(now)
        line.sync(now)
    line.assert_every_event_once()
    quiet = line.sync(FIRST + timedelta(days=4))
    assert records(quiet, "events") == []
    assert line.states["events"]["objects_read"] == {}  # every object is covered by written_before
    assert line.state_sizes[-1] < 400, line.states
