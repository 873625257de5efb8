#!/usr/bin/env bash
# Command 2: set up, lint, type-check and run every test tier:
#   1. pytest: unit tests, mocked-HTTP stream tests, the fake Amplitude end to end, the CDK standard tests (in-process),
#      on every CPU (pytest-xdist), with the slowest tests listed
#   2. the container image, built with podman and tested (scripts/image.sh; installs podman etc. as root when missing)
#   3. PyAirbyte reading into DuckDB, and the dbt package on DuckDB and PostgreSQL (scripts/pyairbyte.sh)
# `bash scripts/test.sh --fast [pytest args]` runs tier 1 only. Extra arguments go to tier 1's pytest.
# Each tier ends with one line (its tests, seconds), and the run with a recap of every tier and the total.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/run_pytest.sh
source scripts/lib/debian_packages.sh
fast_only=false
if [ "${1:-}" = "--fast" ]; then fast_only=true; shift; fi
started=$SECONDS
recap=()
tier() {  # tier NAME COMMAND...: runs it, keeps its closing line for the recap
  local name="$1" began=$SECONDS log code=0
  shift
  log="$(mktemp)"
  "$@" 2>&1 | tee "$log" || code=${PIPESTATUS[0]}
  local said
  said="$(grep -E '^(=+ )?[0-9]+ (passed|failed)' "$log" | tail -1 | sed -E 's/^=+ //; s/ =+$//')"
  rm -f "$log"
  recap+=("$(printf '%-14s %s (tier: %d s)%s' "$name" "${said:-no test summary}" $((SECONDS - began)) \
    "$([ "$code" -eq 0 ] || echo ", FAILED (exit $code)")")")
  echo "== $name: ${said:-no test summary}, $((SECONDS - began)) s"
  return "$code"
}
print_recap() {
  echo "== recap"
  printf '   %s\n' "${recap[@]}"
  echo "   total: $((SECONDS - started)) s"
}
trap print_recap EXIT
bash scripts/setup.sh
echo "== ruff"; .venv/bin/ruff check source_amplitude fake_amplitude test_support unit_tests integration_tests image_tests pyairbyte_tests bench
echo "== mypy (strict)"; .venv/bin/mypy
echo "== hadolint"; .venv/bin/hadolint --failure-threshold warning Dockerfile
# The deletion SQL's Postgres test starts a throwaway server from Debian's postgresql (skipped without it, outside CI).
if [ "$fast_only" = false ] || [ "$(id -u)" -eq 0 ]; then need_debian_packages "$POSTGRESQL"; fi
echo "== pytest"
# One worker more than CPUs: many tests wait on a connector process or a local server, not on a CPU.
tier pytest run_pytest .venv/bin/python -m pytest -n "$(( $(nproc) + 1 ))" --durations=15 "$@"
if [ "$fast_only" = false ]; then
  echo "== image (podman)"; tier image bash scripts/image.sh
  echo "== PyAirbyte"; tier "PyAirbyte+dbt" bash scripts/pyairbyte.sh
fi
