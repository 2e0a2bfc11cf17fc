"""The loss plot: continuous lines, a legend beside (not on) the data, a stated log floor."""

from __future__ import annotations

import numpy as np
import pytest
from _tui_helpers import MISSIONS, asyncrun

from descent_tui.tui.widgets.loss_plot import LOG_SPAN, log_floor, plotted
from descent_tui.tui.widgets.step_chart import moving_mean


@pytest.fixture(autouse=True)
def _home(descent_home):
    return descent_home


#: the private missions (tests/missions/) the `missions` fixture installs
MISSION_FILES = ["underflow.toml", "diverge-bowl.toml", "noisy-batches.toml", "below-zero.toml",
                 "two-floors.toml"]


def test_an_underflowing_loss_is_drawn_at_the_floor_on_log_scale():
    cap = 15.0  # 1.5 × a starting loss of 10: the top is 10^1.18
    xs, ys, clamped = plotted([0, 1, 2, 3], [10.0, 1e-3, 1e-198, 0.0], log_scale=True, cap=cap)
    floor = log_floor(cap)
    assert floor == 1 - LOG_SPAN
    assert list(xs) == [0, 1, 2, 3] and clamped
    assert list(ys[:2]) == pytest.approx([1.0, -3.0])
    assert list(ys[2:]) == [floor, floor]  # 1e-198 and an exact 0: at the floor, not −198 / gone
    _, lin, clamped_lin = plotted([0, 1], [10.0, 1e-198], log_scale=False, cap=cap)
    assert list(lin) == [10.0, 1e-198] and not clamped_lin
    xs, ys, _ = plotted([0, 1, 2], [1.0, float("nan"), 0.5], log_scale=True, cap=cap)
    assert list(xs) == [0, 2] and list(ys) == pytest.approx([0.0, -0.30103], abs=1e-5)


def _hex(color):
    return color.triplet.hex if color is not None and color.triplet else None


def painted(widget):
    """Rows of (char, colours) of what the plot draws (its lines, as the screen gets them).

    A cell's colours are those a reader sees in it: the foreground of a character,
    and on a half-block cell (``▀``) its upper pixel (the foreground) and its lower
    one (the background).
    """
    out = []
    for y in range(widget.size.height):
        row = []
        for seg in widget.render_line(y):
            fg, bg = _hex(seg.style.color), _hex(seg.style.bgcolor)
            for ch in seg.text:
                seen = {fg, bg} if ch == "▀" else ({fg} if ch != " " else set())
                row.append((ch, seen))
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
            cols = sorted({c for row in rows[1:] for c, (_ch, seen) in enumerate(row)
                           if colour in seen})
            assert len(cols) > 10
            gaps = [b - a for a, b in zip(cols, cols[1:]) if b - a > 1]
            assert not gaps, f"run {index}: the line breaks at {gaps}"


@asyncrun
async def test_a_diverged_run_s_legend_gives_the_loss_that_tripped_the_alarm(missions):
    """The history keeps only healthy points, so the curve's last point is the step
    before the alarm; the legend says what the status line says."""
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.loss_plot import LossPlot, short_value

    app = DescentApp(initial="diverge-bowl")
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(3):
            await pilot.pause()
        app.screen.action_step(20)
        for _ in range(4):
            await pilot.pause()
        wild = app.screen.sim.runs[1]
        assert wild.diverged and wild.diverged_at == 11
        alarm, before = wild.last.loss, float(wild.history.series("loss")[-1])
        assert alarm > 1e4 > before
        (key,) = [k for k in app.screen.query_one(LossPlot).legend if k.label == "wild"]
        assert key.value == "✖ " + short_value(alarm)
        (calm,) = [k for k in app.screen.query_one(LossPlot).legend if k.label == "calm"]
        assert "✖" not in calm.value


