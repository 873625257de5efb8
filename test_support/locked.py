"""What poetry.lock pins, for the tests that check a virtualenv or the image holds exactly that."""

from __future__ import annotations

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
