"""Timeline benchmark: stepping back vs a forward step, and peak memory of long runs.

    PYTHONPATH=. python benchmarks/timeline.py            # all three measurements
    PYTHONPATH=. python benchmarks/timeline.py back        # step-back latency only
    PYTHONPATH=. python benchmarks/timeline.py app         # the same in the app, 160×50
    PYTHONPATH=. python benchmarks/timeline.py landscape   # peak RSS, 1,000,000 landscape steps
    PYTHONPATH=. python benchmarks/timeline.py network     # peak RSS, 100,000 network steps
    PYTHONPATH=. python benchmarks/timeline.py back --against main   # here and at main, in turn

*back*: a network mission trained 10,000 steps with a :class:`Timeline`; then
what the app's ``[`` key and a scrub-bar jump do: ``timeline.rewind(k)`` of every
run, to random steps (a jump) and to ``k - 1`` from a random ``k`` (``[``), right
after the jump and again with the states the jump kept near ``k`` forgotten (as
after training to ``k``), median and max, beside one forward ``sim.step(1)``.
*app*: the same in the real app at 160×50 (Pilot, ``app.run_test``): the time from
a key press (``[``, and ``space`` for a forward step) or a scrub-bar click's
message (what a click on a random column posts, ``ScrubBar.jump_at``: its step and
the steps its cell also shows; then ``[`` again with the states near that step
forgotten; then ``ScrubBar.Jump`` to a random step with no spread, the worst a jump
can be) until the next frame is painted (the compositor's update rendered to the
terminal's text, which a headless run otherwise skips), median, 90th percentile
and max.
*landscape* / *network*: each in its own process, ``ru_maxrss`` after the run
with a timeline, beside the same run without one, and the bound it must stay
under (:func:`bound_mb`): the peak without a timeline plus, per run, the
checkpoint budget (``CHECKPOINT_BYTES``, 64 MiB) and its history archive (one
copy of the kept rows per stride a checkpoint refers to: at most
``ARCHIVE_STRIDES`` copies of the history's 2,000 rows).

*back* and *app* also count the garbage collector's work: the objects it tracks
once the run is trained, how long a full collection takes then, and the full
collections (with their milliseconds) that land in the timed actions.

``--against REV`` runs each measurement twice in the same sitting, here and at git
revision REV (its ``descent_tui`` exported to a temporary folder, this script
run on it), taking turns, and prints both.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from descent_tui.scenario.catalog import find
from descent_tui.scenario.overrides import apply
from descent_tui.sim import Simulation
from descent_tui.sim.timeline import Timeline

ROOT = Path(__file__).resolve().parents[1]
#: the history archive's copies a run may hold: one per stride, 2,000 rows each
ARCHIVE_STRIDES = 20


class FullCollections:
    """Full (generation 2) collections and their seconds, while installed."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._t0 = 0.0

    def __enter__(self) -> FullCollections:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        gc.callbacks.remove(self)

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            self.times.append(time.perf_counter() - self._t0)

    def __str__(self) -> str:
        ms = ", ".join(f"{1000 * t:.0f}" for t in self.times)
        return f"{len(self.times)} full collections ({ms} ms)" if self.times else \
            "no full collection"


