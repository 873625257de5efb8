"""Saved-chart CSV (GET /api/3/chart/{id}/csv answers JSON {"data": "<CSV>"}): parse and unpivot. Pure.

The recorded layout (shared/recorded/chart_csv.json): every cell quoted, text cells prefixed with a TAB, CRLF; a
preamble of single-cell rows (title, description, blank, metric, event line(s), blank), then a header row whose first
cell(s) name the row labels (e.g. "Segment", or one column per group-by) followed by the x-axis values (dates, funnel
steps, retention days), then one row per segment or group. Blank label cells repeat the label above (forward-fill)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any, Optional

LABEL_SEPARATOR = " / "


@dataclass(frozen=True)
class ChartTable:
    title: Optional[str]
    description: Optional[str]
    metric: Optional[str]
    events: tuple[str, ...]
    label_headers: tuple[str, ...]
    columns: tuple[str, ...]
    rows: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]  # (labels, raw value cells)

    @property
    def dimension_name(self) -> str:
        return LABEL_SEPARATOR.join(self.label_headers)


def _text(cell: str) -> str:
    return cell[1:].strip() if cell.startswith("\t") else cell.strip()


def parse_number(cell: str) -> Optional[float]:
    """'1,234' -> 1234, '12.5%' -> 12.5, '' -> None; text that is no number -> None."""
    text = _text(cell).replace(",", "").rstrip("%").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def parse_chart_csv(text: str) -> ChartTable:
    rows = list(csv.reader(io.StringIO(text)))
    header_index = next((i for i, row in enumerate(rows) if len(row) > 1), None)
    preamble = rows if header_index is None else rows[:header_index]
    blocks: list[list[str]] = [[]]
    for row in preamble:
        cell = _text(row[0]) if row else ""
        if cell:
            blocks[-1].append(cell)
        elif blocks[-1]:
            blocks.append([])
    first = blocks[0] if blocks else []
    second = blocks[1] if len(blocks) > 1 else []
    if header_index is None:
        return ChartTable(_first(first), _second(first), _first(second), tuple(second[1:]), (), (), ())
    data_rows = [row for row in rows[header_index + 1 :] if any(cell.strip() for cell in row)]
    label_count = max([_leading_text_cells(row) for row in data_rows] or [1])
    label_count = max(1, min(label_count, len(rows[header_index]) - 1))
    header = [_text(cell) for cell in rows[header_index]]
    parsed_rows = []
    previous: list[str] = [""] * label_count
    for row in data_rows:
        labels = [_text(cell) for cell in row[:label_count]]
        labels = [label or previous[i] for i, label in enumerate(labels)]  # forward-fill group-by labels
        previous = labels
        values = [*row[label_count:], *[""] * (len(header) - len(row))][: len(header) - label_count]
        parsed_rows.append((tuple(labels), tuple(values)))
    return ChartTable(
        _first(first),
        _second(first),
        _first(second),
        tuple(second[1:]),
        tuple(header[:label_count]),
        tuple(header[label_count:]),
        tuple(parsed_rows),
    )


def _leading_text_cells(row: list[str]) -> int:
    """Label cells are text (TAB-prefixed); a blank first cell is a label repeated from the row above."""
    count = 0
    for index, cell in enumerate(row):
        if not (cell.startswith("\t") or (index == 0 and cell == "")):
            break
        count += 1
    return count


def _first(block: list[str]) -> Optional[str]:
    return block[0] if block else None


def _second(block: list[str]) -> Optional[str]:
    return block[1] if len(block) > 1 else None


def chart_records(chart_id: str, table: ChartTable) -> list[dict[str, Any]]:
    """One record per (row, column): the table unpivoted, with indexes to rebuild it."""
    records = []
    for row_index, (labels, values) in enumerate(table.rows):
        for column_index, (segment, cell) in enumerate(zip(table.columns, values)):
            records.append(
                {
                    "chart_id": chart_id,
                    "dimension_name": table.dimension_name,
                    "dimension_value": LABEL_SEPARATOR.join(labels),
                    "segment": segment,
                    "value": parse_number(cell),
                    "value_text": _text(cell) or None,
                    "row_index": row_index,
                    "column_index": column_index,
                }
            )
    return records


def chart_metadata(chart_id: str, table: ChartTable) -> dict[str, Any]:
    return {
        "chart_id": chart_id,
        "title": table.title,
        "description": table.description,
        "metric": table.metric,
        "event": ", ".join(table.events) or None,
        "events": list(table.events),
        "dimension": table.dimension_name or None,
        "filters": None,  # the CSV does not carry them and no Basic-auth endpoint exposes them (amplitude-api.md §3.13)
        "row_count": len(table.rows),
        "column_count": len(table.columns),
    }
