#!/usr/bin/env bash
# Updates every lock of the project to what the package index serves today, in one command:
#   poetry.lock                            the connector and its development tools (pyproject.toml)
#   pyairbyte_tests/constraints.txt        .venv-pyairbyte (pyairbyte_tests/requirements.txt)
#   dbt/constraints-test.txt               .venv-dbt (dbt/requirements-test.txt)
# Then run the tests (bash scripts/test.sh) and commit the three files.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/tools.sh
poetry lock
freeze() {  # requirements file -> constraints file: a fresh virtualenv, then uv pip freeze
  local requirements="$1" constraints="$2" venv
  venv="$(mktemp -d)"
  uv venv --quiet --python "$PYTHON" "$venv"
  VIRTUAL_ENV="$venv" uv pip install --quiet -r "$requirements"
  { echo "# Every package of the virtualenv $requirements makes, pinned (scripts/lock.sh writes this file)."
    VIRTUAL_ENV="$venv" uv pip freeze --exclude-editable | grep -v -E '^(pip|setuptools|wheel)=='; } > "$constraints"
  rm -rf "$venv"
}
freeze pyairbyte_tests/requirements.txt pyairbyte_tests/constraints.txt
freeze dbt/requirements-test.txt dbt/constraints-test.txt
echo "locks updated: poetry.lock, pyairbyte_tests/constraints.txt, dbt/constraints-test.txt"
