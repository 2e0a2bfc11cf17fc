"""The pictures point the same way as the maths: y grows upwards on every map.

The landscape's heat map and its markers (minimum, trajectories) come from two
different pieces of code; an asymmetric loss shows whether they agree. The test
reads the colours the widget paints (two pixels per cell: the half block's
foreground is the upper pixel, its background the lower one) and finds where the
darkest band lies.
"""

from __future__ import annotations

import numpy as np
import pytest
from _tui_helpers import asyncrun


@pytest.fixture(autouse=True)
def _home(descent_home):
    return descent_home


#: the private missions (tests/missions/) the `missions` fixture installs
MISSION_FILES = ["asym-bowl.toml", "asym-basin.toml", "tiny-net.toml"]


def painted_pixels(widget):
    """{(col, pixel_row): colour} of every half-block pixel the widget paints."""
    pixels = {}
    for row in range(widget.size.height):
        col = 0
        for seg in widget.render_line(row):
            for ch in seg.text:  # a segment may hold a run of cells of one style
                style = seg.style
                if style is not None and style.bgcolor is not None:
                    pixels[(col, 2 * row + 1)] = style.bgcolor.triplet.hex
                    if ch == "▀" and style.color is not None:
                        pixels[(col, 2 * row)] = style.color.triplet.hex
                col += 1
    return pixels


def expected_pixel(widget, point):
    """Where ``point`` lies in the plot area, computed here from the bounds alone."""
    left, top, w, h = widget.plot_box()
    (x0, x1), (y0, y1) = widget.bounds[0], widget.bounds[1]
    col = left + (point[0] - x0) / (x1 - x0) * (w - 1)
    prow = 2 * top + (y1 - point[1]) / (y1 - y0) * (2 * h - 1)
    return col, prow


@pytest.mark.parametrize("mission, minimum", [("asym-bowl", (0.0, 2.0)),
                                              ("asym-basin", (3.0, -1.0))])
@asyncrun
async def test_darkest_band_of_the_landscape_lies_at_the_true_minimum(missions, mission,
                                                                      minimum):
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.landscape import Landscape

    app = DescentApp(initial=mission)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(3):
            await pilot.pause()
        app.screen.action_step(1)
        for _ in range(3):
            await pilot.pause()
        land = app.screen.query_one(Landscape)
        darkest = land.band_colors(app.current_theme.dark)[0]
        pixels = painted_pixels(land)
        band0 = np.array([p for p, c in pixels.items() if c == darkest], dtype=float)
        assert len(band0), "no pixel in the lowest band"
        centre = band0.mean(axis=0)
        col, prow = expected_pixel(land, minimum)
        # the lowest band is a small disc around the minimum (a cell is ~2 pixels wide)
        assert abs(centre[0] - col) <= 2.0 and abs(centre[1] - prow) <= 2.0, \
            (centre, (col, prow))


@asyncrun
async def test_decision_map_draws_the_upper_class_region_at_the_top():
    """P(class 1) = 1 only where y > 1 (the upper quarter of y ∈ [-2, 2]): painted on top."""
    from textual.app import App

    from descent_tui.tui.widgets.decision_map import MapView, probability_colour
    from descent_tui.tui.widgets.landscape import DecisionMap

    class One(App):
        def compose(self):
            yield DecisionMap()

    xs = np.linspace(-2, 2, 40)
    ys = np.linspace(-2, 2, 40)  # ascending, as decision_grid returns them
    _gx, gy = np.meshgrid(xs, ys)
    P = (gy > 1.0).astype(float)
    app = One()
    async with app.run_test(size=(60, 20)) as pilot:
        dm = app.query_one(DecisionMap)
        dm.show(MapView("probability", 0, "run", grid=(xs, ys, P)))
        await pilot.pause()
        ink = probability_colour(1.0, app.current_theme.dark)
        pixels = painted_pixels(dm)
        rows = sorted({r for (_c, r), colour in pixels.items() if colour == ink})
        h2 = 2 * dm.map_size()[1]
        assert rows, "class 1 is not painted"
        assert max(rows) < h2 * 0.3, (rows, h2)
        assert min(rows) == 0
