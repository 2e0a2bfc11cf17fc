"""Lab frame times at 160×50: a 2-8-8-1 tanh network on spiral, unit view on, full speed.

    python benchmarks/lab.py [--seconds 4] [--against REV]

Opens the Lab headless (Textual's run_test), sets the network up, trains at full
speed (MAX) and reads ``screen.frame_times`` (seconds per refresh: taking the
records under the lock, the decision map, the unit maps of every hidden unit and
the network picture, and handing them to the views), then the network picture's
own drawing (its maps and every weight's line), while the training still runs.
Bar: 50 ms.

``--against REV`` also times the network picture's drawing as it was at git
revision REV (``descent_tui/tui/widgets/lab_network.py`` of that commit, loaded
beside the current one), the two taking turns on the same view in the same run,
and checks that both draw the same cells once the training has stopped.
The full garbage collections that land in the timed paints are counted and timed
(``gc_full``): a pause of the whole process, whoever triggered it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from timeline import FullCollections  # the same counter: this folder is on sys.path

ROOT = Path(__file__).resolve().parents[1]
MODULE = "descent_tui/tui/widgets/lab_network.py"


def load_at(rev: str) -> Any:
    """The network picture's module as it was at git revision ``rev``."""
    source = subprocess.run(["git", "show", f"{rev}:{MODULE}"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "lab_network_then.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("lab_network_then", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def stats(seconds: list[float]) -> dict[str, float]:
    ms = sorted(1000 * s for s in seconds)
    return {"median_ms": statistics.median(ms), "p90_ms": ms[int(0.9 * (len(ms) - 1))],
            "max_ms": ms[-1]}


def cells(strips: list[Any]) -> list[list[tuple[str, Any]]]:
    """(character, style) of every cell of ``strips``."""
    return [[(c, seg.style) for seg in strip for c in seg.text] for strip in strips]


async def paints(pilot: Any, view: Any, classes: dict[str, type], rounds: int
                 ) -> dict[str, dict[str, Any]]:
    """Each class's drawing of ``view``, taking turns, ``rounds`` times (with the app
    running between the paints)."""
    times: dict[str, list[float]] = {name: [] for name in classes}
    full = {name: FullCollections() for name in classes}
    home = type(view)
    for _ in range(rounds):
        await pilot.pause(0.02)
        for name, cls in classes.items():
            view.__class__ = cls
            gc.callbacks.append(full[name])
            t0 = time.perf_counter()
            view._build()
            times[name].append(time.perf_counter() - t0)
            gc.callbacks.remove(full[name])
    view.__class__ = home
    return {name: {**stats(times[name]), "gc_full": len(full[name].times),
                   "gc_full_ms": [round(1000 * t) for t in full[name].times]}
            for name in classes}


async def measure(seconds: float, against: str | None) -> dict[str, Any]:
    from descent_tui.scenario.lab import LabConfig, LabRun
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.screens.lab import SPEEDS, LabScreen
    from descent_tui.tui.widgets.lab_network import NetworkView

    classes: dict[str, type] = {"now": NetworkView}
    if against:
        classes[against] = load_at(against).NetworkView
    cfg = LabConfig(dataset="spiral", samples=300, hidden=[8, 8], activations=["tanh", "tanh"],
                    steps=1_000_000, runs=[LabRun(label="sgd", lr=0.1)])
    app = DescentApp()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        app.push_screen(LabScreen(cfg))
        await pilot.pause(0.5)
        screen = app.screen
        view = screen.query_one(NetworkView)
        size = [view.size.width, view.size.height]
        screen.speed_index = SPEEDS.index(None)
        screen.frame_times.clear()
        await pilot.press("r")
        t0 = time.perf_counter()
        await pilot.pause(seconds)
        frames = list(screen.frame_times)
        network = await paints(pilot, view, classes, rounds=60)  # still training
        steps = screen.sim.step_count
        elapsed = time.perf_counter() - t0
        await pilot.press("r")
        await pilot.pause(0.3)
        drawn = [cells(view._build())]
        for cls in list(classes.values())[1:]:
            view.__class__ = cls
            drawn.append(cells(view._build()))
        view.__class__ = NetworkView
    out = {"frames": len(frames), **stats(frames), "network_paint": network,
           "steps_per_s": steps / elapsed, "view": size}
    if against:
        out["same_cells"] = all(d == drawn[0] for d in drawn)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--against", metavar="REV", help="also time the picture of REV")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.seconds, args.against)), indent=2))


if __name__ == "__main__":
    main()