def gc_load() -> str:
    """The objects the collector tracks now and a full collection's time (median of 3)."""
    times = []
    for _ in range(3):
        t = time.perf_counter()
        gc.collect()
        times.append(time.perf_counter() - t)
    return (f"gc: {len(gc.get_objects()):,} tracked objects, a full collection "
            f"{statistics.median(times) * 1e3:.0f} ms")


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
    jump, step_back, cold = [], [], []
    with FullCollections() as full:
        for k in [rng.randrange(1, steps) for _ in range(100)]:
            t = time.perf_counter()
            timeline.rewind(k)
            jump.append(time.perf_counter() - t)
            t = time.perf_counter()
            timeline.rewind(k - 1)
            step_back.append(time.perf_counter() - t)
            timeline.rewind(k)
            for track in timeline.tracks:  # as after training to k: no state near k kept
                getattr(track, "recent", {}).clear()
            t = time.perf_counter()
            timeline.rewind(k - 1)
            cold.append(time.perf_counter() - t)
        presses = []  # [ ten times in a row from a trained step
        for k in [rng.randrange(10, steps) for _ in range(20)]:
            timeline.rewind(k)
            for track in timeline.tracks:
                getattr(track, "recent", {}).clear()
            for j in range(1, 11):
                t = time.perf_counter()
                timeline.rewind(k - j)
                presses.append(time.perf_counter() - t)
    print(f"{mission}, {steps} steps, {len(sim.runs)} runs, "
          f"{timeline.checkpoint_count()} checkpoints, spacing "
          f"{[t.policy.spacing for t in timeline.tracks]}, "
          f"{[t.checkpoint_bytes // 1024 for t in timeline.tracks]} kB each")
    print(f"  {gc_load()}; in the timed rewinds: {full}")
    for name, times in (("forward sim.step(1)", forward), ("rewind(random k), a jump", jump),
                        ("rewind(k - 1) after it, the [ key", step_back),
                        ("rewind(k - 1) from a trained k, the [ key", cold),
                        ("[ ten times from a trained k, each press", presses)):
        print(f"  {name}: median {statistics.median(times) * 1e3:.2f} ms,"
              f" max {max(times) * 1e3:.2f} ms")


#: the app's timed actions, in the order each trial takes them, and how they are printed
ACTIONS = (("space", "space, a forward step"), ("[", "[, one step back"),
           ("scrub", "a click on the scrub bar, a jump"),
           ("[ cold", "[ from a step trained to (no state near it kept)"),
           ("any", "a jump to any step (the scrub bar's message for a random step)"))


class _Frames:
    """Times at which the app paints a frame (``app._display``), rendered to text as a
    terminal would get it; and when the screen's timeline actions return."""

    def __init__(self, app: Any, screen: Any) -> None:
        self.painted: list[float] = []
        self.done = 0.0
        self.start = 0.0  # when the last action was called
        #: per latency(): (seconds to the action's call, in it, from its end to the frame)
        self.parts: list[tuple[float, float, float]] = []
        #: per latency(): seconds a fixed loop took right after the frame (the machine's
        #: speed then: on a shared machine it moves between trials, every part with it)
        self.speed: list[float] = []
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
        for _ in range(20_000):
            if self.done and any(t > self.done for t in self.painted):
                frame = min(t for t in self.painted if t > self.done)
                self.parts.append((self.start - t0, self.done - self.start, frame - self.done))
                t1 = time.perf_counter()
                sum(range(100_000))
                self.speed.append(time.perf_counter() - t1)
                return frame - t0
            # the app runs on while this waits: Pilot's pause() would post a callback to
            # every widget first (``_wait_for_screen``), which delayed a posted message's
            # action by 8-9 ms here, and no terminal does that
            await asyncio.sleep(0.0005)
        raise RuntimeError("no frame painted after the action")


