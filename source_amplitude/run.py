"""Console entry point `source-amplitude`: the CDK's entry point, plus two things only this program does:
config errors from our own parser (they name the field and the fix), and the raw-events fast path, which prints
RecordBatch payloads as they are and counts their records for the next STATE's sourceStats."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any, DefaultDict, Union

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import AirbyteMessage, ConnectorSpecification
from airbyte_cdk.utils.message_utils import HashableStreamDescriptor

from source_amplitude.config import parse_config
from source_amplitude.record_batch import RecordBatch
from source_amplitude.source import SourceAmplitude

Output = Union[str, bytes]


class AmplitudeEntrypoint(AirbyteEntrypoint):
    @staticmethod
    def validate_connection(source_spec: ConnectorSpecification, config: Any) -> None:
        parse_config(config, datetime.now(timezone.utc), os.environ)
        AirbyteEntrypoint.validate_connection(source_spec, config)

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
        """airbyte_cdk.entrypoint.AirbyteEntrypoint.run's `read` branch, serializing with `serialize`."""
        self.logger.setLevel(logging.DEBUG if getattr(parsed_args, "debug", False) else logging.INFO)
        source_spec = self.source.spec(self.logger)
        with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as temp_dir:
            os.environ["REQUEST_CACHE_PATH"] = temp_dir
            try:
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


def run() -> None:
    source = SourceAmplitude(emit_batches=True)
    entrypoint = AmplitudeEntrypoint(source)
    parsed = entrypoint.parse_args(sys.argv[1:])
    text, binary = sys.stdout, sys.stdout.buffer
    for output in entrypoint.run(parsed):
        if isinstance(output, bytes):
            text.flush()  # log lines printed by the CDK's logger go through the text layer: keep the order
            binary.write(output)
        else:
            text.write(output if output.endswith("\n") else output + "\n")
    text.flush()


if __name__ == "__main__":
    run()
