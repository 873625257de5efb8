"""A real HTTP proxy in front of a local object store that answers chosen requests with a fault first: a throttling
or 5xx answer, or a body cut off half-way. The connector reaches it through AWS_ENDPOINT_URL / STORAGE_EMULATOR_HOST
as it would reach the store itself."""

from __future__ import annotations

import http.client
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional
from urllib.parse import urlsplit


@dataclass
class StoreFault:
    path_contains: str  # e.g. '%23' (every object GET: keys hold '#'), or a list request's 'prefix='
    status: int = 503  # 0: forward, but cut the body off after half of it
    body: bytes = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
    times: int = 1


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.faults: list[StoreFault] = []
        self.injected: list[str] = []
        self.seen: list[tuple[str, str, str]] = []  # (method, path, Authorization header) of every request
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                proxy.handle(self)

            do_PUT = do_POST = do_HEAD = do_DELETE = do_GET

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _take(self, path: str) -> Optional[StoreFault]:
        for fault in self.faults:
            if fault.times > 0 and fault.path_contains in path:
                fault.times -= 1
                self.injected.append(f"{fault.status} {path}")
                return fault
        return None

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        self.seen.append((request.command, request.path, request.headers.get("Authorization", "")))
        fault = self._take(request.path) if request.command == "GET" else None
        if fault and fault.status:
            request.send_response(fault.status)
            request.send_header("Content-Type", "application/xml")
            request.send_header("Content-Length", str(len(fault.body)))
            request.end_headers()
            request.wfile.write(fault.body)
            return
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=60)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        headers["Host"] = self.upstream.netloc
        upstream.request(request.command, request.path, body=body, headers=headers)
        answer = upstream.getresponse()
        payload = answer.read()
        request.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                request.send_header(name, value)
        request.send_header("Content-Length", str(len(payload)))
        request.send_header("Connection", "close")
        request.end_headers()
        if fault:  # cut off: promise the whole body, send half, hang up
            request.wfile.write(payload[: len(payload) // 2])
            request.wfile.flush()
            request.close_connection = True
            return
        if request.command != "HEAD":
            request.wfile.write(payload)
        upstream.close()

    def stop(self) -> None:
        self._server.shutdown()
