"""Run a full sync: against Amplitude when credentials are given, otherwise against the fake server.

    bash scripts/demo.sh                     # fake Amplitude with sample data
    AMPLITUDE_API_KEY=... AMPLITUDE_SECRET_KEY=... bash scripts/demo.sh   # a real project
    bash scripts/demo.sh --config secrets/config.json
    bash scripts/demo.sh --bucket            # events and merged_ids from a local S3 holding Amplitude's bucket export

Writes the connector's messages to demo-output/ and prints one line per stream."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fake_amplitude import Dataset, FakeAmplitude
from fake_amplitude.bucket_export import ORG_ID, BucketLayout, write_bucket_export
from fake_amplitude.object_stores import LocalS3
from test_support.connector_process import configured_catalog

OUTPUT = Path("demo-output")
CONNECTOR = str(Path(sys.executable).parent / "source-amplitude")  # the console script of this virtualenv


def connector(command: list[str], env: dict[str, str], stdout_path: Path) -> int:
    with stdout_path.open("wb") as out:
        return subprocess.run([CONNECTOR, *command], env=env, stdout=out, check=False).returncode


def discovered_catalog(discover_output: Path) -> dict[str, Any]:
    for line in discover_output.read_text().splitlines():
        message = json.loads(line)
        if message.get("type") == "CATALOG":
            return configured_catalog(message["catalog"])
    raise SystemExit(f"discover printed no catalog; see {discover_output}")


def summarize(read_output: Path) -> tuple[Counter[str], dict[str, Any], list[str]]:
    records: Counter[str] = Counter()
    states: dict[str, Any] = {}
    errors: list[str] = []
    with read_output.open() as lines:
        for line in lines:
            message = json.loads(line)
            kind = message.get("type")
            if kind == "RECORD":
                records[message["record"]["stream"]] += 1
            elif kind == "STATE" and message["state"].get("type") == "STREAM":
                stream_state = message["state"]["stream"]
                states[stream_state["stream_descriptor"]["name"]] = stream_state.get("stream_state")
            elif kind == "TRACE" and message["trace"].get("type") == "ERROR":
                errors.append(message["trace"]["error"]["message"])
    return records, states, errors


def shown_state(state: Any) -> str:
    """The final state, short: "-" for a stream without a cursor (the CDK's {"__ab_no_cursor_state_message": true}),
    and counts instead of the lists a state can hold (bucket mode's objects read, deletion jobs in flight)."""
    if not state or (isinstance(state, dict) and "__ab_no_cursor_state_message" in state):
        return "-"
    shown = dict(state)
    if isinstance(shown.get("objects_read"), dict):
        shown["objects_read"] = f"{sum(len(parts) for parts in shown['objects_read'].values())} objects"
    if isinstance(shown.get("open_jobs"), list):
        shown["open_jobs"] = f"{len(shown['open_jobs'])} jobs in flight"
    return json.dumps(shown)


def state_file(states: dict[str, Any]) -> list[dict[str, Any]]:
    """What `read --state` takes: the last state of each stream (the connector also accepts its own output)."""
    return [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": state}}
        for name, state in states.items()
        if state
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, help="a connector config file for a real Amplitude project")
    parser.add_argument(
        "--bucket", action="store_true", help="with the fake: read events from a local S3 (moto) in bucket mode"
    )
    parser.add_argument(
        "--state", type=Path, help="carry on from this state (demo-output/state.json after a first run): one read"
    )
    args = parser.parse_args(argv)
    OUTPUT.mkdir(exist_ok=True)
    carried = None
    if args.state:  # read before demo-output/ is written again
        carried = args.state.read_bytes()
    env = dict(os.environ)
    fake = None
    s3 = None
    if args.config:
        config = json.loads(args.config.read_text())
    elif os.environ.get("AMPLITUDE_API_KEY") and os.environ.get("AMPLITUDE_SECRET_KEY"):
        config = {"api_key": os.environ["AMPLITUDE_API_KEY"], "secret_key": os.environ["AMPLITUDE_SECRET_KEY"]}
    else:
        dataset = Dataset.recent(datetime.now(UTC), days=2, events_per_hour=500)
        fake = FakeAmplitude(dataset).start()
        env["AMPLITUDE_BASE_URL"] = fake.url
        config = {
            **fake.config,
            "start_date": dataset.first_hour.strftime("%Y-%m-%d"),
            "chart_ids": ["act1vusr", "grp2plat", "fun3step"],  # the fake's saved charts
        }
        print(
            f"No Amplitude credentials given: syncing from the fake Amplitude at {fake.url} "
            f"({dataset.hours} upload hours of sample events).",
            flush=True,
        )
        if args.bucket:
            s3 = LocalS3()
            s3.create_bucket("amplitude-demo")
            layout = BucketLayout()
            written = write_bucket_export(dataset, lambda key, data: s3.put("amplitude-demo", key, data), layout)
            env.update(s3.env)
            config["events_source"] = {
                "source_type": "Amazon S3",
                "bucket": "amplitude-demo",
                "path_prefix": layout.prefix,
                "project_id": str(dataset.app_id),
                "org_id": str(ORG_ID),
            }
            print(
                f"Bucket mode: {written} events as Amplitude's S3 export in s3://amplitude-demo/{layout.prefix} "
                f"on a local S3 server at {s3.url} (AWS_ENDPOINT_URL).",
                flush=True,
            )
    config_path = OUTPUT / "config.json"
    config_path.write_text(json.dumps(config))
    try:
        for command in ("spec", "check"):
            code = connector(
                [command] if command == "spec" else [command, "--config", str(config_path)],
                env,
                OUTPUT / f"{command}.jsonl",
            )
            print(f"{command}: exit {code}, output in {OUTPUT / f'{command}.jsonl'}")
        connector(["discover", "--config", str(config_path)], env, OUTPUT / "discover.jsonl")
        catalog_path = OUTPUT / "catalog.json"
        catalog_path.write_text(json.dumps(discovered_catalog(OUTPUT / "discover.jsonl")))
        started = time.monotonic()
        first_args = ["read", "--config", str(config_path), "--catalog", str(catalog_path)]
        if carried is not None:
            given = OUTPUT / "state-given.json"
            given.write_bytes(carried)
            first_args += ["--state", str(given)]
        code = connector(first_args, env, OUTPUT / "read.jsonl")
        seconds = time.monotonic() - started
        _, first_states, _ = summarize(OUTPUT / "read.jsonl")
        state_path = OUTPUT / "state.json"
        state_path.write_text(json.dumps(state_file(first_states), indent=1))
        incremental_code = 0
        if carried is None:
            read_args = [*first_args, "--state", str(state_path)]
            incremental_code = connector(read_args, env, OUTPUT / "read-incremental.jsonl")
    finally:
        if fake:
            fake.stop()
        if s3:
            s3.stop()
    records, states, errors = summarize(OUTPUT / "read.jsonl")
    print(f"read: exit {code} in {seconds:.1f}s, messages in {OUTPUT / 'read.jsonl'}")
    print(f"{'stream':<26}{'records':>10}  final state")
    for stream in json.loads(catalog_path.read_text())["streams"]:
        name = stream["stream"]["name"]
        print(f"{name:<26}{records[name]:>10}  {shown_state(states.get(name))}")
    for error in errors:
        print(f"ERROR: {error}")
    if carried is not None:
        print(f"\nState carried from {args.state}; the state after this sync is in {state_path}.")
        return code
    again, _, again_errors = summarize(OUTPUT / "read-incremental.jsonl")
    if fake is not None:  # the fake has stopped: the next sync starts it again, with the same sample data
        next_sync = f"bash scripts/demo.sh --state {state_path}"
    else:
        next_sync = (
            f".venv/bin/source-amplitude read --config {config_path} --catalog {catalog_path} --state {state_path}"
        )
    print(
        f"\nState saved in {state_path}. An incremental run with it (the next sync) gave "
        f"exit {incremental_code}: events {again['events']} records (nothing new since the first run), "
        f"{sum(again.values())} records in all (full refresh streams and the dashboard's 3-day lookback read again); "
        f"messages in {OUTPUT / 'read-incremental.jsonl'}. The next sync, as you would run it from this folder:\n"
        f"  {next_sync}"
    )
    for error in again_errors:
        print(f"ERROR: {error}")
    return code or incremental_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
