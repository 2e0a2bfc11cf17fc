"""Pilot tests of pacing: the slowest and default speeds, and auto-pause at lesson moments."""

from __future__ import annotations

import asyncio

import pytest
from _tui_helpers import asyncrun, press_while_busy, rendered_text, skip_predictions

#: the private missions (tests/missions/) the `missions` fixture installs
MISSION_FILES = ["paced-bowl.toml", "tiny-bowl.toml"]


@pytest.fixture(autouse=True)
def _home(descent_home):
    return descent_home


async def _open(pilot):
    await pilot.app.workers.wait_for_complete()
    for _ in range(3):
        await pilot.pause()
    skip_predictions(pilot.app.screen)  # these tests are about pacing, not the quiz
    return pilot.app.screen


async def _until_paused(pilot, screen, seconds: float = 20.0):
    for _ in range(int(seconds / 0.05)):
        await pilot.pause(0.05)
        if not screen.running:
            break
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _notes(app) -> list[str]:
    return [n.message for n in app._notifications]


def _record_notes(app) -> list[str]:
    """Every notification the app is asked to show from now on, kept after its toast
    expires (on a loaded machine a 6 s toast can be gone before the test reads it)."""
    sent: list[str] = []
    show = app.notify

    def notify(message, *args, **kwargs):
        sent.append(str(message))
        return show(message, *args, **kwargs)

    app.notify = notify
    return sent


@asyncrun
async def test_slowest_speed_is_one_step_a_second_and_the_default_is_the_missions(missions):
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.pacing import SPEEDS

    app = DescentApp(initial="paced-bowl")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot)
        assert SPEEDS[screen.speed_index] == 20  # the file's pace
        assert "20/s" in rendered_text(screen.query_one("#status"))
        screen.speed_index = 0
        await pilot.press("r")
        await pilot.pause(0.6)
        assert 1 <= screen.sim.step_count <= 2  # 20/s would have taken ~12 by now
        await pilot.press("r")
        await app.workers.wait_for_complete()
        assert not screen.running
    app = DescentApp(initial="tiny-bowl")  # 40 steps, no pace: 2/s (20 s)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot)
        assert SPEEDS[screen.speed_index] == 2


@asyncrun
async def test_auto_pause_at_each_lesson_moment_once(missions):
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.briefing import Briefing

    app = DescentApp(initial="paced-bowl")
    sent = _record_notes(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot)
        briefing = screen.query_one(Briefing)
        assert "○ steady drops below 1" in rendered_text(briefing)
        expected = [(5, "Watch for: steady drops below 1"),
                    (8, "'boom' diverged: loss "),
                    (16, "'steady' is the first run below loss 0.01 (step 16).")]
        for step, note in expected:
            await pilot.press("r")
            await _until_paused(pilot, screen)
            assert screen.sim.step_count == step  # paused right at the moment
            assert screen.event_notes[-1].startswith(note)
            assert any(n.startswith(note) for n in sent)
            if step == 5:
                assert "✓ steady drops below 1" in rendered_text(briefing)
                assert "▸ a plain note: never ticked" in rendered_text(briefing)
        await pilot.press("r")
        await _until_paused(pilot, screen)
        assert screen.sim.done and screen.sim.step_count == 30
        assert screen.event_notes[-1] == "The end: step 30 of 30, 1 of 2 runs diverged."
        assert any(n.startswith("The end: step 30 of 30") for n in sent)
        assert len(screen.event_notes) == 4  # never twice
        # a reset arms every moment again, and unticks the note
        await pilot.press("x")
        await pilot.pause()
        assert "○ steady drops below 1" in rendered_text(briefing)
        skip_predictions(screen)  # a reset reopens the predictions
        await pilot.press("r")
        await _until_paused(pilot, screen)
        assert screen.sim.step_count == 5 and len(screen.event_notes) == 5


@asyncrun
async def test_auto_pause_off_runs_to_the_end_and_still_says_what_happened(missions):
    from descent_tui.tui.app import DescentApp

    app = DescentApp(initial="paced-bowl")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot)
        screen.speed_index = 6  # 100/s
        await pilot.press("a")
        assert not screen.auto_pause
        assert "no auto-pause" in str(screen._speed_label())
        await pilot.press("r")
        await _until_paused(pilot, screen)
        assert screen.sim.done and screen.sim.step_count == 30
        kinds = [n.split(":")[0].split(" ")[0] for n in screen.event_notes]
        assert len(kinds) == 4 and screen.event_notes[-1].startswith("The end")


@asyncrun
async def test_a_manual_step_says_what_it_showed_without_pausing(missions):
    from descent_tui.tui.app import DescentApp

    app = DescentApp(initial="paced-bowl")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot)
        await pilot.press("N")  # 10 steps: the watch-for note (5) and the divergence (8)
        await pilot.pause()
        assert screen.sim.step_count == 10 and not screen.running
        assert screen.event_notes[0] == "Watch for: steady drops below 1"
        assert screen.event_notes[1].startswith("'boom' diverged")


