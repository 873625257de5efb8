"""What bucket mode needs from an object store, and the errors it tells apart. s3.py and gcs.py implement it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from enum import Enum
from typing import BinaryIO, Protocol

from source_amplitude.bucket.layout import BucketObject
from source_amplitude.config import BucketSource


class Problem(Enum):
    MISSING_BUCKET = "missing bucket"
    DENIED = "denied"  # the credentials work but lack a permission
    CREDENTIALS = "credentials"  # no credentials, or the store does not accept them
    WRONG_REGION = "wrong region"
    GONE = "object gone"  # listed, then deleted before it was read
    TRANSIENT = "transient"  # throttling, 5xx, a reset connection, a cut-off body: worth retrying
    OTHER = "other"


class StoreError(Exception):
    def __init__(self, problem: Problem, detail: str) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail


class ObjectStore(Protocol):
    @property
    def source(self) -> BucketSource: ...

    def list(self, prefix: str, start_after: str = "") -> Iterator[BucketObject]:
        """Every object whose key starts with `prefix` and sorts after `start_after` (all pages). Raises
        StoreError."""
        ...

    def download(self, obj: BucketObject, sink: BinaryIO, on_chunk: Callable[[int], None]) -> None:
        """The object's bytes as stored (no transcoding), streamed into `sink`. Raises StoreError."""
        ...

    def read_head(self, obj: BucketObject, size: int) -> bytes:
        """The first `size` bytes (check proves the read permission with it). Raises StoreError."""
        ...
