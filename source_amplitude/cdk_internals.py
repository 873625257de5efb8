"""Every use of airbyte-cdk's private API, in one place.

The raw-events fast path prints many RECORD messages at once (pipeline/record_batch.py), which the CDK's read loop
does not know: it would serialize each item as one AirbyteMessage and count a batch as one record. Three hooks
make it work:
- `BatchingEntrypoint`: the `read` branch of `AirbyteEntrypoint.run`, copied, printing a RecordBatch's payload as it
  is; and `handle_record_counts` counting its records for the next STATE's sourceStats.
- `BatchingSource`: `AbstractSource._get_message` passes a RecordBatch through; the CDK's "Read N records from S
  stream" log line is corrected to count the records in batches (it counts items).
- `RequestingStream`: `HttpStream._fetch_next_page` as a method streams may call (`send`), keeping our own message
  when retries run out (the CDK replaces it with "Exhausted available request attempts").
unit_tests/test_cdk_contract.py pins the source of every CDK function copied or overridden here: a CDK upgrade that
changes one fails that test, naming what to re-check, instead of drifting silently."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, DefaultDict, Optional, Union

import requests
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import is_platform_debug_log_enabled
from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    FailureType,
    StreamDescriptor,
)
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.sources.streams.http import HttpStream
from airbyte_cdk.sources.streams.http.exceptions import BaseBackoffException
from airbyte_cdk.utils.message_utils import HashableStreamDescriptor
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_amplitude.pipeline.record_batch import FileSlice, RecordBatch

Output = Union[str, bytes, FileSlice]
READ_LOG_LINE = re.compile(r"^Read (\d+) records from (.+) stream$")  # AbstractSource._read_stream's summary
FINISHED_SYNCING = "Finished syncing "  # AbstractSource.read, in a `finally`
RUNTIMES_REPORT = "SourceAmplitude runtimes:"  # AbstractSource.read: timer.report()


class BatchingEntrypoint(AirbyteEntrypoint):
    @staticmethod
    def handle_record_counts(message: Any, stream_message_count: DefaultDict[HashableStreamDescriptor, float]) -> Any:
        if isinstance(message, RecordBatch):
            stream_message_count[HashableStreamDescriptor(name=message.stream, namespace=None)] += message.count
            return message
        return AirbyteEntrypoint.handle_record_counts(message, stream_message_count)

    def run(self, parsed_args: argparse.Namespace) -> Iterable[Output]:  # type: ignore[override]
        if parsed_args.command != "read":
            yield from super().run(parsed_args)
            return
        yield from self._read_command(parsed_args)

    def _read_command(self, parsed_args: argparse.Namespace) -> Iterator[Output]:
        """AirbyteEntrypoint.run's debug switch and `read` branch, serializing with `serialize`."""
        if getattr(parsed_args, "debug", False) or is_platform_debug_log_enabled():
            self.logger.setLevel(logging.DEBUG)
            logging.getLogger("airbyte").setLevel(logging.DEBUG)
            self.logger.debug("Debug logs enabled")
        else:
            self.logger.setLevel(logging.INFO)
        source_spec = self.source.spec(self.logger)
        try:
            with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as temp_dir:
                os.environ["REQUEST_CACHE_PATH"] = temp_dir
                config = self.source.configure(self.source.read_config(parsed_args.config), temp_dir)
                yield from map(serialize, self._emit_queued_messages(self.source))
                catalog = self.source.read_catalog(parsed_args.catalog)
                state = self.source.read_state(parsed_args.state)
                yield from map(serialize, self.read(source_spec, config, catalog, state))
        finally:
            yield from map(serialize, self._emit_queued_messages(self.source))


def serialize(message: Union[AirbyteMessage, RecordBatch]) -> Output:
    if isinstance(message, RecordBatch):
        return message.payload
    return AirbyteEntrypoint.airbyte_message_to_string(message) + "\n"


class _BatchedRecordCounts(logging.Filter):
    """Adds the records inside batches to the CDK's "Read N records from S stream" line (it counted each batch as
    one record); drops "Finished syncing S" while a sync is being interrupted (it did not finish), and the CDK's
    runtimes report."""

    def __init__(self, extra_records: Counter[str]) -> None:
        super().__init__()
        self._extra = extra_records

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith(FINISHED_SYNCING):
            stopping = sys.exc_info()[0]  # the CDK logs it in a `finally`, also while an interruption propagates
            return stopping is None or not issubclass(stopping, (KeyboardInterrupt, GeneratorExit))
        if isinstance(record.msg, str) and record.msg.startswith(RUNTIMES_REPORT):
            return False  # the CDK's cumulative timings after every stream: for its developers, not our users
        match = READ_LOG_LINE.match(str(record.msg)) if isinstance(record.msg, str) else None
        if match and self._extra[match.group(2)]:
            record.msg = (
                f"Read {int(match.group(1)) + self._extra[match.group(2)]} records from {match.group(2)} stream"
            )
            record.args = ()
        return True


class BatchingSource(AbstractSource):
    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: Optional[list[AirbyteStateMessage]] = None,
    ) -> Iterator[AirbyteMessage]:
        self._batched_extra: Counter[str] = Counter()
        counts = _BatchedRecordCounts(self._batched_extra)
        logger.addFilter(counts)
        try:
            yield from super().read(logger, config, catalog, state)
        finally:
            logger.removeFilter(counts)

    def _get_message(self, record_data_or_message: Any, stream: Stream) -> Any:
        extra = getattr(self, "_batched_extra", None)
        if isinstance(record_data_or_message, RecordBatch):
            if extra is not None:
                extra[stream.name] += record_data_or_message.count - 1
            return record_data_or_message
        record = record_data_or_message.record if isinstance(record_data_or_message, AirbyteMessage) else None
        if extra is not None and record is not None and record.stream != stream.name:
            extra[stream.name] -= 1  # a ledger row (pipeline/ledger.py), in the events stream's turn: not its record
        return super()._get_message(record_data_or_message, stream)


class RequestingStream(HttpStream):
    def send(
        self, stream_slice: Mapping[str, Any], stream_state: Optional[Mapping[str, Any]] = None
    ) -> requests.Response:
        """One request for `stream_slice`, through the CDK's HTTP client (retries, backoff, error policy)."""
        _, response = self._fetch_next_page(stream_slice, stream_state)
        return response

    def _fetch_next_page(
        self,
        stream_slice: Optional[Mapping[str, Any]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> tuple[requests.PreparedRequest, requests.Response]:
        """The CDK's request, with our own message when retries run out: the CDK replaces it with "Exhausted available
        request attempts" or "API rate limit exceeded"; the policy's text says what happened and what to do."""
        try:
            return super()._fetch_next_page(stream_slice, stream_state, next_page_token)
        except AirbyteTracedException as error:
            cause = error._exception
            if isinstance(cause, BaseBackoffException) and cause.args:
                raise AirbyteTracedException(
                    message=str(cause.args[0]),
                    internal_message=error.internal_message,
                    failure_type=cause.failure_type or FailureType.transient_error,
                    stream_descriptor=StreamDescriptor(name=self.name),
                    exception=cause,
                ) from cause
            raise
