"""The fast path for raw events: many RECORD messages serialized at once, passed through the CDK's read loop as one
item. Only the connector's own entry point (run.py) turns batches on; through any other entry point (the CDK's test
kit, an embedding program) the events stream yields ordinary records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from airbyte_cdk.models import Type


@dataclass(frozen=True)
class RecordBatch:
    stream: str
    payload: bytes  # newline-terminated Airbyte RECORD messages
    count: int
    type: Type = Type.RECORD  # so the CDK marks the stream RUNNING and checkpoints as it does for records
    record: Optional[object] = None
