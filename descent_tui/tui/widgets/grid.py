"""A borderless grid of one-line cells, laid out by hand: what ``rich.table.Table.grid``
draws for the panels' small tables, at a fraction of its cost.

The panels under the plots (step sizes, gradient, layer gradients) redraw their
table at every step.  Rich's Table measures, pads and wraps every cell through
its general machinery: 15-25 ms for a table of six rows at each step, more than
the step and the plots together (``benchmarks/classroom_load.py``, where 30
sessions share two cores).  Their cells are single-line Texts that never wrap,
so the layout is simple: each column as wide as its widest cell, each cell
padded to its column (left- or right-justified), ``gap`` spaces between
columns, none after the last — the picture Table.grid(padding=(0, gap, 0, 0))
gives when the grid fits its width.  When it does not, :func:`grid` returns None
and the caller falls back to Rich's Table, which knows how to shrink columns.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

__all__ = ["grid", "rich_grid"]


def grid(rows: Sequence[Sequence[Text]], right: Sequence[bool], gap: int,
         width: int) -> Text | None:
    """``rows`` of cells as one Text (a line a row), or None if wider than ``width``.

    ``right[k]``: column ``k`` is right-justified (else left).  A row with fewer
    cells than columns leaves the rest empty.  No cell may hold a newline.
    """
    ncols = len(right)
    widths = [0] * ncols
    for row in rows:
        for k, cell in enumerate(row):
            widths[k] = max(widths[k], cell.cell_len)
    if sum(widths) + gap * max(0, ncols - 1) > width:
        return None
    out = Text(no_wrap=True, overflow="crop")
    for r, row in enumerate(rows):
        if r:
            out.append("\n")
        for k in range(ncols):
            cell = row[k] if k < len(row) else Text("")
            fill = widths[k] - cell.cell_len
            if right[k] and fill:
                out.append(" " * fill)
            out.append_text(cell)
            if not right[k] and fill and k < ncols - 1:
                out.append(" " * fill)
            if k < ncols - 1:
                out.append(" " * gap)
    return out


def rich_grid(rows: Sequence[Sequence[Text]], right: Sequence[bool], gap: int) -> Table:
    """The same grid as Rich's Table (for a grid wider than its panel: Rich shrinks it)."""
    table = Table.grid(padding=(0, gap, 0, 0))
    for r in right:
        table.add_column(justify="right" if r else "left", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    return table
