#!/usr/bin/env bash
# Builds the connector image with podman and tests it, on a machine without a Docker engine.
#
#   bash scripts/image.sh                    # build, then run every image test
#   bash scripts/image.sh build              # build only; prints the base used, the build time and the image size
#   bash scripts/image.sh run ARGS...        # `docker run --rm ARGS...` through podman and the workarounds below,
#                                            # e.g. run -v "$PWD/examples:/secrets:ro" source-amplitude:0.5.0 spec
#   bash scripts/image.sh tag                # prints the image's tag: source-amplitude:<pyproject.toml's version>
#
# The image is tagged source-amplitude:<version> (IMAGE=name:tag overrides it) and source-amplitude:dev (the tag
# acceptance-test-config.yml names). On a machine without podman, buildah, runc or mmdebstrap it installs Debian's
# packages (as root). Every workaround for this sandbox lives in this file:
#  1. The image is built on the Dockerfile's digest-pinned airbyte/python-connector-base when docker.io can be pulled
#     (the production image, what `docker build` gives). Where it cannot, on a stand-in built from Debian's packages
#     with mmdebstrap (bookworm, python3 3.11, user airbyte uid 1000, UTC, /airbyte) passed as --build-arg BASE_IMAGE:
#     good for the tests here, not an image to push (the build says so). BASE=standin skips the pull. PyPI is reached
#     through the sandbox's TLS-inspecting egress, so the stand-in trusts the host's extra CAs (PIP_CERT).
#  2. The sandbox has no CAP_SYS_RESOURCE: runc fails with "setrlimit ... Operation not permitted". podman and buildah
#     run a tiny wrapper around runc that deletes process.rlimits from the bundle's config.json first.
#  3. There is no Docker engine: a `docker` shim on PATH runs podman with that runtime, the host network and
#     AMPLITUDE_BASE_URL passed through, so the CDK's image tests (which call `docker run`) reach the fake Amplitude.
#  4. `airbyte-cdk connector test` takes the connector's name from its directory name (a clone may be called "main"),
#     so it runs on a copy of the sources in a directory named source-amplitude (a symlink is resolved back).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
source scripts/lib/run_pytest.sh
VERSION="$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml | head -1)"
IMAGE="${IMAGE:-source-amplitude:$VERSION}"  # a tag of our own, never the official airbyte/source-amplitude
DEV_IMAGE="source-amplitude:dev"
PINNED_BASE="$(sed -n 's/^ARG BASE_IMAGE=//p' Dockerfile)"
STANDIN_BASE="localhost/python-connector-base-standin:4.0.2-bookworm"
BASE_IMAGE="$PINNED_BASE"
TOOLS="$ROOT/build/container-tools"

install_container_tools() {
  local missing=()
  for tool in podman buildah runc mmdebstrap; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
  [ "${#missing[@]}" -eq 0 ] && return
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing ${missing[*]}: install Debian's podman buildah runc mmdebstrap packages (needs root)" >&2
    exit 1
  fi
  echo "== installing podman, buildah, runc, mmdebstrap from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    podman buildah runc mmdebstrap >/dev/null
}

write_shims() {
  mkdir -p "$TOOLS"
  # Workaround 2: runc without rlimits.
  local runc_path python_path
  runc_path="$(command -v runc)"
  python_path="$(command -v python3)"
  cat >"$TOOLS/runc-no-rlimits" <<EOF
#!/bin/sh
bundle=""
previous=""
for arg in "\$@"; do
  case "\$previous" in --bundle|-b) bundle="\$arg" ;; esac
  case "\$arg" in --bundle=*) bundle="\${arg#--bundle=}" ;; esac
  previous="\$arg"
done
if [ -n "\$bundle" ] && [ -f "\$bundle/config.json" ]; then
  $python_path -c 'import json, sys
with open(sys.argv[1]) as f: config = json.load(f)
config.get("process", {}).pop("rlimits", None)
with open(sys.argv[1], "w") as f: json.dump(config, f)' "\$bundle/config.json"
fi
exec $runc_path "\$@"
EOF
  # Workaround 3: docker -> podman.
  cat >"$TOOLS/docker" <<EOF
#!/bin/sh
if [ "\$1" = run ]; then
  shift
  case " \$* " in *" --network "*|*" --network="*|*" --net "*) ;; *) set -- --network host "\$@" ;; esac
  set -- run \${AMPLITUDE_BASE_URL:+-e AMPLITUDE_BASE_URL} "\$@"
fi
exec podman --runtime "$TOOLS/runc-no-rlimits" "\$@"
EOF
  chmod +x "$TOOLS/runc-no-rlimits" "$TOOLS/docker"
}

podman_() { podman --runtime "$TOOLS/runc-no-rlimits" "$@"; }

