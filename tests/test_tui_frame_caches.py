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
