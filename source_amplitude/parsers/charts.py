"""Saved-chart CSV (GET /api/3/chart/{id}/csv answers JSON {"data": "<CSV>"}): parse and unpivot. Pure.

The recorded layout (unit_tests/resources/recorded/chart_csv.json): every cell quoted, text cells prefixed with a
TAB, CRLF; a preamble (title, description, blank, metric, event line(s), blank), then a header row whose first
cell(s) name the row labels (e.g. "Segment", or one column per group-by) followed by the x-axis values (dates, funnel
steps, retention days), then one row per segment or group. Blank label cells repeat the label above (forward-fill)."""

from __future__ import annotations

import csv
import io
from collections import Counter
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
    """The layout is blocks of rows separated by blank rows: [title, description], [metric, events...], then the
    table. Preamble rows may hold several cells (a funnel lists its steps' events on one line, a retention chart its
    starting and returning events), so blocks, not cell counts, tell the preamble from the table."""
    blocks = _blocks(list(csv.reader(io.StringIO(text))))
    if len(blocks) >= 3:
        preamble, table = blocks[:2], [row for block in blocks[2:] for row in block]
    elif len(blocks) == 2 and len(blocks[1][0]) > 1:
        preamble, table = blocks[:1], blocks[1]
    elif len(blocks) == 1 and len(blocks[0]) > 1 and len(blocks[0][0]) > 1:
        preamble, table = [], blocks[0]
    else:
        preamble, table = blocks, []
    title_cells = _cells(preamble[0]) if preamble else []
    metric_cells = _cells(preamble[1]) if len(preamble) > 1 else []
    title, description = _first(title_cells), _second(title_cells)
    metric, events = _first(metric_cells), tuple(metric_cells[1:])
    if not table:
        return ChartTable(title, description, metric, events, (), (), ())
    header = [_text(cell) for cell in table[0]]
    data_rows = table[1:]
    label_count = _label_count(data_rows)
    label_count = max(1, min(label_count, len(header) - 1))
    parsed_rows = []
    previous: list[str] = [""] * label_count
    for row in data_rows:
        labels = [_text(cell) for cell in [*row, *[""] * label_count][:label_count]]
        labels = [label or previous[i] for i, label in enumerate(labels)]  # forward-fill group-by labels
        previous = labels
        values = [*row[label_count:], *[""] * (len(header) - len(row))][: len(header) - label_count]
        parsed_rows.append((tuple(labels), tuple(values)))
    return ChartTable(
        title,
        description,
        metric,
        events,
        tuple(header[:label_count]),
        tuple(header[label_count:]),
        tuple(parsed_rows),
    )


def _is_blank(row: list[str]) -> bool:
    return not any(_text(cell) for cell in row)


def _blocks(rows: list[list[str]]) -> list[list[list[str]]]:
    blocks: list[list[list[str]]] = [[]]
    for row in rows:
        if not _is_blank(row):
            blocks[-1].append(row)
        elif blocks[-1]:
            blocks.append([])
    return [block for block in blocks if block]


def _cells(block: list[list[str]]) -> list[str]:
    """The non-blank cells of a preamble block, row by row."""
    return [_text(cell) for row in block for cell in row if _text(cell)]


def _label_count(rows: list[list[str]]) -> int:
    """Label cells are text (TAB-prefixed); a blank first cell is a label repeated from the row above. The count
    most rows agree on wins (ties: the larger), so one row whose values are text or blank shifts nothing."""
    counts = Counter(_leading_text_cells(row) for row in rows)
    if not counts:
        return 1
    return max(counts, key=lambda count: (counts[count], count))


def _leading_text_cells(row: list[str]) -> int:
    count = 0
    for index, cell in enumerate(row):
        if not (cell.startswith("\t") or (index == 0 and cell == "")):
            break
        count += 1
    return count


def _first(cells: list[str]) -> Optional[str]:
    return cells[0] if cells else None


def _second(cells: list[str]) -> Optional[str]:
    return cells[1] if len(cells) > 1 else None


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
        "filters": None,  # not in the CSV, and no Basic-auth endpoint exposes them (docs/amplitude-api-notes.md)
        "row_count": len(table.rows),
        "column_count": len(table.columns),
    }
