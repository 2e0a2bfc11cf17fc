"""The Code view (key ``c``): the selected run's loop as code, four languages, phases lit."""

from __future__ import annotations

import pytest
from _tui_helpers import asyncrun, rendered_text, skip_predictions

from descent_tui.export import PHASES, export_script, phase_lines


@pytest.fixture(autouse=True)
def _home(descent_home):
    return descent_home


#: the private missions (tests/missions/) the `missions` fixture installs
MISSION_FILES = ["tiny-net.toml", "five-runs.toml"]


def _texts(screen):
    view = screen.query_one("CodeView")
    return (rendered_text(screen.query_one("#code-title")),
            rendered_text(screen.query_one("#code-text")), view)


async def _open(app, pilot):
    await app.workers.wait_for_complete()
    await pilot.pause()
    mission = app.screen
    skip_predictions(mission)
    await pilot.press("c")
    await pilot.pause()
    return mission, app.screen


@asyncrun
async def test_c_opens_the_code_of_the_run_and_cycles_four_languages(missions):
    from descent_tui.tui.app import DescentApp

    app = DescentApp(initial="tiny-net")
    async with app.run_test(size=(80, 24)) as pilot:
        mission, code = await _open(app, pilot)
        assert type(code).__name__ == "CodeScreen"
        seen = []
        for expected in ("def backward(", "import descent_tui.engine as torch",
                         "import torch", "tf.GradientTape()", "def backward("):
            title, body, view = _texts(code)
            assert expected in body, (view.level, body[:300])
            seen.append(title.split("·")[1].strip())
            await pilot.press("c")
            await pilot.pause()
        assert seen[0].startswith("NumPy") and seen[2].startswith("PyTorch")
        assert seen[3].startswith("TensorFlow") and seen[4] == seen[0]
        assert "lr=0.5" in export_script(view.plan, "torch")  # the mission's own settings
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is mission


@asyncrun
async def test_stepping_lights_each_phase_then_takes_a_real_step(missions):
    from descent_tui.tui.app import DescentApp

    app = DescentApp(initial="tiny-net")
    async with app.run_test(size=(80, 24)) as pilot:
        mission, code = await _open(app, pilot)
        view = code.query_one("CodeView")
        lines = phase_lines(view.text())
        for i, phase in enumerate(PHASES):
            title, _, _ = _texts(code)
            assert view.phase == i and f"line {lines[phase] + 1}" in title
            assert mission.sim.step_count == 0
            await pilot.press("space")
            await pilot.pause()
        assert mission.sim.step_count == 1 and view.phase == 0  # past 'step': one update
        await pilot.press("p")
        await pilot.pause()
        assert view.phase == len(PHASES) - 1


@asyncrun
async def test_the_code_follows_the_accepted_knobs_and_the_selected_run(missions):
    from descent_tui.tui.app import DescentApp

    app = DescentApp(initial="five-runs")
    async with app.run_test(size=(160, 50)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        mission = app.screen
        mission.sim.reset({"runs[1].lr": 0.0123})
        mission.selected = 1
        await pilot.press("c")
        await pilot.pause()
        view = app.screen.query_one("CodeView")
        assert view.plan.label == mission.sim.runs[1].label
        assert view.plan.config.lr == 0.0123 and "lr=0.0123" in export_script(view.plan, "torch")
        await pilot.press("s")
        await pilot.pause()
        assert view.plan.label == mission.sim.runs[2].label


@asyncrun
async def test_a_failing_render_shows_its_error_in_place(missions, monkeypatch):
    from descent_tui.tui.app import DescentApp

    def broken(plan, target):
        raise RuntimeError("the exporter broke")

    monkeypatch.setattr("descent_tui.tui.widgets.code_view.export_script", broken)
    app = DescentApp(initial="tiny-net")
    async with app.run_test(size=(80, 24)) as pilot:
        _, code = await _open(app, pilot)
        _, body, _ = _texts(code)
        assert "the exporter broke" in body
        await pilot.press("c", "space")
        await pilot.pause()
        assert app.screen is code and "the exporter broke" in _texts(code)[1]


@asyncrun
async def test_a_bad_setting_is_shown_not_raised(missions):
    from descent_tui.scenario.catalog import find
    from descent_tui.tui.screens.code import plan_of

    plan, error = plan_of(find("tiny-net", []), {"no_such_key": 1}, 0)
    assert plan is None and "no_such_key" in error


@asyncrun
async def test_the_code_follows_the_steps_taken_on_the_mission_screen(missions):
    from descent_tui.tui.app import DescentApp

    app = DescentApp(initial="tiny-net")
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        mission = app.screen
        skip_predictions(mission)
        await pilot.press("space", "space")  # two updates on the mission screen
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        code = app.screen
        view = code.query_one("CodeView")
        lines = phase_lines(view.text())
        title, _, _ = _texts(code)
        # the last line the mission ran is the update of step 2
        assert view.phase == len(PHASES) - 1 and f"line {lines['step'] + 1}" in title
        assert "update 2 just taken" in title
        await pilot.press("space")  # on to the next update's zero_grad: no step taken here
        await pilot.pause()
        assert view.phase == 0 and mission.sim.step_count == 2
        mission.action_step(1)  # the mission steps while the code is shown (as when running)
        await pilot.pause(0.4)
        title, _, _ = _texts(code)
        assert view.phase == len(PHASES) - 1 and "update 3 just taken" in title
        # to zero_grad, then a whole step walked here: that one is taken here, for real
        for _ in range(len(PHASES) + 1):
            await pilot.press("space")
            await pilot.pause()
        await pilot.pause(0.4)
        assert mission.sim.step_count == 4 and view.phase == 0
        assert "just taken" not in _texts(code)[0]


@asyncrun
async def test_the_code_shows_the_lr_changed_live(missions):
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.knobs import KnobsPanel

    app = DescentApp(initial="tiny-net")
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        mission = app.screen
        mission.post_message(KnobsPanel.LiveLr(0.0321, None))  # the knob, applied live
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        code = app.screen
        view = code.query_one("CodeView")
        assert "lr=0.0321" in export_script(view.plan, "torch") and "lr=0.5" not in \
            export_script(view.plan, "torch")
        assert "0.0321 set live" in code.sub_title
        mission.post_message(KnobsPanel.LiveLr(0.2, None))  # changed again, code on screen
        await pilot.pause(0.4)
        assert "lr=0.2" in export_script(view.plan, "torch") and "0.2 set live" in code.sub_title
        # the accepted knobs are untouched: a reset goes back to the mission's lr
        assert mission.sim.runs[0].config.lr == 0.5