async def _in_app(mission: str, steps: int, trials: int) -> dict[str, list[float]]:
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.quiz_panel import QuizPanel
    from descent_tui.tui.widgets.scrub_bar import ScrubBar

    loaded = apply(find(mission, []), [("steps", steps), ("diverge_above", 1e300)])
    app = DescentApp(initial=loaded)
    times: dict[str, list[float]] = {name: [] for name, _ in ACTIONS}
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
        rng, anywhere = random.Random(0), random.Random(1)  # (the clicks as before)
        print(f"  {gc_load()} (the app's full-collection threshold: {gc.get_threshold()})")
        times["gc"] = FullCollections()  # type: ignore[assignment]
        gc.callbacks.append(times["gc"])
        for _ in range(trials):
            k = rng.randrange(1, steps)
            with screen._lock:
                screen.timeline.rewind(k)
            times["space"].append(await frames.latency(pilot, lambda: pilot.press("space")))
            times["["].append(await frames.latency(
                pilot, lambda: pilot.press("left_square_bracket")))
            x0, width = bar._bar_span()
            jump = _click(bar, x0 + rng.randrange(width))
            times["scrub"].append(await frames.latency(pilot, lambda j=jump: _posted(bar, j)))
            with screen._lock:  # as after training to here: no state near it kept
                for track in screen.timeline.tracks:
                    getattr(track, "recent", {}).clear()
            times["[ cold"].append(await frames.latency(
                pilot, lambda: pilot.press("left_square_bracket")))
            # any step, however far from a kept one (no cell's other steps to choose from)
            k = anywhere.randrange(1, steps)
            times["any"].append(await frames.latency(pilot, lambda k=k: _posted(
                bar, ScrubBar.Jump(k))))
        gc.callbacks.remove(times["gc"])
        times["parts"] = frames.parts  # type: ignore[assignment]
        times["speed"] = frames.speed
        print(f"{mission}, {steps} steps, {len(screen.sim.runs)} runs, "
              f"{screen.timeline.checkpoint_count()} checkpoints, app at 160×50, {trials} trials")
    return times


def _click(bar: Any, x: int) -> Any:
    """The message a click on content column ``x`` of the scrub bar posts (the bar's
    own ``jump_at``; a revision without it posted the step under the click)."""
    jump_at = getattr(bar, "jump_at", None)
    return jump_at(x) if jump_at else type(bar).Jump(bar.step_at(x))


async def _posted(widget: Any, message: Any) -> None:
    """What a click on the scrub bar sends (Pilot's click adds its own waits for the
    screen between mouse down, up and click: tens of ms that a terminal does not add)."""
    widget.post_message(message)


def in_app(mission: str = "batch-sizes", steps: int = 10_000, trials: int = 60) -> None:
    import os
    import tempfile

    os.environ["DESCENT_HOME"] = tempfile.mkdtemp(prefix="descent-bench-")
    times = asyncio.run(_in_app(mission, steps, trials))
    for i, (name, label) in enumerate(ACTIONS):
        t = times[name]
        parts = times["parts"][i::len(ACTIONS)]  # the trials take the actions in turn
        to, act, frame = (statistics.median(p[j] for p in parts) * 1e3 for j in range(3))
        p90 = statistics.quantiles(t, n=10)[-1]
        print(f"  {label}: input to painted frame median {statistics.median(t) * 1e3:.1f} ms,"
              f" 90th percentile {p90 * 1e3:.1f} ms, max {max(t) * 1e3:.1f} ms"
              f" (medians: to the action {to:.1f}, action {act:.1f}, to the frame {frame:.1f} ms)")
    print(f"  in the {len(ACTIONS) * len(times['space'])} timed actions: {times['gc']}")
    _by_speed(times)


