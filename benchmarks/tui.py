"""TUI benchmarks at 160×50: startup, training throughput in the app, frame times.

    python benchmarks/tui.py [--runs 5] [--scenario vanishing-gradients] [--seconds 4]

(a) time to first paint: our app (mission board) vs a bare Textual app with a
    plot, headless (run_test), median of fresh subprocesses run alternately (one
    bare, one ours, ...), so both see the same machine; bar: ours ≤ 1.3× bare;
(b) steps/second at full speed inside the app vs headless Simulation.step on
    the same scenario;
(c) while running at full speed: the max / median refresh (tick) time
    (``screen.frame_times``: taking the records and handing them to the views) and
    the max / median time each view takes to draw itself (its render), and the
    key latency (key press to its action); bar: no frame and no key over 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
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

BARE = r'''
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


def first_paints(runs: int, env: dict[str, str]) -> tuple[float, float, float]:
    """Median first paint of the bare app and of ours, and the median of per-pair ratios,
    the two run alternately (the machine drifts; a pair sees nearly the same moment)."""
    bare, ours = [], []
    for _ in range(runs):
        bare.append(_paint_once(BARE, env))
        ours.append(_paint_once(OURS, env))
    ratios = [o / b for o, b in zip(ours, bare, strict=True)]
    return statistics.median(bare), statistics.median(ours), statistics.median(ratios)


#: the views whose drawing is timed: (module, class, method)
VIEWS = (("descent_tui.tui.widgets.loss_plot", "LossPlot", "render"),
         ("descent_tui.tui.widgets.landscape", "Landscape", "_build"),
         ("descent_tui.tui.widgets.decision_map", "DecisionMap", "_build"),
         ("descent_tui.tui.widgets.layer_grads", "LayerGrads", "render"),
         ("descent_tui.tui.widgets.status", "StatusLine", "show"))


def time_views() -> tuple[dict[str, list[float]], Any]:
    """Wrap each view's drawing method with a timer: (name -> seconds per call, undo)."""
    import functools
    import importlib

    times: dict[str, list[float]] = {}
    undo = []
    for module, cls_name, method in VIEWS:
        cls = getattr(importlib.import_module(module), cls_name)
        original = getattr(cls, method)
        samples = times.setdefault(cls_name, [])

        def timed(*a, _f=original, _s=samples, **k):
            t0 = time.perf_counter()
            try:
                return _f(*a, **k)
            finally:
                _s.append(time.perf_counter() - t0)

        setattr(cls, method, functools.wraps(original)(timed))
        undo.append((cls, method, original))

    def restore() -> None:
        for cls, method, original in undo:
            setattr(cls, method, original)

    return times, restore


async def app_throughput(scenario: str, seconds: float, rounds: int = 5) -> dict[str, float]:
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
    views, restore = time_views()
    async with app.run_test(size=(160, 50)) as pilot:
        await app.workers.wait_for_complete()  # the simulation is built in a worker
        await pilot.pause()
        screen = app.screen
        screen.sim.reset({"steps": 1_000_000})
        screen.speed_index = len(SPEEDS) - 1
        screen.auto_pause = False  # measure the trainer, not the lesson's pauses
        screen.frame_times.clear()
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--scenario", action="append")
    args = ap.parse_args()
    scenarios = args.scenario or ["optimizer-zoo", "vanishing-gradients", "forgot-zero-grad"]
    home = tempfile.mkdtemp(prefix="descent-bench-")
    os.environ["DESCENT_HOME"] = home
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    sys.path.insert(0, str(ROOT))

    bare, ours, paint_ratio = first_paints(args.runs, env)
    rows = [("first paint: bare Textual + plot (160x50)", f"{bare * 1000:.0f} ms", ""),
            ("first paint: descent (mission board)", f"{ours * 1000:.0f} ms",
             f"{paint_ratio:.2f}x (median of pairs; bar <= 1.3x)")]
    results: dict[str, object] = {"first_paint_bare_s": bare, "first_paint_ours_s": ours,
                                  "first_paint_ratio": paint_ratio}
    for sc in scenarios:
        appr = asyncio.run(app_throughput(sc, args.seconds))
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
