"""Lab frame times at 160×50: a 2-8-8-1 tanh network on spiral, unit view on, full speed.

    python benchmarks/lab.py [--seconds 4]

Opens the Lab headless (Textual's run_test), sets the network up, trains at full
speed (MAX) and reads ``screen.frame_times`` (seconds per refresh: taking the
records under the lock, the decision map, the unit maps of every hidden unit and
the network picture, and handing them to the views), then the network picture's
own drawing (its maps and every weight's line). Bar: 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any


async def measure(seconds: float) -> dict[str, Any]:
    from descent_tui.scenario.lab import LabConfig, LabRun
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.screens.lab import SPEEDS, LabScreen
    from descent_tui.tui.widgets.lab_network import NetworkView

    cfg = LabConfig(dataset="spiral", samples=300, hidden=[8, 8], activations=["tanh", "tanh"],
                    steps=1_000_000, runs=[LabRun(label="sgd", lr=0.1)])
    app = DescentApp()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        app.push_screen(LabScreen(cfg))
        await pilot.pause(0.5)
        screen = app.screen
        screen.speed_index = SPEEDS.index(None)
        screen.frame_times.clear()
        await pilot.press("r")
        t0 = time.perf_counter()
        await pilot.pause(seconds)
        steps = screen.sim.step_count
        elapsed = time.perf_counter() - t0
        await pilot.press("r")
        frames = list(screen.frame_times)
        paints = []
        for _ in range(20):  # the network picture's own drawing (done on its next paint)
            t1 = time.perf_counter()
            screen.query_one(NetworkView)._build()
            paints.append(time.perf_counter() - t1)
    return {"frames": len(frames), "max_ms": 1000 * max(frames),
            "median_ms": 1000 * statistics.median(frames),
            "network_paint_median_ms": 1000 * statistics.median(paints),
            "network_paint_max_ms": 1000 * max(paints),
            "steps_per_s": steps / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.seconds)), indent=2))


if __name__ == "__main__":
    main()
