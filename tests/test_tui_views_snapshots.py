"""Snapshot tests (pytest-textual-snapshot) of every view of the mission screen at 80×24
and 160×50, on private test missions (tests/missions/):

* asym-basin — an asymmetric landscape (minimum at (3, −1)), also zoomed to the runs (z);
(five runs at 80×24: see tests/test_tui_views.py, which checks the status line's text —
its snapshot came out one way or another from run to run on this machine);
* tiny-net — a 2-feature classifier: the decision map, the layer panel, train and
  validation losses;
* tiny-sine — a 1-feature regression network: the fitted curve, the data and the
  predict-the-mean baseline;
* inspector-deep-sigmoid — ten sigmoid layers: the layer panel's verdict, and the
  backprop inspector (g);
* panel-ravine, panel-parabola, panel-zero-init — every panel of the views area (lr,
  step sizes, gradient value, accuracy, units): all at once at 160×50, one at a time
  (v, v v) at 80×24, where the area starts folded;
* tiny-net's knobs (2) and quiz (3) tabs, and the mission board;

each on the dark console, and several on a light theme (Textual's own textual-light)
as well. Regenerate with ``pytest tests/test_tui_views_snapshots.py
--snapshot-update`` and look at the pictures (``tests/__snapshots__/``) before committing.
"""

from __future__ import annotations

import pytest
from _tui_helpers import skip_predictions

SIZES = [(80, 24), (160, 50)]


@pytest.fixture(autouse=True)
def _home(descent_home):
    return descent_home


#: the private missions (tests/missions/) the `missions` fixture installs
MISSION_FILES = ["asym-basin.toml", "five-runs.toml", "tiny-net.toml", "tiny-sine.toml",
                 "inspector-deep-sigmoid.toml", "panel-ravine.toml", "panel-parabola.toml",
                 "panel-zero-init.toml"]


def _app(initial: str, theme: str | None = None):
    from descent_tui.tui.app import DescentApp

    return DescentApp(initial=initial, theme_name=theme)


def _stepped(steps: int, keys: tuple[str, ...] = ()):
    """Open the mission, take ``steps`` steps, press ``keys``; no notification on screen."""
    async def run(pilot):
        await pilot.app.workers.wait_for_complete()  # the simulation is built in a worker
        await pilot.pause()
        skip_predictions(pilot.app.screen)  # no 'predict first?' prompt
        pilot.app.screen.action_step(steps)
        for key in keys:
            await pilot.press(key)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        pilot.app.clear_notifications()
        await pilot.pause()
        await pilot.pause()

    return run


CASES = [
    ("asym-basin", 12, (), None),
    ("asym-basin", 12, ("z",), None),
    ("tiny-net", 20, (), None),
    ("tiny-net", 20, (), "textual-light"),
    ("tiny-sine", 40, (), None),
    ("tiny-sine", 40, ("s",), "textual-light"),
    ("inspector-deep-sigmoid", 15, (), None),
    ("inspector-deep-sigmoid", 15, ("g",), None),
    ("panel-ravine", 12, (), None),
    ("panel-parabola", 6, (), "textual-light"),
    ("panel-zero-init", 20, (), None),
    ("tiny-net", 20, ("2",), None),
    ("tiny-net", 20, ("3",), "textual-light"),
]

#: the views area one panel at a time, at 80×24 (at 160×50 every panel shows: cases above)
FOLDED = [
    ("panel-ravine", 12, ("v",), None),  # lr: first, the mission has a schedule
    ("panel-ravine", 12, ("v", "v"), "textual-light"),  # step sizes
    ("panel-parabola", 6, ("v",), None),  # gradient value
    ("panel-parabola", 6, ("v", "v"), None),  # lr
    ("panel-zero-init", 20, ("v",), "textual-light"),  # accuracy
    ("panel-zero-init", 20, ("v", "v"), None),  # units
]


@pytest.mark.parametrize("mission, steps, keys, theme", CASES,
                         ids=[f"{m}-{s}{''.join(k)}-{t or 'dark'}" for m, s, k, t in CASES])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_mission_views(snap_compare, missions, mission, steps, keys, theme, size):
    assert snap_compare(_app(mission, theme), terminal_size=size,
                        run_before=_stepped(steps, keys))


@pytest.mark.parametrize("mission, steps, keys, theme", FOLDED,
                         ids=[f"{m}-{s}{''.join(k)}-{t or 'dark'}" for m, s, k, t in FOLDED])
def test_each_view_one_at_a_time_at_80x24(snap_compare, missions, mission, steps, keys, theme):
    assert snap_compare(_app(mission, theme), terminal_size=(80, 24),
                        run_before=_stepped(steps, keys))


@pytest.mark.parametrize("theme", [None, "textual-light"], ids=["dark", "light"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_mission_board(snap_compare, missions, size, theme):
    async def settle(pilot):
        await pilot.app.workers.wait_for_complete()
        for _ in range(3):
            await pilot.pause()

    assert snap_compare(_app(None, theme), terminal_size=size, run_before=settle)
