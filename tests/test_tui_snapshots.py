"""Snapshot tests (pytest-textual-snapshot) of the main screens at 80×24 and 120×40,
and of the landscape views at 80×24 and 160×50.

Deterministic: private mission files (not the shipped ones, which evolve), fixed
theme, no clock, seeded simulations, no notifications on screen.
Regenerate with ``pytest tests/test_tui_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import pytest
from _tui_helpers import install_missions, skip_predictions

SIZES = [(80, 24), (120, 40)]


@pytest.fixture(autouse=True)
def _home(descent_home):
    return descent_home


#: the private missions (tests/missions/) the `missions` fixture installs
MISSION_FILES = ["tiny-bowl.toml", "tiny-net.toml"]


def _app(initial=None):
    from descent_tui.tui.app import DescentApp

    return DescentApp(initial=initial)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_select_screen(snap_compare, missions, size):
    async def settle(pilot):
        await pilot.app.workers.wait_for_complete()
        for _ in range(3):
            await pilot.pause()

    assert snap_compare(_app(), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_landscape_mission(snap_compare, missions, size):
    async def steps(pilot):
        await pilot.app.workers.wait_for_complete()  # the simulation is built in a worker
        await pilot.pause()
        skip_predictions(pilot.app.screen)  # no 'predict first?' prompt
        pilot.app.screen.action_step(8)
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(_app("tiny-bowl"), terminal_size=size, run_before=steps)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_network_mission(snap_compare, missions, size):
    async def steps(pilot):
        await pilot.app.workers.wait_for_complete()  # the simulation is built in a worker
        await pilot.pause()
        skip_predictions(pilot.app.screen)  # no 'predict first?' prompt
        pilot.app.screen.action_step(10)
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(_app("tiny-net"), terminal_size=size, run_before=steps)


LANDSCAPE_SIZES = [(80, 24), (160, 50)]


@pytest.fixture
def landscapes(tmp_path, monkeypatch):
    return install_missions(tmp_path / "missions", monkeypatch,
                            ["asym-bowl.toml", "asym-basin.toml", "one-param.toml"])


@pytest.mark.parametrize("mission, steps", [("asym-basin", 12), ("asym-bowl", 9),
                                            ("one-param", 5)])
@pytest.mark.parametrize("size", LANDSCAPE_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_landscape_views(snap_compare, landscapes, mission, steps, size):
    """Asymmetric minima, a run leaving the bounds, and a one-parameter curve."""
    async def run(pilot):
        await pilot.pause()
        skip_predictions(pilot.app.screen)  # no 'predict first?' prompt
        pilot.app.screen.action_step(steps)
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(_app(mission), terminal_size=size, run_before=run)


@pytest.fixture
def underflow(tmp_path, monkeypatch):
    return install_missions(tmp_path / "missions", monkeypatch, ["underflow.toml"])


@pytest.mark.parametrize("size", LANDSCAPE_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_loss_plot_log_scale_with_an_underflowing_run(snap_compare, underflow, size):
    """One run's loss reaches 1e-187: drawn at the stated floor, the other run readable.

    48 of 50 steps: the end of the mission would post a notification.
    """
    async def run(pilot):
        await pilot.pause()
        skip_predictions(pilot.app.screen)  # no 'predict first?' prompt
        pilot.app.screen.action_step(48)
        await pilot.press("l")
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(_app("underflow"), terminal_size=size, run_before=run)
