#!/usr/bin/env bash
# PyAirbyte, a real Airbyte client, reads every stream from the fake Amplitude into DuckDB (pyairbyte_tests/), and
# the dbt package at dbt/ runs on that DuckDB, and on a PostgreSQL server the test starts (pyairbyte_tests/test_dbt.py).
# PyAirbyte lives in its own virtualenv, .venv-pyairbyte (it pins its own airbyte-cdk, pandas, DuckDB); it runs the
# connector of .venv as a local executable. The test moves the connector's clock with Debian's libfaketime, which
# this script installs when it runs as root on a machine without it; likewise Debian's postgresql (the server binaries
# only: the test runs its own throwaway cluster on 127.0.0.1 and removes it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/run_pytest.sh
source scripts/lib/debian_packages.sh
source scripts/lib/tools.sh
bash scripts/setup.sh

need_debian_packages "$FAKETIME" "$POSTGRESQL"

# PyAirbyte's and dbt's virtualenvs, exactly as their constraint files pin them (scripts/lock.sh updates those)
venv_from_constraints .venv-pyairbyte pyairbyte_tests/requirements.txt pyairbyte_tests/constraints.txt
venv_from_constraints .venv-dbt dbt/requirements-test.txt dbt/constraints-test.txt

# On every CPU (pytest-xdist); -rA prints what PyAirbyte printed in each test, passed or not, for the check below;
# -W error::...Unraisable... fails a test that leaves a warning of a stopped subprocess
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
PATH="$PWD/.venv-pyairbyte/bin:$PATH" SOURCE_AMPLITUDE_EXECUTABLE="$PWD/.venv/bin/source-amplitude" \
  DBT_EXECUTABLE="$PWD/.venv-dbt/bin/dbt" \
  run_pytest .venv-pyairbyte/bin/python -m pytest -q -rA --durations=12 -n "$(nproc)" -p no:cacheprovider -o addopts= \
  -W ignore::FutureWarning -W error::pytest.PytestUnraisableExceptionWarning pyairbyte_tests "$@" 2>&1 | tee "$log"
if grep -qE "[0-9]+ passed" "$log" && ! grep -qE "^=+ PASSES =+$" "$log"; then  # -rA's captured output
  echo "the tests' captured output is missing from the log: the check below could not see a traceback" >&2
  exit 1
fi
# PyAirbyte stops the connector with SIGTERM once it has its answer: the connector must end as the signal does,
# without a traceback (issue 29). Anything it prints on stderr shows here.
if grep -E "Traceback|Exception ignored|Exit Code: 143" "$log"; then
  echo "PyAirbyte's run printed a traceback (above): the connector did not end quietly" >&2
  exit 1
fi
