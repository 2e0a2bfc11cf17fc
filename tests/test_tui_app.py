"""The Textual app, driven with Pilot: flows, divergence alarm, resize, progress."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from _tui_helpers import asyncrun, press_while_busy, rendered_text, skip_predictions

from descent_tui.progress import FILENAME

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _home(descent_home):
    return descent_home


#: the private missions (tests/missions/) the `missions` fixture installs
MISSION_FILES = ["tiny-bowl.toml", "tiny-net.toml", "zz-broken.toml"]


def make_app(**kw):
    from descent_tui.tui.app import DescentApp

    return DescentApp(**kw)


async def settle(pilot, n=3):
    await pilot.app.workers.wait_for_complete()
    for _ in range(n):
        await pilot.pause()


# ---------------------------------------------------------------------- select
@asyncrun
async def test_select_lists_missions_and_broken_files(missions):
    from textual.widgets import DataTable

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.__class__.__name__ == "SelectScreen"
        table = screen.query_one(DataTable)
        assert table.row_count == 3
        ids = [getattr(e, "id", None) for e in screen.entries]
        assert ids[:2] == ["tiny-bowl", "tiny-net"]
        assert screen.entries[2].__class__.__name__ == "BrokenScenario"
        # highlight the broken one: its problems are previewed, opening it does not crash
        await pilot.press("down", "down")
        await settle(pilot)
        assert screen.query_one("#preview-box").border_title == "BROKEN SCENARIO FILE"
        preview = rendered_text(screen.query_one("#preview"))
        assert "zz-broken.toml" in preview
        assert "id: must be a lowercase slug" in preview and "title: expected a string" in preview
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen


@asyncrun
async def test_open_step_run_pause_reset_back_quit(missions):
    from descent_tui.tui.screens.mission import MissionScreen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MissionScreen)
        assert screen.spec.id == "tiny-bowl"
        await pilot.press("space")  # the prediction is unanswered: asked first
        await settle(pilot)
        assert app.screen.__class__.__name__ == "PredictPrompt"
        await pilot.press("s")  # skip: the step is taken
        await settle(pilot)
        assert app.screen is screen
        assert screen.sim.step_count == 1
        await pilot.press("n", "N")
        assert screen.sim.step_count == 12
        # run / pause (slowest speed: 1 step per tick); a long run, so that a slow
        # machine cannot finish the mission before the pause arrives
        screen.sim.reset({"steps": 100_000})
        screen.speed_index = 0
        await pilot.press("r")
        assert screen.running
        await pilot.pause(0.2)
        await pilot.press("r")
        await app.workers.wait_for_complete()
        assert not screen.running
        assert 0 < screen.sim.step_count < 100_000
        # speed and log toggles, run selection
        screen.speed_index = before = 3
        await pilot.press("plus")
        assert screen.speed_index == before + 1
        await pilot.press("minus", "minus")
        assert screen.speed_index == before - 1
        await pilot.press("l")
        assert screen.log_scale
        await pilot.press("s")
        assert screen.selected == 1
        # reset
        await pilot.press("x")
        await settle(pilot)
        assert screen.sim.step_count == 0
        # back
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "SelectScreen"
        await pilot.press("ctrl+q")
    progress = json.loads((Path(app.progress.path)).read_text())
    assert progress["missions"]["tiny-bowl"]["status"] == "in_progress"


@asyncrun
async def test_run_to_end_grades_quiz_and_saves(missions):
    from textual.widgets import RadioSet

    from descent_tui.tui.widgets.quiz_panel import QuizPanel

    app = make_app(initial="tiny-bowl")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.spec.id == "tiny-bowl"
        await pilot.press("3")  # quiz tab
        await settle(pilot)
        quiz = screen.query_one(QuizPanel)
        # predict "fast" (index 1), then training locks the answer
        rs = quiz.query_one("#prediction-0", RadioSet)
        await pilot.click(rs.query("RadioButton")[1])
        await settle(pilot)
        assert quiz.answers["prediction.0"] == 1
        screen.set_focus(None)
        await pilot.press("space")
        assert quiz.locked and rs.disabled
        # full speed to the end
        screen.speed_index = len(__import__("descent_tui.tui.screens.mission",
                                            fromlist=["SPEEDS"]).SPEEDS) - 1
        screen.auto_pause = False  # straight to the end
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        await settle(pilot)
        assert screen.sim.done
        assert quiz.run_over
        assert quiz.truth["prediction.0"] == frozenset({1})
        # concept question unlocked after the run
        crs = quiz.query_one("#concept-0", RadioSet)
        assert not crs.disabled
        crs.focus()
        await pilot.press("down", "enter")
        await settle(pilot)
        assert quiz.answers.get("concept.0") is not None
        correct, total = quiz.score()
        assert total == 2
        assert app.progress.quiz_score("tiny-bowl") == (correct, total)
    data = json.loads(app.progress.path.read_text())
    assert data["missions"]["tiny-bowl"]["status"] == "done"


@asyncrun
async def test_knob_change_applies_on_reset_and_live_lr(missions):
    from textual.widgets import Input, Select

    app = make_app(initial="tiny-bowl")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("2")
        await settle(pilot)
        # by default a knob tunes one run (the first), so the comparison survives
        inp = screen.query_one("#knob-lr", Input)
        inp.value = "0.2"
        inp.focus()
        await pilot.press("enter")  # live lr
        await settle(pilot)
        assert abs(screen.sim.runs[0].lr - 0.2) < 1e-12
        assert abs(screen.sim.runs[1].lr - 0.2) < 1e-12  # "fast" already had 0.2
        inp.value = "0.05"
        await pilot.press("enter")
        await settle(pilot)
        assert abs(screen.sim.runs[0].lr - 0.05) < 1e-12
        assert abs(screen.sim.runs[1].lr - 0.2) < 1e-12  # untouched
        mom = screen.query_one("#knob-momentum", Input)
        mom.value = "0.5"
        await settle(pilot)
        # out of range is refused
        bad = screen.query_one("#knob-lr", Input)
        bad.value = "5"
        await settle(pilot)
        assert bad.has_class("-invalid")
        bad.value = "0.3"
        await settle(pilot)
        await pilot.press("escape")  # leaves the input, not the screen
        assert app.screen is screen
        await pilot.press("x")
        await settle(pilot)
        assert screen.sim.overrides == {"runs[0].lr": 0.3, "runs[0].momentum": 0.5}
        assert screen.sim.runs[0].config.lr == 0.3
        assert screen.sim.runs[1].config.lr == 0.2
        # "all runs" sets every run and replaces the per-run value
        screen.query_one("#knob-target", Select).value = "__all__"
        await settle(pilot)
        bad.value = "0.1"
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert [r.config.lr for r in screen.sim.runs] == [0.1, 0.1]
        assert screen.sim.runs[0].config.momentum == 0.5


@asyncrun
async def test_network_mission_layer_panel(missions):
    from descent_tui.tui.widgets.layer_grads import LayerGrads

    app = make_app(initial="tiny-net")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("N")
        await settle(pilot)
        panel = screen.query_one(LayerGrads)
        assert len(panel.stats) == 3
        assert screen.query_one("#decision").grid is not None


@asyncrun
async def test_exploding_weights_runs_to_end_with_alarm():
    from descent_tui.scenario.loader import load_scenario
    from descent_tui.tui.screens.mission import SPEEDS

    app = make_app(initial=load_scenario(REPO / "scenarios" / "exploding-weights.toml"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        skip_predictions(screen)
        screen.speed_index = len(SPEEDS) - 1
        screen.auto_pause = False  # straight to the end
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        await settle(pilot)
        assert screen.sim.done
        alarm = screen.query_one("#alarm")
        assert alarm.has_class("-on") and alarm.display
        text = str(alarm.render())
        assert "DIVERGED" in text
        assert any(r.diverged for r in screen.sim.runs)
        # the app still answers keys
        await pilot.press("l")
        assert screen.log_scale


@asyncrun
async def test_keys_answered_while_running(missions):
    """Keys reach their actions while training runs at full speed.

    How fast they arrive is measured in benchmarks/tui.py, not asserted here.
    """
    from descent_tui.tui.screens import mission as M

    app = make_app(initial="tiny-net")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.sim.reset({"steps": 100000})
        screen.speed_index = len(M.SPEEDS) - 1
        screen.auto_pause = False
        await pilot.press("r")
        await pilot.pause(0.3)
        before = screen.sim.step_count
        for i in range(5):
            await press_while_busy(pilot, "l", lambda i=i: screen.log_scale == (i % 2 == 0))
        assert screen.running
        await pilot.pause(0.2)
        assert screen.sim.step_count > before  # still training in between
        await press_while_busy(pilot, "r", lambda: not screen.running)
        await app.workers.wait_for_complete()
        assert not screen.running


@asyncrun
async def test_help_screen_and_theme_toggle(missions):
    app = make_app(initial="tiny-bowl")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "HelpScreen"
        from rich.console import Console

        from descent_tui.tui.screens.help import bindings_table

        console = Console(width=120, record=True, file=io.StringIO())
        console.print(bindings_table(app.screen.under, list(app.BINDINGS)))
        text = console.export_text()
        assert "Run/pause" in text and "Step ×10" in text
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "MissionScreen"
        assert app.theme == "vector-prime"
        await pilot.press("t")
        assert app.theme == "vector-prime-light"


@asyncrun
async def test_resize_below_minimum_shows_message(missions):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.resize_terminal(60, 20)
        await settle(pilot)
        assert app.screen.__class__.__name__ == "TooSmallScreen"
        assert "Enlarge the terminal" in str(app.screen.query_one("#too-small-message")
                                              .render())
        await pilot.resize_terminal(100, 30)
        await settle(pilot)
        assert app.screen.__class__.__name__ == "SelectScreen"


@asyncrun
async def test_corrupt_progress_file_is_moved_aside_and_announced(missions, _home):
    (_home / FILENAME).write_text("{garbage")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.progress.notice and "corrupt" in app.progress.notice
        assert any("corrupt" in n.message for n in app._notifications)
    assert list(_home.glob(f"{FILENAME}.corrupt-*"))


@asyncrun
async def test_open_unknown_mission_is_a_notice_not_a_crash(missions):
    app = make_app(initial="no-such-mission")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.screen.__class__.__name__ == "SelectScreen"


@asyncrun
async def test_command_palette_lists_mission_keys(missions):
    app = make_app(initial="tiny-bowl")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert any("Run/pause" in t for t in titles)
        assert any("light/dark" in t for t in titles)


# ---------------------------------------------------------------------- heavy missions
@asyncrun
async def test_mission_is_built_in_a_worker_and_keys_stay_live(missions, monkeypatch):
    import threading

    from descent_tui.sim import simulation as simulation_module
    from descent_tui.tui.screens.loading import LoadingScreen
    from descent_tui.tui.screens.mission import MissionScreen

    release = threading.Event()
    built_on: list[str] = []
    real_init = simulation_module.Simulation.__init__

    def slow_init(self, *args, **kwargs):
        built_on.append(threading.current_thread().name)
        release.wait(timeout=20)  # a heavy mission: the build takes as long as the test says
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(simulation_module.Simulation, "__init__", slow_init)
    app = make_app(initial="tiny-net")
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(3):
            await pilot.pause()
        assert isinstance(app.screen, LoadingScreen)
        assert app.screen.query("LoadingIndicator")
        await pilot.press("escape")  # the UI thread is free while the simulation builds
        await pilot.pause()
        assert app.screen.__class__.__name__ == "SelectScreen"
        release.set()
        await settle(pilot)
        assert app.screen.__class__.__name__ == "SelectScreen"  # the given-up build is dropped
        app.open_mission("tiny-net")
        await settle(pilot)
        assert isinstance(app.screen, MissionScreen) and app.screen.spec.id == "tiny-net"
        assert built_on and built_on[0] != threading.main_thread().name


@asyncrun
async def test_out_of_memory_in_the_app_is_an_error_not_a_divergence(missions, monkeypatch):
    from descent_tui.sim.network import NetworkRun

    app = make_app(initial="tiny-net")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen

        def no_memory(self, s):
            raise MemoryError("Unable to allocate 16.0 GiB")

        monkeypatch.setattr(NetworkRun, "_train_step", no_memory)
        await pilot.press("space")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert not any(r.diverged for r in screen.sim.runs)
        assert not screen.running
        assert any("out of memory" in str(n.message) for n in app._notifications)
        assert app.screen is screen and app.is_running


@asyncrun
async def test_a_slow_manual_step_is_taken_off_the_ui_thread(missions, monkeypatch):
    import threading

    from descent_tui.sim.network import NetworkRun
    from descent_tui.tui.screens import mission as mission_module

    app = make_app(initial="tiny-net")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        release = threading.Event()
        stepped_on: list[str] = []
        real_step = NetworkRun._train_step

        def slow_step(self, s):
            stepped_on.append(threading.current_thread().name)
            release.wait(timeout=20)  # a heavy network: the step takes as long as the test says
            return real_step(self, s)

        monkeypatch.setattr(NetworkRun, "_train_step", slow_step)
        monkeypatch.setattr(mission_module, "STEP_IN_WORKER_S", 0.0)  # every step counts as slow
        await pilot.press("space")
        await pilot.pause()
        assert screen.sim.step_count == 0 and stepped_on  # stepping in the worker
        await pilot.press("l")  # answered at once: its redraw does not wait for the step
        await pilot.pause()
        assert screen.log_scale
        assert screen.sim.step_count == 0 and not release.is_set()  # the step still waits
        release.set()
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert screen.sim.step_count == 1
        assert stepped_on and threading.main_thread().name not in stepped_on


# ---------------------------------------------------------------------- gc
@asyncrun
async def test_gc_and_gil_switching_tuned_while_the_app_runs_then_as_before(missions):
    import gc
    import sys

    from descent_tui.tui.app import FULL_GC_EVERY, SWITCH_INTERVAL

    before, interval = gc.get_threshold(), sys.getswitchinterval()
    gc.set_threshold(before[0], before[1], 10)
    sys.setswitchinterval(0.005)
    try:
        async with make_app().run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert gc.get_threshold() == (before[0], before[1], FULL_GC_EVERY)
            assert sys.getswitchinterval() == SWITCH_INTERVAL
        assert gc.get_threshold() == (before[0], before[1], 10)
        assert sys.getswitchinterval() == 0.005
    finally:
        gc.set_threshold(*before)
        sys.setswitchinterval(interval)


# ---------------------------------------------------------------------- first paint
#: run in a fresh interpreter: what is loaded and done by the time the board first paints
FIRST_PAINT = r'''
import asyncio, json, sys
from textual.app import App
from descent_tui.tui.app import DescentApp
from descent_tui.tui.screens import select
calls = []
_refresh_css = App.refresh_css
def refresh_css(self, *a, **k):
    calls.append(self.theme)
    _refresh_css(self, *a, **k)
App.refresh_css = refresh_css
seen = {}
_on_mount = select.SelectScreen.on_mount
def on_mount(self):
    _on_mount(self)
    def painted():
        seen.update(numpy="numpy" in sys.modules, refresh_css=list(calls),
                    catalog="descent_tui.scenario.catalog" in sys.modules,
                    background=self.styles.background.hex, classes=sorted(self.app.classes))
    self.call_after_refresh(painted)
select.SelectScreen.on_mount = on_mount
async def main():
    app = DescentApp(theme_name=sys.argv[1])
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        first = dict(seen)
        await app.workers.wait_for_complete()
        await pilot.press("t")
        await pilot.pause()
        first["after_t"] = [app.theme, app.screen.styles.background.hex, list(calls)]
    print(json.dumps(first))
asyncio.run(main())
'''


@pytest.mark.parametrize("theme", ["vector-prime", "vector-prime-light"])
def test_the_board_paints_in_its_theme_before_numpy_and_without_a_css_reparse(theme):
    """The first paint waits for nothing the board does not draw: NumPy and the
    scenario catalog load after it (the archive is read once the board shows), and
    the theme is in place from the start instead of re-parsing every stylesheet
    (``refresh_css``) once the app runs. ``t`` still switches the theme."""
    import subprocess
    import sys

    from descent_tui.tui.theme import DARK, LIGHT

    done = subprocess.run([sys.executable, "-c", FIRST_PAINT, theme], capture_output=True,
                          text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    start, other = (DARK, LIGHT) if theme == DARK.name else (LIGHT, DARK)
    assert not seen["numpy"] and not seen["catalog"]
    assert seen["refresh_css"] == []
    assert seen["background"].lower() == start.background.lower()
    mode = "-dark-mode" if start.dark else "-light-mode"
    assert f"-theme-{start.name}" in seen["classes"] and mode in seen["classes"]
    assert seen["after_t"][0] == other.name
    assert seen["after_t"][1].lower() == other.background.lower()
    assert seen["after_t"][2] == [other.name]


@asyncrun
async def test_a_training_worker_that_raises_stops_the_run_and_says_why(missions, monkeypatch):
    from descent_tui.sim import Simulation

    app = make_app(initial="tiny-net")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        skip_predictions(screen)
        await pilot.press("space")
        await settle(pilot)

        def broken(self, n=1):  # outside any run's step: the simulation cannot catch it
            raise ValueError("shapes (3,2) and (4,) not aligned")

        monkeypatch.setattr(Simulation, "step", broken)
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert not screen.running
        messages = [str(n.message) for n in app._notifications]
        assert any("ValueError: shapes (3,2)" in m for m in messages), messages
        assert "RUN" not in str(screen.query_one("#status").render())
        assert app.screen is screen and app.is_running
        await pilot.press("l")  # keys still answered
        assert screen.log_scale
