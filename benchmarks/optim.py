"""Benchmark: cost of one optimizer step, engine vs hand-written NumPy vs torch.optim.

Not a test. Run by hand::

    python benchmarks/optim.py [--reps 101] [--budget-ms 1.5]

For the parameter sets of a few MLPs (weights (out, in) and biases) it times
one ``step()`` of SGD, SGD with momentum 0.9 and Adam:

* ``engine``: ``descent_tui.engine.optim`` on engine Tensors;
* ``numpy``: the same update hand-written in NumPy on the same arrays (the floor);
* ``torch``: ``torch.optim`` (float64, ``torch.set_num_threads(1)``, for-loop
  implementation) when torch is installed.

Implementations are interleaved round-robin inside one run so that machine
noise hits all of them alike; the table shows median microseconds per step
and the ratios to the NumPy floor (plus the ratio of the fastest repetitions,
which is steadier on a busy machine). Target: engine/numpy <= 1.3.
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from descent_tui.engine import Tensor, optim

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

ARCHS = {"2-8-1": [2, 8, 1], "2-64-64-3": [2, 64, 64, 3], "784-256-10": [784, 256, 10]}
LR, MU, BETAS, EPS = 1e-3, 0.9, (0.9, 0.999), 1e-8


def shapes(widths):
    out = []
    for fan_in, fan_out in itertools.pairwise(widths):
        out += [(fan_out, fan_in), (fan_out,)]
    return out


def make_arrays(widths, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=s) * 0.1, rng.normal(size=s) * 1e-3) for s in shapes(widths)]


# ------------------------------------------------------------------ impls
def engine_impl(arrays, kind):
    params = []
    for data, grad in arrays:
        p = Tensor(data.copy(), requires_grad=True)
        p.grad = grad.copy()
        params.append(p)
    if kind == "SGD":
        opt = optim.SGD(params, lr=LR)
    elif kind == "SGD-m0.9":
        opt = optim.SGD(params, lr=LR, momentum=MU)
    else:
        opt = optim.Adam(params, lr=LR, betas=BETAS, eps=EPS)
    opt.step()  # allocate state
    return opt.step


def numpy_impl(arrays, kind):
    """The same update written directly in NumPy on (data, grad) pairs: the floor."""
    pairs = [(d.copy(), g.copy()) for d, g in arrays]
    if kind == "SGD":
        def step():
            for d, g in pairs:
                d -= LR * g
    elif kind == "SGD-m0.9":
        bufs = [g.copy() for _, g in pairs]

        def step():
            for (d, g), b in zip(pairs, bufs, strict=True):
                b *= MU
                b += g
                d -= LR * b
    else:
        b1, b2 = BETAS
        ms = [np.zeros_like(d) for d, _ in pairs]
        vs = [np.zeros_like(d) for d, _ in pairs]
        t = [0]

        def step():
            t[0] += 1
            bc1 = 1 - b1 ** t[0]
            bc2s = math.sqrt(1 - b2 ** t[0])
            for (d, g), m, v in zip(pairs, ms, vs, strict=True):
                m *= b1
                m += (1 - b1) * g
                v *= b2
                v += (1 - b2) * (g * g)
                denom = np.sqrt(v)
                denom /= bc2s
                denom += EPS
                d -= (LR / bc1) * m / denom
    step()
    return step


def torch_impl(arrays, kind):
    params = []
    for data, grad in arrays:
        p = torch.tensor(data, dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor(grad, dtype=torch.float64)
        params.append(p)
    if kind == "SGD":
        opt = torch.optim.SGD(params, lr=LR, foreach=False)
    elif kind == "SGD-m0.9":
        opt = torch.optim.SGD(params, lr=LR, momentum=MU, foreach=False)
    else:
        opt = torch.optim.Adam(params, lr=LR, betas=BETAS, eps=EPS, foreach=False)
    opt.step()
    return opt.step


# ------------------------------------------------------------------ timing
def calibrate(fn, budget_s):
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= budget_s / 4 or n >= 1 << 20:
            return max(1, int(n * budget_s / max(dt, 1e-9)))
        n *= 4


def bench(impls, reps, budget_s):
    loops = {name: calibrate(fn, budget_s) for name, fn in impls.items()}
    samples = {name: [] for name in impls}
    for _ in range(reps):
        for name, fn in impls.items():  # interleaved round-robin
            n = loops[name]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            samples[name].append((time.perf_counter() - t0) / n)
    med = {name: statistics.median(s) * 1e6 for name, s in samples.items()}
    best = {name: min(s) * 1e6 for name, s in samples.items()}
    return med, best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=101)
    ap.add_argument("--budget-ms", type=float, default=1.5)
    args = ap.parse_args(argv)
    if torch is not None:
        torch.set_num_threads(1)
    rows = []
    for arch, widths in ARCHS.items():
        arrays = make_arrays(widths)
        n_params = sum(d.size for d, _ in arrays)
        for kind in ("SGD", "SGD-m0.9", "Adam"):
            impls = {"engine": engine_impl(arrays, kind), "numpy": numpy_impl(arrays, kind)}
            if torch is not None:
                impls["torch"] = torch_impl(arrays, kind)
            res, best = bench(impls, args.reps, args.budget_ms / 1e3)
            rows.append((arch, n_params, kind, res, best["engine"] / best["numpy"]))
    head = f"{'MLP':<11}{'params':>8}  {'optimizer':<9}{'engine µs':>11}{'numpy µs':>10}"
    head += f"{'torch µs':>10}{'eng/np':>8}{'torch/np':>9}{'eng/np(min)':>12}"
    print(head)
    print("-" * len(head))
    worst = 0.0
    for arch, n_params, kind, res, min_ratio in rows:
        ratio = res["engine"] / res["numpy"]
        worst = max(worst, ratio)
        t = res.get("torch")
        line = f"{arch:<11}{n_params:>8}  {kind:<9}{res['engine']:>11.2f}{res['numpy']:>10.2f}"
        line += f"{t:>10.2f}" if t is not None else f"{'-':>10}"
        line += f"{ratio:>8.2f}"
        line += f"{t / res['numpy']:>9.2f}" if t is not None else f"{'-':>9}"
        line += f"{min_ratio:>12.2f}"
        print(line)
    print(f"\nworst engine/numpy ratio of medians: {worst:.2f} (target <= 1.30)")
    print("eng/np(min) compares the fastest repetitions: less sensitive to a busy machine.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
