"""SourceAmplitude: parses the config once, builds the streams and runs check; its read() stops a sync at a failure
every stream would meet and says it once; it also reads the config and state files with messages of its own."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Optional, Union

import requests
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteErrorTraceMessage,
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    Status,
    Type,
)
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.utils.airbyte_secrets_utils import update_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_amplitude.bucket.clients import open_store
from source_amplitude.bucket.store import ObjectStore
from source_amplitude.cdk_internals import BatchingSource
from source_amplitude.check import check_connection
from source_amplitude.config import AmplitudeConfig, BucketSource, ConfigError, GcsSource, S3Source, parse_config
from source_amplitude.errors import (
    AUTH_MESSAGE,
    KEY_PAIR_REFUSED,
    RETRY_WORDS,
    UNREACHABLE_MESSAGE_START,
    UNUSABLE_STATE_MESSAGE,
    unreachable,
)
from source_amplitude.http import dashboard_budget
from source_amplitude.pipeline.ledger import LEDGER_STREAM
from source_amplitude.pipeline.scratch import remove_leftover_configs
from source_amplitude.state.input_file import read_state_file, state_messages
from source_amplitude.streams.bucket_files import BucketEvents, BucketFileStream, MergedIds
from source_amplitude.streams.catalog import Annotations, Cohorts, EventsList
from source_amplitude.streams.charts import ChartsMetadata, ChartStream
from source_amplitude.streams.dashboard import ActiveUsers, AverageSessionLength
from source_amplitude.streams.events import Events
from source_amplitude.streams.events_ledger import EventsLedger
from source_amplitude.streams.taxonomy import EventCategories, EventProperties, EventTypes, UserProperties
from source_amplitude.streams.user_deletions import UserDeletions

AUTH_MESSAGE_START = AUTH_MESSAGE.split("(", 1)[0]
UNUSABLE_STATE_START = UNUSABLE_STATE_MESSAGE.split(" of the ", 1)[0]  # "The saved state"


class SourceAmplitude(BatchingSource):
    def __init__(self, now: Optional[datetime] = None, emit_batches: bool = False) -> None:
        self._now = now  # tests freeze time here; otherwise "now" is read once per command
        self._emit_batches = emit_batches  # only run.py's entry point knows how to print RecordBatch
        self._readers: list[Union[Events, BucketFileStream]] = []  # what close() closes
        self._stopping: Optional[AirbyteErrorTraceMessage] = None  # a failure every stream would meet (read)
        self._selected: set[str] = set()  # the streams of the catalog being read

    def close(self) -> list[str]:
        """Close the downloads, worker processes and temporary directories every events stream of this run holds
        (an interrupted sync); returns what each was doing and its last checkpoint."""
        return [said for stream in self._readers if (said := stream.stop_reading())]

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: Optional[list[AirbyteStateMessage]] = None,
    ) -> Iterator[AirbyteMessage]:
        """A failure that every stream would meet alike (a key pair Amplitude refuses, no connection to Amplitude at
        all, a saved state the connector cannot use) stops the sync at the first stream that meets it
        (stop_sync_on_stream_failure), and is said once, in the connector's words, instead of once per stream, in
        the CDK's tracebacks and again in its summary of failed streams."""
        self._stopping = None
        self._selected = {configured.stream.name for configured in catalog.streams}
        with sync_wide_echoes_dropped():
            try:
                for message in super().read(logger, config, ledger_last(catalog), state):
                    if self._stopping is None and (failure := sync_wide_failure(message)):
                        self._stopping = failure
                        continue
                    yield message
            except AirbyteTracedException:
                if self._stopping is not None:
                    raise SyncStopped(self._stopping) from None
                raise

    @property
    def stop_sync_on_stream_failure(self) -> bool:
        return self._stopping is not None

    def configure(self, config: Mapping[str, Any], temp_dir: str) -> Mapping[str, Any]:
        """The CDK's `configure` writes the config, keys included, to temp_dir/config.json, which only a normal exit
        removes: a SIGKILL (an OOM kill, a node drain) would leave the keys on disk for good. The config stays in
        memory; copies an earlier version left behind (a day or more ago) are removed."""
        if isinstance(config.get("api_key"), str) and isinstance(config.get("secret_key"), str):
            remove_leftover_configs(config["api_key"], config["secret_key"], time.time())
        return config

    def parsed_config(self, config: Mapping[str, Any]) -> AmplitudeConfig:
        return parse_config(config, self._now_utc(), os.environ)

    @staticmethod
    def read_config(config_path: str) -> MutableMapping[str, Any]:
        """The CDK's own answer to a broken config file is "Something went wrong in the connector"."""
        try:
            config = json.loads(Path(config_path).read_text())
        except PermissionError as error:
            raise ConfigError(
                f"The config file {config_path} cannot be read ({error.strerror}) by this process, which runs as user "
                f"id {os.getuid()} (the image's user airbyte is uid 1000). Make the file readable by that user (for "
                "example chmod a+r on it, and a+rx on its folder, before mounting the folder)."
            ) from error
        except OSError as error:
            raise ConfigError(f"The config file {config_path} cannot be read ({error.strerror}).") from error
        except ValueError as error:
            raise ConfigError(
                f"The config file {config_path} is not valid JSON ({error}). It must be one JSON object, such as "
                "examples/config.json."
            ) from error
        if not isinstance(config, MutableMapping):
            raise ConfigError(
                f"The config file {config_path} holds {type(config).__name__} JSON, not an object such as "
                "examples/config.json."
            )
        return config

    @classmethod
    def read_state(cls, state_path: str) -> list[AirbyteStateMessage]:
        if not state_path:
            return []
        try:
            raw = read_state_file(Path(state_path), logging.getLogger("airbyte"))
        except (OSError, ValueError) as error:
            raise ConfigError(f"The state file {state_path} cannot be read as JSON ({error}).") from error
        return state_messages(raw)

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        ok, message = self.check_connection(logger, config)
        return AirbyteConnectionStatus(status=Status.SUCCEEDED if ok else Status.FAILED, message=message or None)

    def check_connection(self, logger: logging.Logger, config: Mapping[str, Any]) -> tuple[bool, Any]:
        parsed = self.parsed_config(config)
        return check_connection(parsed, os.environ, self._store(parsed))

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        parsed = self.parsed_config(config)
        now = self._now_utc()
        today = now.date()
        budget = dashboard_budget()
        return [
            *self._events_streams(parsed, now),
            Annotations(parsed, budget),
            Cohorts(parsed, budget),
            EventsList(parsed, budget),
            ActiveUsers(parsed, today, budget),
            AverageSessionLength(parsed, today, budget),
            EventTypes(parsed),
            EventProperties(parsed),
            UserProperties(parsed),
            EventCategories(parsed),
            UserDeletions(parsed, now),
            EventsLedger(with_events=not self._selected or "events" in self._selected),
            *([ChartsMetadata(parsed, budget)] if parsed.chart_ids else []),
            *(ChartStream(parsed, chart_id, budget) for chart_id in parsed.chart_ids),
        ]

    def _events_streams(self, parsed: AmplitudeConfig, now: datetime) -> list[Stream]:
        source, store = parsed.events_source, self._store(parsed)
        readers: list[Union[Events, BucketFileStream]]
        if store is None or not isinstance(source, BucketSource):
            readers = [Events(parsed, now, self._emit_batches)]
        else:
            merged_ids = [MergedIds(parsed, source, store, now)] if source.org_id else []
            readers = [BucketEvents(parsed, source, store, now, self._emit_batches), *merged_ids]
        if LEDGER_STREAM in self._selected:
            for reader in readers:
                reader.keep_ledger(ledger_source(source), os.environ)
        self._readers.extend(readers)
        return list(readers)

    @staticmethod
    def _store(parsed: AmplitudeConfig) -> Optional[ObjectStore]:
        """The bucket's client (it connects on first use), or None in Export API mode."""
        source = parsed.events_source
        if not isinstance(source, BucketSource):
            return None
        update_secrets([secret for secret in _bucket_secrets(source) if secret])
        return open_store(source)

    def _now_utc(self) -> datetime:
        return self._now or datetime.now(UTC)


