"""The gradient panel lays its table out itself (GridLines); Rich's Table.grid is the
reference it must agree with, cell for cell, at every width: cells that fit, and
cells cut with "…" when the columns are wider than the panel."""

from __future__ import annotations

import random

import pytest
from rich.console import Console, Group
from rich.segment import Segment
from rich.table import Table
from rich.text import Text
from textual.app import App, active_app
from textual.style import Style

from descent_tui.tui.widgets.layer_grads import GridLines

POOL = ["", "L1", "L12", "layer", "⋮", "1.0e-05", "1.0e+150", "NaN", "—", "100%", "dead",
        "|grad|", "log |grad|  ", "encoder.block.one", "████▍·····", "1e-10   1e-3   1e4", "ab "]
STYLES = ["", "bold", "dim", "#fe4d5e", "bold #4ee08a"]


def _cells(lines) -> list[list[tuple[str, str]]]:
    return [[(ch, str(seg.style) if seg.style else "") for seg in line for ch in seg.text]
            for line in lines]


def _rich_picture(rows, right, verdict, width):
    """What the panel showed when it built a Rich Table.grid and a Group."""
    table = Table.grid(padding=(0, 2, 0, 0))
    for r in right:
        table.add_column(justify="right" if r else "left", no_wrap=True)
    for row in rows:
        table.add_row(*(Text(text, style=style) for text, style in row))
    console = Console(width=width)
    segments = console.render(Group(table, verdict), console.options.update_width(width))
    return list(Segment.split_and_crop_lines(segments, width, include_new_lines=False, pad=False))


@pytest.fixture
def console_app():
    token = active_app.set(App())
    yield
    active_app.reset(token)


@pytest.mark.parametrize("seed", range(40))
def test_grid_lines_lay_out_as_rich_table_grid(console_app, seed):
    rng = random.Random(seed)
    ncols = rng.choice([3, 4, 6])
    right = [False, False] + [True] * (ncols - 2)
    rows = [[(rng.choice(POOL), rng.choice(STYLES)) for _ in range(ncols)]
            for _ in range(rng.randint(1, 5))]
    verdict = Text("▼ VANISHING: |g| L1/L8 = 3e-08 · all |g| < 1e-05: the whole stack stalled",
                   style=rng.choice(STYLES[1:]))
    for width in range(1, 90):
        grid = GridLines(rows, right, verdict).render_strips(width, None, Style(), None)
        assert _cells(grid) == _cells(_rich_picture(rows, right, verdict, width)), (width, rows)
