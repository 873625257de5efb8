"""The events pipeline's failures that are not HTTP answers: one table (pipeline/failures.py), so one cause gets one
failure type and one message in both modes."""

from __future__ import annotations

from airbyte_cdk.models import FailureType

from source_amplitude.pipeline.failures import NOT_ENOUGH_DISK_MESSAGE, read_failure
from source_amplitude.pipeline.gzip_lines import ArchiveError
from source_amplitude.pipeline.scratch import NotEnoughDisk


def test_a_damaged_part_is_the_same_failure_from_the_export_api_and_from_a_bucket() -> None:
    damage = ArchiveError("member 829528_2026-11-01_5#0.json.gz is not valid gzip")
    export = read_failure(damage, part="Amplitude's export", hour="20261101T05")
    bucket = read_failure(damage, part="s3://acme/amplitude/829528_2026-11-01_5#0.json.gz", hour="20261101T05")
    assert export.failure_type is bucket.failure_type is FailureType.transient_error
    assert export.message.split(" cannot be read:")[1] == bucket.message.split(" cannot be read:")[1]
    assert bucket.message.startswith("s3://acme/amplitude/829528_2026-11-01_5#0.json.gz (upload hour 20261101T05)")
    not_json = read_failure(ValueError("line 3 is not JSON"), part="x", hour="h")
    assert not_json.failure_type is FailureType.transient_error


def test_not_enough_disk_is_one_config_error_whatever_needed_the_space() -> None:
    for what in ("the export of upload hours 20261101T00..20261101T23", "the download of s3://a/b", "the records"):
        failure = read_failure(NotEnoughDisk("needs 2.00 GB but 1.00 GB are free"), what=what)
        assert failure.failure_type is FailureType.config_error
        assert failure.message == NOT_ENOUGH_DISK_MESSAGE.format(what=what, detail="needs 2.00 GB but 1.00 GB are free")