choose_base() {
  if [ "${BASE:-}" != "standin" ] &&
    { podman_ image exists "$PINNED_BASE" || podman_ pull --quiet "$PINNED_BASE" >/dev/null 2>&1; }; then
    echo "== base: $PINNED_BASE (the production base)"
    return
  fi
  BASE_IMAGE="$STANDIN_BASE"
  echo "== base: the stand-in $BASE_IMAGE (docker.io cannot be pulled here, or BASE=standin): an image for the tests" \
    "on this machine, not one to push; build the one to push with 'docker build' where docker.io is reachable"
  podman_ image exists "$BASE_IMAGE" && return
  echo "== building the stand-in base image $BASE_IMAGE (mmdebstrap, Debian bookworm)"
  local work
  work="$(mktemp -d)"
  mkdir -p "$work/extra-ca"
  cp /usr/local/share/ca-certificates/*.crt "$work/extra-ca/" 2>/dev/null || true
  mmdebstrap --quiet --variant=apt \
    --include=python3,python3-pip,python3-venv,python-is-python3,tzdata,ca-certificates \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook="cp $work/extra-ca/. \"\$1/usr/local/share/ca-certificates/\" -r" \
    --customize-hook='chroot "$1" update-ca-certificates >/dev/null' \
    --customize-hook='chroot "$1" useradd --uid 1000 --create-home --shell /bin/bash airbyte' \
    --customize-hook='mkdir -p "$1/airbyte" && chroot "$1" chown airbyte:airbyte /airbyte' \
    --customize-hook='ln -sf /usr/share/zoneinfo/Etc/UTC "$1/etc/localtime" && echo Etc/UTC >"$1/etc/timezone"' \
    bookworm "$work/rootfs.tar" http://deb.debian.org/debian
  podman_ import --quiet \
    --change 'ENV TZ=UTC' \
    --change 'ENV PIP_BREAK_SYSTEM_PACKAGES=1' \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV PYTHONUNBUFFERED=1' \
    --change 'WORKDIR /airbyte' \
    --change 'CMD ["/bin/bash"]' \
    "$work/rootfs.tar" "$BASE_IMAGE" >/dev/null
  rm -rf "$work"
}

build_image() {
  echo "== building $IMAGE from the project's Dockerfile (BASE_IMAGE=$BASE_IMAGE)"
  local started elapsed_ms
  started=$(date +%s%N)
  podman_ build --quiet --pull=never --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$IMAGE" -t "$DEV_IMAGE" . \
    >/dev/null
  elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
  printf '== built %s in %d.%d s; size %s\n' "$IMAGE" $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100)) \
    "$(podman_ image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1 / 1000000}')"
}

test_image() {
  echo "== image tests: ours and the CDK's (pytest -m image_tests --connector-image=$IMAGE)"
  PATH="$TOOLS:$PATH" run_pytest .venv/bin/python -m pytest -q -rs -m image_tests --connector-image="$IMAGE" \
    --read-from-streams=all image_tests integration_tests

  echo "== airbyte-cdk connector test (every standard test, image tests included, against a fake Amplitude)"
  # Workaround 4: a copy of the sources in a directory named source-amplitude (a symlink is resolved back).
  work_dir="$(mktemp -d)"
  trap 'kill "${fake_pid:-}" 2>/dev/null; rm -rf "$work_dir"' EXIT
  mkdir "$work_dir/source-amplitude"
  tar --exclude=./.venv --exclude=./.venv-pyairbyte --exclude=./.git --exclude=./build --exclude=./.tmp \
    --exclude=./bench/.cache --exclude=./demo-output -cf - . |
    tar -xf - -C "$work_dir/source-amplitude"
  local port
  port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  .venv/bin/python -m fake_amplitude --port "$port" --days 1 --events-per-hour 60 >/dev/null 2>&1 &
  fake_pid=$!
  for _ in $(seq 100); do
    .venv/bin/python -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
    sleep 0.2
  done
  (cd "$work_dir/source-amplitude" && PATH="$TOOLS:$PATH" AMPLITUDE_BASE_URL="http://127.0.0.1:$port" \
    run_pytest "$ROOT/.venv/bin/airbyte-cdk" connector test . --pytest-arg=-q --pytest-arg=-rs \
    --pytest-arg=-m --pytest-arg="image_tests or not image_tests" \
    --pytest-arg=--connector-image="$IMAGE" --pytest-arg=--read-from-streams=all)
}

if [ "${1:-}" = "tag" ]; then echo "$IMAGE"; exit 0; fi
bash scripts/setup.sh
install_container_tools
write_shims
case "${1:-test}" in
  build) choose_base; build_image ;;
  test) choose_base; build_image; test_image ;;
  run) shift; exec "$TOOLS/docker" run --rm "$@" ;;
  *) echo "usage: bash scripts/image.sh [build|test|run ARGS...|tag]" >&2; exit 2 ;;
esac