# ---------------------------------------------------------------- the trainer's lock
def test_the_ui_thread_waiting_for_the_lock_is_seen_by_the_trainer():
    """HandOverLock: while the thread that made it (the UI) waits, ``ui_waiting`` is
    True, and False once it holds it; another thread waiting leaves it False."""
    import threading
    import time

    from descent_tui.tui.pacing import HandOverLock

    lock = HandOverLock()
    seen: dict[str, bool] = {}
    held = threading.Event()

    def trainer() -> None:
        with lock:
            held.set()
            deadline = time.monotonic() + 10
            while not lock.ui_waiting and time.monotonic() < deadline:
                time.sleep(0.001)
            seen["ui waiting"] = lock.ui_waiting

    t = threading.Thread(target=trainer)
    t.start()
    held.wait(10)
    with lock:
        seen["while held"] = lock.ui_waiting
    t.join(10)
    assert seen == {"ui waiting": True, "while held": False}

    other: dict[str, bool] = {}
    lock.acquire()

    def waiter() -> None:
        with lock:
            pass

    w = threading.Thread(target=waiter)
    w.start()
    time.sleep(0.05)  # the other thread is waiting now
    other["ui_waiting"] = lock.ui_waiting
    lock.release()
    w.join(10)
    assert other == {"ui_waiting": False}


def test_a_chunk_of_steps_in_slices_is_the_same_steps_and_ends_when_the_ui_waits(missions):
    """``_step_chunk(n)`` takes the same n steps as ``sim.step(n)`` (same records, the
    same code rerun), and stops after its first slice when the UI thread waits."""
    import numpy as np

    from descent_tui.scenario.catalog import find
    from descent_tui.sim import Simulation
    from descent_tui.tui.screens.mission import SLICES, MissionScreen

    loaded = find("tiny-bowl")
    screen = MissionScreen(loaded)
    screen.sim.reset({"steps": 500})
    alone = Simulation(loaded, {"steps": 500})
    assert screen._step_chunk(37) is False
    alone.step(37)
    assert screen.sim.step_count == alone.step_count == 37
    for mine, theirs in zip(screen.sim.runs, alone.runs, strict=True):
        assert np.array_equal(mine.history.series("loss"), theirs.history.series("loss"))
    screen._lock.ui_waiting = True  # as while the UI thread waits for the lock
    assert screen._step_chunk(8 * SLICES) is True
    assert screen.sim.step_count == 37 + 8


def test_a_chunk_of_steps_ends_when_a_frame_holds_the_trainer(missions):
    """A frame being drawn holds the trainer: its chunk of steps stops after a slice."""
    from descent_tui.scenario.catalog import find
    from descent_tui.tui.screens.mission import SLICES, MissionScreen

    screen = MissionScreen(find("tiny-bowl"))
    screen.sim.reset({"steps": 500})
    screen._ui_free.clear()  # as _hold_trainer does
    assert screen._step_chunk(8 * SLICES) is True
    assert screen.sim.step_count == 8


@asyncrun
async def test_a_frame_holds_the_trainer_until_it_is_painted(missions):
    """At full speed each full frame keeps the trainer off the GIL until Textual has
    painted it, and lets it go after. (Released by ``call_after_refresh``, it went on
    before the widgets' repaints reached the screen: frames took twice their work.)"""
    from textual.screen import Screen

    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.pacing import SPEEDS

    app = DescentApp(initial="tiny-bowl")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot)
        screen.sim.reset({"steps": 1_000_000})
        screen.speed_index = len(SPEEDS) - 1
        screen.auto_pause = False
        holds, paints = [], []
        hold, refresh = screen._hold_trainer, Screen._compositor_refresh

        def spy_hold():
            hold()
            holds.append(not screen._ui_free.is_set())

        def spy_refresh(self):
            if self is screen and holds:
                paints.append(not screen._ui_free.is_set())
            refresh(self)

        screen._hold_trainer = spy_hold
        Screen._compositor_refresh = spy_refresh
        try:
            await pilot.press("r")
            # a full frame a second at full speed: wait for two, painted
            for _ in range(100):
                await asyncio.sleep(0.05)
                if holds.count(True) >= 2 and len(paints) >= 2:
                    break
            await press_while_busy(pilot, "r", lambda: not screen.running)
            await app.workers.wait_for_complete()
        finally:
            Screen._compositor_refresh = refresh
        assert holds.count(True) >= 2, holds
        assert paints and paints[0], paints  # the first paint after a hold: still held
        assert screen._ui_free.is_set()  # and let go after