def _by_speed(times: dict[str, Any]) -> None:
    """The machine's speed over the trials (a fixed loop after each frame), and each
    action's latency in the trials where the machine ran fastest (its quicker half)."""
    speed = times["speed"]
    print(f"  machine: a fixed loop took {min(speed) * 1e3:.2f}-{max(speed) * 1e3:.2f} ms"
          f" (median {statistics.median(speed) * 1e3:.2f}) after the trials' frames: the"
          f" same work ran up to {max(speed) / min(speed):.1f}x slower in some")
    for i, (name, _) in enumerate(ACTIONS):
        pairs = sorted(zip(speed[i::len(ACTIONS)], times[name], strict=True))
        quick = [t for _, t in pairs[:len(pairs) // 2]]
        print(f"    {name}: with the machine in its quicker half, median"
              f" {statistics.median(quick) * 1e3:.1f} ms, 90th percentile"
              f" {statistics.quantiles(quick, n=10)[-1] * 1e3:.1f} ms")


def peak(mission: str, steps: int, with_timeline: bool) -> None:
    sim = _sim(mission, steps)
    timeline = Timeline(sim) if with_timeline else None
    t = time.perf_counter()
    sim.step(steps)
    took = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    extra = ""
    if timeline is not None:
        tracks = timeline.tracks + timeline.fork_tracks
        kept = sum(c.nbytes() for t in tracks for c in t.checkpoints.values())
        archive = sum(t.archive.nbytes() for t in tracks)
        rows = max(t.run.history.capacity for t in tracks)
        series = max(len(t.run.history.names) for t in tracks)
        extra = (f", checkpoints {kept / 2**20:.1f} MiB, history archive {archive / 2**20:.1f}"
                 f" MiB; {len(sim.runs)} runs, archive bound {rows} rows x {series} series")
    print(f"  {mission} {steps} steps {'with' if with_timeline else 'without'} timeline:"
          f" peak RSS {rss:.0f} MB, {timeline.checkpoint_count() if timeline else 0}"
          f" checkpoints, {took:.1f} s{extra}")


def bound_mb(without: float, runs: int, rows: int, series: int) -> float:
    """The peak RSS a run with a timeline stays under: the run without one, plus per run
    the checkpoint budget and at most ``ARCHIVE_STRIDES`` copies of its history
    (``rows`` steps and ``series`` float columns each)."""
    from descent_tui.sim.checkpoints import CHECKPOINT_BYTES

    archive = ARCHIVE_STRIDES * rows * (series + 1) * 8
    return without + runs * (CHECKPOINT_BYTES + archive) / 2**20


def _child(mission: str, steps: int, flag: bool) -> str:
    out = subprocess.run([sys.executable, __file__, "peak", mission, str(steps), str(int(flag))],
                         check=True, capture_output=True, text=True).stdout
    print(out, end="", flush=True)
    return out


def memory(mission: str, steps: int) -> None:
    """Peak RSS with and without a timeline, each in its own process, and the bound."""
    from descent_tui.sim.checkpoints import CHECKPOINT_BYTES

    without = float(re.search(r"peak RSS (\d+)", _child(mission, steps, False))[1])  # type: ignore[index]
    line = _child(mission, steps, True)
    rss = float(re.search(r"peak RSS (\d+)", line)[1])  # type: ignore[index]
    shape = re.search(r"(\d+) runs, archive bound (\d+) rows x (\d+) series", line)
    if shape is None:
        return
    bound = bound_mb(without, *(int(g) for g in shape.groups()))
    print(f"  bound: {without:.0f} MB without + {shape[1]} runs x"
          f" ({CHECKPOINT_BYTES // 2**20} MiB of checkpoints + {ARCHIVE_STRIDES} x {shape[2]}"
          f" history rows) = {bound:.0f} MB;"
          f" measured {rss:.0f} MB: {'within' if rss <= bound else 'OVER'} the bound")


def against(rev: str, whats: list[str]) -> None:
    """Each measurement here and at ``rev`` (exported beside), taking turns."""
    there = Path(tempfile.mkdtemp(prefix="descent-bench-rev-"))
    archive = subprocess.run(["git", "archive", rev, "descent_tui", "scenarios"], cwd=ROOT,
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(there)], input=archive, check=True)
    trees = {"here": str(ROOT), rev: str(there)}
    for n, what in enumerate(whats):
        for name in list(trees)[::1 if n % 2 == 0 else -1]:
            print(f"== {what}, {name} ({os.getloadavg()[0]:.1f} load)", flush=True)
            env = {**os.environ, "PYTHONPATH": trees[name]}
            subprocess.run([sys.executable, __file__, what], env=env, check=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--against" in args:
        at = args.index("--against")
        rev = args[at + 1]
        rest = args[:at] + args[at + 2:]
        against(rev, rest or ["back", "app", "landscape", "network"])
        sys.exit(0)
    what = args[0] if args else "all"
    if what == "peak":
        peak(args[1], int(args[2]), args[3] == "1")
    if what in ("all", "back"):
        back()
    if what in ("all", "app"):
        in_app()
    if what in ("all", "landscape"):
        memory("the-ravine", 1_000_000)
    if what in ("all", "network"):
        memory("batch-sizes", 100_000)
