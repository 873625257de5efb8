# Sourced by the scripts. The project's installers, pinned, in a virtualenv of their own (.venv-tools):
# - Poetry: installs .venv from poetry.lock, the one lock of the connector's dependencies (pyproject.toml says why
#   Poetry). `poetry` runs it.
# - uv: installs the PyAirbyte and dbt virtualenvs from their constraint files (scripts/pyairbyte.sh, lock.sh). It
#   does pip's job on the same files, an order faster: .venv-pyairbyte installs in ~5 s instead of ~90 s. `uv` runs it.
POETRY_VERSION=2.2.1
POETRY_EXPORT_VERSION=1.9.0
UV_VERSION=0.13.8
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

tools_checked=false
install_tools() {  # once per script: asking Poetry its version takes half a second
  [ "$tools_checked" = true ] && return
  if [ ! -x .venv-tools/bin/poetry ] || ! .venv-tools/bin/poetry --version 2>/dev/null | grep -q "$POETRY_VERSION" ||
    [ ! -x .venv-tools/bin/uv ] || ! .venv-tools/bin/uv --version 2>/dev/null | grep -q "uv $UV_VERSION"; then
    [ -x .venv-tools/bin/python ] || "$PYTHON" -m venv .venv-tools
    .venv-tools/bin/python -m pip install --quiet --disable-pip-version-check \
      "poetry==$POETRY_VERSION" "poetry-plugin-export==$POETRY_EXPORT_VERSION" "uv==$UV_VERSION"
  fi
  tools_checked=true
}

poetry() {
  install_tools
  POETRY_VIRTUALENVS_IN_PROJECT=true POETRY_VIRTUALENVS_CREATE=false VIRTUAL_ENV="$PWD/.venv" \
    .venv-tools/bin/poetry --no-interaction "$@"
}

# uv reads the system's certificate store (as pip does), so that a proxy's or a company's CA works for it too.
uv() {
  install_tools
  UV_SYSTEM_CERTS=1 .venv-tools/bin/uv "$@"
}

# venv_from_constraints VENV REQUIREMENTS CONSTRAINTS: VENV holds exactly what the files say, installed once per
# change of the files (a stamp names their hash).
venv_from_constraints() {
  local venv="$1" requirements="$2" constraints="$3" stamp
  stamp="$venv/.installed-$(cat "$requirements" "$constraints" | sha1sum | cut -c1-12)"
  [ -f "$stamp" ] && return
  [ -x "$venv/bin/python" ] || uv venv --quiet --python "$PYTHON" "$venv"
  VIRTUAL_ENV="$PWD/$venv" uv pip install --quiet -r "$requirements" -c "$constraints"
  rm -f "$venv"/.installed-* && touch "$stamp"
}
