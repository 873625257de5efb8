"""Benchmark: a full `read` of `events` for one day of upload hours, this connector vs the official one.

    .venv/bin/python bench/events_benchmark.py                  # 1,000,000 events, both connectors
    .venv/bin/python bench/events_benchmark.py --events 3000000 --skip-official
    .venv/bin/python bench/events_benchmark.py --one-cpu          # also both connectors pinned to CPU 0 (taskset)

Starts the fake Amplitude (a separate process) with a deterministic day of events, builds its export archive once
(cached under bench/.cache), runs each connector's `read` with stdout to a file, samples the RSS of the whole process
tree every 50 ms, prints records/s, MB/s and peak RSS side by side, and draws them (--plot, bench/plot.py).
The connectors run in interleaved pairs (ours, official, ours, official...), --pairs times (3) per CPU setting; each
pair's ratio is printed, then the median and spread of the ratios over the pairs whose official run was within 20 %
of the official's median speed: on a shared machine, a pair in which the official connector was slowed down is noise,
and it is named and left out instead of making the ratio. For the default day, an invocation whose official median
is more than 20 % off the official's quiet-machine speed (OFFICIAL_QUIET) gives no ratio at all, only the figure
against that quiet speed. The
official connector (airbyte-source-amplitude==0.6.19) runs from its own virtualenv (--official-venv, created if
missing) through bench/official_wrapper.py, which patches only its host."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

import orjson
import requests

ROOT = Path(__file__).resolve().parents[1]
OURS = [str(Path(sys.executable).parent / "source-amplitude")]
NOISE_TOLERANCE = 0.2  # an official run more than 20 % off its median speed: the machine was busy, not a result
# The official connector's records/s on this 2-CPU machine when it is quiet (issue 30's measurements, 1,000,000-event
# day): a whole invocation in which the official connector ran far from this was slowed down by the machine, and
# slowed the two connectors unequally (the official is one busy thread, this one mostly two worker processes).
OFFICIAL_QUIET = {"two CPUs": 8_527.0, "pinned to one CPU (taskset -c 0)": 9_040.0}
API_KEY, SECRET_KEY = "fake-api-key", "fake-secret-key"


@dataclass
class Result:
    name: str
    records: int
    distinct: int  # distinct uuids among the records (exactly once: distinct == records == the fake's events)
    seconds: float
    output_bytes: int
    peak_rss_bytes: int
    exit_code: int
    rss_samples: list[tuple[float, int]]  # (seconds since start, bytes)

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds

    @property
    def mb_per_second(self) -> float:
        return self.output_bytes / 1e6 / self.seconds


def tree_rss_bytes(pid: int) -> int:
    """RSS of a process and all its descendants, from /proc."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    stack.extend(int(c) for c in children.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def run_read(
    name: str,
    command: list[str],
    workdir: Path,
    base_url: str,
    config_name: str = "config.json",
    extra_env: dict[str, str] | None = None,
    catalog_name: str = "catalog.json",
) -> Result:
    output = workdir / f"{name}.jsonl"
    env = {**os.environ, "AMPLITUDE_BASE_URL": base_url, **(extra_env or {})}
    started = time.monotonic()
    samples: list[tuple[float, int]] = []
    with output.open("wb") as out:
        process = subprocess.Popen(
            [*command, "read", "--config", str(workdir / config_name), "--catalog", str(workdir / catalog_name)],
            stdout=out,
            stderr=subprocess.DEVNULL if os.environ.get("BENCH_QUIET", "1") == "1" else None,
            env=env,
        )
        while process.poll() is None:
            samples.append((time.monotonic() - started, tree_rss_bytes(process.pid)))
            time.sleep(0.05)
    seconds = time.monotonic() - started
    records = 0
    uuids: set[str] = set()
    with output.open("rb") as lines:  # after the clock stopped
        for line in lines:
            if line.startswith(b'{"type":"RECORD"'):
                record = orjson.loads(line)["record"]
                if record["stream"] == "events":  # not events_ledger's rows (--ledger)
                    records += 1
                    uuids.add(record["data"]["uuid"])
    size = output.stat().st_size
    output.unlink()
    peak = max((rss for _, rss in samples), default=0)
    return Result(name, records, len(uuids), seconds, size, peak, process.returncode, samples)


def ensure_official_venv(venv: Path) -> list[str]:
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} with airbyte-source-amplitude==0.6.19 ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "airbyte-source-amplitude==0.6.19"], check=True)
    return [str(python), str(ROOT / "bench" / "official_wrapper.py")]


