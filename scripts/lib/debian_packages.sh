# Sourced by the test scripts. `need_debian_packages PACKAGE:PROBE...`: installs each Debian package whose probe (a
# path glob, or a command name) is missing, with apt as root; without root it names them and fails.
need_debian_packages() {
  local missing=() spec package probe
  for spec in "$@"; do
    package="${spec%%:*}" probe="${spec#*:}"
    if [[ "$probe" == /* ]]; then
      compgen -G "$probe" >/dev/null && continue
    else
      command -v "$probe" >/dev/null 2>&1 && continue
    fi
    missing+=("$package")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian package(s) ${missing[*]}: install them (needs root)" >&2
    return 1
  fi
  echo "== installing ${missing[*]} from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}
FAKETIME="faketime:/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
POSTGRESQL="postgresql:/usr/lib/postgresql/*/bin/initdb"
