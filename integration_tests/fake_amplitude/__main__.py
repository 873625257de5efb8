"""python -m integration_tests.fake_amplitude [--port 8765] [--days 2] [--events-per-hour 500]"""

from __future__ import annotations

import argparse
import signal
import sys
from datetime import UTC, datetime

from integration_tests.fake_amplitude.dataset import Dataset
from integration_tests.fake_amplitude.server import FakeAmplitude


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="A fake Amplitude API on 127.0.0.1 serving deterministic sample data.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--days", type=int, default=2, help="days of uploaded events, ending 3 hours ago")
    parser.add_argument("--events-per-hour", type=int, default=500)
    parser.add_argument("--padding-properties", type=int, default=0, help="extra event properties per event")
    args = parser.parse_args(argv)
    dataset = Dataset.recent(
        datetime.now(UTC),
        days=args.days,
        events_per_hour=args.events_per_hour,
        padding_properties=args.padding_properties,
    )
    fake = FakeAmplitude(dataset, port=args.port).start()
    print(
        f"fake Amplitude listening on {fake.url} (api_key={fake.state.api_key!r}, secret_key=<the fake's>)", flush=True
    )
    signal.sigwait({signal.SIGINT, signal.SIGTERM})
    fake.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
