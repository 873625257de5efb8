"""Amazon S3 through boto3 (what Airbyte's source-s3 uses). Credentials: the config's keys, else the environment's
chain (AWS_* variables, instance profile); role_arn is assumed on top with auto-refresh, with
AWS_ASSUME_ROLE_EXTERNAL_ID as the external id when set (as source-s3 does on Airbyte Cloud). AWS_ENDPOINT_URL
(botocore's standard variable) points the client at another S3, such as the tests' local server."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    IncompleteReadError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)
from botocore.session import get_session

from source_amplitude.bucket.layout import BucketObject
from source_amplitude.bucket.store import Problem, StoreError
from source_amplitude.config import S3Source

CHUNK_BYTES = 1 << 20
# botocore's "standard" retry mode retries throttling (SlowDown, 503), 5xx and connection errors with exponential
# backoff and jitter; a body cut off mid-stream is retried by bucket/downloads.py.
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 6}, connect_timeout=30, read_timeout=120)
EXTERNAL_ID_ENV = "AWS_ASSUME_ROLE_EXTERNAL_ID"
ROLE_SESSION_NAME = "airbyte-source-amplitude"
_DENIED = {"AccessDenied", "AllAccessDisabled", "AccountProblem"}
_CREDENTIALS = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "InvalidClientTokenId"}
_TRANSIENT = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError", "ServiceUnavailable"}


class S3Store:
    def __init__(self, source: S3Source) -> None:
        self.source = source
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._session().client("s3", region_name=self.source.region, config=CLIENT_CONFIG)
        return self._client

    def _session(self) -> boto3.Session:
        base = boto3.Session(
            aws_access_key_id=self.source.aws_access_key_id,
            aws_secret_access_key=self.source.aws_secret_access_key,
            region_name=self.source.region,
        )
        if not self.source.role_arn:
            return base
        role_arn = self.source.role_arn
        sts = base.client("sts", config=CLIENT_CONFIG)

        def assume() -> dict[str, str]:
            extra = {"ExternalId": os.environ[EXTERNAL_ID_ENV]} if os.environ.get(EXTERNAL_ID_ENV) else {}
            credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME, **extra)["Credentials"]
            return {
                "access_key": credentials["AccessKeyId"],
                "secret_key": credentials["SecretAccessKey"],
                "token": credentials["SessionToken"],
                "expiry_time": credentials["Expiration"].isoformat(),
            }

        try:
            refreshable = RefreshableCredentials.create_from_metadata(assume(), assume, "sts-assume-role")
        except (ClientError, BotoCoreError) as error:
            raise _store_error(error, f"assuming the role {role_arn}") from None
        botocore_session = get_session()
        botocore_session._credentials = refreshable
        return boto3.Session(botocore_session=botocore_session, region_name=self.source.region)

    def list(self, prefix: str, start_after: str = "") -> Iterator[BucketObject]:
        paginator = self.client.get_paginator("list_objects_v2")
        after = {"StartAfter": start_after} if start_after else {}
        try:
            for page in paginator.paginate(Bucket=self.source.bucket, Prefix=prefix, **after):
                for item in page.get("Contents", []):
                    if item["Key"].endswith("/"):
                        continue
                    yield BucketObject(item["Key"], item["LastModified"], item["Size"], item["ETag"].strip('"'))
        except (ClientError, BotoCoreError) as error:
            raise _store_error(error, f"listing {self.source.location(prefix)}") from None

    def download(self, obj: BucketObject, sink: BinaryIO, on_chunk: Callable[[int], None]) -> None:
        try:
            body = self.client.get_object(Bucket=self.source.bucket, Key=obj.uri)["Body"]
            for chunk in body.iter_chunks(CHUNK_BYTES):
                on_chunk(len(chunk))  # first: it may stop the download (a closed read)
                sink.write(chunk)
        except (ClientError, BotoCoreError) as error:
            raise _store_error(error, f"reading {self.source.location(obj.uri)}") from None

    def read_head(self, obj: BucketObject, size: int) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.source.bucket, Key=obj.uri, Range=f"bytes=0-{size - 1}")
            return bytes(response["Body"].read())
        except (ClientError, BotoCoreError) as error:
            raise _store_error(error, f"reading {self.source.location(obj.uri)}") from None


def _store_error(error: Exception, doing: str) -> StoreError:
    """Only the error's code and message: never the request (it carries a signature)."""
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return StoreError(Problem.CREDENTIALS, f"{doing}: no AWS credentials were found")
    if isinstance(error, (BotoConnectionError, ReadTimeoutError, ResponseStreamingError, IncompleteReadError)):
        return StoreError(Problem.TRANSIENT, f"{doing}: {type(error).__name__}")
    if not isinstance(error, ClientError):
        return StoreError(Problem.OTHER, f"{doing}: {type(error).__name__}: {error}")
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    message = str(error.response.get("Error", {}).get("Message", "")) or code
    detail = f"{doing}: {code or status} ({message})"
    if code == "NoSuchBucket":
        return StoreError(Problem.MISSING_BUCKET, detail)
    if code == "NoSuchKey":
        return StoreError(Problem.GONE, detail)
    if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException") or (
        status == 301
    ):
        return StoreError(Problem.WRONG_REGION, detail)
    if code in _CREDENTIALS:
        return StoreError(Problem.CREDENTIALS, detail)
    if code in _DENIED or status == 403:
        return StoreError(Problem.DENIED, detail)
    if code in _TRANSIENT or status == 429 or status >= 500:
        return StoreError(Problem.TRANSIENT, detail)
    return StoreError(Problem.OTHER, detail)
