"""python -m fake_amplitude [--port 8765] [--days 2] [--events-per-hour 500] [...]"""

from __future__ import annotations

import argparse
import signal
import sys
from datetime import datetime, timezone
from pathlib import Path

from fake_amplitude.dataset import Dataset
from fake_amplitude.server import FakeAmplitude


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="A fake Amplitude API on 127.0.0.1 serving deterministic sample data.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--days", type=int, default=2, help="days of uploaded events, ending 4 hours ago")
    parser.add_argument("--events-per-hour", type=int, default=500)
    parser.add_argument("--padding-properties", type=int, default=0, help="extra event properties per event")
    parser.add_argument("--first-hour", help="first upload hour, e.g. 2026-11-20T00 (default: --days before now)")
    parser.add_argument("--hours", type=int, default=24, help="upload hours with data (with --first-hour)")
    parser.add_argument("--cache-dir", type=Path, help="keep built export archives here")
    parser.add_argument(
        "--export-first-byte-seconds", type=float, default=0.0, help="wait before the first byte of each export"
    )
    parser.add_argument("--export-mb-per-second", type=float, help="send exports at this many MB/s")
    parser.add_argument(
        "--too-large-hour",
        action="append",
        default=[],
        help="answer 400 ('over 4 GB') to every export that includes this upload hour, e.g. 2026-11-20T10",
    )
    args = parser.parse_args(argv)
    if args.first_hour:
        first = datetime.strptime(args.first_hour, "%Y-%m-%dT%H").replace(tzinfo=timezone.utc)
        dataset = Dataset(first, args.hours, args.events_per_hour, padding_properties=args.padding_properties)
    else:
        now = datetime.now(timezone.utc)
        dataset = Dataset.recent(
            now, days=args.days, events_per_hour=args.events_per_hour, padding_properties=args.padding_properties
        )
    if args.cache_dir:
        args.cache_dir.mkdir(parents=True, exist_ok=True)
    fake = FakeAmplitude(
        dataset,
        port=args.port,
        cache_dir=args.cache_dir,
        export_first_byte_seconds=args.export_first_byte_seconds,
        export_bytes_per_second=args.export_mb_per_second * 1e6 if args.export_mb_per_second else None,
        too_large_hours={
            datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=timezone.utc) for hour in args.too_large_hour
        },
    ).start()
    print(
        f"fake Amplitude listening on {fake.url}\n"
        f"  data:       {dataset.hours} upload hours, {dataset.events_per_hour} events each, "
        f"{dataset.first_hour:%Y-%m-%dT%H}:00Z .. {dataset.end_hour:%Y-%m-%dT%H}:00Z\n"
        f"  api_key:    {fake.state.api_key}\n"
        f"  secret_key: {fake.state.secret_key}\n"
        f"  saved charts: act1vusr grp2plat fun3step\n"
        "In another terminal, point the connector at it:\n"
        f"export AMPLITUDE_BASE_URL={fake.url}",
        flush=True,
    )
    signal.sigwait({signal.SIGINT, signal.SIGTERM})
    fake.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
