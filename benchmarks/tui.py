"""TUI benchmarks: startup, training throughput in the app, frame times.

    python benchmarks/tui.py [--runs 5] [--scenario vanishing-gradients] [--seconds 4]

(a) time to first paint: our app (mission board) vs a bare Textual app with a
    plot, headless (run_test), median of several fresh subprocesses;
(b) steps/second at full speed inside the app vs headless Simulation.step on
    the same scenario;
(c) the max / median refresh (tick) time while running.
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
    async with app.run_test(size=(120, 40)) as pilot:
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
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        print(PAINTED[0] - t0)
asyncio.run(main())
'''


def first_paint(code: str, runs: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, cwd=ROOT, check=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


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
    async with app.run_test(size=(120, 40)) as pilot:
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
    return {"steps_per_s": statistics.median(app_rates),
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
    scenarios = args.scenario or ["the-ravine", "vanishing-gradients"]
    home = tempfile.mkdtemp(prefix="descent-bench-")
    os.environ["DESCENT_HOME"] = home
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    sys.path.insert(0, str(ROOT))

    bare = first_paint(BARE, args.runs, env)
    ours = first_paint(OURS, args.runs, env)
    rows = [("first paint: bare Textual + plot", f"{bare * 1000:.0f} ms", ""),
            ("first paint: descent (mission board)", f"{ours * 1000:.0f} ms",
             f"{ours / bare:.2f}x (goal <= 1.5x)")]
    results: dict[str, object] = {"first_paint_bare_s": bare, "first_paint_ours_s": ours}
    for sc in scenarios:
        appr = asyncio.run(app_throughput(sc, args.seconds))
        head, ratio = appr["headless_steps_per_s"], appr["ratio"]
        rows.append((f"{sc}: headless steps/s", f"{head:.0f}", ""))
        rows.append((f"{sc}: app steps/s (MAX speed)", f"{appr['steps_per_s']:.0f}",
                     f"{100 * ratio:.0f}% (median of per-round ratios; goal >= 80%)"))
        rows.append((f"{sc}: refresh time max / median", f"{appr['max_frame_ms']:.1f} /"
                     f" {appr['median_frame_ms']:.1f} ms", f"{appr['frames']} refreshes"))
        rows.append((f"{sc}: key latency max / median", f"{appr['key_latency_max_ms']:.1f} /"
                     f" {appr['key_latency_median_ms']:.1f} ms", "10 keys at MAX speed"))
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