def benchmark_day() -> datetime:
    """The upload day both benchmarks of a million events read: two days ago, UTC."""
    return (datetime.now(timezone.utc) - timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)


def start_fake_day(port: int, day: datetime, per_hour: int, padding: int, cache_dir: Path) -> subprocess.Popen[bytes]:
    """The fake Amplitude (a process) with `day`'s 24 upload hours; returns once it answers."""
    command = [sys.executable, "-m", "fake_amplitude", "--port", str(port), "--first-hour", day.strftime("%Y-%m-%dT%H")]
    command += ["--hours", "24", "--events-per-hour", str(per_hour), "--padding-properties", str(padding)]
    server = subprocess.Popen([*command, "--cache-dir", str(cache_dir)], cwd=ROOT, stdout=subprocess.DEVNULL)
    wait_for(f"http://127.0.0.1:{port}")
    return server


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer in {seconds:.0f} s")


def build_day_archive(base_url: str, day: datetime, per_hour: int) -> int:
    """Has the fake build (and cache) the day's export archive, outside the timed reads. Returns its size."""
    span = {"start": day.strftime("%Y%m%dT00"), "end": day.strftime("%Y%m%dT23")}
    print(f"building the fake's export of {per_hour * 24:,} events uploaded on {day:%Y-%m-%d} ...", flush=True)
    built = time.monotonic()
    with requests.get(
        f"{base_url}/api/2/export", params=span, auth=(API_KEY, SECRET_KEY), stream=True, timeout=3600
    ) as warm:
        archive_bytes = sum(len(chunk) for chunk in warm.iter_content(1 << 20))
    print(f"archive: {archive_bytes / 1e6:.0f} MB zipped (ready in {time.monotonic() - built:.0f} s)", flush=True)
    return archive_bytes


def day_config(day: datetime) -> dict[str, object]:
    return {
        "api_key": API_KEY,
        "secret_key": SECRET_KEY,
        "start_date": day.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "request_time_range": 24,
    }


