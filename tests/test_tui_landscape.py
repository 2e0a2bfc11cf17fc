"""What the landscape view shows, checked against the maths of private test missions."""

from __future__ import annotations

import pytest
from _tui_helpers import asyncrun


@pytest.fixture(autouse=True)
def _home(descent_home):
    return descent_home


#: the private missions (tests/missions/) the `missions` fixture installs
MISSION_FILES = ["asym-bowl.toml", "asym-basin.toml", "one-param.toml"]


def lines(widget):
    return ["".join(seg.text for seg in widget.render_line(y)) for y in range(widget.size.height)]


def cells(widget):
    """[(char, fg hex, bg hex)] per row."""
    out = []
    for y in range(widget.size.height):
        row = []
        for seg in widget.render_line(y):
            st = seg.style
            fg = st.color.triplet.hex if st and st.color and st.color.triplet else None
            bg = st.bgcolor.triplet.hex if st and st.bgcolor and st.bgcolor.triplet else None
            row.extend((ch, fg, bg) for ch in seg.text)
        out.append(row)
    return out


async def opened(app, pilot, steps, size=(120, 40)):
    for _ in range(3):
        await pilot.pause()
    app.screen.action_step(steps)
    for _ in range(4):
        await pilot.pause()
    from descent_tui.tui.widgets.landscape import Landscape

    return app.screen.query_one(Landscape)


@asyncrun
async def test_axes_carry_round_tick_values_and_the_legend_is_in_loss_units(missions):
    from descent_tui.tui.app import DescentApp

    for size in ((80, 24), (160, 50)):
        app = DescentApp(initial="asym-basin")
        async with app.run_test(size=size) as pilot:
            land = await opened(app, pilot, 3)
            text = lines(land)
            left, top, _pw, ph = land.plot_box()
            xrow = text[top + ph].split()
            assert xrow[0] == "-4" and xrow[-1] == "6", xrow  # x bounds [-4, 6]
            ylabels = [t[: left].strip(" ┤│") for t in text[top: top + ph]]
            ylabels = [float(v) for v in ylabels if v]
            assert len(ylabels) >= 2 and ylabels == sorted(ylabels, reverse=True)
            legend = text[top + ph + 1]
            assert legend.lstrip().startswith("loss")
            # the band edges: the loss at the grid's lowest point first, the top band last
            shading = land.shading
            assert shading.edges[0] < shading.edges[7] < shading.edges[-1]
            assert f"{land.shading.edges[-1]:.4g}"[:3] in legend


@asyncrun
async def test_a_run_that_leaves_the_bounds_is_marked_at_the_edge_with_its_coordinates(
        missions):
    """'too big' (lr 1.05 on x² + (y−2)²) multiplies x and y − 2 by −1.1 every step."""
    from descent_tui.tui.app import DescentApp

    app = DescentApp(initial="asym-bowl")
    async with app.run_test(size=(120, 40)) as pilot:
        land = await opened(app, pilot, 9)
        x, y = -3 * (-1.1) ** 9, 2 + (-3 - 2) * (-1.1) ** 9  # (7.07, 13.79): up and right
        text = "\n".join(lines(land))
        assert f"({x:.4g}, {y:.4g})" in text
        top_row = lines(land)[land.plot_box()[1]]
        assert "↗" in top_row or "↑" in top_row or "→" in top_row


@asyncrun
async def test_each_trajectory_is_one_connected_line(missions):
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.run_style import run_style

    app = DescentApp(initial="asym-basin")
    async with app.run_test(size=(120, 40)) as pilot:
        land = await opened(app, pilot, 6)
        await pilot.press("s")  # select momentum: the selected run's path is drawn last
        for _ in range(3):
            await pilot.pause()
        colour = run_style(1, app.current_theme.dark).color
        pix, bridges = set(), set()  # glyphs (markers, arrows) may sit on the line
        for r, row in enumerate(cells(land)):
            for c, (ch, fg, bg) in enumerate(row):
                if ch not in "▀ ":
                    bridges |= {(c, 2 * r), (c, 2 * r + 1)}
                if ch == "▀" and fg == colour:
                    pix.add((c, 2 * r))
                if bg == colour:
                    pix.add((c, 2 * r + 1))
        assert len(pix) > 10
        seen, todo = set(), [next(iter(pix))]
        while todo:
            c, r = todo.pop()
            if (c, r) in seen:
                continue
            seen.add((c, r))
            todo += [(c + i, r + j) for i in (-1, 0, 1) for j in (-1, 0, 1)
                     if (c + i, r + j) in pix | bridges]
        assert pix <= seen, f"{len(pix) - len(seen)} pixels apart from the line"


