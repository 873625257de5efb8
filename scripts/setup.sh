#!/usr/bin/env bash
# Creates .venv with the connector and its development tools, exactly as poetry.lock pins them (scripts/lock.sh
# updates the lock). Safe to re-run: it does nothing while pyproject.toml and poetry.lock are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/tools.sh
stamp=.venv/.installed-$(cat pyproject.toml poetry.lock | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  poetry check --lock >/dev/null 2>&1 || poetry check --lock  # the lock belongs to this pyproject.toml
  poetry sync --with dev --quiet  # installs every locked package and the connector (editable); removes the rest
  rm -f .venv/.installed-* && touch "$stamp"
fi
# The connector is installed editable, so Poetry leaves its sources uncompiled; with PYTHONDONTWRITEBYTECODE set (as on
# this project's CI machines) no run would ever compile them, and every start of the connector would (~0.1 s each, in
# every test that runs it). Up-to-date files are skipped.
.venv/bin/python -m compileall -q source_amplitude fake_amplitude test_support