def ledger_source(source: Any) -> str:
    if isinstance(source, S3Source):
        return "s3"
    return "gcs" if isinstance(source, GcsSource) else "export_api"


def ledger_last(catalog: ConfiguredAirbyteCatalog) -> ConfiguredAirbyteCatalog:
    """events_ledger's rows come during the events streams' turns: its own turn (which emits nothing) comes after
    theirs, so that no row of it follows its end."""
    streams = sorted(catalog.streams, key=lambda configured: configured.stream.name == LEDGER_STREAM)
    return ConfiguredAirbyteCatalog(streams=streams)


class SyncStopped(AirbyteTracedException):
    """The one error of a sync stopped by a failure every stream would meet: run.py says it without a traceback."""

    def __init__(self, failure: AirbyteErrorTraceMessage) -> None:
        super().__init__(
            message=failure.message,
            internal_message=failure.message,
            failure_type=failure.failure_type,
            stream_descriptor=failure.stream_descriptor,
        )


SYNC_WIDE_STARTS = (AUTH_MESSAGE_START, UNREACHABLE_MESSAGE_START, UNUSABLE_STATE_START)


def is_sync_wide(text: str) -> bool:
    return KEY_PAIR_REFUSED in text or any(start in text for start in SYNC_WIDE_STARTS)


