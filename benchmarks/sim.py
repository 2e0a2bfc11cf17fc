"""Time a 200-step headless run of every landscape scenario in scenarios/ (and networks).

For each scenario: build a Simulation and step it 200 times (all runs), repeated;
the median wall time and CPU time are printed with the per run-step cost. The
target is < 0.2 s of work per landscape mission.

    python benchmarks/sim.py             # landscapes
    python benchmarks/sim.py --networks  # also the network scenarios
    python benchmarks/sim.py --repeat 3 --steps 200
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from descent_tui.scenario import ScenarioError, load_scenario
from descent_tui.sim import Simulation

TARGET = 0.2


def time_one(loaded, steps: int, repeat: int) -> tuple[float, float, int]:
    walls, cpus = [], []
    runs = 0
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        sim = Simulation(loaded, {"steps": steps})
        sim.step(steps)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
        runs = sum(rs.step for rs in sim.runs)
    return statistics.median(walls), statistics.median(cpus), runs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--networks", action="store_true", help="also time network scenarios")
    ap.add_argument("--dir", type=Path, default=ROOT / "scenarios")
    a = ap.parse_args(argv)
    rows = []
    for path in sorted(a.dir.glob("*.toml")):
        try:
            loaded = load_scenario(path)
        except ScenarioError as e:
            print(f"skip {path.name}: {e.problems[0] if e.problems else e}", file=sys.stderr)
            continue
        if loaded.spec.kind != "landscape" and not a.networks:
            continue
        wall, cpu, run_steps = time_one(loaded, a.steps, a.repeat if loaded.spec.kind ==
                                        "landscape" else max(1, a.repeat // 3))
        rows.append((loaded.spec.id, loaded.spec.kind, len(loaded.spec.runs), wall, cpu,
                     run_steps))
    if not rows:
        print(f"no scenarios found in {a.dir}")
        return 1
    w = max(len(r[0]) for r in rows)
    head = (f"{'scenario':<{w}}  {'kind':<9}  runs  {'median s':>9}  {'cpu s':>7}  "
            f"{'us/run-step':>11}  target")
    print(f"{a.steps} steps, median of {a.repeat} (networks: {max(1, a.repeat // 3)})")
    print(head)
    print("-" * len(head))
    for sid, kind, nruns, wall, cpu, run_steps in rows:
        per = 1e6 * cpu / max(run_steps, 1)
        ok = ("ok" if cpu < TARGET else "SLOW") if kind == "landscape" else ""
        print(f"{sid:<{w}}  {kind:<9}  {nruns:>4}  {wall:>9.4f}  {cpu:>7.4f}  {per:>11.1f}  {ok}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
