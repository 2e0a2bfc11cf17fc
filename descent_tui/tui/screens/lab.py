"""The Lab: build a small network on any data set and watch it learn (TensorFlow Playground).

The side panel (:class:`~descent_tui.tui.widgets.lab_controls.LabControls`) edits a
:class:`~descent_tui.scenario.lab.LabConfig`. A change to the data or the
architecture rebuilds the runs (the config goes through the ordinary scenario
loader, so the Lab can build nothing a mission file could not say); the learning
rate and the two penalties apply to the running runs at once. The views are the
mission screen's: the decision map (or fitted curve), the gradient per layer, the
loss curves; and the network picture (every unit's map, every weight a line:
:mod:`~descent_tui.tui.widgets.lab_network`). ``[`` / ``]`` select a unit (its
weights and bias are written under the view) and ``k`` knocks it out.

Threading as on the mission screen: one worker thread trains in chunks while
holding ``self._lock``; a 10 Hz timer copies what the views draw under that lock.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Checkbox, Header, Input, Select, Static
from textual.worker import get_current_worker

from descent_tui.scenario.lab import LabConfig, to_loaded
from descent_tui.tui.safe_text import clean, content
from descent_tui.tui.screens.lab_layout import FOLD, VIEWS, fit_title, folds, pack_parts, wrap_parts
from descent_tui.tui.widgets.decision_map import DecisionMap
from descent_tui.tui.widgets.key_footer import KeyFooter
from descent_tui.tui.widgets.lab_controls import LabControls
from descent_tui.tui.widgets.lab_layers import LayerEditor
from descent_tui.tui.widgets.lab_network import GRID, NetworkView, network_picture
from descent_tui.tui.widgets.layer_grads import LayerGrads
from descent_tui.tui.widgets.loss_plot import LossPlot
from descent_tui.tui.widgets.notch_slider import NotchSlider
from descent_tui.tui.widgets.status import fmt_num

__all__ = ["LabScreen"]

#: steps per training chunk (a chunk every 1/20 s); None = as fast as the machine goes
SPEEDS: tuple[int | None, ...] = (1, 2, 5, 10, 25, 100, None)
DEFAULT_SPEED = 2
TICK = 1 / 20
REFRESH = 1 / 10
#: the widget id (after ``lab-``) of each view
VIEW_IDS = {"network": "network", "decision": "decision", "grads": "grads", "loss": "loss-plot"}
#: seconds after the last keystroke in a control before the runs are rebuilt
SETTLE = 0.35


def only_live_changes(old: LabConfig, new: LabConfig) -> bool:
    """True when ``new`` differs from ``old`` in the live fields only (lr, L2, L1)."""
    def frozen(cfg: LabConfig) -> LabConfig:
        return replace(cfg, runs=[replace(r, lr=0.0, l2=0.0, l1=0.0) for r in cfg.runs])

    return frozen(old) == frozen(new)


class LabScreen(Screen[None]):
    """Free play: any data set, any small network, every unit on screen."""

    AUTO_FOCUS = ""  # nothing focused: every key of the Lab works at once; 1–5 or tab reach the controls

    #: most useful first: the footer shows the keys that fit, whole (help lists them all)
    BINDINGS = [
        Binding("r", "run_pause", "Run/pause", tooltip="Train continuously / pause"),
        Binding("space,n", "step(1)", "Step", key_display="space",
                tooltip="Advance every run one step"),
        Binding("1", "section('data')", "Controls", key_display="1-5",
                tooltip="Go to the controls: 1 data · 2 features · 3 network · 4 training"
                        " · 5 run (esc leaves a control first)"),
        Binding("2", "section('features')", "Features controls", show=False,
                tooltip="Go to the input features"),
        Binding("3", "section('network')", "Network controls", show=False,
                tooltip="Go to the hidden layers, init and loss"),
        Binding("4", "section('training')", "Training controls", show=False,
                tooltip="Go to the optimizer, lr, penalties and batch"),
        Binding("5", "section('run')", "Run controls", show=False,
                tooltip="Go to the steps, the seed and a second run side by side"),
        Binding("v", "cycle_view", "Next view",
                tooltip="On a small screen: show the next view (network, decision, loss,"
                        " gradients)"),
        Binding("escape", "leave", "Back", tooltip="Leave a control; then back to the board"),
        Binding("right_square_bracket", "unit(1)", "Next unit", key_display="]",
                tooltip="Select the next hidden unit"),
        Binding("k", "knock", "Knock out", tooltip="Zero the selected unit (again: let it back)"),
        Binding("ctrl+s", "save", "Save mission", tooltip="Write this setup as a mission file"),
        Binding("x", "reset", "Reset", tooltip="Fresh weights, step 0 (the same setup)"),
        Binding("N", "step(10)", "Step ×10", tooltip="Advance every run ten steps"),
        Binding("plus,equals_sign", "speed(1)", "Faster", key_display="+",
                tooltip="More steps per chunk"),
        Binding("minus", "speed(-1)", "Slower", key_display="-", tooltip="Fewer steps"),
        Binding("s", "select_run", "Next run", tooltip="Which run the maps show"),
        Binding("left_square_bracket", "unit(-1)", "Prev unit", key_display="[",
                tooltip="Select the previous hidden unit"),
        Binding("l", "toggle_log", "Log scale", tooltip="Log scale for the loss curves"),
        Binding("y", "fit_loss", "Fit loss plot", show=False,
                tooltip="Fit the loss plot's y range to the latest half of the steps (again: all)"),
    ]

    DEFAULT_CSS = """
    LabScreen #lab-body { height: 1fr; }
    LabScreen #lab-side { width: 46; max-width: 45%; }
    LabScreen #lab-viz { width: 1fr; }
    LabScreen #lab-top { height: 1fr; min-height: 10; }
    LabScreen #lab-decision, LabScreen #lab-grads, LabScreen #lab-loss-plot, LabScreen #lab-network {
        border: round $primary 50%; border-title-color: $accent; border-title-style: bold;
        border-subtitle-color: $text-muted; background: $surface; }
    LabScreen #lab-network { width: 1fr; padding: 0 1; }
    LabScreen #lab-right { width: 48%; max-width: 56; }
    LabScreen #lab-decision { height: 2fr; min-height: 5; }
    LabScreen #lab-grads { height: 1fr; max-height: 10; padding: 0 1; }
    LabScreen #lab-loss-plot { height: 10; }
    LabScreen #lab-unit { height: 2; padding: 0 1; }
    LabScreen #lab-problem { height: auto; color: $error; padding: 0 1; display: none; }
    LabScreen #lab-status { height: 1; padding: 0 1; background: $panel; }
    LabScreen.-fold #lab-right { width: 1fr; max-width: 100%; }
    LabScreen.-fold #lab-decision, LabScreen.-fold #lab-grads { height: 1fr; max-height: 100%; }
    LabScreen.-fold #lab-loss-plot { height: 1fr; }
    """

    #: each view's title, long to short (:func:`fit_title` cuts at " · " and two spaces)
    TITLES = {"network": "NETWORK  each unit over the plane · lines: weights",
              "grads": "GRADIENTS PER LAYER (log)", "loss": "LOSS ━ train ┄ val"}

    def __init__(self, config: LabConfig | None = None, base_dir: Path | None = None) -> None:
        super().__init__()
        from descent_tui.sim import Simulation

        self.cfg = config if config is not None else LabConfig()
        self.base_dir = base_dir
        self.sim = Simulation(to_loaded(self.cfg, base_dir=base_dir))
        self._lock = threading.Lock()
        self._run_flag = False
        self.running = False
        self.speed_index = DEFAULT_SPEED
        self.selected = 0
        self.unit: tuple[int, int] = (0, 0)
        #: (hidden layer, unit) pairs knocked out in every run
        self.knocked: set[tuple[int, int]] = set()
        self.log_scale = False
        self.loss_fit = False  # the loss plot's y range fits the latest half of the steps
        self.problem = ""
        self._dirty = True
        self._settle: Any = None
        self._filling = False
        self._units: list[Any] = []
        #: the view shown when the views fold (a small screen; see lab_layout)
        self.view = VIEWS[0]
        self.folded = False
        self.frame_times: list[float] = []  # seconds per refresh (benchmarks)

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with Horizontal(id="lab-body"):
            with Vertical(id="lab-side"):
                yield Static("", id="lab-problem", markup=False)
                yield LabControls(id="lab-controls")
            with Vertical(id="lab-viz"):
                with Horizontal(id="lab-top"):
                    yield NetworkView(id="lab-network")
                    with Vertical(id="lab-right"):
                        dm = DecisionMap(id="lab-decision")
                        dm.border_title = "DECISION"
                        yield dm
                        yield LayerGrads(id="lab-grads")
                yield LossPlot(id="lab-loss-plot")
                yield Static("", id="lab-unit", markup=False)
        yield Static("", id="lab-status")
        yield KeyFooter(whole_keys=True)

    async def on_mount(self) -> None:
        self.title = "THE LAB"
        self.sub_title = "free play"
        self._filling = True
        await self.query_one(LabControls).fill(self.cfg)
        self.call_after_refresh(self._filled)
        self.set_interval(REFRESH, self._tick)
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        self._apply_layout()

    # ------------------------------------------------------------------ fitting the screen
    def on_resize(self) -> None:
        self._apply_layout()
        self._dirty = True

    def _apply_layout(self) -> None:
        """Fold the views on a small screen (one at a time, ``v`` the next), else show all."""
        w, h = self.app.size
        self.folded = folds(w, h)
        self.set_class(self.folded, "-fold")
        self.query_one(LabControls).set_class(w < 120, "-narrow")
        shown = {self.view} if self.folded else set(VIEWS)
        for name in VIEWS:
            self.query_one(f"#lab-{VIEW_IDS[name]}").display = name in shown
        self.query_one("#lab-right").display = bool(shown & {"decision", "grads"})
        self.query_one("#lab-top").display = bool(shown - {"loss"})

    def _fit_titles(self) -> None:
        for name, title in self.TITLES.items():
            view = self.query_one(f"#lab-{VIEW_IDS[name]}")
            view.border_title = fit_title(title, view.outer_size.width)
        dm = self.query_one(DecisionMap)
        dm.border_title = fit_title(str(dm.border_title or "DECISION"), dm.outer_size.width)

    def action_cycle_view(self) -> None:
        """Show the next view when they fold (see :mod:`lab_layout`)."""
        if not self.folded:
            self.notify("Every view is on screen (they fold below "
                        f"{FOLD[0]}×{FOLD[1]}).", timeout=3)
            return
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        self._apply_layout()
        self._dirty = True

    def action_section(self, name: str) -> None:
        """Focus the first control of group ``name`` (keys 1–5)."""
        self.query_one(LabControls).go_to(name)

    def _filled(self) -> None:
        self._filling = False
        if self._settle is not None:
            self._settle.stop()
            self._settle = None

    def _theme_changed(self, _theme: Any) -> None:
        for w in self.query("DecisionMap, NetworkView"):
            w._lines = None  # type: ignore[attr-defined]
            w.refresh()
        self._dirty = True

    # ------------------------------------------------------------------ controls
    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    @on(NotchSlider.Changed)
    @on(LayerEditor.Changed)
    def _control_changed(self, event: Any) -> None:
        """Any control moved: apply once the user has stopped typing (see :data:`SETTLE`)."""
        if self._filling or not str(getattr(event.control, "id", "")).startswith("lab-"):
            return
        if getattr(event.control, "id", "") in ("lab-dataset", "lab-classes"):
            self.query_one(LabControls).adapt()
        if isinstance(event, NotchSlider.Changed | LayerEditor.Changed):
            self.apply_controls()  # one notch or one layer per key: apply at once
            return
        if self._settle is not None:
            self._settle.stop()
        self._settle = self.set_timer(SETTLE, self.apply_controls)

    def apply_controls(self) -> None:
        """Read the controls: apply live changes now, rebuild the runs for anything else."""
        self._settle = None
        try:
            cfg = self.query_one(LabControls).read(self.cfg)
        except ValueError as e:
            self._say_problem(str(e))
            return
        if only_live_changes(self.cfg, cfg):
            with self._lock:
                for i, run in enumerate(cfg.runs):
                    self.sim.set_lr(run.lr, i)
                    self.sim.set_regularization(l2=run.l2, l1=run.l1, run=i)
            self.cfg = cfg
            self._say_problem("")
        else:
            self.rebuild(cfg)
        self._dirty = True

    def rebuild(self, cfg: LabConfig) -> bool:
        """New runs for ``cfg`` (False, with the loader's problem shown, if it is not valid)."""
        from descent_tui.scenario.errors import ScenarioError
        from descent_tui.sim import Simulation

        try:
            sim = Simulation(to_loaded(cfg, base_dir=self.base_dir))
        except ScenarioError as e:
            self._say_problem(e.problems[0].removeprefix("<lab>: "))
            return False
        was_running = self.running
        self._stop()
        with self._lock:
            self.sim, self.cfg = sim, cfg
            self.knocked.clear()
            self.selected = min(self.selected, len(sim.runs) - 1)
            self._clamp_unit()
        self.query_one(DecisionMap).points = None
        self._say_problem("")
        self._dirty = True
        if was_running:
            self.action_run_pause()
        return True

    def _say_problem(self, text: str) -> None:
        self.problem = text
        box = self.query_one("#lab-problem", Static)
        box.update(clean(text))
        box.display = bool(text)

    # ------------------------------------------------------------------ training
    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def _train(self) -> None:
        worker = get_current_worker()
        chunk = 1
        while not worker.is_cancelled and self._run_flag:
            speed = SPEEDS[self.speed_index]
            t0 = time.perf_counter()
            with self._lock:
                if self.sim.done or not self._run_flag:
                    break
                self._advance(speed if speed is not None else chunk)
            self._dirty = True
            dt = time.perf_counter() - t0
            if speed is None:
                chunk = min(chunk * 2, 1 << 14) if dt < 0.01 else max(1, chunk // 2 if dt >
                                                                       0.04 else chunk)
                time.sleep(0.001)
            else:
                time.sleep(max(0.0, TICK - dt))
        self._run_flag = False
        if not worker.is_cancelled:
            self.app.call_from_thread(self._stopped)

    def _advance(self, n: int) -> None:
        """``n`` steps of every run (the lock held); knocked-out units stay out after each."""
        if not self.knocked:
            self.sim.step(n)
            return
        from descent_tui.sim.knockout import keep_out

        for _ in range(n):
            if not self.sim.step(1):
                break
            for run in self.sim.runs:
                keep_out(run, self.knocked)

    def _stopped(self) -> None:
        self.running = False
        self._dirty = True

    def _stop(self) -> None:
        self._run_flag = False
        self.running = False
        self.workers.cancel_group(self, "train")

    def action_run_pause(self) -> None:
        if self.running:
            self._stop()
        elif self.sim.done:
            self.notify("All steps taken. Reset (x), or raise the steps.", timeout=3)
        else:
            self.running = self._run_flag = True
            self._train()
        self._dirty = True

    def action_step(self, n: int = 1) -> None:
        self._stop()
        with self._lock:
            self._advance(int(n))
        self._dirty = True
        self._tick()

    def action_reset(self) -> None:
        self._stop()
        with self._lock:
            self.sim.reset()
            self.knocked.clear()
        self._dirty = True

    def action_speed(self, delta: int) -> None:
        self.speed_index = max(0, min(len(SPEEDS) - 1, self.speed_index + delta))
        self._dirty = True

    def action_toggle_log(self) -> None:
        self.log_scale = not self.log_scale
        self._dirty = True

    def action_fit_loss(self) -> None:
        self.loss_fit = not self.loss_fit
        self._dirty = True

    def action_select_run(self) -> None:
        self.selected = (self.selected + 1) % len(self.sim.runs)
        self._dirty = True

    # ------------------------------------------------------------------ units
    def _clamp_unit(self) -> None:
        hidden = self.cfg.hidden
        if not hidden:
            self.unit = (0, 0)
            return
        layer = min(self.unit[0], len(hidden) - 1)
        self.unit = (layer, min(self.unit[1], hidden[layer] - 1))

    def action_unit(self, delta: int) -> None:
        """Select the next (previous) hidden unit, layer after layer."""
        flat = [(li, j) for li, n in enumerate(self.cfg.hidden) for j in range(n)]
        if not flat:
            return
        i = flat.index(self.unit) if self.unit in flat else 0
        self.unit = flat[(i + delta) % len(flat)]
        self._dirty = True

    def action_knock(self) -> None:
        """Knock the selected unit out of every run (or let it back in)."""
        from descent_tui.sim.knockout import knock_out

        if not self.cfg.hidden:
            self.notify("No hidden layer: add units first (hidden units, e.g. 4, 2).")
            return
        with self._lock:
            if self.unit in self.knocked:
                self.knocked.discard(self.unit)
            else:
                self.knocked.add(self.unit)
                for run in self.sim.runs:
                    knock_out(run, *self.unit)
        self._dirty = True
        self._tick()

    def _unit_text(self, width: int = 1000) -> str:
        """The selected unit's incoming weights and bias, from the maps drawn last: as many
        weights as fit in the two rows of a line ``width`` cells wide (… for the rest)."""
        layer, j = self.unit
        if layer >= len(self._units) or j >= len(self._units[layer].bias):
            return "no hidden unit selected ([ / ] select one)"
        ul = self._units[layer]
        weights = [f"{w:+.3f}" for w in ul.weights[j]]
        out = "KNOCKED OUT (k: back in)" if (layer, j) in self.knocked else "(k: knock out)"
        head = f"▸ hidden layer {layer + 1}, unit {j + 1} ({ul.activation}):"
        lines: list[str] = []
        for n in range(min(len(weights), 8), -1, -1):
            more = " …" if n < len(weights) else ""
            lines = wrap_parts([head, f"w = [{', '.join(weights[:n])}{more}]",
                                f"b = {ul.bias[j]:+.3f}", out], width)
            if len(lines) <= 2:
                break
        return "\n".join(lines)

    # ------------------------------------------------------------------ saving / leaving
    def action_save(self) -> None:
        from descent_tui.scenario.catalog import user_dir
        from descent_tui.tui.screens.lab_save import SaveMissionPrompt

        self.app.push_screen(SaveMissionPrompt(str(user_dir())), self._save_as)

    def _save_as(self, title: str | None) -> None:
        from descent_tui.scenario.errors import ScenarioError
        from descent_tui.scenario.lab import save_mission

        if not title:
            return
        try:
            path = save_mission(self.cfg, title)
        except (ScenarioError, OSError) as e:
            msg = e.problems[0] if isinstance(e, ScenarioError) else str(e)
            self.notify(clean(msg), title="Not saved", severity="error", markup=False)
            return
        self.saved_path = path
        self.notify(clean(f"Saved as {path} — the board lists it (F5 rescans)."),
                    title="Mission saved", timeout=8, markup=False)

    def action_leave(self) -> None:
        """Escape: leave the focused control; with none focused, back to the board."""
        if self.focused is not None:
            self.set_focus(None)
            return
        self._stop()
        self.app.pop_screen()

    def on_unmount(self) -> None:
        self._run_flag = False

    # ------------------------------------------------------------------ drawing
    def snapshot(self) -> dict[str, Any]:
        """Copies of everything the views draw (taken under the lock)."""
        from descent_tui.sim.units import unit_grids

        with self._lock:
            sim = self.sim
            run = sim.runs[min(self.selected, len(sim.runs) - 1)]
            series = [{"index": rs.index, "label": rs.label, "steps": rs.history.steps,
                       "loss": rs.history.series("loss"),
                       "val_loss": rs.history.series("val_loss")
                       if "val_loss" in rs.history.names else None,
                       "loss_now": rs.last.loss, "diverged": rs.diverged,
                       "noisy": rs.batch_size > 0} for rs in sim.runs]
            snap = {
                "series": series, "total": sim.total_steps, "step": sim.step_count,
                "label": run.label, "layers": list(run.layers),
                "first_layers": run.first_layers, "data": sim.data,
                "decision": self.query_one(DecisionMap).request(run, run.index),
                "units": (units := unit_grids(run, GRID)
                          if len(sim.spec.network.model.layers) > 2 else []),
                "picture": network_picture(run, units, sim.spec.network.inputs, self.knocked),
                "runs": [(rs.label, rs.last.loss, rs.last.val_loss, rs.last.accuracy,
                          rs.diverged) for rs in sim.runs],
            }
        return snap

    def _tick(self) -> None:
        if not self._dirty or not self.is_attached:
            return
        t0 = time.perf_counter()
        self._dirty = False
        with np.errstate(all="ignore"):
            snap = self.snapshot()
        self.query_one(LossPlot).show(snap["series"], log_scale=self.log_scale,
                                      total_steps=snap["total"], fit_recent=self.loss_fit)
        self.query_one(LayerGrads).show(snap["layers"], snap["label"], snap["first_layers"])
        dm = self.query_one(DecisionMap)
        if dm.points is None:
            dm.set_data(snap["data"])
        dm.show(snap["decision"])
        self._fit_titles()
        dm.border_subtitle = content(snap["label"], one_line=True)
        self._units = snap["units"]
        view = self.query_one(NetworkView)
        view.selected = self.unit if self.cfg.hidden else None
        view.show(snap["picture"])
        unit = self.query_one("#lab-unit", Static)
        unit.update(self._unit_text(unit.content_size.width or 1000))
        self.query_one("#lab-status", Static).update(self._status(snap))
        self.frame_times.append(time.perf_counter() - t0)
        if len(self.frame_times) > 2000:
            del self.frame_times[:1000]

    def _status(self, snap: dict[str, Any]) -> Any:
        """The status line: the step, each run's numbers, the state; what does not fit the
        line goes whole, least useful first (the layer sizes, the speed, val and acc)."""
        from rich.text import Text

        from descent_tui.tui.run_style import run_style

        state = "running" if self.running else "paused"
        speed = SPEEDS[self.speed_index]
        parts: list[tuple[str, int, Any]] = [(f"step {snap['step']}/{snap['total']}  ", 0,
                                              "bold")]
        for i, (label, loss, vloss, acc, diverged) in enumerate(snap["runs"]):
            style = run_style(i, self.app.current_theme.dark)
            parts.append((f"{style.glyph} {clean(label, one_line=True)} ", 0, style.color))
            if diverged:
                parts.append(("diverged  ", 0, None))
                continue
            parts += [(f"loss {fmt_num(loss)} ", 0, None), (f"val {fmt_num(vloss)} ", -2, None)]
            parts.append((f"acc {acc:.0%} " if acc is not None else "", -2, None))
            parts.append((" ", 0, None))
        parts += [(f"· {state} ", 0, "dim"),
                  (f"· {'MAX' if speed is None else speed}/chunk ", -3, "dim"),
                  (f"· {' → '.join(map(str, self.cfg.layers))}", -4, "dim")]
        width = self.query_one("#lab-status", Static).content_size.width or 1000
        text = Text()
        for i in pack_parts([(p[0], p[1]) for p in parts], width):
            text.append(parts[i][0], style=parts[i][2])
        return text