def write_read_files(workdir: Path, config: dict[str, object]) -> None:
    """config.json and a catalog of events alone, in full refresh, for `read`."""
    (workdir / "config.json").write_text(json.dumps(config))
    stream = {"name": "events", "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]}
    catalog = {"streams": [{"stream": stream, "sync_mode": "full_refresh", "destination_sync_mode": "append"}]}
    (workdir / "catalog.json").write_text(json.dumps(catalog))
    ledger = {**stream, "name": "events_ledger"}
    catalog["streams"].append({"stream": ledger, "sync_mode": "full_refresh", "destination_sync_mode": "append"})
    (workdir / "catalog-ledger.json").write_text(json.dumps(catalog))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="events uploaded within the day")
    parser.add_argument("--padding-properties", type=int, default=20, help="extra properties: ~1.9 KB per event")
    parser.add_argument("--port", type=int, default=8877)
    parser.add_argument("--skip-official", action="store_true")
    parser.add_argument("--one-cpu", action="store_true", help="also run both connectors pinned to one CPU")
    parser.add_argument("--only-one-cpu", action="store_true", help="only the runs pinned to one CPU")
    parser.add_argument("--pairs", type=int, default=3, help="interleaved runs of each connector per CPU setting")
    parser.add_argument("--official-venv", type=Path, default=Path(tempfile.gettempdir()) / "official-amplitude-venv")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "bench" / ".cache")
    parser.add_argument(
        "--ledger", action="store_true", help="pair this connector without and with events_ledger selected instead"
    )
    parser.add_argument("--plot", type=Path, help="draw records/s and RSS over time to this PNG (needs matplotlib)")
    args = parser.parse_args()

    day = benchmark_day()
    base_url = f"http://127.0.0.1:{args.port}"
    server = start_fake_day(args.port, day, args.events // 24, args.padding_properties, args.cache_dir)
    try:
        archive_bytes = build_day_archive(base_url, day, args.events // 24)
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            write_read_files(workdir, day_config(day))
            official = None if args.skip_official or args.ledger else ensure_official_venv(args.official_venv)
            settings = [] if args.only_one_cpu else [("two CPUs", [])]
            if args.one_cpu or args.only_one_cpu:
                settings.append(("pinned to one CPU (taskset -c 0)", ["taskset", "-c", "0"]))  # a pod limit of 1
            pairs: dict[str, list[tuple[Result, Optional[Result]]]] = {}
            for label, pinned in settings:  # interleaved: ours, official, ours, official...
                pairs[label] = []
                for number in range(1, args.pairs + 1):
                    ours = run_read(f"this, run {number}", [*pinned, *OURS], workdir, base_url)
                    theirs = None
                    if args.ledger:
                        theirs = run_read(
                            f"this + ledger, run {number}", [*pinned, *OURS], workdir, base_url,
                            catalog_name="catalog-ledger.json",
                        )  # fmt: skip
                    elif official is not None:
                        theirs = run_read(f"official 0.6.19, run {number}", [*pinned, *official], workdir, base_url)
                    pairs[label].append((ours, theirs))
    finally:
        server.terminate()
        server.wait()

    for label, runs in pairs.items():
        print(f"\n{label}:")
        print_table([r for pair in runs for r in pair if r is not None])
        if args.ledger:
            print_ratios(runs, "the run with events_ledger")
        else:  # the quiet figure is for the default day only
            quiet = OFFICIAL_QUIET.get(label) if args.events == 1_000_000 and args.padding_properties == 20 else None
            print_ratios(runs, "the official", quiet)
    results = [r for r in next(iter(pairs.values()))[0] if r is not None]
    if args.plot:
        from plot import draw  # bench/plot.py, beside this script; matplotlib only when drawing

        subtitle = f"{results[0].records:,} events of one upload day, {archive_bytes / 1e6:.0f} MB zipped"
        draw(results, args.plot, subtitle)
        print(f"picture: {args.plot}")
    every = [r for runs in pairs.values() for pair in runs for r in pair if r is not None]
    return 0 if all(r.exit_code == 0 for r in every) else 1


def print_ratios(
    runs: list[tuple[Result, Optional[Result]]], other: str = "the official", quiet: Optional[float] = None
) -> None:
    """Each pair's ratio, then the median and spread of the pairs whose official run was near its own median speed: a
    pair in which the machine slowed the official connector down (a shared, noisy machine) makes no ratio."""
    ours = [r.records_per_second for r, _ in runs]
    each = ", ".join(f"{value:,.0f}" for value in ours)
    print(f"this connector: median {statistics.median(ours):,.0f} records/s (runs: {each})")
    official = [theirs.records_per_second for _, theirs in runs if theirs is not None and theirs.records]
    if len(official) != len(runs):
        return
    usual = statistics.median(official)
    kept = []
    for (mine, _), speed in zip(runs, official):
        ratio = mine.records_per_second / speed
        noisy = abs(speed - usual) > NOISE_TOLERANCE * usual
        note = (
            f"  NOISY: {other} ran at {speed / usual:.0%} of its median speed; this pair is left out" if noisy else ""
        )
        print(f"  pair: {ratio:.1f}x ({mine.records_per_second:,.0f} vs {speed:,.0f} records/s){note}")
        if not noisy:
            kept.append(ratio)
    slowed = quiet is not None and abs(usual - quiet) > NOISE_TOLERANCE * quiet
    if kept and not slowed:
        print(
            f"ratio: median {statistics.median(kept):.1f}x, spread {min(kept):.1f}x..{max(kept):.1f}x over "
            f"{len(kept)} of {len(runs)} pairs; peak RSS {max(r.peak_rss_bytes for r, _ in runs) / 2**20:.0f} MB"
        )
    elif kept and quiet is not None:
        print(
            f"ratio: none. {other} ran at {usual:,.0f} records/s, {usual / quiet:.0%} of its {quiet:,.0f} on a quiet "
            f"machine: this invocation was slowed down and its pairs' ratios (median {statistics.median(kept):.1f}x) "
            f"are noise. Against the quiet figure: {statistics.median(ours) / quiet:.1f}x. Run again later."
        )
    else:
        print("ratio: none (every pair was noisy); run again on a quieter machine")


def print_table(results: list[Result]) -> None:
    print(
        f"\n{'connector':<26}{'records':>11}{'distinct':>11}{'seconds':>9}{'records/s':>11}{'MB/s out':>10}"
        f"{'peak RSS':>11}{'exit':>6}"
    )
    for r in results:
        print(
            f"{r.name:<26}{r.records:>11,}{r.distinct:>11,}{r.seconds:>9.1f}{r.records_per_second:>11,.0f}"
            f"{r.mb_per_second:>10.1f}"
            f"{r.peak_rss_bytes / 2**20:>8.0f} MB{r.exit_code:>6}"
        )


if __name__ == "__main__":
    sys.exit(main())