class SyncWideEchoes(logging.Filter):
    """Drops the CDK's own log lines about a failure every stream would meet: its "'GET' request ... failed with
    status code '403'" line, "Max retry limit reached" and "Retries exhausted" for a host it cannot reach, the
    traceback of the stream that stopped, and its summary of failed streams. The error trace says it once, in the
    connector's words."""

    def filter(self, record: logging.LogRecord) -> bool:
        texts = [record.getMessage()]
        error = record.exc_info[1] if record.exc_info else None
        if error is not None:
            texts += [str(error), str(getattr(error, "message", "")), str(getattr(error, "internal_message", ""))]
            if isinstance(error, requests.RequestException) and unreachable(error):
                return False
        if record.getMessage().startswith("Max retry limit reached") and "Response: None" in record.getMessage():
            return False  # the CDK giving up on a request that never got an answer: said by our trace
        return not any(is_sync_wide(text) for text in texts)


@contextmanager
def sync_wide_echoes_dropped() -> Iterator[None]:
    """While a read runs, on the handlers of the root logger (where the CDK's console handler is), and the CDK's
    retry lines say their cause (errors.RetryWords, on the logger that writes them)."""
    echoes, handlers = SyncWideEchoes(), list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(echoes)
    logging.getLogger("airbyte").addFilter(RETRY_WORDS)
    try:
        yield
    finally:
        logging.getLogger("airbyte").removeFilter(RETRY_WORDS)
        for handler in handlers:
            handler.removeFilter(echoes)


def sync_wide_failure(message: AirbyteMessage) -> Optional[AirbyteErrorTraceMessage]:
    """A stream's failure that every stream would meet alike, else None."""
    error = message.trace.error if message.type is Type.TRACE and message.trace else None
    if error and is_sync_wide(error.message):
        return error
    return None


def _bucket_secrets(source: BucketSource) -> list[Optional[str]]:
    """Masked in every log line and trace, should a client library quote one."""
    if isinstance(source, S3Source):
        return [source.aws_secret_access_key]
    if isinstance(source, GcsSource) and source.service_account_info:
        return [source.service_account_info.get("private_key"), source.service_account_info.get("private_key_id")]
    return []
