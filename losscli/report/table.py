"""How a results table fits the width it is given, without losing a digit.

A cell is never cut: when the table is wider than the terminal, the layout
changes instead. With few models and no groups the table is transposed (one
row per loss, one column per model); otherwise the losses are split over
several stacked tables that each repeat the key columns (groups, model, n,
rank). In a file or a pipe there is no width limit. As a last resort (one loss
wider than the terminal by itself) Rich folds the cell over two lines, which
still keeps every character.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Rich's default box: one border per column plus one, and a space of padding on each side.
_BORDER, _PADDING = 1, 2


@dataclass(frozen=True)
class Cell:
    text: str
    best: bool = False


@dataclass(frozen=True)
class Grid:
    """A table before it is laid out: key columns, blocks of loss columns, the rank column.

    ``blocks`` holds, per loss, the indices of its columns (the value, and its delta with
    --baseline); ``sections`` marks the rows that start a new group.
    """

    header: list[str]
    rows: list[list[Cell]]
    keys: list[int]
    blocks: list[list[int]]
    tail: list[int]
    sections: list[bool]
    left: int  # columns before this index are left-aligned (groups, model)

    def natural(self, column: int) -> int:
        """The width a column needs to show every cell on one line."""
        from rich.cells import cell_len

        return max(cell_len(t) for t in [self.header[column], *(row[column].text for row in self.rows)])

    def width(self, columns: Sequence[int]) -> int:
        return sum(self.natural(c) + _PADDING + _BORDER for c in columns) + _BORDER

    def transposed(self) -> Grid:
        """Losses as rows and models as columns (for tables without groups)."""
        model = self.keys[-2]  # the key columns end with model, n
        header = ["", *(row[model].text for row in self.rows)]
        rows = [[Cell(self.header[c]), *(row[c] for row in self.rows)] for c in self.keys[-1:]]
        for block in self.blocks:
            rows += [[Cell(self.header[c]), *(row[c] for row in self.rows)] for c in block]
        rows += [[Cell(self.header[c]), *(row[c] for row in self.rows)] for c in self.tail]
        columns = list(range(len(header)))
        return Grid(header, rows, [0], [[c] for c in columns[1:]], [], [False] * len(rows), 1)


def layouts(grid: Grid, limit: int | None, transpose: bool) -> list[tuple[Grid, list[int]]]:
    """The tables to print, each as (grid, its columns), fitting ``limit`` characters when it can."""
    every = [*grid.keys, *(c for block in grid.blocks for c in block), *grid.tail]
    if limit is None or grid.width(every) <= limit:
        return [(grid, every)]
    if transpose:
        turned = grid.transposed()
        if turned.width(range(len(turned.header))) <= limit:
            return [(turned, list(range(len(turned.header))))]
    return [(grid, columns) for columns in _stacks(grid, limit)]


def _stacks(grid: Grid, limit: int) -> list[list[int]]:
    """Loss blocks packed greedily into tables that repeat the key and rank columns."""
    stacks: list[list[int]] = []
    current: list[int] = []
    blocks = grid.blocks
    if any(grid.width([*grid.keys, *block, *grid.tail]) > limit for block in blocks):
        blocks = [[c] for block in blocks for c in block]  # a loss and its delta in tables of their own
    for block in blocks:
        if current and grid.width([*grid.keys, *current, *block, *grid.tail]) > limit:
            stacks.append(current)
            current = []
        current = [*current, *block]
    stacks.append(current)
    return [[*grid.keys, *stack, *grid.tail] for stack in stacks]


def rich_table(grid: Grid, columns: Sequence[int]) -> Any:
    """A Rich table of the chosen columns; every cell folds rather than being cut."""
    from rich.table import Table
    from rich.text import Text

    table = Table()
    for c in columns:
        table.add_column(Text(grid.header[c]), justify="left" if c < grid.left else "right", overflow="fold")
    for row, new_section in zip(grid.rows, grid.sections, strict=True):
        if new_section:
            table.add_section()
        # Text, not markup: a model called "a[1]" must print as it is.
        table.add_row(*(Text(row[c].text, style="bold green" if row[c].best else "") for c in columns))
    return table
