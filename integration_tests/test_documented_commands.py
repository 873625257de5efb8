"""The README's commands run as pasted, from a folder laid out like the repository: the fake Amplitude started as the
README starts it (port 8765), then spec, check, discover, read and the incremental read with the first read's own
output as the state. (The PyAirbyte and dbt blocks run in the PyAirbyte tier: pyairbyte_tests/test_documented.py.)"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from test_support.documented import ROOT, block_under, blocks_after, runnable_lines


def messages(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def test_the_readmes_fake_and_connector_commands_run_as_pasted(tmp_path: Path) -> None:
    for name in (".venv", "examples"):
        (tmp_path / name).symlink_to(ROOT / name)
    setup, fake_line = runnable_lines(block_under("README.md", "Running the connector yourself", "bash"))
    assert setup.startswith("bash scripts/setup.sh")  # what the README's second command ran already
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMPLITUDE_")}
    env["PYTHONPATH"] = str(ROOT)  # the fake is a folder of the repository, as it is in a user's clone
    fake = subprocess.Popen(["bash", "-c", fake_line.split("#")[0]], cwd=tmp_path, env=env, stdout=subprocess.PIPE)
    try:
        assert fake.stdout is not None
        printed = [fake.stdout.readline().decode()]
        while printed[-1] and not printed[-1].startswith("export "):  # the last line it prints
            printed.append(fake.stdout.readline().decode())
        assert printed[-1] == "export AMPLITUDE_BASE_URL=http://127.0.0.1:8765\n", printed
        blocks = blocks_after("README.md", "In another terminal, paste the `export` line", "bash", 2)
        pasted = "\n".join(line for block in blocks for line in runnable_lines(block))  # one terminal, in order
        run = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", pasted], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert run.returncode == 0, (pasted, run.stdout[-2000:], run.stderr[-2000:])
    finally:
        fake.terminate()
        fake.wait(timeout=30)
    first, second = messages(tmp_path / "read.jsonl"), messages(tmp_path / "read2.jsonl")
    assert [m for m in first if m["type"] == "RECORD" and m["record"]["stream"] == "events"]
    assert not [m for m in second if m["type"] == "RECORD" and m["record"]["stream"] == "events"]  # nothing new
    assert not [m for m in first + second if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]
