"""Timeline benchmark: stepping back vs a forward step, and peak memory of long runs.

    PYTHONPATH=. python benchmarks/timeline.py            # all three measurements
    PYTHONPATH=. python benchmarks/timeline.py back        # step-back latency only
    PYTHONPATH=. python benchmarks/timeline.py app         # the same in the app, 160×50
    PYTHONPATH=. python benchmarks/timeline.py landscape   # peak RSS, 1,000,000 landscape steps
    PYTHONPATH=. python benchmarks/timeline.py network     # peak RSS, 100,000 network steps

*back*: a network mission trained 10,000 steps with a :class:`Timeline`; then
what the app's ``[`` key and a scrub-bar jump do: ``timeline.rewind(k)`` of every
run, to random steps (a jump) and to ``k - 1`` from a random ``k`` (``[``),
median and max, beside one forward ``sim.step(1)`` of every run.
*app*: the same in the real app at 160×50 (Pilot, ``app.run_test``): the time from
a key press (``[``, and ``space`` for a forward step) or a scrub-bar click's
message (``ScrubBar.Jump`` to a random column's step) until the next frame is
painted (the compositor's update rendered to the terminal's text, which a
headless run otherwise skips), median and max.
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
from typing import Any

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


class _Frames:
    """Times at which the app paints a frame (``app._display``), rendered to text as a
    terminal would get it; and when the screen's timeline actions return."""

    def __init__(self, app: Any, screen: Any) -> None:
        self.painted: list[float] = []
        self.done = 0.0
        self.start = 0.0  # when the last action was called
        #: per latency(): (seconds to the action's call, in it, from its end to the frame)
        self.parts: list[tuple[float, float, float]] = []
        display = app._display

        def painted(scr: Any, renderable: Any) -> None:
            display(scr, renderable)
            if renderable is not None:
                if app.is_headless:
                    renderable.render_segments(app.console)
                self.painted.append(time.perf_counter())

        app._display = painted
        for name in ("action_step_back", "_jump", "action_step"):
            self._wrap(screen, name)

    def _wrap(self, screen: Any, name: str) -> None:
        action = getattr(screen, name)

        def timed(*args: Any) -> None:
            self.start = time.perf_counter()
            action(*args)
            self.done = time.perf_counter()

        setattr(screen, name, timed)

    async def latency(self, pilot: Any, act: Any) -> float:
        """Seconds from ``act()`` (a key press or click) to the first frame painted after
        the action returned."""
        self.done = 0.0
        t0 = time.perf_counter()
        await act()
        for _ in range(1000):
            if self.done and any(t > self.done for t in self.painted):
                frame = min(t for t in self.painted if t > self.done)
                self.parts.append((self.start - t0, self.done - self.start, frame - self.done))
                return frame - t0
            await pilot.pause()
        raise RuntimeError("no frame painted after the action")


async def _in_app(mission: str, steps: int, trials: int) -> dict[str, list[float]]:
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.quiz_panel import QuizPanel
    from descent_tui.tui.widgets.scrub_bar import ScrubBar

    loaded = apply(find(mission, []), [("steps", steps), ("diverge_above", 1e300)])
    app = DescentApp(initial=loaded)
    times: dict[str, list[float]] = {"space": [], "[": [], "scrub": []}
    async with app.run_test(size=(160, 50)) as pilot:
        await app.workers.wait_for_complete()  # the simulation is built in a worker
        await pilot.pause()
        screen = app.screen
        screen.query_one(QuizPanel).lock_predictions(announce=False)  # no "predict first?"
        screen._started = True
        screen.auto_pause = False
        with screen._lock:
            screen.sim.step(steps)  # the timeline checkpoints as it goes
        screen._redraw_soon()
        await pilot.pause()
        frames = _Frames(app, screen)
        bar = screen.query_one(ScrubBar)
        rng = random.Random(0)
        for _ in range(trials):
            k = rng.randrange(1, steps)
            with screen._lock:
                screen.timeline.rewind(k)
            times["space"].append(await frames.latency(pilot, lambda: pilot.press("space")))
            times["["].append(await frames.latency(
                pilot, lambda: pilot.press("left_square_bracket")))
            x0, width = bar._bar_span()
            target = bar.step_at(x0 + rng.randrange(width))
            times["scrub"].append(await frames.latency(pilot, lambda t=target: _posted(
                bar, ScrubBar.Jump(t))))
        times["parts"] = frames.parts  # type: ignore[assignment]
        print(f"{mission}, {steps} steps, {len(screen.sim.runs)} runs, "
              f"{screen.timeline.checkpoint_count()} checkpoints, app at 160×50, {trials} trials")
    return times


async def _posted(widget: Any, message: Any) -> None:
    """What a click on the scrub bar sends (Pilot's click adds its own waits for the
    screen between mouse down, up and click: tens of ms that a terminal does not add)."""
    widget.post_message(message)


def in_app(mission: str = "batch-sizes", steps: int = 10_000, trials: int = 60) -> None:
    import asyncio
    import os
    import tempfile

    os.environ["DESCENT_HOME"] = tempfile.mkdtemp(prefix="descent-bench-")
    times = asyncio.run(_in_app(mission, steps, trials))
    for name, label in (("space", "space, a forward step"), ("[", "[, one step back"),
                        ("scrub", "a click on the scrub bar, a jump")):
        t = times[name]
        i = list(times).index(name)
        parts = times["parts"][i::3]  # the trials take space, [, scrub in turn
        split = " + ".join(f"{statistics.median(p[j] for p in parts) * 1e3:.1f}"
                           for j in range(3))
        print(f"  {label}: input to painted frame median {statistics.median(t) * 1e3:.1f} ms,"
              f" max {max(t) * 1e3:.1f} ms (medians: to the action {split.split(' + ')[0]},"
              f" action {split.split(' + ')[1]}, to the frame {split.split(' + ')[2]} ms)")


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
    if what in ("all", "app"):
        in_app()
    if what in ("all", "landscape"):
        for flag in (False, True):
            _child("the-ravine", 1_000_000, flag)
    if what in ("all", "network"):
        for flag in (False, True):
            _child("batch-sizes", 100_000, flag)
