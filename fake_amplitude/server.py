"""The fake Amplitude HTTP server: the endpoints the connector calls, Basic auth, faults on demand.

Run it in-process (`with FakeAmplitude(dataset) as fake: ...`) or as a program
(`python -m fake_amplitude`)."""

from __future__ import annotations

import base64
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any, Optional
from urllib.parse import parse_qs, urlsplit

import orjson

from fake_amplitude import catalog
from fake_amplitude.archive import write_export_zip
from fake_amplitude.dataset import DATASET_VERSION, Dataset

DEFAULT_API_KEY = "fake-api-key"
DEFAULT_SECRET_KEY = "fake-secret-key"
JSON = "application/json; charset=UTF-8"
PAUSE_CHECK_SECONDS = 0.05


def error_body(status: int, details: str, message: str = "Unspecified Error", kind: str = "unspecified") -> bytes:
    """The error envelope of unit_tests/resources/recorded/export_404.body.json."""
    return orjson.dumps(
        {"error": {"http_code": status, "type": kind, "message": message, "metadata": {"details": details}}}
    )


@dataclass
class Fault:
    """Answer the next `times` requests whose path matches `path` with this instead of the real answer.
    kind: "status" (status + body), "malformed" (200 with a body that is not what the endpoint serves),
    "truncate" (200 whose body stops half-way), "reset" (close the connection without answering), "delay" (wait
    delay_seconds, then answer as usual: Amplitude building a large export)."""

    path: str
    status: int = 500
    times: int = 1
    kind: str = "status"
    retry_after: Optional[str] = None
    body: Optional[bytes] = None
    delay_seconds: float = 0.0
    query: dict[str, str] = field(default_factory=dict)  # only requests with these query parameters


