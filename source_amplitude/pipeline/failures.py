"""Every failure of a raw-events read that is not an HTTP answer (errors.py holds those), as data: the exception's
class -> the failure type and the message the user reads. Both sources (Export API windows and bucket objects)
translate through here, so one cause has one type and one message whichever mode meets it. Two neighbours keep the
same form: a bucket's own problems (bucket/messages.py STORE_FAILURES, keyed by the store's kind of problem, with the
bucket to name), and an unusable saved state (one exception, state/protocol.py load_state: a config_error in
errors.py's words)."""

from __future__ import annotations

from dataclasses import dataclass

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_amplitude.pipeline.gzip_lines import ArchiveError
from source_amplitude.pipeline.hours import UnexpectedMemberName
from source_amplitude.pipeline.scratch import NotEnoughDisk

NOT_ENOUGH_DISK_MESSAGE = (
    "Not enough temporary disk for {what}: {detail}. Free disk space in the temporary folder (TMPDIR), or give the "
    "connector more; in Export API mode a smaller request_time_range or export_concurrency needs less."
)
BROKEN_DOWNLOAD_MESSAGE = (
    "{what} kept arriving broken or cut off ({detail}) after retries. Nothing from it on was saved; retry the sync "
    "later."
)
UNKNOWN_MEMBER_MESSAGE = (
    "{what} cannot be read: {detail}, so the upload hour it holds is unknown. Nothing from it on was saved. Amplitude "
    "may have changed its export format: please report this with the member name."
)
UNREADABLE_PART_MESSAGE = (
    "{part} (upload hour {hour}) cannot be read: {detail}. Nothing from it on was saved: the next sync starts with it "
    "again. If it stays damaged, ask Amplitude to export that hour again (a backfill), or move start_date past it."
)


class BrokenDownload(Exception):
    """A download that kept arriving damaged (a zip that does not check, a body cut off) after its retries."""


@dataclass(frozen=True)
class Failure:
    failure_type: FailureType
    message: str  # may use {what}/{part}, {hour} and {detail} (the exception's own text)


# What a download meets (on its thread; raised when its turn comes): the message names it with {what}.
DOWNLOAD_FAILURES: dict[type[BaseException], Failure] = {
    NotEnoughDisk: Failure(FailureType.config_error, NOT_ENOUGH_DISK_MESSAGE),
    BrokenDownload: Failure(FailureType.transient_error, BROKEN_DOWNLOAD_MESSAGE),
    UnexpectedMemberName: Failure(FailureType.system_error, UNKNOWN_MEMBER_MESSAGE),
}
# What reading a part meets: the message names it with {part} and {hour}.
PART_FAILURES: dict[type[BaseException], Failure] = {
    ArchiveError: Failure(FailureType.transient_error, UNREADABLE_PART_MESSAGE),  # a broken gzip member or zip entry
    ValueError: Failure(FailureType.transient_error, UNREADABLE_PART_MESSAGE),  # a line that is not JSON at all
}
FAILURES = {**DOWNLOAD_FAILURES, **PART_FAILURES}


def read_failure(error: BaseException, **where: str) -> AirbyteTracedException:
    """`error` as the sync's failure, in the table's words; `where` fills the message (what, part, hour)."""
    for kind in type(error).__mro__:
        if kind in FAILURES:
            failure = FAILURES[kind]
            message = failure.message.format(detail=error, **where)
            return AirbyteTracedException(message=message, internal_message=message, failure_type=failure.failure_type)
    raise TypeError(f"no failure of the events pipeline is known for {type(error).__name__}") from error
