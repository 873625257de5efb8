"""The benchmark's picture: records/s side by side, and each connector's RSS over the run."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class Result(Protocol):
    """What a benchmark run gives the picture (bench/events_benchmark.py's Result)."""

    name: str
    records_per_second: float
    rss_samples: list[tuple[float, int]]


COLORS = ("#1f77b4", "#9a9a9a")  # this connector, the official one


def draw(results: list[Result], path: Path, subtitle: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (speed, memory) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1, 2]})
    names = [r.name for r in results]
    bars = speed.bar(names, [r.records_per_second for r in results], color=COLORS[: len(results)])
    speed.bar_label(bars, labels=[f"{r.records_per_second:,.0f}" for r in results], padding=3)
    speed.set_ylabel("records / second")
    speed.set_title("events read speed")
    speed.margins(y=0.15)
    for result, color in zip(results, COLORS):
        seconds = [t for t, _ in result.rss_samples]
        megabytes = [rss / 2**20 for _, rss in result.rss_samples]
        label = f"{result.name}: peak {result.peak_rss_bytes / 2**20:.0f} MB"
        memory.plot(seconds, megabytes, color=color, label=label)
    memory.set_xlabel("seconds since the read started")
    memory.set_ylabel("RSS of the process tree (MB)")
    memory.set_title("memory over the read")
    # Headroom above the highest sample keeps the legend off the lines (the official connector
    # spikes in its first second).
    highest = max(rss for result in results for _, rss in result.rss_samples) / 2**20
    memory.set_ylim(0, highest * 1.35)
    memory.legend(loc="upper right")
    figure.suptitle(f"source-amplitude vs official 0.6.19: {subtitle}")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
