"""Benchmark: a 7-day backfill of `events` when Amplitude is slow to answer, this connector vs the official one.

    .venv/bin/python bench/latency_benchmark.py                        # 20 s to the first byte, 30 MB/s
    .venv/bin/python bench/latency_benchmark.py --first-byte-seconds 5 --skip-official

Amplitude builds an export before sending its first byte (PostHog's importer allows 180 s for one hour), then sends
hundreds of MB. The fake Amplitude (in this process) plays that: each export waits --first-byte-seconds, then sends
at --mb-per-second. Each connector does a full `read` of 7 days of upload hours in 24-hour windows (7 requests):
this connector with its defaults, this connector one request at a time (export_concurrency 1, what 0.1 did), and
the official connector. Prints wall time, records/s, peak RSS and the most export requests the fake saw at once."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

sys.path.append(str(Path(__file__).resolve().parents[1]))

from events_benchmark import API_KEY, OURS, SECRET_KEY, Result, ensure_official_venv, run_read

from fake_amplitude import Dataset, FakeAmplitude

DAYS = 7


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events-per-hour", type=int, default=2000, help="336,000 events over 7 days by default")
    parser.add_argument("--padding-properties", type=int, default=20, help="extra properties: ~1.9 KB per event")
    parser.add_argument("--first-byte-seconds", type=float, default=20.0)
    parser.add_argument("--mb-per-second", type=float, default=30.0)
    parser.add_argument("--skip-official", action="store_true")
    parser.add_argument("--official-venv", type=Path, default=Path(tempfile.gettempdir()) / "official-amplitude-venv")
    parser.add_argument("--cache-dir", type=Path, default=Path(__file__).resolve().parent / ".cache")
    args = parser.parse_args()

    now = datetime.now(UTC)
    first = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=4 + 24 * DAYS - 1)
    dataset = Dataset(first, 24 * DAYS, args.events_per_hour, padding_properties=args.padding_properties)
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    runs: list[tuple[Result, int]] = []
    with FakeAmplitude(dataset, cache_dir=args.cache_dir) as fake, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        print(f"building the fake's 7 daily exports of {dataset.events_per_hour * 24:,} events each ...", flush=True)
        size = 0
        for day in range(DAYS):
            start = first + timedelta(days=day)
            span = {"start": f"{start:%Y%m%dT%H}", "end": f"{start + timedelta(hours=23):%Y%m%dT%H}"}
            with requests.get(f"{fake.url}/api/2/export", params=span, auth=(API_KEY, SECRET_KEY), timeout=3600) as r:
                size += len(r.content)
        print(
            f"7 archives, {size / 1e6:.0f} MB zipped; now {args.first_byte_seconds:.0f} s to the first byte and "
            f"{args.mb_per_second:.0f} MB/s",
            flush=True,
        )
        fake.state.export_first_byte_seconds = args.first_byte_seconds
        fake.state.export_bytes_per_second = args.mb_per_second * 1e6

        stream = {"name": "events", "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]}
        catalog = {"streams": [{"stream": stream, "sync_mode": "full_refresh", "destination_sync_mode": "append"}]}
        (workdir / "catalog.json").write_text(json.dumps(catalog))
        contenders = [
            ("source-amplitude (defaults)", OURS, {}),
            ("source-amplitude, 1 at a time", OURS, {"export_concurrency": 1}),
        ]
        if not args.skip_official:
            contenders.append(("official 0.6.19", ensure_official_venv(args.official_venv), {}))
        for name, command, extra in contenders:
            config = {
                "api_key": API_KEY,
                "secret_key": SECRET_KEY,
                "start_date": f"{first:%Y-%m-%dT%H:%M:%SZ}",
                "request_time_range": 24,
                **extra,
            }
            (workdir / "config.json").write_text(json.dumps(config))
            fake.state.max_exports_in_flight = 0
            print(f"{name} ...", flush=True)
            runs.append((run_read(name, command, workdir, fake.url), fake.state.max_exports_in_flight))

    print(
        f"\n{'connector':<32}{'records':>10}{'distinct':>10}{'seconds':>9}{'records/s':>11}{'peak RSS':>11}"
        f"{'max in flight':>15}{'exit':>6}"
    )
    for result, in_flight in runs:
        print(
            f"{result.name:<32}{result.records:>10,}{result.distinct:>10,}{result.seconds:>9.1f}"
            f"{result.records_per_second:>11,.0f}"
            f"{result.peak_rss_bytes / 2**20:>8.0f} MB{in_flight:>15}{result.exit_code:>6}"
        )
    ours, one_at_a_time = runs[0][0], runs[1][0]
    print(f"\ndefaults vs one at a time: {ours.seconds / one_at_a_time.seconds:.2f} x the wall time")
    if len(runs) == 3 and runs[2][0].records:
        print(f"defaults vs official: {ours.records_per_second / runs[2][0].records_per_second:.1f}x records/s")
    return 0 if all(result.exit_code == 0 for result, _ in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