@dataclass
class FakeState:
    dataset: Dataset
    api_key: str = DEFAULT_API_KEY
    secret_key: str = DEFAULT_SECRET_KEY
    visible_until: Optional[datetime] = None  # upload hours at or after this are not exported yet (None: all)
    # Publication: with `clock` set, partition n of upload hour H is exported only from H + 1 h + its delay on:
    # late_partitions[(H, n)], else late_hours[H], else publish_delay (Amplitude documents about 2 h).
    clock: Optional[datetime] = None
    publish_delay: timedelta = timedelta(hours=2)
    late_hours: dict[datetime, timedelta] = field(default_factory=dict)
    late_partitions: dict[tuple[datetime, int], timedelta] = field(default_factory=dict)
    max_export_events: Optional[int] = None  # more events in one export -> 400 (Amplitude: "over 4 GB")
    timeout_export_events: Optional[int] = None  # more events in one export -> 504
    too_large_hours: set[datetime] = field(default_factory=set)  # an export that includes one of these -> 400
    # upload hour -> the exact bytes of its one member (lines as some SDK wrote them), instead of the dataset's events
    raw_hours: dict[datetime, bytes] = field(default_factory=dict)
    # User Privacy API deletion jobs (catalog.deletion_jobs, around the clock's day or the data's last); tests edit them
    deletion_jobs: Optional[list[dict[str, Any]]] = None
    last_deletions_request: float = -10.0  # monotonic; closer calls than 1 s answer 429 (Amplitude's limit)
    serve_annotations_v3: bool = True
    taxonomy_enabled: bool = True
    charts: dict[str, str] = field(default_factory=dict)  # chart id -> CSV text; empty: catalog.sample_charts()
    cache_dir: Optional[Path] = None  # keep built export archives here (the benchmark's million-event days)
    # Amplitude's latency: seconds before the first byte of an export (it builds the archive first), and bandwidth.
    export_first_byte_seconds: float = 0.0
    export_bytes_per_second: Optional[float] = None
    exports_in_flight: int = 0
    max_exports_in_flight: int = 0
    export_log: list[tuple[str, float, float]] = field(default_factory=list)  # (start, began, ended) monotonic
    faults: list[Fault] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)  # set by stop(): every wait ends at once

    def pause(self, seconds: float, still: Callable[[], bool] = lambda: True) -> None:
        """Wait `seconds` as a slow Amplitude would, but end early when the server stops or `still()` turns false
        (a test that sets the latency back to 0 wakes the requests already waiting)."""
        deadline = time.monotonic() + seconds
        while still() and not self.stopping.is_set() and (left := deadline - time.monotonic()) > 0:
            self.stopping.wait(min(left, PAUSE_CHECK_SECONDS))

    def published(self, hour: datetime, partition: int) -> bool:
        if self.clock is None:
            return True
        delay = self.late_partitions.get((hour, partition), self.late_hours.get(hour, self.publish_delay))
        return hour + timedelta(hours=1) + delay <= self.clock

    def take_fault(self, path: str, params: dict[str, str]) -> Optional[Fault]:
        with self.lock:
            for fault in self.faults:
                matches_query = all(params.get(key) == value for key, value in fault.query.items())
                if fault.times > 0 and re.search(fault.path, path) and matches_query:
                    fault.times -= 1
                    return fault
        return None


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that drops a keep-alive connection (or is killed mid-download) is not an error of the fake."""


class FakeAmplitude:
    def __init__(self, dataset: Dataset, port: int = 0, **state: Any) -> None:
        self.state = FakeState(dataset=dataset, **state)
        if self.state.deletion_jobs is None:
            today = (self.state.clock or dataset.end_hour).date()
            self.state.deletion_jobs = catalog.deletion_jobs(dataset, today)
        handler = type("BoundHandler", (AmplitudeHandler,), {"state": self.state})
        self._server = QuietServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def config(self) -> dict[str, Any]:
        return {"api_key": self.state.api_key, "secret_key": self.state.secret_key}

    def add_fault(self, fault: Fault) -> None:
        with self.state.lock:
            self.state.faults.append(fault)

    def requests_to(self, path: str) -> list[dict[str, str]]:
        return [params for p, params in self.state.requests if p == path]

    def start(self) -> FakeAmplitude:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.state.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeAmplitude:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()


class AmplitudeHandler(BaseHTTPRequestHandler):
    state: FakeState
    truncate_body = False
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read the request log instead
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self.state.lock:
            self.state.requests.append((parts.path, params))
        if not self._authorized():
            self._send(403, error_body(403, "Invalid API/Secret Key combination"))
            return
        fault = self.state.take_fault(parts.path, params)
        self.truncate_body = fault is not None and fault.kind == "truncate"
        if fault and not self.truncate_body and self._inject(fault):
            return
        route = ROUTES.get(parts.path)
        if route is None:
            match = CHART_CSV.match(parts.path)
            if match:
                self.chart_csv(match.group(1))
                return
            self._send(404, error_body(404, "Not found"))
            return
        route(self, params)

    def _authorized(self) -> bool:
        expected = base64.b64encode(f"{self.state.api_key}:{self.state.secret_key}".encode()).decode()
        return self.headers.get("Authorization", "") == f"Basic {expected}"

    def _inject(self, fault: Fault) -> bool:
        if fault.delay_seconds:
            self.state.pause(fault.delay_seconds)
        if fault.kind == "delay":
            return False
        if fault.kind == "reset":
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return True
        if fault.kind == "malformed":
            self._send(200, fault.body or b"<html>upstream error</html>", "text/html")
            return True
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        self._send(fault.status, fault.body or error_body(fault.status, "injected fault"), headers=headers)
        return True

    def _send(
        self, status: int, body: bytes, content_type: str = JSON, headers: Optional[dict[str, str]] = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, payload: Any) -> None:
        self._send(200, orjson.dumps(payload))

    # ---- Export API (docs/amplitude-api-notes.md) ----
    def export(self, params: dict[str, str]) -> None:
        began = time.monotonic()
        with self.state.lock:
            self.state.exports_in_flight += 1
            self.state.max_exports_in_flight = max(self.state.max_exports_in_flight, self.state.exports_in_flight)
        try:
            self._export(params)
        finally:
            with self.state.lock:
                self.state.exports_in_flight -= 1
                self.state.export_log.append((params.get("start", ""), began, time.monotonic()))

    def _export(self, params: dict[str, str]) -> None:
        try:
            first = parse_export_hour(params["start"])
            last = parse_export_hour(params["end"])
        except (KeyError, ValueError):
            self._send(400, error_body(400, "Invalid start or end", "Bad Request", "invalid"))
            return
        dataset = self.state.dataset
        visible_end = min(dataset.end_hour, self.state.visible_until or dataset.end_hour)
        hours = [h for h in dataset.upload_hours() if first <= h <= last and h < visible_end]
        hours = [h for h in hours if any(self.state.published(h, n) for n in range(dataset.partitions_per_hour))]
        count = len(hours) * dataset.events_per_hour
        too_large = any(h in self.state.too_large_hours for h in hours)
        if too_large or (self.state.max_export_events is not None and count > self.state.max_export_events):
            self._send(400, error_body(400, "Export size exceeds 4GB", "Bad Request", "invalid"))
            return
        if self.state.timeout_export_events is not None and count > self.state.timeout_export_events:
            self._send(504, b"<html><body><h1>504 Gateway Time-out</h1></body></html>", "text/html")
            return
        if not hours:
            self._send(404, error_body(404, "Raw data files were not found."), "application/json; charset=utf-8")
            return
        with self._archive(hours) as spool:
            size = spool.seek(0, 2)
            spool.seek(0)
            self.state.pause(self.state.export_first_byte_seconds, lambda: self.state.export_first_byte_seconds > 0)
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if self.truncate_body:
                self.wfile.write(spool.read(size // 2))
                self.close_connection = True
                return
            self._send_throttled(spool)

    def _send_throttled(self, spool: IO[bytes]) -> None:
        rate = self.state.export_bytes_per_second
        if not rate:
            shutil.copyfileobj(spool, self.wfile, 1 << 20)
            return
        started, sent = time.monotonic(), 0
        while chunk := spool.read(1 << 18):
            self.wfile.write(chunk)
            sent += len(chunk)
            ahead = sent / rate - (time.monotonic() - started)
            if ahead > 0:
                self.state.pause(ahead)

    def _archive(self, hours: list[datetime]) -> IO[bytes]:
        dataset = self.state.dataset
        events = ((h, dataset.events_in_hour(h)) for h in hours)
        raw = self.state.raw_hours
        if self.state.cache_dir is None or any(h in raw for h in hours):
            spool = tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
            write_export_zip(spool, dataset.app_id, events, dataset.events_per_member, self.state.published, raw)
            return spool
        identity = f"{dataset.seed}-{dataset.events_per_hour}-{dataset.padding_properties}-{dataset.late_fraction}"
        key = f"v{DATASET_VERSION}-{identity}-{dataset.events_per_member}-{hours[0]:%Y%m%d%H}-{len(hours)}.zip"
        path = self.state.cache_dir / key
        with self.state.lock:
            if not path.exists():
                partial = path.with_suffix(".partial")
                with partial.open("wb") as out:
                    write_export_zip(out, dataset.app_id, events, dataset.events_per_member)
                partial.rename(path)
        return path.open("rb")

    # ---- User Privacy API (docs/amplitude-api-notes.md) ----
    def deletions(self, params: dict[str, str]) -> None:
        with self.state.lock:
            began = time.monotonic()
            too_soon = began - self.state.last_deletions_request < 1.0
            self.state.last_deletions_request = began
        if too_soon:
            self._send(429, error_body(429, "Too many requests: 1 per second"), headers={"Retry-After": "1"})
            return
        try:
            first = date.fromisoformat(params["start_day"])
            last = date.fromisoformat(params["end_day"])
        except (KeyError, ValueError):
            self._send(400, error_body(400, "start_day and end_day must be YYYY-MM-DD", "Bad Request", "invalid"))
            return
        if last < first or (last - first).days > 183:
            self._send(400, error_body(400, "The range may not exceed six months", "Bad Request", "invalid"))
            return
        jobs = [
            job
            for job in self.state.deletion_jobs or []
            if first <= date.fromisoformat(job["day"]) <= last and job["amplitude_ids"]
        ]
        if not jobs:  # recorded/deletions_list_empty.json: an empty list labelled text/html
            self._send(200, b"[]", "text/html; charset=UTF-8")
            return
        self._json(jobs)

    # ---- Dashboard REST (docs/amplitude-api-notes.md) ----
    def users(self, params: dict[str, str]) -> None:
        days = dashboard_days(params)
        stats = self.state.dataset.daily_stats()
        x_values = [d.isoformat() for d in days]
        if params.get("g") == "country":
            totals: dict[str, int] = {}
            for day in days:
                for country, users in stats.active_users.get(day, {}).items():
                    totals[country] = totals.get(country, 0) + users
            labels = sorted(totals, key=lambda c: (-totals[c], c))
            series = [[stats.active_users.get(day, {}).get(c, 0) for day in days] for c in labels]
            series_labels: list[Any] = labels
        else:
            series = (
                [[stats.all_active_users.get(day, 0) for day in days]]
                if any(stats.all_active_users.get(d) for d in days)
                else []
            )
            series_labels = [0] * len(series)
        self._json(
            dashboard_body(
                {
                    "xValues": x_values,
                    "series": series,
                    "seriesCollapsed": [[{"setId": "", "value": sum(row)}] for row in series],
                    "seriesLabels": series_labels,
                    "seriesMeta": [{"segmentIndex": 0}] * len(series),
                }
            )
        )

    def sessions_average(self, params: dict[str, str]) -> None:
        days = dashboard_days(params)
        stats = self.state.dataset.daily_stats()
        row = [round(stats.average_session_seconds.get(day, 0.0), 6) for day in days]
        self._json(
            dashboard_body(
                {
                    "series": [row],
                    "seriesCollapsed": [[{"setId": "", "value": round(sum(row) / max(1, len(row)), 6)}]],
                    "seriesMeta": [{"segmentIndex": 0, "sessionIndex": 0}],
                    "xValues": [f"{day.isoformat()}T00:00:00" for day in days],
                }
            )
        )

    def events_list(self, params: dict[str, str]) -> None:
        self._json(dashboard_body(catalog.events_list(self.state.dataset)))

    # ---- Annotations and cohorts (docs/amplitude-api-notes.md) ----
    def annotations_v3(self, params: dict[str, str]) -> None:
        if not self.state.serve_annotations_v3:
            self._send(404, error_body(404, "Not found"))
            return
        self._json({"data": catalog.annotations_v3(self.state.dataset)})

    def annotations_v2(self, params: dict[str, str]) -> None:
        self._json({"data": catalog.annotations_v2(self.state.dataset)})

    def cohorts(self, params: dict[str, str]) -> None:
        self._json({"cohorts": catalog.cohorts(self.state.dataset)})

    # ---- Saved charts (docs/amplitude-api-notes.md: JSON {"data": "<CSV>"}) ----
    def chart_csv(self, chart_id: str) -> None:
        charts = self.state.charts or catalog.sample_charts(self.state.dataset)
        if chart_id not in charts:
            self._send(404, error_body(404, f"Chart {chart_id} not found", "Not Found", "not_found"))
            return
        self._json({"data": charts[chart_id]})

    # ---- Taxonomy (docs/amplitude-api-notes.md; errors use {"success": false, "errors": [...]}) ----
    def _taxonomy(self, items: list[dict[str, Any]]) -> None:
        if not self.state.taxonomy_enabled:
            message = {"success": False, "errors": [{"message": "Taxonomy is not enabled for this project."}]}
            self._send(400, orjson.dumps(message))
            return
        self._json({"success": True, "data": items})

    def taxonomy_events(self, params: dict[str, str]) -> None:
        self._taxonomy(catalog.taxonomy_event_types())

    def taxonomy_event_properties(self, params: dict[str, str]) -> None:
        self._taxonomy(catalog.taxonomy_event_properties(self.state.dataset))

    def taxonomy_user_properties(self, params: dict[str, str]) -> None:
        self._taxonomy(catalog.taxonomy_user_properties())

    def taxonomy_categories(self, params: dict[str, str]) -> None:
        self._taxonomy(catalog.taxonomy_categories())


Route = Callable[[AmplitudeHandler, dict[str, str]], None]
ROUTES: dict[str, Route] = {
    "/api/2/export": AmplitudeHandler.export,
    "/api/2/users": AmplitudeHandler.users,
    "/api/2/sessions/average": AmplitudeHandler.sessions_average,
    "/api/2/events/list": AmplitudeHandler.events_list,
    "/api/3/annotations": AmplitudeHandler.annotations_v3,
    "/api/2/annotations": AmplitudeHandler.annotations_v2,
    "/api/3/cohorts": AmplitudeHandler.cohorts,
    "/api/2/taxonomy/event": AmplitudeHandler.taxonomy_events,
    "/api/2/taxonomy/event-property": AmplitudeHandler.taxonomy_event_properties,
    "/api/2/taxonomy/user-property": AmplitudeHandler.taxonomy_user_properties,
    "/api/2/taxonomy/category": AmplitudeHandler.taxonomy_categories,
    "/api/2/deletions/users": AmplitudeHandler.deletions,
}
CHART_CSV = re.compile(r"^/api/3/chart/([^/]+)/csv$")


def parse_export_hour(value: str) -> datetime:
    """YYYYMMDDTHH; Amplitude's old examples also show an unpadded hour (docs/amplitude-api-notes.md), so accept it."""
    day, hour = value.split("T")
    return datetime.strptime(day, "%Y%m%d").replace(hour=int(hour), tzinfo=UTC)


def dashboard_days(params: dict[str, str]) -> list[date]:
    first = datetime.strptime(params["start"], "%Y%m%d").date()
    last = datetime.strptime(params["end"], "%Y%m%d").date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def dashboard_body(data: Any) -> dict[str, Any]:
    """Dashboard answers wrap `data` in query metadata (unit_tests/resources/recorded/sessions_average.json)."""
    return {
        "data": data,
        "timeComputed": int(time.time() * 1000),
        "wasCached": False,
        "cacheFreshness": "FRESH",
        "allQueriesCached": False,
        "novaRuntime": 26,
        "novaRequestDuration": 60,
        "novaCost": 0,
        "throttleTime": 0,
        "minSampleRate": 1,
        "transformationIds": [],
        "backend": "novaV2",
        "queryIds": ["fakeQuery01"],
        "numQueries": 1,
    }
