"""The fast path for raw events: many RECORD messages serialized at once, passed through the CDK's read loop as one
item. Only the connector's own entry point (run.py) turns batches on; through any other entry point (the CDK's test
kit, an embedding program) the events stream yields ordinary records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Optional, Union

from airbyte_cdk.models import Type


@dataclass(frozen=True)
class FileSlice:
    """RECORD messages still in a file (a conversion worker's output): run.py copies them to stdout inside the kernel
    (os.sendfile), without reading them into this process."""

    file: BinaryIO
    offset: int
    length: int

    def read(self, offset: Optional[int] = None, length: Optional[int] = None) -> bytes:
        self.file.seek(self.offset if offset is None else offset)
        return self.file.read(self.length if length is None else length)


@dataclass(frozen=True)
class RecordBatch:
    stream: str
    payload: Union[bytes, FileSlice]  # newline-terminated Airbyte RECORD messages
    count: int
    type: Type = Type.RECORD  # so the CDK marks the stream RUNNING and checkpoints as it does for records
    record: Optional[object] = None
