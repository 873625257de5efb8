"""Local object stores for tests, the demo and the benchmark: moto's S3 server and gcp-storage-emulator, both real
HTTP servers on 127.0.0.1, reached by the connector through the clients' standard variables (AWS_ENDPOINT_URL,
STORAGE_EMULATOR_HOST), exactly as a user's environment would point them elsewhere."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Optional, Protocol

S3_TEST_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


class LocalStore(Protocol):
    kind: str  # "Amazon S3" / "Google Cloud Storage": the config's source_type

    @property
    def env(self) -> dict[str, str]: ...

    def create_bucket(self, bucket: str) -> None: ...

    def put(self, bucket: str, key: str, data: bytes, written_at: Optional[datetime] = None) -> None:
        """Write the object; `written_at` sets the last-modified time the store gives it (a late file, played in
        a test's own time), else the store's clock."""
        ...

    def stop(self) -> None: ...


class LocalS3:
    kind = "Amazon S3"

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        self._client: Any = None

    @property
    def env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.url, **S3_TEST_ENV}

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client(
                "s3",
                endpoint_url=self.url,
                aws_access_key_id=S3_TEST_ENV["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=S3_TEST_ENV["AWS_SECRET_ACCESS_KEY"],
                region_name=S3_TEST_ENV["AWS_DEFAULT_REGION"],
            )
        return self._client

    def create_bucket(self, bucket: str) -> None:
        self.client.create_bucket(Bucket=bucket)

    def put(self, bucket: str, key: str, data: bytes, written_at: Optional[datetime] = None) -> None:
        from moto.s3 import models

        with _clock(models, "utcnow", written_at, naive=True):
            self.client.put_object(Bucket=bucket, Key=key, Body=data)

    def stop(self) -> None:
        self._server.stop()


class LocalGcs:
    kind = "Google Cloud Storage"

    def __init__(self) -> None:
        from gcp_storage_emulator.server import create_server

        logging.getLogger("gcp_storage_emulator").setLevel(logging.ERROR)
        self._server = create_server("127.0.0.1", 0, in_memory=True)
        self._server.start()
        port = self._server._api._httpd.server_address[1]  # the emulator has no public accessor for a port-0 bind
        self.url = f"http://127.0.0.1:{port}"
        self._client: Optional[Any] = None

    @property
    def env(self) -> dict[str, str]:
        return {"STORAGE_EMULATOR_HOST": self.url}

    @property
    def client(self) -> Any:
        if self._client is None:
            from google.auth.credentials import AnonymousCredentials
            from google.cloud import storage

            self._client = storage.Client(
                project="amplitude-emulated",
                credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
                client_options={"api_endpoint": self.url},
            )
        return self._client

    def create_bucket(self, bucket: str) -> None:
        self.client.create_bucket(bucket)

    def put(self, bucket: str, key: str, data: bytes, written_at: Optional[datetime] = None) -> None:
        from gcp_storage_emulator.handlers import objects

        with _clock(objects, "datetime", written_at, naive=False):
            self.client.bucket(bucket).blob(key).upload_from_string(data, content_type="application/gzip")

    def stop(self) -> None:
        self._server.stop()


_CLOCK_LOCK = threading.Lock()  # one store clock set at a time: the servers run in this process


@contextmanager
def _clock(module: Any, name: str, moment: Optional[datetime], naive: bool) -> Iterator[None]:
    """While a write runs, the server module's clock (moto's `utcnow`, the emulator's `datetime`) reads `moment`. Both
    servers run as threads of this process and take the time once per write."""
    if moment is None:
        yield
        return
    utc = moment.astimezone(timezone.utc)

    class FrozenDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return utc if tz is not None else utc.replace(tzinfo=None)

    replacement: Any = (lambda: utc.replace(tzinfo=None)) if naive else FrozenDatetime
    with _CLOCK_LOCK:
        original = getattr(module, name)
        setattr(module, name, replacement)
        try:
            yield
        finally:
            setattr(module, name, original)


def start_store(kind: str) -> LocalStore:
    return LocalS3() if kind == LocalS3.kind else LocalGcs()