@asyncrun
async def test_one_parameter_landscape_is_the_curve_with_the_ball_on_it(missions):
    """f(x) = (x − 2)² + 1 on [−4, 6]: the ball of each run sits on the curve at its x."""
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.run_style import RUN_GLYPHS

    app = DescentApp(initial="one-param")
    async with app.run_test(size=(120, 40)) as pilot:
        land = await opened(app, pilot, 4)
        grid = cells(land)
        left, top, pw, ph = land.plot_box()
        x = 2 - 5 * 0.8 ** 4  # sgd, lr 0.1: x − 2 shrinks by 0.8 a step
        f = (x - 2) ** 2 + 1
        (x0, x1), (y0, y1) = land.bounds[0], land.y_range()
        assert y0 < 1 < 37 < y1  # the loss axis spans the curve, min 1 and f(−4) = 37
        col = round(left + (x - x0) / (x1 - x0) * (pw - 1))
        row = round(2 * top + (y1 - f) / (y1 - y0) * (2 * ph - 1)) // 2
        assert grid[row][col][0] in RUN_GLYPHS, [r[col][0] for r in grid]
        # not stripes: above the curve at x = 2 is background, not the curve's colours
        mid = round(left + (2 - x0) / (x1 - x0) * (pw - 1))
        assert grid[top][mid][1] == grid[top][mid][2] == land.background_colors[1].hex.lower()


@asyncrun
async def test_the_selected_run_is_drawn_over_the_others(missions):
    """Where two paths share pixels, the run selected with ``s`` is the one seen: on
    the-ravine a heavy ball swinging across the whole plot hid the selected SGD path."""
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.run_style import run_style

    app = DescentApp(initial="asym-basin")
    async with app.run_test(size=(120, 40)) as pilot:
        land = await opened(app, pilot, 6)
        dark = app.current_theme.dark
        counts = []
        for selected in (0, 1):
            if selected:
                await pilot.press("s")
                for _ in range(3):
                    await pilot.pause()
            assert land.selected == selected
            seen = {i: 0 for i in (0, 1)}
            for row in cells(land):
                for ch, fg, bg in row:
                    for i in (0, 1):
                        colour = run_style(i, dark).color
                        seen[i] += (ch == "▀" and fg == colour) + (bg == colour)
            counts.append(seen)
        # each run shows more of its path when it is selected (drawn on top) than when not
        assert counts[0][0] > counts[1][0] and counts[1][1] > counts[0][1], counts


@asyncrun
async def test_the_loss_grid_follows_the_landscape_when_only_the_layout_changes(missions):
    """The map is one grid cell per plot pixel, also after the landscape alone changes
    size (a panel shown or hidden, a width set by CSS: no Resize of the screen or the
    terminal), while paused. A grid left at the old size is drawn stretched, with band
    edges and a legend taken from other sample points."""
    from descent_tui.tui.app import DescentApp

    app = DescentApp(initial="asym-basin")
    async with app.run_test(size=(160, 50)) as pilot:
        land = await opened(app, pilot, 3)
        assert land.grid_size == land.wanted_grid()
        before = land.wanted_grid()
        side = app.screen.query_one("#side")
        side.styles.width = 30  # the landscape widens; the screen keeps its size
        for _ in range(6):
            await pilot.pause()
        assert land.wanted_grid() != before  # the layout really changed
        assert land.grid_size == land.wanted_grid()


@asyncrun
async def test_a_run_at_the_minimum_is_drawn_in_the_minimums_cell(missions):
    """A run that has reached the minimum to twelve digits is drawn where the minimum
    is, also when the minimum falls exactly between two pixel rows (the-saddle's
    momentum run at (8e-13, -1.25 + 2e-14) was drawn a row above its minimum)."""
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.canvas import nearest

    app = DescentApp(initial="asym-basin")
    async with app.run_test(size=(120, 40)) as pilot:
        land = await opened(app, pilot, 3)
        _left, top, pw, ph = land.plot_box()
        (x0, x1), (y0, y1) = land.bounds[0], land.y_range()
        checked = 0
        for k in range(2 * top + 1, 2 * (top + ph) - 2, 3):
            # a y whose pixel row is k + 1/2, and an x on a column boundary too
            y = y1 - (k + 0.5 - 2 * top) * (y1 - y0) / (2 * ph - 1)
            x = x0 + (pw // 2 + 0.5) * (x1 - x0) / (pw - 1)
            land.minimum = [x, y]
            for nudge in (-1e-13, 0.0, 1e-13):
                land.runs = [{"index": 0, "label": "a", "point": [x + nudge, y + nudge],
                              "path": None, "diverged": False}]
                land._lines = None
                text = lines(land)
                where = [(r, c) for r, t in enumerate(text) for c, ch in enumerate(t)
                         if ch in "✚●"]
                assert len(where) == 1, (k, nudge, where)  # one cell: the run covers ✚
                assert text[where[0][0]][where[0][1]] == "●"
                checked += 1
        assert checked >= 9
        assert nearest(17.49999999998) == nearest(17.5) == 18 and nearest(16.5) == 17
        assert nearest(17.4) == 17 and nearest(-0.5) == 0
