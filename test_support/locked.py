"""What poetry.lock pins and what an interpreter has installed, for the tests that check a virtualenv or the image
holds exactly that."""

from __future__ import annotations

import json
import subprocess
import tomllib
from collections.abc import Collection, Mapping
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name

LOCK = Path(__file__).resolve().parents[1] / "poetry.lock"


def locked_versions(groups: Collection[str], environment: Mapping[str, str]) -> dict[str, str]:
    """Name (canonical) -> version of every package of `groups` that applies in `environment` (marker variables:
    python_version, sys_platform...; the rest as for this interpreter)."""
    pinned: dict[str, str] = {}
    for package in tomllib.loads(LOCK.read_text())["package"]:
        wanted = [group for group in package.get("groups", []) if group in groups]
        if not wanted:
            continue
        markers = package.get("markers")
        conditions = [markers.get(group) for group in wanted] if isinstance(markers, dict) else [markers]
        if any(condition is None or Marker(condition).evaluate(dict(environment)) for condition in conditions):
            pinned[canonicalize_name(package["name"])] = package["version"]
    return pinned


# Run by the interpreter under test (this virtualenv's, or the image's): each package's version as `import` finds it,
# the first on sys.path (the image's stand-in base keeps Debian's own setuptools further down the path).
_INSTALLED = (
    "import importlib.metadata, json, platform\n"
    "found = {}\n"
    "for d in importlib.metadata.distributions(): found.setdefault(d.metadata['Name'], d.version)\n"
    "print(json.dumps({'python': platform.python_version(), 'installed': found}))\n"
)


def installed_versions(python: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Name (canonical) -> version of what the interpreter `python` (a command: a path, or `docker run ... python`)
    imports, and the marker variables to read the lock with for it (python_version)."""
    done = subprocess.run([*python, "-c", _INSTALLED], capture_output=True, text=True, check=True)
    found = json.loads(done.stdout)
    installed: dict[str, str] = {canonicalize_name(name): version for name, version in found["installed"].items()}
    return installed, {"python_version": found["python"].rsplit(".", 1)[0]}
