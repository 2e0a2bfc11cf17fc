"""TUI benchmarks at 160×50: startup, training throughput in the app, frame times.

    python benchmarks/tui.py [--runs 5] [--scenario vanishing-gradients] [--seconds 4]

(a) time to first paint: our app (mission board) vs a bare Textual app with a
    plot (a half-block line drawn with Textual and Rich alone, and, when
    textual-plotext is installed, a plotext plot), headless (run_test), fresh
    subprocesses run in turn (bare, ours, ...), so each round sees the same
    machine; median and max of each, and the median of the per-round ratios;
    bar: ours ≤ 1.3× bare;
(b) steps/second at full speed inside the app vs headless Simulation.step on
    the same scenario;
(c) while running at full speed: the max / median refresh (tick) time
    (``screen.frame_times``: taking the records and handing them to the views) and
    the max / median time each view takes to draw itself (its render), and the
    key latency (key press to its action); bar: no frame and no key over 50 ms.

``--log-slow MS`` prints, after each scenario, every refresh (``frame``), every
Textual paint (``paint``: the screen's update timer, with ``layout`` when it laid
the screen out, and the widgets it repainted) and every view draw (``draw``) that
took over MS, with the UI thread's own CPU time in it (the rest of the time it waited:
the trainer had the GIL) and the garbage collections (generation, ms) that ran during it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: a bare Textual app with a plot: one widget drawing y = x² as a half-block line (Textual
#: and Rich only, as descent draws its own plots; about the least a plotting app imports)
BARE = r'''
import time, asyncio
t0 = time.perf_counter()
from rich.segment import Segment
from rich.style import Style
from textual.app import App
from textual.strip import Strip
from textual.widget import Widget
PAINTED = []
class Plot(Widget):
    def render_line(self, y):
        w, h = self.size.width, self.size.height
        cells = []
        for x in range(w):
            v = (x / max(1, w - 1)) ** 2 * (2 * h - 1)
            p = 2 * h - 1 - round(v)
            up, low = p == 2 * y, p == 2 * y + 1
            cells.append(Segment("▀", Style(color="#40c0ff" if up else "#101826",
                                            bgcolor="#40c0ff" if low else "#101826")))
        return Strip(cells, w)
class Bare(App):
    def compose(self):
        yield Plot()
    def on_mount(self):
        self.call_after_refresh(lambda: PAINTED.append(time.perf_counter()))
async def main():
    app = Bare()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        print(PAINTED[0] - t0)
asyncio.run(main())
'''

#: the same with a textual-plotext plot (what the bar was first measured against; only
#: when textual-plotext is installed: descent no longer depends on it)
BARE_PLOTEXT = r'''
import time, asyncio
t0 = time.perf_counter()
from textual.app import App
from textual_plotext import PlotextPlot
PAINTED = []
class Bare(App):
    def compose(self):
        yield PlotextPlot()
    def on_mount(self):
        self.query_one(PlotextPlot).plt.plot([1, 2, 3], [1, 4, 9])
        self.call_after_refresh(lambda: PAINTED.append(time.perf_counter()))
async def main():
    app = Bare()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        print(PAINTED[0] - t0)
asyncio.run(main())
'''

OURS = r'''
import time, asyncio
t0 = time.perf_counter()
from descent_tui.tui.app import DescentApp
from descent_tui.tui.screens import select
PAINTED = []
_orig = select.SelectScreen.on_mount
def on_mount(self):
    _orig(self)
    self.call_after_refresh(lambda: PAINTED.append(time.perf_counter()))
select.SelectScreen.on_mount = on_mount
async def main():
    app = DescentApp()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        print(PAINTED[0] - t0)
asyncio.run(main())
'''


def _paint_once(code: str, env: dict[str, str]) -> float:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=ROOT, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def first_paints(runs: int, env: dict[str, str]) -> dict[str, list[float]]:
    """First paints (seconds) of the bare app(s) and of ours, run in turn (bare, ours,
    bare with plotext, bare, ours, ...): the machine drifts, so a round sees nearly
    the same moment. Keys: ``bare``, ``ours`` and, if installed, ``plotext``."""
    import importlib.util

    codes = {"bare": BARE, "ours": OURS}
    if importlib.util.find_spec("textual_plotext") is not None:
        codes["plotext"] = BARE_PLOTEXT
    out: dict[str, list[float]] = {name: [] for name in codes}
    for _ in range(runs):
        for name, code in codes.items():
            out[name].append(_paint_once(code, env))
    return out


#: the views whose drawing is timed: (module, class, method)
VIEWS = (("descent_tui.tui.widgets.loss_plot", "LossPlot", "_build"),
         ("descent_tui.tui.widgets.landscape", "Landscape", "_build"),
         ("descent_tui.tui.widgets.decision_map", "DecisionMap", "_build"),
         ("descent_tui.tui.widgets.layer_grads", "LayerGrads", "render"),
         ("descent_tui.tui.widgets.status", "StatusLine", "show"),
         ("descent_tui.tui.widgets.lr_panel", "LrPanel", "_build"),
         ("descent_tui.tui.widgets.accuracy", "AccuracyPanel", "_build"),
         ("descent_tui.tui.widgets.step_sizes", "StepSizes", "render"),
         ("descent_tui.tui.widgets.gradient_value", "GradientValue", "render"),
         ("descent_tui.tui.widgets.units", "UnitView", "_build"))


def time_views(log: SlowLog | None = None) -> tuple[dict[str, list[float]], Any]:
    """Wrap each view's drawing method with a timer: (name -> seconds per call, undo);
    with ``log``, every draw is also handed to it."""
    import functools
    import importlib

    times: dict[str, list[float]] = {}
    undo = []
    for module, cls_name, method in VIEWS:
        cls = getattr(importlib.import_module(module), cls_name)
        original = getattr(cls, method)
        samples = times.setdefault(cls_name, [])

        def timed(*a, _f=original, _s=samples, _n=cls_name, **k):
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return _f(*a, **k)
            finally:
                t1 = time.perf_counter()
                _s.append(t1 - t0)
                if log is not None:
                    log.add("draw", _n, t0, t1, time.thread_time() - c0)

        setattr(cls, method, functools.wraps(original)(timed))
        undo.append((cls, method, original))

    def restore() -> None:
        for cls, method, original in undo:
            setattr(cls, method, original)

    return times, restore


class SlowLog:
    """Refreshes, paints and draws over ``ms``, with the gc collections during each.

    :meth:`install` wraps the mission screen's refresh (``_tick``) and Textual's
    paint (``Screen._on_timer_update``) and adds a ``gc.callbacks`` hook;
    :meth:`report` lists what took over ``ms``, oldest first.
    """

    def __init__(self, ms: float) -> None:
        self.ms = ms
        #: kind, what, start, end, and the UI thread's own CPU time in it (seconds)
        self.events: list[tuple[str, str, float, float, float]] = []
        self.collections: list[tuple[int, float, float]] = []  # generation, start, end
        self._gc_start = 0.0
        self.counts: dict[str, int] = {}
        self._undo: list[tuple[Any, str, Any]] = []

    def reset(self) -> None:
        """Forget what came before (the screen's start-up): counts start again."""
        self.events.clear()
        self.collections.clear()
        self.counts.clear()

    def add(self, kind: str, what: str, t0: float, t1: float, cpu: float) -> None:
        key = "layout" if kind == "layout" else "whole-screen paint" if "whole screen" in what \
            else kind
        self.counts[key] = self.counts.get(key, 0) + 1
        if 1000 * (t1 - t0) > self.ms:
            self.events.append((kind, what, t0, t1, cpu))

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.collections.append((info["generation"], self._gc_start, time.perf_counter()))

    def _wrap(self, cls: Any, method: str, describe: Any) -> None:
        original = getattr(cls, method)
        log = self

        def timed(self_, *a, **k):
            what = describe(self_)
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return original(self_, *a, **k)
            finally:
                log.add(*what, t0, time.perf_counter(), time.thread_time() - c0)

        setattr(cls, method, timed)
        self._undo.append((cls, method, original))

    def install(self) -> None:
        from textual.screen import Screen

        from descent_tui.tui.screens.mission import MissionScreen

        def paint(screen: Any) -> tuple[str, str]:
            dirty = sorted({type(w).__name__ for w in screen._dirty_widgets})
            layout = "layout " if screen._layout_required else ""
            whole = "whole screen " if screen._repaint_required else ""
            free = getattr(screen, "_ui_free", None)
            held = "trainer held, " if free is not None and not free.is_set() else ""
            return "paint", (f"{type(screen).__name__}: {held}{layout}{whole}{','.join(dirty[:6])}"
                             f"{'…' if len(dirty) > 6 else ''}")

        self._wrap(MissionScreen, "_tick", lambda _s: ("frame", "MissionScreen._tick"))
        self._wrap(Screen, "_on_timer_update", paint)
        self._wrap(Screen, "_refresh_layout", lambda _s: ("layout", "Screen._refresh_layout"))
        gc.callbacks.append(self._on_gc)

    def uninstall(self) -> None:
        for cls, method, original in reversed(self._undo):
            setattr(cls, method, original)
        self._undo.clear()
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)

    def report(self, title: str) -> None:
        gens = [sum(1 for c in self.collections if c[0] == g) for g in range(3)]
        counts = ", ".join(f"{n} {k}s" for k, n in sorted(self.counts.items()))
        print(f"-- {title}: {len(self.events)} over {self.ms:g} ms of {counts}; "
              f"gc collections gen0/1/2: {gens[0]}/{gens[1]}/{gens[2]}")
        t_first = self.events[0][2] if self.events else 0.0
        for kind, what, t0, t1, cpu in self.events:
            gcs = {}
            for g, s, e in self.collections:
                if s < t1 and e > t0:
                    n, ms = gcs.get(g, (0, 0.0))
                    gcs[g] = (n + 1, ms + 1000 * (e - s))
            during = ", ".join(f"{n}x gen{g} {ms:.1f} ms" for g, (n, ms) in sorted(gcs.items()))
            print(f"  +{t0 - t_first:7.3f}s {kind:6} {1000 * (t1 - t0):7.1f} ms"
                  f" (cpu {1000 * cpu:5.1f})  {what}"
                  + (f"  [gc: {during}]" if during else ""))


