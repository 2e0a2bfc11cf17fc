"""The loss plot: continuous lines, a legend beside (not on) the data, a stated log floor."""

from __future__ import annotations

import pytest
from _tui_helpers import asyncrun
from rich.console import Console

from descent_tui.tui.widgets.loss_plot import LOG_SPAN, log_floor, plotted


@pytest.fixture(autouse=True)
def _home(descent_home):
    return descent_home


#: the private missions (tests/missions/) the `missions` fixture installs
MISSION_FILES = ["underflow.toml"]


def test_an_underflowing_loss_is_drawn_at_the_floor_on_log_scale():
    cap = 15.0  # 1.5 × a starting loss of 10: the top is 10^1.18
    xs, ys, clamped = plotted([0, 1, 2, 3], [10.0, 1e-3, 1e-198, 0.0], log_scale=True, cap=cap)
    floor = log_floor(cap)
    assert floor == 1 - LOG_SPAN
    assert xs == [0, 1, 2, 3] and clamped
    assert ys[:2] == pytest.approx([1.0, -3.0])
    assert ys[2:] == [floor, floor]  # 1e-198 and an exact 0: at the floor, not at −198 / gone
    _, lin, clamped_lin = plotted([0, 1], [10.0, 1e-198], log_scale=False, cap=cap)
    assert lin == [10.0, 1e-198] and not clamped_lin


def painted(widget):
    """Rows of (char, fg hex) of what the plot renders."""
    console = Console(width=widget.size.width, color_system="truecolor", legacy_windows=False)
    lines = console.render_lines(widget.render(), console.options.update(
        width=widget.size.width, height=widget.size.height), pad=True)
    out = []
    for line in lines:
        row = []
        for seg in line:
            fg = seg.style.color.triplet.hex if seg.style and seg.style.color and \
                seg.style.color.triplet else None
            row.extend((ch, fg) for ch in seg.text)
        out.append(row)
    return out


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
@asyncrun
async def test_curves_are_continuous_the_legend_is_above_and_the_floor_is_stated(missions,
                                                                                 size):
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.run_style import run_style
    from descent_tui.tui.widgets.loss_plot import LossPlot

    app = DescentApp(initial="underflow")
    async with app.run_test(size=size) as pilot:
        for _ in range(3):
            await pilot.pause()
        app.screen.action_step(50)
        await pilot.press("l")  # log scale
        for _ in range(4):
            await pilot.pause()
        plot = app.screen.query_one(LossPlot)
        rows = painted(plot)
        text = ["".join(ch for ch, _ in row) for row in rows]
        assert "slow" in text[0] and "tiny" in text[0]
        assert not any("slow" in t or "tiny" in t for t in text[1:]), "legend inside the plot"
        assert plot.clamped and any(f"floor 1e{1 - LOG_SPAN}" in t for t in text)
        assert "1e-199" in text[0]  # the legend gives the true latest value (after 50 updates) ...
        assert not any("1e-19" in t for t in text[1:])  # ... the axis does not reach it
        for index in (0, 1):
            colour = run_style(index, app.current_theme.dark).color
            cols = sorted({c for row in rows[1:] for c, (_ch, fg) in enumerate(row)
                           if fg == colour})
            assert len(cols) > 10
            gaps = [b - a for a, b in zip(cols, cols[1:]) if b - a > 1]
            assert not gaps, f"run {index}: the line breaks at {gaps}"
