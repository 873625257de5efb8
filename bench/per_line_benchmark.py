"""Benchmark: where an export line's time goes, in one thread, on the same lines.

    .venv/bin/python bench/per_line_benchmark.py                  # 20,000 lines of the fake's day, 20 extra properties
    .venv/bin/python bench/per_line_benchmark.py --padding-properties 100 --lines 10000

Prints lines/s and microseconds per line (best of --repeat rounds, so that a busy machine moves the figure less) of
  record_batch       what the connector runs per batch of lines (parsers/events.py, batches of LINES_PER_BATCH as
                     pipeline/gzip_lines.py makes them): orjson.loads, shaping, orjson.dumps, the RECORD framing
and of its parts alone on the same lines. No HTTP, no gzip, no framework: the per-record work only.

With msgspec installed (`.venv/bin/pip install msgspec`; not a dependency of the connector), it also measures the
"parse less" alternative tried in docs/benchmarks.md: msgspec decoding only the top level into a struct whose
property objects stay raw bytes, the exact check such a path needs (msgspec checks a raw object's syntax, not whether
its numbers fit a double, which orjson's path turns into a counted null), and msgspec writing it back."""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional, Union

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fake_amplitude.dataset import Dataset  # noqa: E402
from source_amplitude.parsers.events import TIMESTAMP_FIELDS, record_batch, shape_event  # noqa: E402
from source_amplitude.parsers.lenient_json import Repairs  # noqa: E402
from source_amplitude.pipeline.gzip_lines import LINES_PER_BATCH  # noqa: E402

PROPERTY_OBJECTS = (
    *("event_properties", "global_user_properties", "group_properties", "groups", "plan", "user_properties"),
)
# The check a raw-object path needs: every digit and the point read as 0, E as e, + as 0; a number a double cannot
# hold then shows "0e000" (three exponent digits or more).
NUMBER_BYTES = bytes.maketrans(b"123456789.E+", b"0000000000e0")


def fake_lines(count: int, padding: int) -> list[bytes]:
    hour = datetime(2026, 12, 4, tzinfo=timezone.utc)
    dataset = Dataset(first_hour=hour, hours=1, events_per_hour=count, padding_properties=padding)
    return [orjson.dumps(event) for event in dataset.events_in_hour(hour)]


def record_batch_of(lines: list[bytes]) -> object:
    return record_batch(lines, "events", 1, Repairs())


def each(work: Callable[[Any], object], items: list[Any]) -> None:
    for item in items:
        work(item)


def best_microseconds(work: Callable[[], object], items: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best / items * 1e6


def msgspec_rows(lines: list[bytes]) -> list[tuple[str, Callable[[], object]]]:
    """The raw-object alternative's parts, or nothing without msgspec."""
    try:
        import msgspec
    except ImportError:
        return []
    fields = sorted(orjson.loads(lines[0]))
    attributes = {name: f"f{index}" for index, name in enumerate(fields)}

    def type_of(name: str) -> Any:
        if name in PROPERTY_OBJECTS:
            return msgspec.Raw
        return Optional[str] if name in TIMESTAMP_FIELDS else Union[str, int, float, bool, None, dict[str, Any]]

    struct = msgspec.defstruct(
        "Event",
        [(attributes[name], Union[type_of(name), msgspec.UnsetType], msgspec.UNSET) for name in fields],
        rename={attribute: name for name, attribute in attributes.items()},
        forbid_unknown_fields=True,
        gc=False,
    )
    decode = msgspec.json.Decoder(struct).decode
    encoder = msgspec.json.Encoder()
    events = [decode(line) for line in lines]
    kept = [b"".join(getattr(event, attributes[name]) for name in PROPERTY_OBJECTS) for event in events]
    out = bytearray()

    def encode() -> None:
        out.clear()
        for event in events:
            encoder.encode_into(event, out, -1)

    def check(data: bytes) -> bool:
        return b"0e000" in data.translate(NUMBER_BYTES)

    return [
        ("msgspec, objects kept raw: decode", lambda: each(decode, lines)),
        ("  check the kept objects' numbers", lambda: each(check, kept)),
        ("  encode", encode),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--padding-properties", type=int, default=20, help="extra properties: ~1.9 KB per event")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    lines = fake_lines(args.lines, args.padding_properties)
    size = sum(map(len, lines)) / len(lines)
    print(f"{len(lines):,} lines of {size:,.0f} bytes on average, best of {args.repeat} rounds, one thread")

    batches = [lines[start : start + LINES_PER_BATCH] for start in range(0, len(lines), LINES_PER_BATCH)]
    events = [orjson.loads(line) for line in lines]
    shaped = [shape_event(orjson.loads(line)) for line in lines]
    rows: list[tuple[str, Callable[[], object]]] = [
        ("record_batch (the connector's path)", lambda: each(record_batch_of, batches)),
        ("  orjson.loads", lambda: each(orjson.loads, lines)),
        ("  shape_event (on fresh copies)", lambda: each(shape_event, [dict(event) for event in events])),
        ("    making the copies alone", lambda: [dict(event) for event in events]),
        ("  orjson.dumps", lambda: each(orjson.dumps, shaped)),
        *msgspec_rows(lines),
    ]
    gc.collect()
    gc.freeze()  # what the setup built is not the collector's work during the timings
    for name, work in rows:
        microseconds = best_microseconds(work, len(lines), args.repeat)
        print(f"{name:40} {1e6 / microseconds:>10,.0f} lines/s {microseconds:7.2f} us/line")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
