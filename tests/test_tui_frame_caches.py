"""What a frame keeps from the last one draws exactly what a cold rebuild draws.

The mission screen's views keep work between frames (the landscape each run's path
pixels, the redrawn widgets their unchanged rows) and the charts draw every curve
in one batch. Each test compares the picture on screen (warm) with the picture
built again from nothing (cold) after the things that must invalidate what was
kept: steps, a resize, the log scale, a step back on the timeline (``[``), a reset
to step 0.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from _tui_helpers import asyncrun, skip_predictions

MISSION_FILES = ["five-runs.toml", "tiny-net.toml", "watched-bowl.toml"]


@pytest.fixture(autouse=True)
def _home(descent_home):
    return descent_home


def picture(lines):
    """The cells of strips: (text, style) of every segment, row by row."""
    return [[(seg.text, seg.style) for seg in strip] for strip in lines]


def cold(widget):
    """The widget's picture built again with nothing kept from earlier frames."""
    widget._drawn = None
    if hasattr(widget, "_paths"):
        widget._paths = {}
    return picture(widget._build())


async def settle(pilot, n=4):
    for _ in range(n):
        await pilot.pause()


async def check_all(app, pilot, names, when):
    await settle(pilot)
    screen = app.screen
    for name in names:
        widget = screen.query_one(name)
        if widget.size.width == 0 or not widget.display:
            continue
        warm = picture([widget.render_line(y) for y in range(widget.size.height)])
        assert warm == cold(widget), f"{name}: the kept picture went stale after {when}"


async def walk(app, pilot, names):
    """Steps, a resize, log scale on and off, a step back, a reset: warm == cold after each."""
    skip_predictions(app.screen)
    for _ in range(6):
        await pilot.press("n")
    await check_all(app, pilot, names, "6 steps")
    await pilot.press("N")
    await check_all(app, pilot, names, "10 more steps")
    await pilot.resize_terminal(140, 44)
    await check_all(app, pilot, names, "a resize")
    await pilot.press("n")
    await check_all(app, pilot, names, "a step after the resize")
    await pilot.press("l")
    await check_all(app, pilot, names, "log scale")
    await pilot.press("n", "l")
    await check_all(app, pilot, names, "a step, then linear scale")
    await pilot.press("left_square_bracket", "left_square_bracket")
    await check_all(app, pilot, names, "two steps back")
    await pilot.press("n")
    await check_all(app, pilot, names, "a step after stepping back")
    await pilot.press("x")
    await check_all(app, pilot, names, "a reset")
    for _ in range(3):
        await pilot.press("n")
    await check_all(app, pilot, names, "3 steps after the reset")


@asyncrun
async def test_landscape_and_charts_kept_between_frames_match_a_cold_rebuild(missions):
    from descent_tui.tui.app import DescentApp

    app = DescentApp(initial="five-runs")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await walk(app, pilot, ["Landscape", "LossPlot", "LrPanel"])


@asyncrun
async def test_unit_view_and_charts_kept_between_frames_match_a_cold_rebuild(missions):
    from descent_tui.tui.app import DescentApp

    app = DescentApp(initial="tiny-net")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await walk(app, pilot, ["UnitView", "LossPlot", "AccuracyPanel", "DecisionMap"])


def test_path_pixels_follow_a_path_that_grows_stands_still_and_shrinks():
    """PathPixels after each update == a fresh one == the lines drawn on a canvas."""
    from descent_tui.tui.widgets.canvas import Canvas, clip_segment, nearest
    from descent_tui.tui.widgets.landscape import PathPixels

    rng = random.Random(5)
    box = (4.0, 0.0, 50.0, 37.0)
    kept = PathPixels(box, 60, 20)
    pts: list[tuple[float, float]] = []
    for step in range(120):
        move = rng.random()
        if move < 0.1 and pts:
            pts = pts[:rng.randrange(len(pts))]  # a jump back on the timeline
        elif move < 0.3 and pts:
            pts = pts[:-1] + [(pts[-1][0] + 1e-3, pts[-1][1])]  # standing still
        else:  # on, sometimes off the plot
            pts = pts + [(rng.uniform(-10, 70), rng.uniform(-10, 50))]
        got = set(zip(*kept.update(list(pts)), strict=True))
        assert got == set(zip(*PathPixels(box, 60, 20).update(list(pts)), strict=True)), step
        canvas = Canvas(60, 20, "#000000")
        for a, b in zip(pts, pts[1:]):
            seg = clip_segment(a, b, box)
            if seg is not None:
                (c0, r0), (c1, r1) = seg
                canvas.line((nearest(c0), nearest(r0)), (nearest(c1), nearest(r1)), "#ffffff")
        painted = {(c, r) for c in range(60) for r in range(40)
                   if canvas.pixel_colour(c, r) == "#ffffff"}
        assert got == painted, step


