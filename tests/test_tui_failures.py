"""No view can take the app down; an uncaught error exits non-zero.

A view whose drawing raises shows ``this view failed: ...`` in place and the app
keeps answering keys. The inspector on a run that overflowed to NaN shows the
NaN (with an alarm) instead of crashing.
"""

from __future__ import annotations

import functools

import pytest
from _tui_helpers import asyncrun, rendered_text


@pytest.fixture(autouse=True)
def _home(descent_home):
    return descent_home


#: the private missions (tests/missions/) the `missions` fixture installs
MISSION_FILES = ["asym-bowl.toml", "exploding-nan.toml"]


async def settle(pilot, n=3):
    await pilot.app.workers.wait_for_complete()
    for _ in range(n):
        await pilot.pause()


def line_text(widget, y=0):
    return "".join(seg.text for seg in widget.render_line(y))


@pytest.mark.parametrize("keys", [("N", "g", "end"), ("N", "g", "b", "n", "n")])
@asyncrun
async def test_inspector_on_a_nan_run_shows_nan_and_stays_up(missions, keys):
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.screens.inspector import InspectorScreen

    app = DescentApp(initial="exploding-nan")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)
        assert isinstance(app.screen, InspectorScreen)
        blame = rendered_text(app.screen.query_one("#layer-blame"))
        assert "this view failed" not in blame, blame
        assert "⚠ NaN: the numbers overflowed" in blame, blame
        await pilot.press("escape")  # the app still answers keys
        await settle(pilot)
        assert not isinstance(app.screen, InspectorScreen)
    assert not app.return_code  # None or 0: no crash


@asyncrun
async def test_a_view_whose_drawing_raises_shows_the_error_and_the_app_stays_up(
        missions, monkeypatch):
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets import landscape, loss_plot

    def boom(self, *args):
        raise RuntimeError("boom in the picture")

    monkeypatch.setattr(landscape.Landscape, "_build", boom)
    monkeypatch.setattr(loss_plot.LossPlot, "_build", boom)
    app = DescentApp(initial="asym-bowl")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n", "n")
        await settle(pilot)
        screen = app.screen
        assert screen.sim.step_count == 2  # keys still answered
        land = screen.query_one(landscape.Landscape)
        assert "this view failed: RuntimeError: boom in the picture" in line_text(land)
        plot = screen.query_one(loss_plot.LossPlot)
        assert "this view failed: RuntimeError: boom in the picture" in line_text(plot)
    assert not app.return_code  # None or 0: no crash


def test_an_uncaught_error_makes_the_app_exit_non_zero(missions, monkeypatch):
    from textual.app import App

    from descent_tui.tui import app as app_module

    def crash(self):
        raise RuntimeError("not a view: an uncaught error")

    monkeypatch.setattr(app_module.DescentApp, "on_mount", crash)
    monkeypatch.setattr(app_module.DescentApp, "run",
                        functools.partialmethod(App.run, headless=True))
    assert app_module.run_app() != 0
