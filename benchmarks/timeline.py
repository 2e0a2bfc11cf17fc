"""Timeline benchmark: stepping back vs a forward step, and peak memory of long runs.

    PYTHONPATH=. python benchmarks/timeline.py            # all three measurements
    PYTHONPATH=. python benchmarks/timeline.py back        # step-back latency only
    PYTHONPATH=. python benchmarks/timeline.py landscape   # peak RSS, 1,000,000 landscape steps
    PYTHONPATH=. python benchmarks/timeline.py network     # peak RSS, 100,000 network steps

*back*: a network mission trained 10,000 steps with a :class:`Timeline`; then
what the app's ``[`` key and a scrub-bar jump do: ``timeline.rewind(k)`` of every
run, to random steps (a jump) and to ``k - 1`` from a random ``k`` (``[``),
median and max, beside one forward ``sim.step(1)`` of every run.
*landscape* / *network*: each in its own process, ``ru_maxrss`` after the run
with a timeline, beside the same run without one.
"""

from __future__ import annotations

import random
import resource
import statistics
import subprocess
import sys
import time

from descent_tui.scenario.catalog import find
from descent_tui.scenario.overrides import apply
from descent_tui.sim import Simulation
from descent_tui.sim.timeline import Timeline


def _sim(mission: str, steps: int) -> Simulation:
    return Simulation(apply(find(mission, []), [("steps", steps), ("diverge_above", 1e300)]))


def back(mission: str = "batch-sizes", steps: int = 10_000) -> None:
    sim = _sim(mission, steps)
    timeline = Timeline(sim)
    forward = []
    for _ in range(steps):
        t = time.perf_counter()
        sim.step(1)
        forward.append(time.perf_counter() - t)
    rng = random.Random(0)
    jump, step_back = [], []
    for k in [rng.randrange(1, steps) for _ in range(100)]:
        t = time.perf_counter()
        timeline.rewind(k)
        jump.append(time.perf_counter() - t)
        t = time.perf_counter()
        timeline.rewind(k - 1)
        step_back.append(time.perf_counter() - t)
    print(f"{mission}, {steps} steps, {len(sim.runs)} runs, "
          f"{timeline.checkpoint_count()} checkpoints, spacing "
          f"{[t.policy.spacing for t in timeline.tracks]}, "
          f"{[t.checkpoint_bytes // 1024 for t in timeline.tracks]} kB each")
    for name, times in (("forward sim.step(1)", forward), ("rewind(random k), a jump", jump),
                        ("rewind(k - 1), the [ key", step_back)):
        print(f"  {name}: median {statistics.median(times) * 1e3:.2f} ms,"
              f" max {max(times) * 1e3:.2f} ms")


def peak(mission: str, steps: int, with_timeline: bool) -> None:
    sim = _sim(mission, steps)
    timeline = Timeline(sim) if with_timeline else None
    t = time.perf_counter()
    sim.step(steps)
    took = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    count = timeline.checkpoint_count() if timeline else 0
    print(f"  {mission} {steps} steps {'with' if with_timeline else 'without'} timeline:"
          f" peak RSS {rss:.0f} MB, {count} checkpoints, {took:.1f} s")


def _child(mission: str, steps: int, flag: bool) -> None:
    subprocess.run([sys.executable, __file__, "peak", mission, str(steps), str(int(flag))],
                   check=True)


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    if what == "peak":
        peak(sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1")
    if what in ("all", "back"):
        back()
    if what in ("all", "landscape"):
        for flag in (False, True):
            _child("the-ravine", 1_000_000, flag)
    if what in ("all", "network"):
        for flag in (False, True):
            _child("batch-sizes", 100_000, flag)