def test_the_moving_mean_is_centred_shrinks_at_the_ends_and_skips_inf():
    assert list(moving_mean(np.array([0.0, 3, 0, 3, 0]), 1)) == [1.5, 1, 2, 1, 1.5]
    assert list(moving_mean(np.array([1.0, np.inf, 3.0]), 1)) == [1, 2, 3]
    assert list(moving_mean(np.array([1.0, 2.0]), 3)) == [1, 2]  # too short: as it is


@asyncrun
async def test_a_mini_batch_run_is_drawn_as_its_trend_over_a_faint_band(missions):
    """One example a step: the training loss jumps from example to example. Its line is
    a moving mean (it wanders far less than the raw losses), the axis says so, and the
    full-batch run, whose loss is the whole set's, is drawn as it is."""
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.loss_plot import LossPlot

    app = DescentApp(initial="noisy-batches")
    async with app.run_test(size=(160, 50)) as pilot:
        for _ in range(3):
            await pilot.pause()
        app.screen.action_step(120)
        for _ in range(4):
            await pilot.pause()
        plot = app.screen.query_one(LossPlot)
        full, single = (c for c in plot.curves if not c.dotted)
        assert not full.smooth and single.smooth
        assert "line = moving mean" in plot.note
        raw = np.asarray(single.values, dtype=float)
        trend = moving_mean(raw, 5)
        assert np.abs(np.diff(trend)).sum() < np.abs(np.diff(raw)).sum() / 3
        text = "".join(ch for row in painted(plot) for ch, _ in row)
        assert "moving mean" in text
        # its legend: the mean of its last batch losses (the level the line ends at),
        # not the last single example's, which can dip far below it
        from descent_tui.tui.widgets.loss_plot import avg_window, short_value

        keys = {k.label: k.value for k in plot.legend}
        w = avg_window(120)
        assert w == 7 and f"avg = last {w}" in plot.note
        assert keys["single"] == "avg " + short_value(raw[-w:].mean())
        assert keys["full"] == short_value(float(full.values[-1]))
        # the accuracy panel: one example a step scores 0 % or 100 %, drawn as its trend
        from descent_tui.tui.widgets.accuracy import AccuracyPanel

        acc = app.screen.query_one(AccuracyPanel)
        full_acc, single_acc = (c for c in acc.curves if not c.dotted)
        assert not full_acc.smooth and single_acc.smooth
        assert set(np.unique(single_acc.values[1:])) <= {0.0, 1.0}
        assert "line = moving mean" in acc.note


@asyncrun
async def test_a_mission_can_open_its_loss_plot_on_log_scale(missions, tmp_path):
    """``log_scale = true`` in the file: the plot opens as "LOSS (log₁₀)", ``l`` still
    toggles it, and a reset keeps what the learner chose; without the key it opens linear."""
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.loss_plot import LossPlot

    source = (MISSIONS / "underflow.toml").read_text(encoding="utf-8")
    logged = tmp_path / "underflow-log.toml"
    logged.write_text(source.replace('id = "underflow"', 'id = "underflow-log"\nlog_scale = true'),
                      encoding="utf-8")
    for target, first in ((str(logged), "LOSS (log₁₀)"), ("underflow", "LOSS")):
        app = DescentApp(initial=target)
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(3):
                await pilot.pause()
            app.screen.action_step(5)
            await pilot.pause()
            plot = app.screen.query_one(LossPlot)
            assert plot.border_title == first, target
            await pilot.press("l")
            await pilot.pause()
            assert plot.border_title != first
            await pilot.press("l", "x")  # back, then a reset
            await pilot.pause()
            app.screen.action_step(1)
            await pilot.pause()
            assert plot.border_title == first


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (160, 50)])
@asyncrun
async def test_step_labels_sit_on_their_ticks_beside_a_note(missions, size):
    """With a note at the right end of the step axis ("floor 1e-11"), the last step
    label was pushed left against the note ("200 300 floor") instead of being left out:
    every label drawn must be centred on its step's column."""
    import re

    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.loss_plot import LossPlot
    from descent_tui.tui.widgets.step_chart import MARGIN

    app = DescentApp(initial="underflow")
    async with app.run_test(size=size) as pilot:
        for _ in range(3):
            await pilot.pause()
        app.screen.action_step(50)
        await pilot.press("l")
        for _ in range(4):
            await pilot.pause()
        plot = app.screen.query_one(LossPlot)
        assert plot.note
        axis = "".join(ch for ch, _ in painted(plot)[-1])
        pw = plot.size.width - MARGIN  # the plot's columns, right of the y labels
        before_note = axis[:axis.index(plot.note)]
        labels = [(m.start() - MARGIN, m.group()) for m in re.finditer(r"\d+", before_note)]
        assert len(labels) >= 2
        for start, text in labels:
            centre = start + len(text) / 2
            col = int(text) / plot.total * (pw - 1)
            assert abs(centre - col) <= len(text) / 2 + 1, (axis, text, col)