def test_curves_drawn_in_one_batch_match_each_line_drawn_alone():
    """step_chart._segments == every group's lines drawn one by one, group after group."""
    from descent_tui.tui.widgets.canvas import Canvas
    from descent_tui.tui.widgets.step_chart import _clipped_line, _segments

    rng = np.random.default_rng(2)
    box = (6.0, 2.0, 70.0, 41.0)
    for trial in range(30):
        groups = []
        for g in range(int(rng.integers(1, 7))):
            n = int(rng.integers(0, 40))
            ac = rng.integers(6, 71, n).astype(float)
            bc = np.clip(ac + rng.integers(-3, 4, n), 6, 70).astype(float)
            ar, br = rng.uniform(-20, 60, n), rng.uniform(-20, 60, n)
            if n:  # rows on the plot's edges, and lines that cannot be drawn
                at = rng.integers(0, n, 3)
                ar[at[0]], br[at[1]], ar[at[2]] = box[1], box[3], [np.nan, np.inf][trial % 2]
            groups.append((f"#0000{g:02x}", (ac, ar, bc, br)))
        batch, alone = Canvas(72, 22, "#101010"), Canvas(72, 22, "#101010")
        _segments(batch, groups, box)
        for colour, (ac, ar, bc, br) in groups:
            for k in range(len(ac)):
                _clipped_line(alone, (ac[k], ar[k]), (bc[k], br[k]), box, colour)
        assert (batch.chars, batch.fgs, batch.bgs) == (alone.chars, alone.fgs, alone.bgs), trial


def test_shades_and_canvas_run_match_their_cell_by_cell_forms():
    from descent_tui.tui.widgets.canvas import Canvas
    from descent_tui.tui.widgets.units import shade, shades

    rng = np.random.default_rng(0)
    v = np.r_[rng.normal(size=300) * 3, 0.0, -0.0, np.nan, np.inf, -np.inf, 2.0, -2.0]
    for lo, hi in ((-2.0, 2.0), (0.0, 1.0), (1.0, 1.0), (0.0, 3.5)):
        for dark in (True, False):
            assert shades(v, lo, hi, dark) == [shade(float(x), lo, hi, dark) for x in v]
    colours = shades(v[:12], -2.0, 2.0, True)
    for col in (-3, 0, 5, 70):
        a, b = Canvas(75, 3, "#000000"), Canvas(75, 3, "#000000")
        a.run(col, 1, "▄", colours)
        for k, c in enumerate(colours):
            b.text(col + k, 1, "▄", c)
        assert (a.chars, a.fgs, a.bgs, a.bolds) == (b.chars, b.fgs, b.bgs, b.bolds)


def test_unit_palettes_kept_per_scale_match_a_shade_per_step():
    """The palette kept for a layer's scale is the one shaded step by step, for every
    scale and theme asked for in turn (asked again: still its own)."""
    from descent_tui.tui.widgets.units import PALETTE, _palette, shade

    scales = [(-1.0, 1.0), (0.0, 1.0), (0.0, 3.5), (-0.0, 2.0), (0.0, 2.0), (-7.25, 7.25),
              (0.0, 1e-300)]
    for lo, hi in scales * 2:
        for dark in (True, False, True):
            fresh = tuple(shade(lo + (hi - lo) * i / (PALETTE - 1), lo, hi, dark)
                          for i in range(PALETTE))
            assert _palette(lo, hi, dark) == fresh, (lo, hi, dark)


