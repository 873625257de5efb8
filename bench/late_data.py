"""Prints, for each late-data case, how many events were expected, delivered, missing and duplicated over the
consecutive incremental syncs of integration_tests/test_late_data.py (four days of syncs, hourly to daily, while
the fake Amplitude's clock moves).

    .venv/bin/python bench/late_data.py                       # this checkout
    PYTHONPATH=/path/to/other/checkout .venv/bin/python bench/late_data.py   # another version of source_amplitude
"""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parents[1]))  # after PYTHONPATH, so another checkout can be measured


import source_amplitude
from test_support.late_data import FIRST, dataset, late_amplitude, report, run_syncs

CASES: dict[str, dict[str, Any]] = {
    "on time (2 h)": {},
    "every hour 5 h late": {"publish_delay": timedelta(hours=5)},
    "every hour 14 h late": {"publish_delay": timedelta(hours=14)},
    "partition #1 of two hours 10 h late": {
        "late_partitions": {
            (FIRST + timedelta(hours=3), 1): timedelta(hours=10),
            (FIRST + timedelta(hours=30), 1): timedelta(hours=10),
        }
    },
    "random delays 0-20 h": {
        "late_hours": {h: timedelta(hours=(i * 7) % 21) for i, h in enumerate(dataset().upload_hours())}
    },
}


def main() -> None:
    logging.disable(logging.CRITICAL)
    print(f"source_amplitude from {Path(source_amplitude.__file__).parent}")
    print(f"{'case':40} {'expected':>9} {'delivered':>9} {'missing':>8} {'duplicated':>10}")
    for name, faults in CASES.items():
        data = dataset()
        with late_amplitude(data, **faults) as fake:
            emitted, _ = run_syncs(fake)
        row = report(emitted, data.uuids())
        print(f"{name:40} {row['expected']:>9} {row['delivered']:>9} {row['missing']:>8} {row['duplicated']:>10}")


if __name__ == "__main__":
    main()
