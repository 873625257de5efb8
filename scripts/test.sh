#!/usr/bin/env bash
# Command 2: set up, lint, type-check and run every test tier:
#   1. pytest: unit tests, mocked-HTTP stream tests, the fake Amplitude end to end, the CDK standard tests (in-process)
#   2. the container image, built with podman and tested (scripts/image.sh; installs podman etc. as root when missing)
#   3. PyAirbyte reading into DuckDB, and the dbt package on DuckDB and PostgreSQL (scripts/pyairbyte.sh)
# `bash scripts/test.sh --fast [pytest args]` runs tier 1 only. Extra arguments go to tier 1's pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/run_pytest.sh
source scripts/lib/debian_packages.sh
fast_only=false
if [ "${1:-}" = "--fast" ]; then fast_only=true; shift; fi
bash scripts/setup.sh
echo "== ruff"; .venv/bin/ruff check source_amplitude fake_amplitude test_support unit_tests integration_tests image_tests pyairbyte_tests bench
echo "== mypy (strict)"; .venv/bin/mypy
echo "== hadolint"; .venv/bin/hadolint --failure-threshold warning Dockerfile
# The deletion SQL's Postgres test starts a throwaway server from Debian's postgresql (skipped without it, outside CI).
if [ "$fast_only" = false ] || [ "$(id -u)" -eq 0 ]; then need_debian_packages "$POSTGRESQL"; fi
echo "== pytest"; run_pytest .venv/bin/python -m pytest "$@"
if [ "$fast_only" = false ]; then
  echo "== image (podman)"; bash scripts/image.sh
  echo "== PyAirbyte"; bash scripts/pyairbyte.sh
fi
