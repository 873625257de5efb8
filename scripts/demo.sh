#!/usr/bin/env bash
# Command 1: set up, then sync every stream. Without credentials it starts the fake Amplitude with sample data;
# with AMPLITUDE_API_KEY and AMPLITUDE_SECRET_KEY (or --config FILE) it reads the real project.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PYTHONPATH="$PWD" exec .venv/bin/python scripts/demo.py "$@"
