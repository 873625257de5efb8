"""Every failure of a raw-events read that is not an HTTP answer (errors.py holds those), as data: the exception's
class -> the failure type and the message the user reads. Both sources (Export API windows and bucket objects)
translate through here, so one cause has one type and one message whichever mode meets it."""

from __future__ import annotations

from dataclasses import dataclass

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_amplitude.pipeline.gzip_lines import ArchiveError
from source_amplitude.pipeline.scratch import NotEnoughDisk

NOT_ENOUGH_DISK_MESSAGE = (
    "Not enough temporary disk for {what}: {detail}. Free disk space in the temporary folder (TMPDIR), or give the "
    "connector more; in Export API mode a smaller request_time_range or export_concurrency needs less."
)
UNREADABLE_PART_MESSAGE = (
    "{part} (upload hour {hour}) cannot be read: {detail}. Nothing from it on was saved: the next sync starts with it "
    "again. If it stays damaged, ask Amplitude to export that hour again (a backfill), or move start_date past it."
)


@dataclass(frozen=True)
class Failure:
    failure_type: FailureType
    message: str  # may use {what}/{part}, {hour} and {detail} (the exception's own text)


FAILURES: dict[type[BaseException], Failure] = {
    NotEnoughDisk: Failure(FailureType.config_error, NOT_ENOUGH_DISK_MESSAGE),
    ArchiveError: Failure(FailureType.transient_error, UNREADABLE_PART_MESSAGE),  # a broken gzip member or zip entry
    ValueError: Failure(FailureType.transient_error, UNREADABLE_PART_MESSAGE),  # a line that is not JSON at all
}


def read_failure(error: BaseException, **where: str) -> AirbyteTracedException:
    """`error` as the sync's failure, in the table's words; `where` fills the message (what, part, hour)."""
    for kind in type(error).__mro__:
        if kind in FAILURES:
            failure = FAILURES[kind]
            message = failure.message.format(detail=error, **where)
            return AirbyteTracedException(message=message, internal_message=message, failure_type=failure.failure_type)
    raise TypeError(f"no failure of the events pipeline is known for {type(error).__name__}") from error
