"""Benchmark: what a bucket-mode sync with nothing new costs on a bucket holding years of Amplitude's files.

    .venv/bin/python bench/bucket_listing_benchmark.py                 # 52,560 objects: 2 years, 3 files an hour
    .venv/bin/python bench/bucket_listing_benchmark.py --years 4

Bucket mode lists every export file from start_date's day on at each sync (a file can be written days late, or as a
backfill of history, so a listing by upload hour alone cannot see it; state/events.py). This script starts moto's
S3 server (a process on 127.0.0.1), writes the files of `--years` years (tiny gzip objects named as Amplitude's S3
export names them), and runs this connector's `read` of events through a counting proxy, with a state in which every
file was read, for two start_dates: the default (30 days ago) and the first day of the bucket. It prints the listing
requests, objects listed, records (0 expected) and seconds of each."""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from events_benchmark import OURS, wait_for  # bench/, beside this script

from test_support.fault_proxy import FaultProxy

BUCKET, PREFIX, PROJECT_ID = "amplitude-listing-bench", "amplitude/", "829528"
S3_ENV = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
PARTITIONS_PER_HOUR = 3


def write_files(endpoint: str, first: datetime, hours: int) -> int:
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"],
    )
    s3.create_bucket(Bucket=BUCKET)
    body = gzip.compress(b'{"uuid": "x"}\n')
    keys = [
        f"{PREFIX}{PROJECT_ID}/{PROJECT_ID}_{hour:%Y-%m-%d}_{hour.hour}#{n}.json.gz"
        for hour in (first + timedelta(hours=h) for h in range(hours))
        for n in range(PARTITIONS_PER_HOUR)
    ]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: s3.put_object(Bucket=BUCKET, Key=key, Body=body), keys))
    return len(keys)


def run_sync(workdir: Path, proxy: FaultProxy, start: datetime, state: dict[str, object]) -> dict[str, object]:
    config = {
        "api_key": "unused",
        "secret_key": "unused",
        "start_date": f"{start:%Y-%m-%dT%H:%M:%SZ}",
        "events_source": {
            "source_type": "Amazon S3",
            "bucket": BUCKET,
            "path_prefix": PREFIX,
            "project_id": PROJECT_ID,
        },
    }
    stream = {"name": "events", "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]}
    catalog = {"streams": [{"stream": stream, "sync_mode": "incremental", "destination_sync_mode": "append"}]}
    files = {"config": config, "catalog": catalog, "state": [_stream_state(state)]}
    for name, content in files.items():
        (workdir / f"{name}.json").write_text(json.dumps(content))
    before = len(proxy.seen)
    started = time.monotonic()
    done = subprocess.run(
        [*OURS, "read", *(arg for name in files for arg in (f"--{name}", str(workdir / f"{name}.json")))],
        capture_output=True,
        text=True,
        env={**S3_ENV, "AWS_ENDPOINT_URL": proxy.url, "PATH": "/usr/bin:/bin"},
        check=False,
    )
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"the read failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    listed = [m["log"]["message"] for m in lines if m["type"] == "LOG" and "export file(s)" in m["log"]["message"]]
    requests = [path for method, path, _ in proxy.seen[before:] if method == "GET" and "list-type=2" in path]
    return {
        "list requests": len(requests),
        "listed": listed[0].split(":", 1)[1].split(" export")[0].strip() if listed else "?",
        "records": sum(m["type"] == "RECORD" for m in lines),
        "seconds": round(seconds, 1),
    }


def _stream_state(state: dict[str, object]) -> dict[str, object]:
    return {"type": "STREAM", "stream": {"stream_descriptor": {"name": "events"}, "stream_state": state}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--years", type=float, default=2.0)
    parser.add_argument("--s3-port", type=int, default=8881)
    args = parser.parse_args()
    hours = int(args.years * 365 * 24)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    first = now - timedelta(hours=hours)
    s3_url = f"http://127.0.0.1:{args.s3_port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(args.s3_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proxy = FaultProxy(s3_url)
    try:
        wait_for(s3_url)
        started = time.monotonic()
        count = write_files(s3_url, first, hours)
        took = time.monotonic() - started
        print(f"wrote {count:,} objects ({args.years} years, {PARTITIONS_PER_HOUR} an hour) in {took:.0f} s")
        # every file read: the state a sync writes once it has read them all
        state = {
            "state_version": 2,
            "server_upload_time": f"{now - timedelta(hours=1):%Y%m%dT%H}",
            "objects_read": {},
            "written_before": (datetime.now(UTC) + timedelta(seconds=1)).isoformat(),
        }
        with tempfile.TemporaryDirectory() as workdir:
            for label, start in (
                ("start_date 30 days ago (the default)", now - timedelta(days=30)),
                ("start_date = the bucket's first day", first),
            ):
                result = run_sync(Path(workdir), proxy, start, state)
                print(f"{label}: " + ", ".join(f"{name} {value}" for name, value in result.items()))
    finally:
        proxy.stop()
        server.terminate()
        server.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
