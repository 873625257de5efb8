"""Console entry point `source-amplitude`: the CDK's entry point, plus two things only this program does:
config errors from our own parser (they name the field and the fix), and the raw-events fast path, which prints
RecordBatch payloads as they are (cdk_internals.BatchingEntrypoint)."""

from __future__ import annotations

import io
import os
import sys
from datetime import datetime, timezone
from typing import Any, BinaryIO, Union

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import ConnectorSpecification

from source_amplitude.cdk_internals import BatchingEntrypoint
from source_amplitude.config import parse_config
from source_amplitude.record_batch import FileSlice
from source_amplitude.source import SourceAmplitude

Output = Union[str, bytes, FileSlice]


class AmplitudeEntrypoint(BatchingEntrypoint):
    @staticmethod
    def validate_connection(source_spec: ConnectorSpecification, config: Any) -> None:
        parse_config(config, datetime.now(timezone.utc), os.environ)
        AirbyteEntrypoint.validate_connection(source_spec, config)


def run() -> None:
    source = SourceAmplitude(emit_batches=True)
    entrypoint = AmplitudeEntrypoint(source)
    parsed = entrypoint.parse_args(sys.argv[1:])
    text, binary = sys.stdout, sys.stdout.buffer
    for output in entrypoint.run(parsed):
        if isinstance(output, bytes):
            text.flush()  # log lines printed by the CDK's logger go through the text layer: keep the order
            binary.write(output)
        elif isinstance(output, FileSlice):
            text.flush()
            binary.flush()
            write_slice(binary, output)
        else:
            text.write(output if output.endswith("\n") else output + "\n")
    text.flush()


def write_slice(out: BinaryIO, part: FileSlice) -> None:
    """Copy the slice to `out` in the kernel; where that is not possible (not a file descriptor, or an old kernel),
    through this process."""
    offset, left = part.offset, part.length
    try:
        target, source = out.fileno(), part.file.fileno()
        while left:
            sent = os.sendfile(target, source, offset, left)
            if sent == 0:
                break
            offset, left = offset + sent, left - sent
    except (OSError, ValueError, io.UnsupportedOperation):
        pass
    if left:
        out.write(part.read(offset, left))


if __name__ == "__main__":
    run()