async def app_throughput(scenario: str, seconds: float, rounds: int = 5,
                         log_slow: float | None = None) -> dict[str, float]:
    """Steps/s of the app at MAX speed and of a headless Simulation, interleaved.

    Each round runs the app for ``seconds`` / ``rounds``, pauses it, then steps a
    headless copy of the same scenario for as long in the same process: both see
    the same machine at nearly the same moment, and the ratio of each round is
    kept (these VMs drift by tens of percent from one second to the next).
    """
    from descent_tui.scenario.catalog import find
    from descent_tui.sim import Simulation
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.screens.mission import SPEEDS

    window = seconds / rounds
    headless = Simulation(find(scenario), {"steps": 1_000_000})
    headless.step(20)
    app = DescentApp(initial=scenario)
    ratios, app_rates, head_rates = [], [], []
    log = SlowLog(log_slow) if log_slow is not None else None
    views, restore = time_views(log)
    if log is not None:
        log.install()
    async with app.run_test(size=(160, 50)) as pilot:
        await app.workers.wait_for_complete()  # the simulation is built in a worker
        await pilot.pause()
        screen = app.screen
        from descent_tui.tui.widgets.quiz_panel import QuizPanel

        screen.query_one(QuizPanel).lock_predictions(announce=False)  # no "predict first?"
        screen.sim.reset({"steps": 1_000_000})
        screen.speed_index = len(SPEEDS) - 1
        screen.auto_pause = False  # measure the trainer, not the lesson's pauses
        screen._dirty = True  # draw the reset now, paused, as the screen's own reset (x) does:
        screen._tick()        # not in the first frame of the run
        await pilot.pause(0.3)
        screen.frame_times.clear()
        if log is not None:
            log.reset()  # the start-up's layouts are not the running's
        for _ in range(rounds):
            await pilot.press("r")
            await pilot.pause(0.3)  # warm up (chunk size settles)
            n0, t0 = screen.sim.step_count, time.perf_counter()
            await asyncio.sleep(window)
            n1, t1 = screen.sim.step_count, time.perf_counter()
            await pilot.press("r")
            await app.workers.wait_for_complete()
            app_rate = (n1 - n0) / (t1 - t0)
            n, h0 = 0, time.perf_counter()
            while time.perf_counter() - h0 < window:
                headless.step(10)
                n += 10
            head_rate = n / (time.perf_counter() - h0)
            app_rates.append(app_rate)
            head_rates.append(head_rate)
            ratios.append(app_rate / head_rate)
        # key latency at MAX speed: from the key press to its action running
        stamps: list[float] = []
        original = type(screen).action_toggle_log

        def spy(self_):
            stamps.append(time.perf_counter())
            original(self_)

        type(screen).action_toggle_log = spy
        await pilot.press("r")
        await pilot.pause(0.3)
        latencies = []
        for _ in range(10):
            t_press = time.perf_counter()
            await pilot.press("l")
            latencies.append(stamps[-1] - t_press)
            await asyncio.sleep(0.1)
        await pilot.press("r")
        await app.workers.wait_for_complete()
        type(screen).action_toggle_log = original
        frames = list(screen.frame_times)
    restore()
    if log is not None:
        log.uninstall()
        log.report(scenario)
    drawn = {name: (1000 * max(v), 1000 * statistics.median(v), len(v))
             for name, v in views.items() if v}
    return {"views_ms": drawn,  # type: ignore[dict-item]
            "steps_per_s": statistics.median(app_rates),
            "key_latency_median_ms": 1000 * statistics.median(latencies),
            "key_latency_max_ms": 1000 * max(latencies),
            "headless_steps_per_s": statistics.median(head_rates),
            "ratio": statistics.median(ratios),
            "max_frame_ms": 1000 * max(frames) if frames else float("nan"),
            "median_frame_ms": 1000 * statistics.median(frames) if frames else float("nan"),
            "frames": len(frames)}


