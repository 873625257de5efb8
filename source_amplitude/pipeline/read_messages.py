"""What every events-pipeline stream (events in either mode, merged_ids) says and checks the same way: a cursor
later than now, late and repaired lines, and what an interrupted read was doing."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Optional, TypeVar

from source_amplitude.errors import future_state_message
from source_amplitude.pipeline.hours import HOUR, export_hour, floor_hour
from source_amplitude.state.events import LATE_DATA_GRACE_HOURS, HourOutcome, missing_partitions

S = TypeVar("S")


def cursor_in_future(logger: logging.Logger, stream: str, cursor: Optional[datetime], now: datetime) -> bool:
    """A saved cursor later than now (a clock or a hand-edited state) reads nothing: WARN instead of silence."""
    if cursor is None or cursor <= floor_hour(now):
        return False
    logger.warning(future_state_message(stream, f"upload hour {export_hour(cursor)}", f"now ({now:%Y-%m-%dT%H:%MZ})"))
    return True


def stopped_message(stream: str, doing: Optional[str], cursor: Optional[datetime], also: str = "") -> Optional[str]:
    """For the one line an interrupted sync prints: what the read was doing and its last checkpoint."""
    if doing is None:
        return None
    checkpoint = "none yet (the next sync reads from start_date)"
    if cursor is not None:
        checkpoint = f"upload hour {export_hour(cursor)}{also}"
    return f"{stream} was {doing}; its last checkpoint: {checkpoint}"


def warn_late(
    logger: logging.Logger, stream: str, hour: datetime, partitions: Iterable[int], now: datetime, where: str = ""
) -> None:
    """The one WARN, in both modes, for partitions of an hour already checkpointed that turned up since."""
    late = (now - hour - HOUR).total_seconds() / 3600
    logger.warning(
        f"{stream}: upload hour {export_hour(hour)} arrived late: partition(s) {partition_numbers(partitions)}{where} "
        f"turned up {late:.0f} h after the hour ended (since the previous sync; Amplitude documents about 2 h) and "
        "were emitted now."
    )


def report_hour(
    logger: logging.Logger, stream: str, outcome: HourOutcome, emitted: frozenset[int], now: datetime
) -> None:
    """The WARN of an hour whose partitions came late, or that is given up incomplete."""
    hour = export_hour(outcome.hour)
    if outcome.was_pending and emitted:
        warn_late(logger, stream, outcome.hour, emitted, now)
    if outcome.given_up and outcome.delivered:
        missing = partition_numbers(missing_partitions(outcome.delivered))
        logger.warning(
            f"{stream}: upload hour {hour} is still missing partition(s) {missing} "
            f"more than {LATE_DATA_GRACE_HOURS} h after it ended; the partitions Amplitude published were emitted "
            "and the hour is no longer asked for."
        )
    elif outcome.given_up and outcome.was_pending:
        logger.info(
            f"{stream}: upload hour {hour} still has no data {LATE_DATA_GRACE_HOURS} h after it ended: an empty hour"
        )


def warn_repaired(logger: logging.Logger, stream: str, where: str, repairs: Counter[str]) -> None:
    """The one WARN per hour (or object) of what the lenient path changed: never a silent change."""
    if repairs:
        done = "; ".join(f"{count} {kind}" for kind, count in sorted(repairs.items()))
        logger.warning(
            f"{stream}: {where} held unusual lines or values: {done}. Everything else was emitted unchanged "
            '(docs/amplitude.md, "Unusual export lines").'
        )


def partition_numbers(partitions: Iterable[int]) -> str:
    return ", ".join(f"#{n}" for n in sorted(partitions))