def test_probability_shades_match_probability_colour_of_each_value():
    from descent_tui.tui.widgets.decision_map import probability_colour, probability_shades

    rng = np.random.default_rng(1)
    p = np.r_[rng.uniform(-0.5, 1.5, 400), np.arange(-2, 23) / 20, np.arange(0, 11) / 10 + 0.05,
              0.0, -0.0, np.nan, np.inf, -np.inf, 1e300, -1e300]
    for dark in (True, False):
        colours, index = probability_shades(p, dark)
        assert [colours[k] for k in index] == [probability_colour(float(v), dark) for v in p]


def _plane_one_pixel_at_a_time(widget, canvas, view, dark):
    """The decision map's plane and points as first drawn: a pixel, then a glyph at a
    time; then the legend."""
    import math

    from descent_tui.tui.widgets import decision_map as dm

    xs, ys, P = view.grid
    cols, rows = widget.map_size()
    finite = P[np.isfinite(P)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    span = hi - lo if hi > lo else 1.0
    colour, value_range = {
        "probability": (lambda v: dm.probability_colour(v, dark), (0.0, 1.0)),
        "classes": (lambda v: dm.CLASS_COLORS[dark][int(v) % 6] if math.isfinite(v)
                    else dm.NEUTRAL[dark], (0.0, float(np.nanmax(P)))),
        "value": (lambda v: dm.probability_colour((v - lo) / span, dark), (lo, hi)),
    }[view.kind]
    ny, nx = P.shape
    for prow in range(2 * rows):
        i = ny - 1 - min(ny - 1, prow * ny // (2 * rows))
        for c in range(cols):
            canvas.pixel(c, prow, colour(float(P[i, min(nx - 1, c * nx // cols)])))
    x0, x1, y0, y1 = float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1])
    for X, labels, val in widget.points:
        for (px, py), label in zip(X[:, :2], labels, strict=True):
            col = int((px - x0) / (x1 - x0) * (cols - 1) + 0.5)
            prow = int((y1 - py) / (y1 - y0) * (2 * rows - 1) + 0.5)
            if not (0 <= col < cols and 0 <= prow < 2 * rows) or not math.isfinite(label):
                continue
            glyph = dm.CLASS_GLYPHS[int(round(label)) % 6][1 if val else 0]
            light = sum(dm._hex(canvas.pixel_colour(col, prow))) / 3 > 140
            canvas.glyph(col, prow // 2, glyph, "#000000" if light else "#ffffff")
    if rows < canvas.height:
        widget._draw_plane_legend(canvas, rows, view, value_range, dark)


def _random_map(rng, kind):
    """A DecisionMap of a random size with random points (many in a cell), and a random
    grid of this ``kind`` (some values not finite)."""
    from textual.geometry import Size

    from descent_tui.tui.widgets import decision_map as dm

    w, h = int(rng.integers(1, 70)), int(rng.integers(1, 30))
    nx, ny = max(8, w + int(rng.integers(-3, 3))), max(8, 2 * h + int(rng.integers(-3, 3)))
    if kind == "probability":
        P = rng.uniform(-0.3, 1.3, (ny, nx))
    elif kind == "classes":
        P = rng.integers(-2, 8, (ny, nx)) * 1.0
    else:
        P = rng.normal(size=(ny, nx)) * 1e3
    # a class is never infinite (its legend counts the classes)
    P[rng.random((ny, nx)) < 0.05] = rng.choice([np.nan] if kind == "classes"
                                                else [np.nan, np.inf, -np.inf])
    widget = dm.DecisionMap()
    widget._test_size = Size(w, h)
    widget.points = []
    for val in (False, True):
        n = int(rng.integers(1, 200))
        X = np.round(np.column_stack([rng.uniform(-2, 3, n), rng.uniform(-2, 2, n)]) * 4) / 4
        labels = rng.integers(-1, 8, n) * 1.0
        labels[rng.random(n) < 0.05] = np.nan
        widget.points.append((X, labels, val))
    grid = (np.linspace(-1.5, 2.5, nx), np.linspace(-1.0, 1.5, ny), P)
    return widget, dm.MapView(kind, 0, "run", grid=grid)


@pytest.mark.parametrize("palette", ["shipped", "either side of the ink threshold"])
def test_the_decision_plane_drawn_at_once_matches_one_pixel_at_a_time(monkeypatch, palette):
    """Every colour of the map at once, a row of half blocks at a time, and each cell's
    last point only: the cells drawn pixel by pixel and point by point. With the
    shipped colours a glyph's ink is one per theme; the second palette makes it depend on
    which half of its cell the glyph reads (its own pixel, or the lower one under an
    earlier glyph)."""
    from descent_tui.tui.widgets import decision_map as dm
    from descent_tui.tui.widgets.canvas import Canvas

    if palette != "shipped":
        monkeypatch.setitem(dm.NEUTRAL, True, "#808080")
        monkeypatch.setitem(dm.CLASS_COLORS, True, ("#000000", "#ffffff", "#303030",
                                                    "#e0e0e0", "#707070", "#a0a0a0"))
    dm._shade.cache_clear()
    monkeypatch.setattr(dm.DecisionMap, "size", property(lambda self: self._test_size))
    rng = np.random.default_rng(7)
    try:
        for trial in range(240):
            widget, view = _random_map(rng, ("probability", "classes", "value")[trial % 3])
            dark = palette != "shipped" or trial % 2 == 0
            w, h = widget.size
            at_once, one_by_one = Canvas(w, h, "#123456"), Canvas(w, h, "#123456")
            widget._draw_plane(at_once, view, dark)
            _plane_one_pixel_at_a_time(widget, one_by_one, view, dark)
            assert (at_once.chars, at_once.fgs, at_once.bgs, at_once.bolds) == \
                (one_by_one.chars, one_by_one.fgs, one_by_one.bgs, one_by_one.bolds), trial
    finally:
        dm._shade.cache_clear()


@asyncrun
async def test_the_briefing_is_laid_out_once_per_width_and_draws_what_it_is_told(missions):
    """The briefing's Markdown is rendered once per width and theme: a watch-for tick, a
    resize back to a width seen before and a relayout draw it from what was kept
    (Textual measured and rendered it again on each: 10-30 ms a time). What it shows
    is what a fresh render shows, ticks included."""
    from rich.markdown import Markdown

    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.briefing import Briefing, watch_line

    rendered, ours = [], []
    original = Markdown.__rich_console__

    def counting(self, console, options):
        if any(self is md for md in ours):  # the briefing's (the board shows one too)
            rendered.append(options.max_width)
        yield from original(self, console, options)

    app = DescentApp(initial="watched-bowl")
    async with app.run_test(size=(160, 50)) as pilot:
        await app.workers.wait_for_complete()
        await settle(pilot)
        briefing = app.screen.query_one(Briefing)
        ours.append(briefing._body[1].renderable)
        Markdown.__rich_console__ = counting
        try:
            briefing.tick(frozenset({0}))
            await settle(pilot)
            text = "\n".join(briefing.render_line(y).text for y in range(briefing.size.height))
            await pilot.resize_terminal(150, 50)
            await settle(pilot)
            await pilot.resize_terminal(160, 50)
            await settle(pilot)
            briefing.refresh(layout=True)
            await settle(pilot)
        finally:
            Markdown.__rich_console__ = original
        again = "\n".join(briefing.render_line(y).text for y in range(briefing.size.height))
        assert len(rendered) <= 1, rendered  # only the new width, 150 (if it changed)
        assert again == text
        note = briefing.spec.watch_items[0]
        assert watch_line(note, True).plain.strip() in text  # the tick is drawn
        briefing.update(briefing.content._renderable)  # a plain Rich render of the same
        await settle(pilot)
        plain = "\n".join(briefing.render_line(y).text for y in range(briefing.size.height))
        assert plain == text
