"""The mission screen: plots, knobs, quiz, briefing; training in a worker thread.

Threading model: one worker thread steps the simulation in chunks while holding
``self._lock``; the UI thread never trains.  While it runs, a 10 Hz timer takes a
snapshot of the records under the lock (copies only) and hands it down to the
widgets; while paused the timer sleeps (an idle mission costs no CPU: ``descent
serve`` runs one app per student) and every action redraws at once.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Header, Input, RadioSet, Select, TabbedContent, TabPane
from textual.worker import Worker, WorkerState, get_current_worker

from descent_tui.sim.events import Event, new_events
from descent_tui.sim.timeline import Timeline
from descent_tui.tui.pacing import (
    SPEEDS,
    HandOverLock,
    default_speed_index,
    round_seconds,
    speed_text,
    steps_per_round,
)
from descent_tui.tui.safe_text import clean, content, escape
from descent_tui.tui.widgets.briefing import Briefing, Debrief
from descent_tui.tui.widgets.key_footer import KeyFooter
from descent_tui.tui.widgets.knobs import KnobsPanel
from descent_tui.tui.widgets.layer_grads import LayerGrads
from descent_tui.tui.widgets.loss_plot import LossPlot
from descent_tui.tui.widgets.quiz_panel import QuizPanel
from descent_tui.tui.widgets.redraw import set_border
from descent_tui.tui.widgets.scrub_bar import ForkMark, ScrubBar
from descent_tui.tui.widgets.status import Alarm, StatusLine, fmt_num
from descent_tui.tui.widgets.views import ViewsArea

__all__ = ["SPEEDS", "MissionScreen", "speed_text"]  # the speeds: descent_tui.tui.pacing

REFRESH = 1 / 10
#: at MAX speed the plots redraw this often (the status line keeps 10 Hz), so the
#: UI thread leaves the GIL to the trainer and the app keeps up with headless runs
MAX_SPEED_PLOT_PERIOD = 1.0
CHUNK_TARGET = 0.02  # seconds of work per locked chunk at full speed
#: a chunk is stepped in this many slices; after each, a UI thread waiting for the lock
#: gets it (it waited for a whole chunk before: up to 2 × CHUNK_TARGET, and more)
SLICES = 8
#: the longest the trainer waits for a frame to be painted (see MissionScreen._hold_trainer)
HOLD_MAX = 0.25


#: a manual step expected to take longer than this (seconds) is taken in a worker
STEP_IN_WORKER_S = 0.05
#: the longest a redraw waits for the trainer's lock (seconds): past it the trainer is in
#: a slow step, the frame is left for the step's end, and the keys stay live meanwhile
FRAME_WAIT_S = 0.1


def _estimated_step_seconds(sim: Any) -> float:
    """A first guess at one step's time: the loader's work estimate at ~1e9 flops a second."""
    if sim.kind != "network" or sim.data is None:
        return 0.0
    from descent_tui.scenario.budget import step_cost

    rows = len(sim.data["X"]) + len(sim.data["X_val"])
    return step_cost(sim.spec, rows).flops / 1e9


class MissionScreen(Screen[None]):
    """One mission."""

    AUTO_FOCUS = None

    BINDINGS = [
        Binding("space,n", "step(1)", "Step", key_display="space",
                tooltip="Advance every run one step"),
        Binding("N,m", "step(10)", "Step ×10", key_display="N",
                tooltip="Advance every run ten steps"),
        Binding("r", "run_pause", "Run/pause", tooltip="Train continuously / pause"),
        Binding("x", "reset", "Reset", tooltip="Restart from step 0, applying the knobs"),
        Binding("plus,equals_sign", "speed(1)", "Faster", key_display="+",
                tooltip="More steps per tick"),
        Binding("minus,underscore", "speed(-1)", "Slower", key_display="-",
                tooltip="Fewer steps per tick"),
        Binding("a", "auto_pause", "Auto-pause",
                tooltip="Pause when a run diverges, reaches the target, shows a watch-for"
                        " note, and at the end (on / off)"),
        Binding("l", "toggle_log", "Log scale", tooltip="Log scale for the loss curves"),
        Binding("y", "fit_loss", "Fit loss plot", show=False,
                tooltip="Fit the loss plot's y range to the latest half of the steps (again: all)"),
        Binding("s", "select_run", "Next run",
                tooltip="Cycle the selected run, then the forks (layer panel, maps, lr)"),
        Binding("1", "tab('tab-briefing')", "Briefing", show=False,
                tooltip="Show the briefing tab"),
        Binding("2", "tab('tab-knobs')", "Knobs", show=False, tooltip="Show the knobs tab"),
        Binding("3", "tab('tab-quiz')", "Quiz", show=False, tooltip="Show the quiz tab"),
        Binding("4", "tab('tab-debrief')", "Debrief", show=False,
                tooltip="Show the debrief tab"),
        Binding("z", "zoom_fit", "Zoom to fit", show=False,
                tooltip="Fit the landscape to the runs' paths; again: the mission's bounds"),
        Binding("v", "cycle_view", "Next view",
                tooltip="Show the next extra panel (lr, step sizes, gradient, accuracy, units)"),
        Binding("c", "code", "Code",
                tooltip="The selected run's training loop as code (NumPy, engine, PyTorch, TF)"),
        Binding("g", "inspect", "Inspect backprop",
                tooltip="Watch this step's backward pass node by node (selected run)"),
        Binding("left_square_bracket", "step_back", "Step back", key_display="[", show=False,
                tooltip="Every run (and fork) back one step, exactly as it was (pauses first)"),
        Binding("right_square_bracket", "step(1)", "Step forward", key_display="]",
                show=False, tooltip="One step on (after [ it retraces the same steps)"),
        Binding("f", "fork", "Fork run", show=False,
                tooltip="A what-if run from the selected run at this step, with the knobs'"
                        " lr (none typed: half its lr); a diverged run: from just before"
                        " it diverged"),
        Binding("d", "drop_fork", "Drop fork", show=False,
                tooltip="Forget the selected fork (else the newest)"),
        Binding("w", "wide_text", "Wide text", show=False,
                tooltip="The briefing, knobs, quiz and debrief across the whole screen"
                        " (w or esc: back), for a narrow terminal or a wide table"),
        Binding("left_curly_bracket", "jump('back')", "Jump back", key_display="{", show=False,
                tooltip="Every run back a tenth of the run (the scrub bar; a click jumps too)"),
        Binding("right_curly_bracket", "jump('on')", "Jump on", key_display="}", show=False,
                tooltip="Every run on a tenth of the run, up to the step reached"),
        Binding("home", "jump('start')", "Jump to step 0", show=False,
                tooltip="Every run back to step 0 (its steps stay: End returns)"),
        Binding("end", "jump('end')", "Jump to the end", show=False,
                tooltip="Every run to the furthest step reached"),
        Binding("escape", "back", "Back", tooltip="Back to the mission board"),
    ]

    # repaint=False: each view redraws what changed itself (``_tick``); a repaint of
    # the screen re-rendered every widget at each r / l / s / speed key (50-190 ms at
    # 160x50 with training running, tui.py --log-slow)
    running: reactive[bool] = reactive(False, repaint=False)
    speed_index: reactive[int] = reactive(0, repaint=False)
    log_scale: reactive[bool] = reactive(False, repaint=False)
    #: the loss plot's y range fits the latest half of the steps (``y``)
    loss_fit: reactive[bool] = reactive(False, repaint=False)
    selected: reactive[int] = reactive(0, repaint=False)

    def __init__(self, loaded: Any, sim: Any = None) -> None:
        """``sim``: the simulation of ``loaded``, built beforehand (off the UI thread, see
        :mod:`descent_tui.tui.screens.loading`); built here if not given."""
        super().__init__()
        from descent_tui.sim import Simulation

        self.loaded = loaded
        self.spec = loaded.spec
        self.sim = sim if sim is not None else Simulation(loaded)
        self._lock = HandOverLock()  # the UI thread gets it first (see _step_chunk)
        self._dirty = True
        self._run_flag = False  # what the worker obeys (plain bool: thread-safe enough)
        self._done_seen = False
        self._started = False
        self._last_decision = 0.0
        self._chunk = 1
        #: cleared while a full frame is drawn: the trainer waits between chunks meanwhile
        self._ui_free = threading.Event()
        self._ui_free.set()
        self._last_plot = 0.0
        self.frame_times: list[float] = []  # for benchmarks: seconds per refresh
        #: how long one step takes: measured after each manual step, estimated before the first
        self._seconds_per_step = _estimated_step_seconds(self.sim)
        self.speed_index = default_speed_index(self.spec)
        self.log_scale = bool(self.spec.log_scale)
        #: pause at the moments a lesson is about (descent_tui.sim.events)
        self.auto_pause = True
        self._seen: set[tuple[Any, ...]] = set()  # keys of the events already reported
        self._end_note: str | None = None
        #: every event note shown since the mission opened (oldest first)
        self.event_notes: list[str] = []

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with Horizontal(id="mission-body"):
            with Vertical(id="viz"):
                if self.sim.kind == "landscape":
                    from descent_tui.tui.widgets.landscape import Landscape

                    land = Landscape(id="landscape")
                    land.border_title = content(self._landscape_title(), one_line=True)
                    yield land
                else:
                    with Horizontal(id="net-row"):
                        grads = LayerGrads(id="layer-grads")
                        grads.border_title = "GRADIENTS PER LAYER (log)"
                        yield grads
                        if self._has_decision():
                            from descent_tui.tui.widgets.landscape import DecisionMap

                            dm = DecisionMap(id="decision")
                            dm.border_title = "DECISION"
                            yield dm
                plot = LossPlot(id="loss-plot")
                plot.border_title = "LOSS"
                yield plot
                yield ScrubBar(id="scrub")
                yield ViewsArea(self.sim, id="views")
            with TabbedContent(id="side", initial="tab-briefing"):
                with TabPane("Briefing", id="tab-briefing"), VerticalScroll():
                    yield Briefing(self.spec, id="briefing")
                with TabPane("Knobs", id="tab-knobs"):
                    yield KnobsPanel(self.spec, id="knobs")
                with TabPane("Quiz", id="tab-quiz"):
                    yield QuizPanel(self.spec, saved=self._saved_answers(), id="quiz")
                with TabPane("Debrief", id="tab-debrief"), VerticalScroll():
                    yield Debrief(self.spec, id="debrief")
        yield Alarm(id="alarm")
        yield StatusLine(id="status")
        yield KeyFooter(whole_keys=True)

    def _landscape_title(self) -> str:
        ls = self.spec.landscape
        names = ls.params
        title = f"LANDSCAPE  {names[0]} →"
        if len(names) > 1:
            title += f"  {names[1]} ↑"
        return title

    def _has_decision(self) -> bool:
        data = self.spec.network.data if self.spec.network is not None else None
        if data is None:
            return False
        from descent_tui.tui.widgets.decision_map import map_kind

        return data.n_features == 2 or map_kind(self.spec.network) == "curve"

    def on_mount(self) -> None:
        self.title = clean(f"CH {self.spec.chapter} · {self.spec.title}", one_line=True)
        self.sub_title = "Vector Prime"
        self._refresher = self.set_interval(REFRESH, self._tick, pause=not self.running)
        self.timeline = Timeline(self.sim)  # any past step, and forks (keys [ ] f d)
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        self._apply_size_class()
        self.call_after_refresh(self._tick)
        self.call_after_refresh(self._collect_events)  # a start that already shows one
        prog = self.app.progress  # type: ignore[attr-defined]
        if prog.status(self.spec.id) == "new":
            prog.mark_started(self.spec.id)
            self.app.save_progress()  # type: ignore[attr-defined]

    def on_resize(self) -> None:
        self._apply_size_class()
        self.app.call_later(self.app._check_size)  # type: ignore[attr-defined]
        self._dirty = True
        self.call_after_refresh(self._tick)  # once laid out at the new size

    def watch_running(self, running: bool) -> None:
        """The 10 Hz redraw runs only while training runs."""
        refresher = getattr(self, "_refresher", None)
        if refresher is None:
            return
        if running:
            refresher.resume()
        else:
            refresher.pause()

    def on_landscape_grid_wanted(self) -> None:
        """The landscape changed size without the screen doing so (a panel shown or
        hidden): its grid is taken again at the next redraw."""
        self._redraw_soon()

    def _apply_size_class(self) -> None:
        w, h = self.app.size
        self.set_class(w < 120, "-narrow")
        self.set_class(h < 32, "-short")

    def _theme_changed(self, _theme: Any) -> None:
        for w in self.query("Landscape, DecisionMap"):
            w._lines = None  # type: ignore[attr-defined]
        self._dirty = True
        self._tick()

    # ------------------------------------------------------------------ worker
    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def _train(self) -> None:
        worker = get_current_worker()
        sim = self.sim
        due = time.perf_counter()  # when the next round of steps is due (paced speeds)
        while not worker.is_cancelled and self._run_flag:
            speed = SPEEDS[self.speed_index]
            t0 = time.perf_counter()
            with self._lock:
                # paused (or inspected) while this thread waited for the lock: no extra step
                if sim.done or not self._run_flag:
                    break
                try:
                    if speed is not None:
                        sim.step(steps_per_round(speed))
                        cut = False
                    else:
                        cut = self._step_chunk(self._chunk)
                except MemoryError as e:  # sim.run.OutOfMemory: an error, not a divergence
                    self._run_flag = False
                    self.app.call_from_thread(self._out_of_memory, e)
                    break
                fresh = new_events(sim, self._seen)
            self._dirty = True
            if fresh:
                pause = self.auto_pause and not sim.done
                if pause:
                    self._run_flag = False
                self.app.call_from_thread(self._react, fresh, pause)
                if pause:
                    break
            dt = time.perf_counter() - t0
            # fair hand-over: if the UI thread is waiting for the records, let it in first
            while self._lock.ui_waiting and self._run_flag:
                time.sleep(0.0005)
            self._ui_free.wait(HOLD_MAX)  # a frame being drawn: it has the CPU first
            if speed is None:
                if cut:  # a chunk cut short says nothing of its size
                    pass
                elif dt < CHUNK_TARGET / 2:
                    self._chunk = min(self._chunk * 2, 1 << 16)
                elif dt > CHUNK_TARGET * 2 and self._chunk > 1:
                    self._chunk //= 2
                # no sleep here: Python's GIL switch interval already lets the UI
                # thread in, and the hand-over above gives it the lock
            else:
                # rounds on a clock, so a late wake-up is made up by a shorter wait
                due = max(due + round_seconds(speed), time.perf_counter() - 0.25)
                self._nap(due - time.perf_counter(), worker)
        self._run_flag = False
        if not worker.is_cancelled:
            self.app.call_from_thread(self._worker_stopped)

    def _step_chunk(self, n: int) -> bool:
        """``sim.step(n)`` in :data:`SLICES` slices, ending early once the UI thread waits
        for the lock (the same steps as one call: ``step`` is a loop); True if cut short."""
        piece = max(1, -(-n // SLICES))
        for start in range(0, n, piece):
            self.sim.step(min(piece, n - start))
            if (self._lock.ui_waiting or not self._ui_free.is_set()) and start + piece < n:
                return True
        return False

    def _nap(self, seconds: float, worker: Any) -> None:
        """Wait ``seconds`` (the rest of a round), waking at once when paused or cancelled."""
        end = time.perf_counter() + seconds
        while self._run_flag and not worker.is_cancelled:
            left = end - time.perf_counter()
            if left <= 0:
                return
            time.sleep(min(left, 0.05))

    def _worker_stopped(self) -> None:
        self.running = False
        self._dirty = True
        self._tick()

    def _stop(self) -> None:
        self._run_flag = False
        self.running = False
        self._ui_free.set()  # a trainer held for a frame stops now

    def _hold_trainer(self) -> None:
        """Keep the trainer off the CPU from now until this frame is painted.

        The trainer and the UI share the GIL: drawn while the trainer ran, a frame of
        30-50 ms of drawing took 100-500 ms (each thread gets the GIL in turn, and the
        two cores are shared). Held between its chunks (at most HOLD_MAX, in case no
        paint follows), the trainer loses the frame's time, about 5 % of a second at
        full speed, where the plots are drawn once a second.
        """
        if self.is_current:  # a screen under another one is not painted, so not released
            self._ui_free.clear()

    def _on_timer_update(self) -> None:
        """Textual's paint of this screen (its update timer), with the trainer held.

        Any paint while running holds it (a watch-for note ticked in the briefing lays
        the screen out, for one), and every paint lets a held trainer go on once done.
        Released here, not by ``call_after_refresh``: that runs once the screen's own
        messages are done, before the widgets' repaints have reached it, so the
        trainer went on while the frame was painted (measured: a frame of 20 ms of
        work took 35-50 ms, a layout of 50 ms took 100-130 ms). Held or not, the two
        threads take turns on the GIL: holding gives the paint its turn first.
        """
        if self.running:
            self._ui_free.clear()
        super()._on_timer_update()
        self._ui_free.set()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A training worker that raised (a bug, not a divergence: NaN and inf are
        recorded, not raised) stops the run and says so; the screen keeps working."""
        if event.worker.group != "train" or event.state != WorkerState.ERROR:
            return
        self._stop()
        self._dirty = True
        self._tick()
        error = event.worker.error
        self.notify(clean(f"{type(error).__name__}: {error}", one_line=True),
                    title="Training stopped", severity="error", timeout=20, markup=False)

    def _out_of_memory(self, error: MemoryError) -> None:
        """A step could not allocate its arrays: say so (the run is not diverged)."""
        self._stop()
        self.notify(clean(str(error) or "out of memory"), title="Out of memory",
                    severity="error", timeout=20, markup=False)

    # ------------------------------------------------------------------ actions
    def _begin(self) -> None:
        if not self._started:
            self._started = True
            self.query_one(QuizPanel).lock_predictions()

    def action_step(self, n: int = 1) -> None:
        """Take ``n`` steps; a step expected to be slow is taken in a worker (keys stay live)."""
        if self.running:
            self._stop()
        if self.sim.done:
            self.notify("The run is over. Reset (x) to fly it again.", timeout=3)
            return
        if self._predictions_first(lambda: self.action_step(n)):
            return
        self._begin()
        if n * self._seconds_per_step > STEP_IN_WORKER_S:
            self.notify(f"Taking {n} step{'s' if n > 1 else ''}…", timeout=2)
            self._step_in_worker(int(n))
            return
        error = self._step_now(int(n))
        if error is not None:
            self._out_of_memory(error)
        self._collect_events()
        self._dirty = True
        self._tick()

    def _step_now(self, n: int) -> MemoryError | None:
        """``sim.step(n)`` under the lock, timed; an out-of-memory is returned, not raised."""
        with self._lock:
            t0 = time.perf_counter()
            try:
                self.sim.step(n)
            except MemoryError as e:
                return e
            self._seconds_per_step = (time.perf_counter() - t0) / max(1, n)
        return None

    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def _step_in_worker(self, n: int) -> None:
        error = self._step_now(n)
        self._dirty = True
        if error is not None:
            self.app.call_from_thread(self._out_of_memory, error)
        else:
            self.app.call_from_thread(self._collect_events)
            self.app.call_from_thread(self._tick)

    def action_run_pause(self) -> None:
        if self.running:
            self._stop()
            self._dirty = True
            self._tick()
            return
        if self.sim.done:
            self.notify("The run is over. Reset (x) to fly it again.", timeout=3)
            return
        if self._predictions_first(self.action_run_pause):
            return
        self._begin()
        self._run_flag = True
        self.running = True
        self._train()

    def action_reset(self) -> None:
        self._reset(self.query_one(KnobsPanel).overrides())

    def _reset(self, overrides: dict[str, Any]) -> None:
        from descent_tui.scenario.overrides import OverrideError

        self._stop()
        with self._lock:
            try:
                self.sim.reset(overrides or None)
            except (OverrideError, ValueError) as e:
                self.notify(str(e), title="Knobs rejected", severity="error", markup=False)
                self.query_one(KnobsPanel).rejected(e)
                return
            self._seen.clear()  # a new run: every lesson moment is armed again
        self._end_note = None
        self.query_one(Briefing).tick(frozenset())
        self.query_one(KnobsPanel).accepted(self.sim.spec, self.sim.overrides)
        self._started = False  # a new run: predictions may be made again
        self.query_one(QuizPanel).reopen_predictions()
        self._done_seen = False
        self._chunk = 1
        for dm in self.query("#decision"):
            dm.points = None  # type: ignore[attr-defined]  # the data may have changed
        self.query_one(Debrief).show_locked()
        changed = ", ".join(f"{k}={fmt_num(v) if not isinstance(v, str) else v}"
                            for k, v in overrides.items())
        self.notify(clean(f"Reset to step 0{' with ' + changed if changed else ''}."),
                    timeout=3, markup=False)
        self._collect_events()
        self._dirty = True
        self._tick()

    def _redraw_soon(self) -> None:
        """Redraw now when paused; while running the 10 Hz timer picks it up."""
        self._dirty = True
        if not self.running:
            self._tick()

    def action_speed(self, delta: int) -> None:
        self.speed_index = max(0, min(len(SPEEDS) - 1, self.speed_index + int(delta)))
        self._redraw_soon()

    def action_toggle_log(self) -> None:
        self.log_scale = not self.log_scale
        self._redraw_soon()

    def action_fit_loss(self) -> None:
        self.loss_fit = not self.loss_fit
        self._redraw_soon()

    def action_select_run(self) -> None:
        """``s``: the next run, then the timeline's forks, then the first run again."""
        with self._lock:
            order = [index for index, _ in self._shown_runs()]
        now = order.index(self.selected) if self.selected in order else -1
        self.selected = order[(now + 1) % len(order)]
        self._last_decision = 0.0
        self._redraw_soon()

    def _selected_run(self) -> tuple[int, Any]:
        """``(style index, run)`` of the selected run or fork; a selection that is gone
        falls back: a fork hidden before its birth step to its nearest shown ancestor,
        a dropped fork (or a reset) to the first run (the caller holds the lock)."""
        shown = self._shown_runs()
        for index, rs in shown:
            if index == self.selected:
                return index, rs
        slots = getattr(self, "_fork_slots", {})
        chosen = shown[0]
        for track in self.timeline.fork_tracks:
            if slots.get(id(track)) == self.selected:
                chosen = self._shown_ancestor(track, shown)
        self.selected = chosen[0]
        return chosen

    def _shown_ancestor(self, track: Any, shown: list[tuple[int, Any]]) -> tuple[int, Any]:
        """The nearest ancestor of fork ``track`` among ``shown`` (its first run at worst)."""
        by_label = {rs.label: (index, rs) for index, rs in shown}
        origin = track.origin
        while origin is not None:
            if origin.parent in by_label:
                return by_label[origin.parent]
            parent = next((t for t in self.timeline.fork_tracks
                           if t.run.label == origin.parent), None)
            origin = None if parent is None else parent.origin
        return shown[0]

    def action_zoom_fit(self) -> None:
        """Fit the landscape to the runs' paths, or back to the mission's bounds."""
        for land in self.query("Landscape"):
            with self._lock:
                paths = [rs.path for rs in self.sim.runs]
            zoomed = land.toggle_zoom(paths)  # type: ignore[attr-defined]
            self.notify("Zoomed on the runs (z: back)." if zoomed else "Mission bounds.",
                        timeout=2)
        self._redraw_soon()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_cycle_view(self) -> None:
        """The views area shows its next panel (see :mod:`descent_tui.tui.widgets.views`)."""
        shown = self.query_one(ViewsArea).cycle()
        self.notify(clean(shown), timeout=2, markup=False)
        self._redraw_soon()

    def _views_snapshot(self) -> Any:
        """What the views area draws (the caller holds the lock)."""
        views = self.query_one(ViewsArea)
        return views.take(self.sim, self._selected_run()[0], self.running, self._shown_runs())

    def action_inspect(self) -> None:
        """``g``: the inspector on the selected run or fork (``s`` there walks them all)."""
        from descent_tui.tui.screens.inspector import InspectorScreen

        self._stop()
        with self._lock:
            index = self._selected_run()[0]
            shown = self._shown_runs()
        at = [i for i, _ in shown].index(index)
        self.app.push_screen(InspectorScreen(self.sim, at, self._lock,
                                             runs=[rs for _, rs in shown]))

    def action_wide_text(self) -> None:
        """``w``: the side panel fills the screen (its text re-wraps); again: back."""
        if self.maximized is not None:
            self.minimize()
        else:
            self.maximized = self.query_one("#side", TabbedContent)

    def action_code(self) -> None:
        """The Code screen: the selected run's loop with the current settings."""
        from descent_tui.tui.screens.code import CodeScreen

        with self._lock:
            run_index = self._selected_run()[1].index  # a fork: its first ancestor's settings
        self.app.push_screen(CodeScreen(self.loaded, self.sim.overrides, run_index,
                                        lambda: self.action_step(1), len(self.sim.runs),
                                        self._code_now))

    def _code_now(self, run: int) -> tuple[int, float]:
        """What the Code screen follows: run ``run``'s updates so far and its lr knob now."""
        with self._lock:
            rs = self.sim.runs[run % len(self.sim.runs)]
            return rs.step, rs.base_lr

    def action_back(self) -> None:
        if self.maximized is not None:  # esc first leaves the wide text
            self.minimize()
            return
        focused = self.focused
        if isinstance(focused, (Input, Select, RadioSet)):
            self.set_focus(None)
            return
        self._stop()
        self.workers.cancel_group(self, "train")
        self.app.pop_screen()

    # ------------------------------------------------------------------ messages up
    @on(KnobsPanel.LiveLr)
    def _live_lr(self, event: KnobsPanel.LiveLr) -> None:
        with self._lock:
            self.sim.set_lr(event.lr, event.run)
        who = "every run" if event.run is None else self.sim.runs[event.run].label
        self.notify(f"Learning rate set to {fmt_num(event.lr)} for {escape(who)} (live).",
                    timeout=3)
        self._dirty = True
        self._tick()

    @on(KnobsPanel.ApplyReset)
    def _apply_reset(self, event: KnobsPanel.ApplyReset) -> None:
        self._reset(event.overrides)

    @on(QuizPanel.Scored)
    def _scored(self, event: QuizPanel.Scored) -> None:
        prog = self.app.progress  # type: ignore[attr-defined]
        prog.record_quiz(self.spec.id, event.correct, event.total, event.answers,
                         self.query_one(QuizPanel).signature,
                         predictions=self.query_one(QuizPanel).predictions_right())
        self.app.save_progress()  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ quiz and knobs
    def _saved_answers(self) -> dict[str, int]:
        """The answers given in an earlier visit (if the mission's quiz is the same)."""
        from descent_tui.tui.widgets.quiz_panel import quiz_signature

        prog = self.app.progress  # type: ignore[attr-defined]
        return prog.answers(self.spec.id, quiz_signature(self.spec))  # type: ignore[no-any-return]

    def _predictions_first(self, then: Any) -> bool:
        """Before a run starts with unanswered predictions, offer them (answer now /
        skip); True when the prompt was shown (``then()`` runs if the learner skips)."""
        quiz = self.query_one(QuizPanel)
        open_ = quiz.unanswered_predictions()
        if self._started or quiz.locked or not open_:
            return False
        from descent_tui.tui.screens.predict_prompt import PredictPrompt

        def chosen(choice: str | None) -> None:
            if choice == "skip":
                self._begin()
                then()
            elif choice == "answer":
                self.action_tab("tab-quiz")
                quiz.focus_prediction(open_[0])

        self.app.push_screen(PredictPrompt(len(open_), len(quiz.predictions)), chosen)
        return True

    @on(QuizPanel.Answered)
    def _quiz_answered(self, event: QuizPanel.Answered) -> None:
        prog = self.app.progress  # type: ignore[attr-defined]
        prog.record_answers(self.spec.id, event.answers, self.query_one(QuizPanel).signature)
        self.app.save_progress()  # type: ignore[attr-defined]

    def _relabel(self, runs: list[dict[str, Any]]) -> None:
        """Runs whose optimizer the knobs changed are shown as ``momentum → adam``."""
        labels = self.query_one(KnobsPanel).labels()
        for r in runs:
            if r["index"] < len(labels):
                r["label"] = labels[r["index"]]

    # ------------------------------------------------------------------ snapshot
    def snapshot(self, wait: float = -1) -> dict[str, Any] | None:
        """Copies of everything the widgets draw (taken under the lock), or None when
        the trainer kept the lock for more than ``wait`` seconds (a slow step in flight)."""
        sim = self.sim
        landscape = sim.kind == "landscape"
        runs = []
        if not self._lock.acquire(timeout=wait):
            return None
        try:
            self._selected_run()  # a selection that is gone falls back first
            for index, rs in self._shown_runs():
                runs.append(self._run_entry(rs, index, landscape))
            snap = {"step": sim.step_count, "total": sim.total_steps, "done": sim.done,
                    "runs": runs}
            now = time.monotonic()
            if not landscape and self._has_decision() and (
                    not self.running or (SPEEDS[self.speed_index] is not None
                                     and now - self._last_decision > 1.0)):
                self._last_decision = now
                try:
                    dm = self.query_one("#decision")
                    index, rs = self._selected_run()
                    snap["decision"] = dm.request(rs, index)
                except Exception:
                    snap["decision"] = None
            if landscape:
                land = self.query_one("Landscape")
                if land.size.width > 0 and land.grid_size != land.wanted_grid():
                    nx, ny = land.wanted_grid()
                    bounds = land.view_bounds(sim.spec.landscape.plot_bounds())
                    snap["grid"] = sim.loss_grid(nx, ny, bounds)
            snap["views"] = self._views_snapshot()
            snap["scrub"] = self._scrub_marks()
        finally:
            self._lock.release()
        return snap

    # ------------------------------------------------------------------ refresh
    def _tick(self) -> None:
        if not self._dirty or not self.is_attached:
            return
        t0 = time.perf_counter()
        if (self.running and SPEEDS[self.speed_index] is None
                and t0 - self._last_plot < MAX_SPEED_PLOT_PERIOD):
            self._status_only()
            return
        self._last_plot = t0
        self._dirty = False
        if self.running:
            self._hold_trainer()
        snap = self.snapshot(wait=FRAME_WAIT_S)
        if snap is None:  # inside a slow step: the step's end (or the timer) draws it
            self._dirty = True
            return
        runs = snap["runs"]
        self._relabel(runs)
        series = [{"index": r["index"], "label": r["label"], "steps": r["steps"],
                   "loss": r["loss"], "val_loss": r["val_loss"], "loss_now": r["loss_now"],
                   "diverged": r["diverged"], "noisy": r["noisy"]} for r in runs]
        plot = self.query_one(LossPlot)
        plot.show(series, log_scale=self.log_scale, total_steps=snap["total"],
                  fit_recent=self.loss_fit)
        set_border(plot, title="LOSS (log₁₀)" if plot.log_scale else "LOSS")  # as drawn
        self._draw_run_views(snap, runs)
        status_runs = [{"index": r["index"], "label": r["label"], "loss": r["loss_now"],
                        "diverged": r["diverged"], "lr": r.get("lr"), "fork": r["fork"]}
                       for r in runs]
        self.query_one(StatusLine).show(
            {"step": snap["step"], "total": snap["total"], "done": snap["done"],
             "runs": status_runs}, running=self.running, speed=self._speed_label(),
            widest_speed=self._widest_speed_label(),
            log_scale=plot.log_scale, selected=self.selected)  # as the plot draws it
        self.query_one(ViewsArea).show(snap["views"])
        self.query_one(ScrubBar).show(snap["step"], *snap["scrub"])
        reasons = [clean(f"{r['label']}: {r['reason'] or 'diverged'}", one_line=True)
                   for r in runs if r["diverged"]]
        self.query_one(Alarm).show(reasons)
        if snap["done"] and not self._done_seen:
            self._done_seen = True
            self._on_done(runs)
        self.frame_times.append(time.perf_counter() - t0)
        if len(self.frame_times) > 2000:
            del self.frame_times[:1000]

    def _draw_run_views(self, snap: dict[str, Any], runs: list[dict[str, Any]]) -> None:
        """The selected run's views: the landscape, or the layer gradients and decision map."""
        sel = next((r for r in runs if r["index"] == self.selected), runs[0])
        if self.sim.kind == "landscape":
            land = self.query_one("Landscape")
            if "grid" in snap:
                ls = self.sim.spec.landscape
                land.set_grid(snap["grid"], land.view_bounds(ls.plot_bounds()), ls.minimum)
            land.show(runs, self.selected)
            set_border(land, subtitle=content(f"selected {sel['label']}  • −grad (red)  • velocity",
                                              one_line=True))
        else:
            grads = self.query_one(LayerGrads)
            grads.show(sel.get("layers") or [], sel["label"], sel.get("first_layers"))
            set_border(grads, subtitle=content(f"run: {sel['label']}", one_line=True))
            if snap.get("decision") is not None:
                dm = self.query_one("#decision")
                if dm.points is None and self.sim.data is not None:  # type: ignore[attr-defined]
                    dm.set_data(self.sim.data)  # type: ignore[attr-defined]
                dm.show(snap["decision"])  # type: ignore[attr-defined]
                set_border(dm, subtitle=content(sel["label"], one_line=True))

    def _status_only(self) -> None:
        """Cheap refresh: the status line from the latest scalars (no plots)."""
        sim = self.sim
        if not self._lock.acquire(timeout=FRAME_WAIT_S):
            return  # inside a slow step: still dirty, so the step's end (or the timer) draws it
        try:
            runs = []
            for index, rs in self._shown_runs():
                runs.append({"index": index, "label": rs.label, "loss": rs.last.loss,
                             "diverged": rs.diverged, "lr": _lr_of(rs),
                             "fork": index >= len(sim.runs)})
            self._relabel(runs)
            snap = {"step": sim.step_count, "total": sim.total_steps, "done": False,
                    "runs": runs}
        finally:
            self._lock.release()
        self.query_one(StatusLine).show(
            snap, running=self.running, speed=self._speed_label(),
            widest_speed=self._widest_speed_label(),
            log_scale=self.query_one(LossPlot).log_scale, selected=self.selected)

    def _on_done(self, runs: list[dict[str, Any]]) -> None:
        self._stop()
        rows = []
        for r in runs:
            if r["diverged"]:
                rows.append((r["label"], Text.assemble(("diverged", "bold red"),
                                                       f" — {clean(r['reason'])}")))
            else:
                rows.append((r["label"], Text(f"final loss {fmt_num(r['loss_now'])}")))
        rows = self._with_costs(rows)
        self.query_one(Debrief).show(rows, note=self.query_one(KnobsPanel).debrief_note())
        grader = self._grader()
        self.query_one(QuizPanel).grade(grader)
        prog = self.app.progress  # type: ignore[attr-defined]
        prog.mark_done(self.spec.id, self.sim.step_count)
        self.app.save_progress()  # type: ignore[attr-defined]
        self.query_one(TabbedContent).active = "tab-debrief"
        self.notify(clean(f"{self._end_note or 'Run complete.'} Debrief unsealed, quiz graded."),
                    title="Mission log", timeout=6, markup=False)

    def _with_costs(self, rows: list[tuple[str, Text]]) -> list[tuple[str, Text]]:
        """Each run's energy bill after its outcome, when the scenario has ``[cost]``."""
        from descent_tui.sim.cost import costs, summary_line

        with self._lock:
            bills = {c.label: summary_line(c) for c in costs(self.sim)}
        return [(label, Text.assemble(line, f" · {bills[label]}") if label in bills else line)
                for label, line in rows]

    def _grader(self) -> Any:
        from descent_tui.quiz import accepted_choices

        sim = self.sim
        lock = self._lock

        def grade(q: Any) -> frozenset[int] | None:
            with lock:
                return accepted_choices(q, sim)

        return grade

    def on_unmount(self) -> None:
        self._run_flag = False
        self._ui_free.set()

    # ------------------------------------------------------------ lesson moments
    def _speed_label(self) -> str:
        return speed_text(self.speed_index) + ("" if self.auto_pause else " · no auto-pause")

    @staticmethod
    def _widest_speed_label() -> str:
        """The longest :meth:`_speed_label` there is (the status line keeps room for it)."""
        return max((speed_text(i) for i in range(len(SPEEDS))), key=len) + " · no auto-pause"

    def action_auto_pause(self) -> None:
        self.auto_pause = not self.auto_pause
        self.notify("Auto-pause on: the run stops at the moments the lesson is about."
                    if self.auto_pause else "Auto-pause off: the run goes on to the end.",
                    timeout=3)
        self._redraw_soon()

    def _collect_events(self) -> None:
        """Report what the last steps showed (a manual step or a reset: no pause needed)."""
        with self._lock:
            fresh = new_events(self.sim, self._seen)
        if fresh:
            self._react(fresh, paused=False)

    def _react(self, fresh: list[Event], paused: bool) -> None:
        """Tick the watch-for notes off and say in one line each what just happened."""
        self.query_one(Briefing).tick(frozenset(e.watch for e in fresh if e.watch is not None)
                                      | self.query_one(Briefing).ticked)
        self.event_notes.extend(e.note for e in fresh)
        notes = [e.note for e in fresh if e.kind != "done"]
        ends = [e.note for e in fresh if e.kind == "done"]
        if ends:
            self._end_note = ends[-1]  # said by the end-of-run notice
        if paused:
            self.running = False
            self._dirty = True
        if notes:
            body = "\n".join(notes[:3]) + (f"\n… and {len(notes) - 3} more" if len(notes) > 3
                                           else "")
            title = "Paused (r: go on, a: auto-pause off)" if paused else "Step log"
            self.notify(clean(body), title=title, timeout=12, markup=False)

    # ------------------------------------------------------------ timeline
    def _shown_runs(self) -> list[tuple[int, Any]]:
        """``(style index, run)`` for every run the views draw: the simulation's runs,
        then the timeline's forks born by the step shown (:meth:`Timeline.born`), each
        with an index after the real runs that it keeps while it lives, hidden or not
        (the caller holds the lock)."""
        shown = [(rs.index, rs) for rs in self.sim.runs]
        forks = self.timeline.forks  # (after a reset: none)
        tracks = self.timeline.fork_tracks
        live = {id(t) for t in tracks}
        self._fork_slots = {k: v for k, v in getattr(self, "_fork_slots", {}).items() if k in live}
        born = {id(rs) for rs in self.timeline.born()}
        for track, rs in zip(tracks, forks, strict=True):
            if id(track) not in self._fork_slots:
                taken = set(self._fork_slots.values())
                self._fork_slots[id(track)] = next(i for i in range(len(shown), 1 << 30)
                                                   if i not in taken)
            if id(rs) in born:
                shown.append((self._fork_slots[id(track)], rs))
        return shown

    def _run_entry(self, rs: Any, index: int, landscape: bool) -> dict[str, Any]:
        """Copies of what the views draw of one run (the caller holds the lock)."""
        h = rs.history
        run: dict[str, Any] = {
            "index": index, "label": rs.label, "steps": h.steps,
            "loss": h.series("loss"),
            "val_loss": h.series("val_loss") if "val_loss" in h.names else None,
            "diverged": rs.diverged, "reason": rs.reason,
            "loss_now": rs.last.loss, "step": rs.step, "lr": _lr_of(rs),
            "noisy": getattr(rs, "batch_size", 0) > 0,  # each step's loss on another batch
            "fork": index >= len(self.sim.runs),  # style indices after the runs: forks
        }
        if landscape:
            run["path"] = rs.path
            run["point"] = rs.point
            run["grad"] = None if rs.grad is None else rs.grad.copy()
            if index == self.selected:
                run["velocity"] = rs.velocity
        elif index == self.selected:
            run["layers"] = list(rs.layers)  # frozen LayerRecords
            run["first_layers"] = getattr(rs, "first_layers", None)
        return run

    def action_step_back(self) -> None:
        """``[``: every run and fork back to its exact state one step ago (pauses first)."""
        self._stop()
        with self._lock:
            k = self.sim.step_count - 1
            if k >= 0:
                self.timeline.rewind(k)
        if k < 0:
            self.notify("Already at step 0.", timeout=2)
            return
        self.notify(f"Back to step {k} (]: step on, the same steps again).", timeout=2)
        self._dirty = True
        self._tick()

    def action_fork(self) -> None:
        """``f``: a fork of the selected run at its current step, with another lr.

        A run that has diverged is forked at the last step before it did (a fork of the
        diverged state would be diverged from birth) and every run goes back to that
        step with it (pausing first), so the fork races them from there."""
        from descent_tui.scenario.overrides import OverrideError

        with self._lock:
            run = self._selected_run()[1]  # a fork forks too
            lr, said = self._fork_lr(run)
            at = before = run.step
            if run.diverged and at > self.timeline.track_of(run).first_step:
                at -= 1
            try:
                self.timeline.fork(run, at, {"lr": lr})
            except (OverrideError, ValueError) as e:
                error: str | None = str(e)
            else:
                error = None
                if at < before and at < self.sim.step_count:
                    self._stop()  # the trainer checks, under this lock, before a step
                    self.timeline.rewind(at)
        if error is not None:
            self.notify(clean(error), title="No fork", severity="error", markup=False)
            return
        where = f"step {at}" + (", the last before it diverged (every run is back there)"
                                if at < before else "")
        self.notify(clean(f"Forked '{run.label}' at {where} with lr {fmt_num(lr)}"
                          f" {said} (d: drop it).", one_line=True), timeout=4, markup=False)
        self._redraw_soon()

    def _scrub_marks(self) -> tuple[int, int, tuple[ForkMark, ...]]:
        """The scrub bar's reached step, length and fork marks (the caller holds the lock)."""
        slots = getattr(self, "_fork_slots", {})
        marks = tuple(ForkMark(t.origin.step, slots[id(t)]) for t in self.timeline.fork_tracks
                      if t.origin is not None and id(t) in slots)
        return self.timeline.reached, self.sim.total_steps, marks

    def action_jump(self, where: str) -> None:
        """``{`` ``}`` Home End: every run a tenth of the run back or on, to 0, to the end."""
        with self._lock:
            now, reached = self.sim.step_count, self.timeline.reached
        tenth = max(1, self.sim.total_steps // 10)
        k = {"back": now - tenth, "on": now + tenth, "start": 0, "end": reached}[where]
        self._jump(max(0, min(reached, k)))

    @on(ScrubBar.Jump)
    def _scrub_clicked(self, event: ScrubBar.Jump) -> None:
        with self._lock:  # of the steps the clicked cell shows, the one reached quickest
            k = self.timeline.quickest_step(event.step, event.spread)
        self._jump(k)

    def _jump(self, k: int) -> None:
        """Every run (and fork) to its exact state at step ``k`` (pauses first)."""
        self._stop()
        with self._lock:
            same = k == self.sim.step_count
            if not same:
                self.timeline.rewind(k)
        if not same:
            self.notify(f"At step {k} (space: step on from here).", timeout=2)
        self._dirty = True
        self._tick()

    def _fork_lr(self, run: Any) -> tuple[float, str]:
        """The lr a fork of ``run`` gets: typed in the knobs for it (or for every run),
        else half its lr now; and how it was chosen, for the notice."""
        pending = self.query_one(KnobsPanel).state.pending
        for target in (run.index, None):
            lr = pending.get(target, {}).get("lr")
            if lr is not None:
                return float(lr), "(the knobs' lr)"
        return 0.5 * float(_lr_of(run)), "(half its lr: no lr typed in the knobs)"

    def action_drop_fork(self) -> None:
        """``d``: forget the selected fork, else the newest one (a dropped selection
        goes to the fork's parent)."""
        with self._lock:
            forks = self.timeline.born()  # a fork hidden before its birth step is not dropped
            if forks:
                selected = self._selected_run()[1]
                gone = selected if any(f is selected for f in forks) else forks[-1]
                parent = self.timeline.track_of(gone).origin
                self.timeline.drop(gone)
                if gone is selected:
                    self.selected = next((i for i, rs in self._shown_runs()
                                          if parent is not None and rs.label == parent.parent),
                                         gone.index)
        if not forks:
            self.notify("No fork to drop (f: fork the selected run).", timeout=2)
            return
        self.notify(clean(f"Dropped '{gone.label}'.", one_line=True), timeout=3,
                    markup=False)
        self._redraw_soon()


def _lr_of(rs: Any) -> Any:
    """The learning rate the run's next update uses (the recorded one if it has no optimizer)."""
    try:
        return rs.lr
    except Exception:
        return rs.last.lr
