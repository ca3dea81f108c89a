"""Small-count suppression: no report shows a count small enough to single someone out.

A count from 1 to REPORT_MIN_COUNT - 1 is shown as "<N" (0 is shown: it names nobody). In a
table with totals, one hidden cell in a row or column could be worked out from the total and the
others, so a second cell is hidden there too, shown as "*" (the smallest shown one; repeated until
every row and column hides none or at least two). Rates hide when either part is too small.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Cell = int | str  # a count, or the suppression label
SECONDARY = "*"  # a cell hidden only so that a small one cannot be worked out from the totals


@dataclass(frozen=True)
class Suppressor:
    """Hide small counts under a threshold."""

    minimum: int = 3

    @property
    def label(self) -> str:
        """Return what a hidden count shows."""
        return f"<{self.minimum}"

    def hides(self, count: int) -> bool:
        """Say whether a count is too small to show."""
        return 0 < count < self.minimum

    def cell(self, count: int) -> Cell:
        """Return a count, or the label when it is too small."""
        return self.label if self.hides(count) else count

    def rate(self, part: int, whole: int) -> float | str | None:
        """Return part/whole, hidden when the part, the rest or the whole is too small (None: no whole)."""
        if whole == 0:
            return None
        if self.hides(part) or self.hides(whole - part) or whole < self.minimum:
            return self.label
        return round(part / whole, 3)

    def table(self, counts: dict[str, dict[str, int]], rows: list[str], columns: list[str],
              row_totals: dict[str, int] | None = None, additive_rows: bool = True) -> Table:
        """Suppress a table of counts with its totals (row totals: given, or the sum when additive)."""
        return suppress_table(self, counts, rows, columns, row_totals, additive_rows)


@dataclass
class Table:
    """A suppressed table: rows x columns of cells, row totals, column totals and the grand total."""

    rows: list[str]
    columns: list[str]
    cells: dict[str, dict[str, Cell]] = field(default_factory=dict)
    row_totals: dict[str, Cell] = field(default_factory=dict)
    column_totals: dict[str, Cell] = field(default_factory=dict)
    total: Cell = 0

    def as_json(self) -> dict[str, object]:
        """Return the table as the stats API shows it."""
        return {"rows": self.rows, "columns": self.columns, "cells": self.cells, "row_totals": self.row_totals,
                "column_totals": self.column_totals, "total": self.total}

    def column(self, name: str) -> list[Cell]:
        """Return one column's cells, row by row."""
        return [self.cells[row][name] for row in self.rows]


Position = tuple[str, str]  # (row, column); "*" stands for a total


def suppress_table(suppressor: Suppressor, counts: dict[str, dict[str, int]], rows: list[str], columns: list[str],
                   row_totals: dict[str, int] | None, additive_rows: bool) -> Table:
    """Hide small cells, then hide more until no row or column has a lone hidden cell."""
    values: dict[Position, int] = {}
    for row in rows:
        for column in columns:
            values[(row, column)] = counts.get(row, {}).get(column, 0)
        values[(row, "*")] = (row_totals or {}).get(row, sum(values[(row, c)] for c in columns))
    for column in columns:
        values[("*", column)] = sum(values[(r, column)] for r in rows)
    values[("*", "*")] = sum(values[(r, "*")] for r in rows)
    lines = [[(row, c) for c in [*columns, "*"]] for row in [*rows, "*"]]
    lines += [[(r, column) for r in [*rows, "*"]] for column in [*columns, "*"]]
    if not additive_rows:  # a row total is not the sum of its cells: rows need no secondary hiding
        lines = lines[len(rows) + 1:]
    small = {position for position, count in values.items() if suppressor.hides(count)}
    hidden = set(small)
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(1 for p in line if p in hidden) != 1:
                continue
            shown = sorted((values[p], p[0] == "*" or p[1] == "*", p) for p in line if p not in hidden and values[p])
            if shown:
                hidden.add(shown[0][2])
                changed = True

    def show(position: Position) -> Cell:
        if position in hidden:
            return suppressor.label if position in small else SECONDARY
        return values[position]

    return Table(rows, columns,
                 cells={row: {c: show((row, c)) for c in columns} for row in rows},
                 row_totals={row: show((row, "*")) for row in rows},
                 column_totals={c: show(("*", c)) for c in columns},
                 total=show(("*", "*")))
