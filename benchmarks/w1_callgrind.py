"""W1 (or W2) of benchmarks/engine.py in instructions, phase by phase, under valgrind's callgrind.

Timings on a shared machine are noisy; instruction counts are not. Each phase
is run twice under callgrind, with 0 and with N steps after the same warm-up,
and the difference divided by N is the cost of one step:

    python benchmarks/w1_callgrind.py            # W1: floor, fwd, fwd+bwd, full step
    python benchmarks/w1_callgrind.py --workload w2 --steps 200

A phase's own cost is the difference of two rows (backward = "fwd+bwd" -
"fwd"; SGD step = "full" - "fwd+bwd"; "fwd" includes zero_grad). The floor is
benchmarks/engine.py's own numpy_step, imported with torch blocked, so torch
is not loaded under valgrind.
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


def _benchmark():
    """benchmarks/engine.py without torch (its column just goes missing)."""
    sys.modules["torch"] = None  # type: ignore[assignment]  # `import torch` raises ImportError
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import engine

    return engine


def steps_for(workload, phase):
    bench = _benchmark()
    if workload == "w1":
        floor = bench.bowl_workload()[0]
        from descent_tui.engine import Tensor, optim

        x = Tensor(3.0, requires_grad=True)
        y = Tensor(-2.0, requires_grad=True)
        params = [x, y]

        def forward():
            return x ** 2 + 2 * y ** 2
    else:  # the same model, data and loss as benchmarks/engine.py's W2
        floor = bench.WORKLOADS["W2 MLP 2-8-1 tanh, b4, MSE"]()[0]
        from descent_tui.engine import Tensor, optim
        from descent_tui.engine import functional as F

        X, Y, _, _ = bench.make_mlp_data([2, 8, 1], 4, 0)
        model = bench.engine_mlp("tanh", [2, 8, 1])
        Xt, Yt = Tensor(X), Tensor(Y)
        params = model.parameters()

        def forward():
            return F.mse_loss(model(Xt), Yt)

    opt = optim.SGD(params, lr=bench.LR)

    def engine():
        opt.zero_grad()
        loss = forward()
        if phase != "fwd":
            loss.backward()
        if phase == "full":
            opt.step()

    return floor if phase == "floor" else engine


def count(workload, phase, steps):
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         __file__, "--workload", workload, "--run", phase, "--steps", str(steps)],
        capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1",
             "PYTHONHASHSEED": "0"})  # the same set and dict layouts in every run
    return int(re.search(r"Collected : (\d+)", out.stderr).group(1))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--workload", choices=("w1", "w2"), default="w1")
    ap.add_argument("--run", choices=PHASES, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.run:  # the process being measured
        sys.path.insert(0, str(ROOT))
        fn = steps_for(args.workload, args.run)
        for _ in range(50 + args.steps):
            fn()
        return
    for phase in PHASES:
        per_step = (count(args.workload, phase, args.steps) - count(args.workload, phase, 0))
        print(f"{phase:8} {per_step / args.steps:9.0f} instructions per step")


if __name__ == "__main__":
    main()
