"""Run the `source-amplitude` console script as the platform does: a process, files in, JSON lines out."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

CONNECTOR = str(Path(sys.executable).parent / "source-amplitude")
SIGNAL_WAIT_SECONDS = 300  # a condition that never holds fails the test instead of hanging it


@dataclass
class Run:
    exit_code: int
    messages: list[dict[str, Any]]
    stdout: str
    stderr: str

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]

    def records(self, stream: Optional[str] = None) -> list[dict[str, Any]]:
        return [m["record"]["data"] for m in self.of_type("RECORD") if stream in (None, m["record"]["stream"])]

    def stream_states(self) -> dict[str, Any]:
        """The last state of each stream."""
        states: dict[str, Any] = {}
        for message in self.of_type("STATE"):
            stream = message["state"]["stream"]
            states[stream["stream_descriptor"]["name"]] = stream.get("stream_state")
        return states

    def state_to_resume(self) -> list[dict[str, Any]]:
        """The `--state` file a next sync gets: the last state of each stream."""
        return [
            {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": value}}
            for name, value in self.stream_states().items()
        ]

    def state_messages(self) -> list[dict[str, Any]]:
        return [m["state"] for m in self.of_type("STATE")]

    def errors(self) -> list[dict[str, Any]]:
        return [m["trace"]["error"] for m in self.of_type("TRACE") if m["trace"]["type"] == "ERROR"]


def connector_command(
    args: list[str],
    tmp_path: Path,
    base_url: Optional[str],
    config: Optional[dict[str, Any]] = None,
    catalog: Optional[dict[str, Any]] = None,
    state: Any = None,
    extra_env: Optional[dict[str, str]] = None,
    image: Optional[str] = None,
) -> tuple[list[str], dict[str, str]]:
    """The command and environment that run the console script of this virtualenv, or with `image` the container
    image as the platform runs it: `docker run` on the host network, the files mounted read-only under /secrets.
    `state` is written as JSON (a list of state messages, or anything else a test wants the connector to meet), or
    as it is when it is bytes (such as an earlier run's whole output)."""
    connector_env = {"AMPLITUDE_BASE_URL": base_url} if base_url else {}
    connector_env.update(extra_env or {})
    files: dict[str, str] = {}  # flag -> file name in tmp_path
    for flag, content in (("--config", config), ("--catalog", catalog), ("--state", state)):
        if content is not None:
            files[flag] = f"{flag.strip('-')}.json"
            (tmp_path / files[flag]).write_bytes(
                content if isinstance(content, bytes) else json.dumps(content).encode()
            )
            (tmp_path / files[flag]).chmod(0o644)

    def file_args(directory: str) -> list[str]:
        return [arg for flag, name in files.items() for arg in (flag, f"{directory}/{name}")]

    env = {k: v for k, v in os.environ.items() if not k.startswith("AMPLITUDE_")}
    if image is None:
        env.update(connector_env)
        return [CONNECTOR, *args, *file_args(str(tmp_path))], env
    tmp_path.chmod(0o755)  # the container runs as uid 1000
    command = ["docker", "run", "--rm", "--network", "host", "-v", f"{tmp_path}:/secrets:ro"]
    for name, value in connector_env.items():
        command += ["-e", f"{name}={value}"]
    return [*command, image, *args, *file_args("/secrets")], env


def run_connector(args: list[str], tmp_path: Path, base_url: Optional[str], **files_and_options: Any) -> Run:
    """Run the connector to the end (see connector_command for the options)."""
    command, env = connector_command(args, tmp_path, base_url, **files_and_options)
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return Run(done.returncode, messages, done.stdout, done.stderr)


def run_connector_until(
    args: list[str], tmp_path: Path, base_url: Optional[str], kill_after_states: int, **files_and_options: Any
) -> Run:
    """Run the connector and SIGKILL it right after its `kill_after_states`-th STATE message, as a crash would."""
    command, env = connector_command(args, tmp_path, base_url, **files_and_options)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    assert process.stdout is not None
    messages: list[dict[str, Any]] = []
    states = 0
    for line in process.stdout:
        if not line.startswith("{"):
            continue
        messages.append(json.loads(line))
        states += messages[-1]["type"] == "STATE"
        if states == kill_after_states:
            process.send_signal(signal.SIGKILL)
            break
    process.stdout.close()
    return Run(process.wait(), messages, "", "")


@dataclass
class Stopped(Run):
    seconds_to_exit: float  # from the signal to the process's exit


def run_connector_and_signal(
    args: list[str],
    tmp_path: Path,
    base_url: Optional[str],
    signum: int,
    when: Callable[[list[dict[str, Any]]], bool],
    **files_and_options: Any,
) -> Stopped:
    """Run the connector and send it `signum` as soon as `when(messages so far)` holds, as the platform's cancel or
    a Ctrl-C would; then read what it prints until it exits. `when` is checked on every line and every 20 ms (a
    condition on the fake, such as a request in flight, can hold while the connector prints nothing)."""
    command, env = connector_command(args, tmp_path, base_url, **files_and_options)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert process.stdout is not None and process.stderr is not None
    messages: list[dict[str, Any]] = []
    lines: list[bytes] = []
    changed = threading.Event()

    def read_lines() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith(b"{"):
                try:
                    messages.append(json.loads(line))
                except ValueError:  # a line cut off by the signal: the platform skips it (it is no message)
                    pass
            changed.set()
        changed.set()

    reader = threading.Thread(target=read_lines, daemon=True)
    reader.start()
    signalled: Optional[float] = None
    deadline = time.monotonic() + SIGNAL_WAIT_SECONDS
    while signalled is None and reader.is_alive() and time.monotonic() < deadline:
        changed.wait(0.02)
        changed.clear()
        if when(list(messages)):
            process.send_signal(signum)
            signalled = time.monotonic()
    reader.join(timeout=60)
    exit_code = process.wait(timeout=60)
    ended = time.monotonic()
    stderr = process.stderr.read().decode(errors="replace")
    assert signalled is not None, "the condition never held"
    stdout = b"".join(lines).decode(errors="replace")
    return Stopped(exit_code, messages, stdout, stderr, ended - signalled)


def events_catalog() -> dict[str, Any]:
    stream = {"name": "events", "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]}
    return {"streams": [{"stream": stream, "sync_mode": "incremental", "destination_sync_mode": "append"}]}


def stream_state(name: str, value: Any) -> list[dict[str, Any]]:
    """A `--state` file holding one stream's state."""
    return [{"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": value}}]


def configured_catalog(discovered: dict[str, Any], incremental: bool = True) -> dict[str, Any]:
    streams = []
    for stream in discovered["streams"]:
        mode = "incremental" if incremental and "incremental" in stream["supported_sync_modes"] else "full_refresh"
        streams.append({"stream": stream, "sync_mode": mode, "destination_sync_mode": "append"})
    return {"streams": streams}


def orphaned_conversion_workers(wait_seconds: float = 5.0) -> list[int]:
    """Conversion workers (export/convert_pool.py) whose connector process is gone, after up to `wait_seconds` for
    the kernel to deliver their parent-death signal."""
    deadline = time.monotonic() + wait_seconds
    while True:
        orphans = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                args = cmdline.read_bytes().split(b"\0")
            except OSError:
                continue
            worker = b"source_amplitude.pipeline.convert_worker" in args and args[-2:-1] and args[-2].isdigit()
            if worker and not Path(f"/proc/{int(args[-2])}").exists():
                orphans.append(int(cmdline.parent.name))
        if not orphans or time.monotonic() > deadline:
            return orphans
        time.sleep(0.1)