@asyncrun
async def test_log_scale_is_refused_when_a_loss_is_below_zero(missions, tmp_path):
    """Drawn at the log floor, a loss of −0.9 would pass for a tiny one: the plot stays
    linear, says why, and its range reaches below 0."""
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.loss_plot import LossPlot

    app = DescentApp(initial="below-zero")
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(3):
            await pilot.pause()
        app.screen.action_step(30)
        await pilot.press("l")
        for _ in range(4):
            await pilot.pause()
        plot = app.screen.query_one(LossPlot)
        assert app.screen.log_scale and plot.log_refused and not plot.log_scale
        assert plot.y_range[0] < -0.5  # the floor, near −1, is inside the plot
        text = ["".join(seg.text for seg in plot.render_line(y)) for y in range(plot.size.height)]
        assert any("losses < 0: no log scale" in t for t in text)
        assert "log" not in str(plot.border_title)  # the title says what is drawn ...
        from descent_tui.tui.widgets.status import StatusLine

        assert " log" not in str(app.screen.query_one(StatusLine).render())  # ... so does the status
        await pilot.press("l")  # back to linear: nothing to refuse
        for _ in range(4):
            await pilot.pause()
        assert not plot.log_refused
        assert not any("no log scale" in "".join(seg.text for seg in plot.render_line(y))
                       for y in range(plot.size.height))


@asyncrun
async def test_y_fits_the_latest_half_so_ends_squeezed_by_the_start_come_apart(missions):
    """two-floors: both runs start at 17 and end at −1 and −0.53, a fortieth of the range
    apart. ``y`` fits the range to steps 30 on (the slow run is at 1.89 there), the note
    says so, the ends lie far apart; ``y`` again gives the whole range back."""
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.loss_plot import LossPlot

    app = DescentApp(initial="two-floors")
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(3):
            await pilot.pause()
        screen = app.screen
        screen.action_step(60)
        await pilot.pause()
        plot = screen.query_one(LossPlot)
        quick, slow = screen.sim.runs
        assert plot.y_range == pytest.approx((-1.0, 17.0), abs=1e-6)
        assert "y fits" not in plot.note
        await pilot.press("y")
        await pilot.pause()
        assert screen.loss_fit and plot.fit_recent
        slow_at_30 = float(slow.history.series("loss")[list(slow.history.steps).index(30)])
        assert slow_at_30 == pytest.approx(1.8945, abs=1e-3)
        assert plot.y_range == pytest.approx((-1.0, slow_at_30), abs=1e-6)
        assert plot.note == "y fits steps ≥ 30"
        text = ["".join(seg.text for seg in plot.render_line(y)) for y in range(plot.size.height)]
        assert any("y fits steps ≥ 30" in t for t in text)
        # the two ends: a fortieth of the range apart before, a sixth of it now
        lo, hi = plot.y_range
        assert (slow.last.loss - quick.last.loss) / (hi - lo) > 0.15
        await pilot.press("y")
        await pilot.pause()
        assert plot.y_range == pytest.approx((-1.0, 17.0), abs=1e-6) and "y fits" not in plot.note
