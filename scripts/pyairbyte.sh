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
bash scripts/setup.sh

need_debian_packages "$FAKETIME" "$POSTGRESQL"

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
stamp=.venv-pyairbyte/.installed-$(cat pyairbyte_tests/requirements.txt pyairbyte_tests/constraints.txt | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  [ -x .venv-pyairbyte/bin/python ] || "$PYTHON" -m venv .venv-pyairbyte
  .venv-pyairbyte/bin/python -m pip install --quiet --disable-pip-version-check -r pyairbyte_tests/requirements.txt \
    -c pyairbyte_tests/constraints.txt
  rm -f .venv-pyairbyte/.installed-* && touch "$stamp"
fi

# dbt (the package at dbt/, run on PyAirbyte's DuckDB by pyairbyte_tests/test_dbt.py) in a third virtualenv
stamp=.venv-dbt/.installed-$(cat dbt/requirements-test.txt dbt/constraints-test.txt | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  [ -x .venv-dbt/bin/python ] || "$PYTHON" -m venv .venv-dbt
  .venv-dbt/bin/python -m pip install --quiet --disable-pip-version-check -r dbt/requirements-test.txt \
    -c dbt/constraints-test.txt
  rm -f .venv-dbt/.installed-* && touch "$stamp"
fi

# On every CPU (pytest-xdist); -rA prints what PyAirbyte printed in each test, passed or not, for the check below;
# -W error::...Unraisable... fails a test that leaves a warning of a stopped subprocess
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
PATH="$PWD/.venv-pyairbyte/bin:$PATH" SOURCE_AMPLITUDE_EXECUTABLE="$PWD/.venv/bin/source-amplitude" \
  DBT_EXECUTABLE="$PWD/.venv-dbt/bin/dbt" \
  run_pytest .venv-pyairbyte/bin/python -m pytest -q -rA -n "$(nproc)" -p no:cacheprovider -o addopts= \
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
