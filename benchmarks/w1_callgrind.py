"""W1 of benchmarks/engine.py in instructions, phase by phase, under valgrind's callgrind.

Timings on a shared machine are noisy; instruction counts are not. Each phase
is run twice under callgrind, with 0 and with N steps after the same warm-up,
and the difference divided by N is the cost of one step:

    python benchmarks/w1_callgrind.py            # floor, fwd, fwd+bwd, full step
    python benchmarks/w1_callgrind.py --steps 200

A phase's own cost is the difference of two rows (backward = "fwd+bwd" -
"fwd"; SGD step = "full" - "fwd+bwd"). The floor is benchmarks/engine.py's
bowl_workload numpy_step, copied here so torch is not imported under valgrind.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHASES = ("floor", "fwd", "fwd+bwd", "full")
LR = 1e-3


def steps_for(phase):
    import numpy as np

    from descent_tui.engine import Tensor, optim

    x = Tensor(3.0, requires_grad=True)
    y = Tensor(-2.0, requires_grad=True)
    opt = optim.SGD([x, y], lr=LR)
    x0, y0 = np.array(3.0), np.array(-2.0)

    def floor():  # the same as benchmarks/engine.py's W1 numpy_step
        nonlocal x0, y0
        _ = x0 ** 2 + 2 * y0 ** 2
        gx, gy = 2 * x0, 4 * y0
        x0 -= LR * gx
        y0 -= LR * gy

    def engine():
        opt.zero_grad()
        loss = x ** 2 + 2 * y ** 2
        if phase != "fwd":
            loss.backward()
        if phase == "full":
            opt.step()

    return floor if phase == "floor" else engine


def count(phase, steps):
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         __file__, "--run", phase, "--steps", str(steps)],
        capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"})
    return int(re.search(r"Collected : (\d+)", out.stderr).group(1))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--run", choices=PHASES, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.run:  # the process being measured
        sys.path.insert(0, str(ROOT))
        fn = steps_for(args.run)
        for _ in range(50 + args.steps):
            fn()
        return
    for phase in PHASES:
        per_step = (count(phase, args.steps) - count(phase, 0)) / args.steps
        print(f"{phase:8} {per_step:9.0f} instructions per step")


if __name__ == "__main__":
    main()
