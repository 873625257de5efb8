"""Benchmark: `events` from Amplitude's S3 export (bucket mode) next to the Export API mode, on the same day.

    .venv/bin/python bench/bucket_benchmark.py                 # 1,000,000 events: Export API mode, then S3 mode
    .venv/bin/python bench/bucket_benchmark.py --events 200000 --official

Starts the fake Amplitude (a process) with a deterministic day of events and builds its export archive (cached under
bench/.cache, as bench/events_benchmark.py does), starts moto's S3 server (another process) and uploads every member
of that archive as the object Amplitude's S3 export writes (amplitude/<project>/<project>_<day>_<H>#<n>.json.gz), so
both modes read the very same gzip files. Then runs this connector's full `read` of events in each mode (and, with
--official, the official connector against the Export API), sampling the RSS of the process tree every 50 ms, and
prints records/s, distinct uuids and peak RSS side by side."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import boto3
from events_benchmark import (  # bench/, beside this script
    OURS,
    ROOT,
    benchmark_day,
    build_day_archive,
    day_config,
    ensure_official_venv,
    run_read,
    start_fake_day,
    wait_for,
    write_read_files,
)

BUCKET, PREFIX, PROJECT_ID = "amplitude-bench", "amplitude/", "829528"
S3_ENV = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}


def upload_archive(archive: Path, endpoint: str) -> tuple[int, int]:
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **_keys())
    s3.create_bucket(Bucket=BUCKET)
    count = size = 0
    with zipfile.ZipFile(archive) as zipped:
        for name in zipped.namelist():
            data = zipped.read(name)
            s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}{name}", Body=data)
            count, size = count + 1, size + len(data)
    return count, size


def _keys() -> dict[str, str]:
    return {"aws_access_key_id": S3_ENV["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": S3_ENV["AWS_SECRET_ACCESS_KEY"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="events uploaded within the day")
    parser.add_argument("--padding-properties", type=int, default=20, help="extra properties: ~1.9 KB per event")
    parser.add_argument("--port", type=int, default=8877)
    parser.add_argument("--s3-port", type=int, default=8879)
    parser.add_argument("--official", action="store_true", help="also run the official connector (Export API)")
    parser.add_argument("--official-venv", type=Path, default=Path(tempfile.gettempdir()) / "official-amplitude-venv")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "bench" / ".cache")
    args = parser.parse_args()

    day = benchmark_day()
    per_hour = args.events // 24
    base_url, s3_url = f"http://127.0.0.1:{args.port}", f"http://127.0.0.1:{args.s3_port}"
    s3_server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(args.s3_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    servers = [s3_server]
    try:
        servers.append(start_fake_day(args.port, day, per_hour, args.padding_properties, args.cache_dir))
        wait_for(s3_url)
        build_day_archive(base_url, day, per_hour)
        archive = max(args.cache_dir.glob(f"*-{per_hour}-{args.padding_properties}-*-{day:%Y%m%d%H}-24.zip"))
        uploaded = time.monotonic()
        objects, size = upload_archive(archive, s3_url)
        print(
            f"S3: {objects} objects, {size / 1e6:.0f} MB in s3://{BUCKET}/{PREFIX} "
            f"(uploaded in {time.monotonic() - uploaded:.0f} s)",
            flush=True,
        )
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            config = day_config(day)
            write_read_files(workdir, config)
            bucket = {"source_type": "Amazon S3", "bucket": BUCKET, "path_prefix": PREFIX, "project_id": PROJECT_ID}
            (workdir / "s3.json").write_text(json.dumps({**config, "events_source": bucket}))
            s3_env = {"AWS_ENDPOINT_URL": s3_url, **S3_ENV}
            results = [
                run_read("this, Export API mode", OURS, workdir, base_url),
                run_read("this, S3 bucket mode", OURS, workdir, base_url, "s3.json", s3_env),
            ]
            if args.official:
                results.append(run_read("official 0.6.19", ensure_official_venv(args.official_venv), workdir, base_url))
    finally:
        for server in servers:
            server.terminate()
            server.wait()

    print(
        f"\n{'connector':<24}{'records':>11}{'distinct':>11}{'seconds':>9}{'records/s':>11}{'peak RSS':>11}{'exit':>6}"
    )
    for r in results:
        print(
            f"{r.name:<24}{r.records:>11,}{r.distinct:>11,}{r.seconds:>9.1f}{r.records_per_second:>11,.0f}"
            f"{r.peak_rss_bytes / 2**20:>8.0f} MB{r.exit_code:>6}"
        )
    return 0 if all(r.exit_code == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
