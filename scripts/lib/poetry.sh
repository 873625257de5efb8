# Sourced by the scripts. Poetry, pinned, in a virtualenv of its own (.venv-tools): it installs .venv from
# poetry.lock, the one lock of the connector's dependencies (pyproject.toml says why Poetry). `poetry` runs it.
POETRY_VERSION=2.2.1
POETRY_EXPORT_VERSION=1.9.0
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

poetry() {
  if [ ! -x .venv-tools/bin/poetry ] || ! .venv-tools/bin/poetry --version 2>/dev/null | grep -q "$POETRY_VERSION"; then
    [ -x .venv-tools/bin/python ] || "$PYTHON" -m venv .venv-tools
    .venv-tools/bin/python -m pip install --quiet --disable-pip-version-check \
      "poetry==$POETRY_VERSION" "poetry-plugin-export==$POETRY_EXPORT_VERSION"
  fi
  POETRY_VIRTUALENVS_IN_PROJECT=true POETRY_VIRTUALENVS_CREATE=false VIRTUAL_ENV="$PWD/.venv" \
    .venv-tools/bin/poetry --no-interaction "$@"
}
