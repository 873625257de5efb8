"""How many CPUs this process may really use: its affinity (taskset, a cpuset) and its cgroup's CPU quota (what a
Kubernetes CPU limit becomes) both count. os.cpu_count() sees neither."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Optional

CGROUP_V2_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")  # "<quota> <period>" or "max <period>"
CGROUP_V1_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")  # -1: no limit
CGROUP_V1_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")


def usable_cpus() -> int:
    """Whole CPUs this process can use, at least 1: a quota of 1.5 CPUs is 1 (a second busy process would be
    throttled)."""
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = cgroup_cpu_quota()
    cpus = affinity if quota is None else min(affinity, math.floor(quota))
    return max(1, cpus)


def cgroup_cpu_quota() -> Optional[float]:
    """The cgroup's CPU limit in CPUs, or None when there is none (or no cgroup file to read)."""
    try:
        quota, period = CGROUP_V2_CPU_MAX.read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        v1_quota = int(CGROUP_V1_QUOTA.read_text())
        return None if v1_quota <= 0 else v1_quota / int(CGROUP_V1_PERIOD.read_text())
    except (OSError, ValueError):
        return None


def conversion_workers(cpus: int) -> int:
    """One worker per CPU from two on (the connector's own process mostly copies their files to stdout inside the
    kernel); none on one CPU, where worker processes would only take turns with the connector: the records are
    converted in-process."""
    return cpus if cpus >= 2 else 0
