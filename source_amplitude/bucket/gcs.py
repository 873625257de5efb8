"""Google Cloud Storage through google-cloud-storage (what Airbyte's source-gcs uses). Credentials: the config's
service account, else the environment's default credentials; with STORAGE_EMULATOR_HOST set (the client's standard
variable for a local server, as in the tests) and no service account, anonymous ones. The client retries 429, 5xx
and connection errors itself (its DEFAULT_RETRY, exponential backoff)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import requests
from google.api_core import exceptions as api
from google.auth.credentials import AnonymousCredentials
from google.auth.exceptions import GoogleAuthError
from google.cloud import storage
from google.oauth2 import service_account

from source_amplitude.bucket.layout import BucketObject
from source_amplitude.bucket.store import Problem, StoreError
from source_amplitude.config import GcsSource

EMULATOR_ENV = "STORAGE_EMULATOR_HOST"
TIMEOUT_SECONDS = 120


class _Counting:
    """A file-like sink that reports each write (the client writes the body in chunks)."""

    def __init__(self, sink: BinaryIO, on_chunk: Callable[[int], None]) -> None:
        self._sink, self._on_chunk = sink, on_chunk

    def write(self, data: bytes) -> int:
        self._on_chunk(len(data))
        return self._sink.write(data)


class GcsStore:
    def __init__(self, source: GcsSource) -> None:
        self.source = source
        self._client: Any = None

    @property
    def client(self) -> storage.Client:
        if self._client is None:
            try:
                self._client = self._make_client()
            except GoogleAuthError as error:
                raise StoreError(Problem.CREDENTIALS, f"Google credentials: {type(error).__name__}") from None
        return self._client

    def _make_client(self) -> storage.Client:
        info = self.source.service_account_info
        if info:
            credentials = service_account.Credentials.from_service_account_info(info)  # type: ignore[no-untyped-call]
            return storage.Client(project=info.get("project_id"), credentials=credentials)
        if os.environ.get(EMULATOR_ENV):
            return storage.Client(project="amplitude-emulated", credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
        return storage.Client()

    def list(self, prefix: str, start_after: str = "") -> Iterator[BucketObject]:
        after = {"start_offset": start_after} if start_after else {}  # inclusive; no object has that exact name
        try:
            for blob in self.client.list_blobs(self.source.bucket, prefix=prefix, timeout=TIMEOUT_SECONDS, **after):
                if blob.name.endswith("/") or blob.name <= start_after:
                    continue
                fingerprint = blob.md5_hash or blob.crc32c or f"{blob.generation}"
                yield BucketObject(blob.name, blob.updated, int(blob.size or 0), fingerprint)
        except (api.GoogleAPIError, requests.RequestException) as error:
            raise _store_error(error, f"listing {self.source.location(prefix)}", listing=True) from None

    def download(self, obj: BucketObject, sink: BinaryIO, on_chunk: Callable[[int], None]) -> None:
        blob = self.client.bucket(self.source.bucket).blob(obj.uri)
        try:  # raw: never let GCS decompress a gzip-encoded object on the way
            blob.download_to_file(_Counting(sink, on_chunk), raw_download=True, timeout=TIMEOUT_SECONDS)
        except (api.GoogleAPIError, requests.RequestException) as error:
            raise _store_error(error, f"reading {self.source.location(obj.uri)}", listing=False) from None

    def read_head(self, obj: BucketObject, size: int) -> bytes:
        blob = self.client.bucket(self.source.bucket).blob(obj.uri)
        try:
            return bytes(blob.download_as_bytes(start=0, end=size - 1, raw_download=True, timeout=TIMEOUT_SECONDS))
        except (api.GoogleAPIError, requests.RequestException) as error:
            raise _store_error(error, f"reading {self.source.location(obj.uri)}", listing=False) from None


def _store_error(error: Exception, doing: str, listing: bool) -> StoreError:
    if isinstance(error, requests.RequestException):
        return StoreError(Problem.TRANSIENT, f"{doing}: {type(error).__name__}")
    code = getattr(error, "code", None)
    detail = f"{doing}: HTTP {code} ({getattr(error, 'message', '') or type(error).__name__})"
    if isinstance(error, api.NotFound):
        return StoreError(Problem.MISSING_BUCKET if listing else Problem.GONE, detail)
    if isinstance(error, api.Unauthorized):
        return StoreError(Problem.CREDENTIALS, detail)
    if isinstance(error, api.Forbidden):
        return StoreError(Problem.DENIED, detail)
    if isinstance(error, (api.TooManyRequests, api.ServerError, api.RetryError)):
        return StoreError(Problem.TRANSIENT, detail)
    return StoreError(Problem.OTHER, detail)
