"""A real PostgreSQL server for one test: Debian's `postgresql` binaries, a throwaway cluster on 127.0.0.1, stopped and
deleted afterwards. Run as root, the cluster belongs to the `postgres` user (initdb refuses root). Its TimeZone is
deliberately not UTC, as many warehouses' is not: timestamps must come out in UTC all the same."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SERVER_TIME_ZONE = "America/New_York"


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    database: str


def postgres_bin(program: str) -> Path:
    found = shutil.which(program)
    if found:
        return Path(found)
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{program}"))
    if not candidates:
        raise RuntimeError(f"no {program}: install Debian's postgresql package (scripts/pyairbyte.sh does, as root)")
    return candidates[-1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def postgres_available() -> bool:
    try:
        postgres_bin("initdb")
    except RuntimeError:
        return False
    return True


def psql(server: PostgresServer, *args: str, sql: str = "") -> str:
    """psql's output for `sql` (or for the files in args), stopping at the first error."""
    command = [
        str(postgres_bin("psql")), "-h", server.host, "-p", str(server.port), "-U", server.user, "-d", server.database,
        "-v", "ON_ERROR_STOP=1", "-q", "-A", "-t", *args,
    ]  # fmt: skip
    done = subprocess.run(command, input=sql, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise AssertionError(f"psql failed ({done.returncode}): {done.stderr[-3000:]}")
    return done.stdout


@contextmanager
def postgres_server(time_zone: str = SERVER_TIME_ZONE) -> Iterator[PostgresServer]:
    base = Path(tempfile.mkdtemp(prefix="source-amplitude-pg-"))
    as_owner: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(base, owner.pw_uid, owner.pw_gid)
        as_owner = ["runuser", "-u", "postgres", "--"]
    data, port = base / "data", free_port()
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c TimeZone={time_zone}"
    pg_ctl = [*as_owner, str(postgres_bin("pg_ctl")), "-D", str(data)]
    try:
        subprocess.run(
            [*as_owner, str(postgres_bin("initdb")), "-D", str(data), "-U", "postgres", "--auth=trust",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        subprocess.run(
            [*pg_ctl, "-l", str(base / "server.log"), "-w", "-t", "60", "-o", options, "start"],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        yield PostgresServer("127.0.0.1", port, "postgres", "postgres")
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)