def paint_rows(paints: dict[str, list[float]]) -> tuple[list[tuple[str, str, str]],
                                                        dict[str, object]]:
    """Table rows and JSON results of the first paints: median and max of each, and the
    median of the per-round ratios ours / bare."""
    names = {"bare": "bare Textual + half-block plot", "plotext": "bare Textual + plotext plot",
             "ours": "descent (mission board)"}
    rows = []
    results: dict[str, object] = {"first_paints_s": paints}
    for key, samples in paints.items():
        note = ""
        if key != "bare":
            ratio = statistics.median(o / b for o, b in zip(samples, paints["bare"],
                                                            strict=True))
            results[f"first_paint_ratio_{key}"] = ratio
            note = f"{ratio:.2f}x bare (median of rounds" + ("; bar <= 1.3x)" if key == "ours"
                                                            else ")")
        rows.append((f"first paint: {names[key]} (160x50) median / max",
                     f"{1000 * statistics.median(samples):.0f} / {1000 * max(samples):.0f} ms",
                     note))
    return rows, results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--scenario", action="append")
    ap.add_argument("--log-slow", type=float, metavar="MS",
                    help="print every refresh, paint and view draw over MS ms")
    ap.add_argument("--no-paints", action="store_true",
                    help="skip the first-paint measure (a)")
    args = ap.parse_args()
    scenarios = args.scenario or ["optimizer-zoo", "vanishing-gradients", "forgot-zero-grad"]
    home = tempfile.mkdtemp(prefix="descent-bench-")
    os.environ["DESCENT_HOME"] = home
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    sys.path.insert(0, str(ROOT))

    rows: list[tuple[str, str, str]] = []
    results: dict[str, object] = {}
    if not args.no_paints:
        rows, results = paint_rows(first_paints(args.runs, env))
    for sc in scenarios:
        appr = asyncio.run(app_throughput(sc, args.seconds, log_slow=args.log_slow))
        head, ratio = appr["headless_steps_per_s"], appr["ratio"]
        rows.append((f"{sc}: headless steps/s", f"{head:.0f}", ""))
        rows.append((f"{sc}: app steps/s (MAX speed)", f"{appr['steps_per_s']:.0f}",
                     f"{100 * ratio:.0f}% (median of per-round ratios; goal >= 80%)"))
        rows.append((f"{sc}: refresh time max / median", f"{appr['max_frame_ms']:.1f} /"
                     f" {appr['median_frame_ms']:.1f} ms", f"{appr['frames']} refreshes; bar 50"))
        rows.append((f"{sc}: key latency max / median", f"{appr['key_latency_max_ms']:.1f} /"
                     f" {appr['key_latency_median_ms']:.1f} ms", "10 keys at MAX speed; bar 50"))
        for name, (vmax, vmed, n) in appr["views_ms"].items():  # type: ignore[attr-defined]
            rows.append((f"{sc}: draw {name} max / median", f"{vmax:.1f} / {vmed:.1f} ms",
                         f"{n} draws"))
        results[sc] = appr
    w = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(w)}  {'value':>16}  note")
    print("-" * (w + 40))
    for name, value, note in rows:
        print(f"{name.ljust(w)}  {value:>16}  {note}")
    Path(home, "bench.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
