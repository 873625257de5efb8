#!/usr/bin/env bash
# Command 2: set up, then lint, type-check and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== ruff"; .venv/bin/ruff check source_amplitude unit_tests integration_tests bench
echo "== mypy (strict)"; .venv/bin/mypy
echo "== hadolint"; .venv/bin/hadolint --failure-threshold warning Dockerfile
echo "== pytest"
set +e
.venv/bin/python -m pytest "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then echo "pytest collected no tests: that is a failure here"; exit 1; fi
exit "$code"
