"""One plain-text table layout for a lesson's printouts: rows of named values in aligned columns.

A lesson computes a dictionary per row (column name to value) and hands the rows here, so that the cell shows the
computation and not a line of alignment widths. Numbers are formatted by a per-column format spec (``".3f"``,
``"+.3f"``, ``".2%"``, ...); strings are printed as they are; a missing or ``None`` value prints as ``-``. The row
labels are left-aligned, the values right-aligned, and every column is as wide as its widest entry.

Example:
    >>> print(aligned_table({"plain": {"mean IoU": 0.8, "seeds": "0-5"}, "Dice": {"mean IoU": 0.82}},
    ...                     {"mean IoU": ".3f"}, label="loss"))
    loss   mean IoU  seeds
    plain     0.800    0-5
    Dice      0.820      -
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["MISSING", "aligned_table"]

MISSING = "-"  # what a value that a row lacks prints as


def _cell(value: Any, spec: str) -> str:
    """One value as text: ``None`` as :data:`MISSING`, strings as they are, anything else through ``spec``."""
    if value is None:
        return MISSING
    if isinstance(value, str):
        return value
    return format(float(value) if hasattr(value, "item") else value, spec)


def aligned_table(
    rows: Mapping[str, Mapping[str, Any]],
    formats: Mapping[str, str] | None = None,
    *,
    label: str = "",
    title: str | None = None,
    number_format: str = "",
    gap: int = 2,
) -> str:
    """Lay rows of named values out in aligned columns.

    Args:
        rows: Row label to that row's values, column name to value. The columns are the column names in the order
            they first appear; a row without a column prints :data:`MISSING` there.
        formats: Column name to a format spec for its numbers (e.g. ``".3f"``); a column without one uses
            ``number_format``. Numpy and torch scalars are read as floats.
        label: The heading of the row-label column.
        title: A first line above the header; none by default.
        number_format: The format spec of the columns that ``formats`` does not name (``""``: Python's default).
        gap: The spaces between two columns.

    Returns:
        The table as lines of text, without a trailing newline or trailing spaces.

    Raises:
        ValueError: If ``rows`` is empty or ``gap`` is below 1.
    """
    if not rows:
        raise ValueError("aligned_table needs at least one row; rows is empty")
    if gap < 1:
        raise ValueError(f"gap must be at least 1 space; got {gap}")
    formats = formats or {}
    columns = list(dict.fromkeys(column for values in rows.values() for column in values))
    cells = {row: [_cell(values.get(column), formats.get(column, number_format)) for column in columns]
             for row, values in rows.items()}  # row label -> the row's texts, one per column
    first = max(len(label), *(len(row) for row in rows))
    widths = [max(len(column), *(len(texts[index]) for texts in cells.values()))
              for index, column in enumerate(columns)]  # each column as wide as its widest entry
    space = " " * gap
    lines = [] if title is None else [title]
    lines.append(f"{label:<{first}}" + "".join(f"{space}{column:>{width}}" for column, width in zip(columns, widths)))
    for row, texts in cells.items():
        lines.append(f"{row:<{first}}" + "".join(f"{space}{text:>{width}}" for text, width in zip(texts, widths)))
    return "\n".join(line.rstrip() for line in lines)
