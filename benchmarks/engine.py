"""Time one full training step: descent's engine vs hand-written NumPy vs PyTorch.

A step is zero_grad, forward, loss, backward and a plain SGD update. The NumPy
column is the same maths written out by hand (the floor: no graph, no
bookkeeping); PyTorch runs eager on the CPU in float64 with one thread. The three
are interleaved in one run so machine noise hits them alike; times are medians,
and each ratio is the median of the per-round ratios.

    python benchmarks/engine.py            # all workloads
    python benchmarks/engine.py --quick    # fewer repeats
"""

from __future__ import annotations

import os

# One thread everywhere: PyTorch runs single-threaded, so NumPy's BLAS does too.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from descent_tui.engine import (
    Tensor,
    nn,
    optim,
)
from descent_tui.engine import functional as F

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # the table simply loses a column
    torch = None

LR = 1e-3


# ----------------------------------------------------------------- workloads
def make_mlp_data(sizes, batch, classes, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(batch, sizes[0]))
    if classes:
        y = rng.integers(0, classes, size=batch)
    else:
        y = rng.normal(size=(batch, sizes[-1]))
    Ws = [rng.normal(size=(o, i)) / np.sqrt(i) for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [np.zeros(o) for o in sizes[1:]]
    return X, y, Ws, bs


ACT = {
    "tanh": (np.tanh, lambda a: 1 - a * a),
    "relu": (lambda z: np.maximum(z, 0), lambda a: (a > 0).astype(a.dtype)),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda a: a * (1 - a)),
}


def numpy_mlp_step(act, loss, Ws, bs, X, y):
    """Forward, loss, backward and SGD, written by hand."""
    f, df = ACT[act]
    acts = [X]
    h = X
    for i, (W, b) in enumerate(zip(Ws, bs)):
        z = h @ W.T + b
        h = z if i == len(Ws) - 1 else f(z)
        acts.append(h)
    out = acts[-1]
    n = out.shape[0]
    if loss == "mse":
        d = out - y
        _ = (d * d).mean()
        g = 2 * d / d.size
    else:
        s = out - out.max(axis=1, keepdims=True)
        e = np.exp(s)
        p = e / e.sum(axis=1, keepdims=True)
        _ = -np.log(p[np.arange(n), y]).mean()
        g = p
        g[np.arange(n), y] -= 1
        g /= n
    for i in range(len(Ws) - 1, -1, -1):
        gW = g.T @ acts[i]
        gb = g.sum(axis=0)
        if i > 0:
            g = (g @ Ws[i]) * df(acts[i])
        Ws[i] -= LR * gW
        bs[i] -= LR * gb


def engine_mlp(act, sizes):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b, rng=np.random.default_rng(i)))
        if i < len(sizes) - 2:
            layers.append({"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}[act]())
    return nn.Sequential(*layers)


def torch_mlp(act, sizes):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b, dtype=torch.float64))
        if i < len(sizes) - 2:
            layers.append({"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU,
                           "sigmoid": torch.nn.Sigmoid}[act]())
    return torch.nn.Sequential(*layers)


def mlp_workload(act, sizes, batch, loss):
    classes = sizes[-1] if loss == "ce" else 0
    X, y, Ws, bs = make_mlp_data(sizes, batch, classes)

    def numpy_step():
        numpy_mlp_step(act, loss, Ws, bs, X, y)

    model = engine_mlp(act, sizes)
    opt = optim.SGD(model.parameters(), lr=LR)
    Xt = Tensor(X)
    yt = y if loss == "ce" else Tensor(y)
    lossf = F.cross_entropy if loss == "ce" else F.mse_loss

    def engine_step():
        opt.zero_grad()
        out = lossf(model(Xt), yt)
        out.backward()
        opt.step()

    torch_step = None
    if torch is not None:
        tm = torch_mlp(act, sizes)
        topt = torch.optim.SGD(tm.parameters(), lr=LR)
        tX = torch.tensor(X)
        ty = torch.tensor(y)
        tlossf = torch.nn.functional.cross_entropy if loss == "ce" else \
            torch.nn.functional.mse_loss

        def torch_step():
            topt.zero_grad()
            out = tlossf(tm(tX), ty)
            out.backward()
            topt.step()

    return numpy_step, engine_step, torch_step


def bowl_workload():
    """W1: two scalar knobs on f(x, y) = x² + 2y²."""
    x0, y0 = np.array(3.0), np.array(-2.0)

    def numpy_step():
        nonlocal x0, y0  # plain in-place `-=`: the quickest of the natural ways to write it
        _ = x0 ** 2 + 2 * y0 ** 2      # forward
        gx, gy = 2 * x0, 4 * y0         # backward by hand
        x0 -= LR * gx                   # update
        y0 -= LR * gy

    x = Tensor(3.0, requires_grad=True)
    y = Tensor(-2.0, requires_grad=True)
    opt = optim.SGD([x, y], lr=LR)

    def engine_step():
        opt.zero_grad()
        loss = x ** 2 + 2 * y ** 2
        loss.backward()
        opt.step()

    torch_step = None
    if torch is not None:
        tx = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
        ty = torch.tensor(-2.0, dtype=torch.float64, requires_grad=True)
        topt = torch.optim.SGD([tx, ty], lr=LR)

        def torch_step():
            topt.zero_grad()
            loss = tx ** 2 + 2 * ty ** 2
            loss.backward()
            topt.step()

    return numpy_step, engine_step, torch_step


WORKLOADS = {
    "W1 x²+2y², 2 params": bowl_workload,
    "W2 MLP 2-8-1 tanh, b4, MSE": lambda: mlp_workload("tanh", [2, 8, 1], 4, "mse"),
    "W3 MLP 2-64-64-3 ReLU, b128, CE": lambda: mlp_workload("relu", [2, 64, 64, 3], 128, "ce"),
    "W4 10×Linear(32) sigmoid, b64, MSE":
        lambda: mlp_workload("sigmoid", [32] * 11, 64, "mse"),
    "W5 MLP 784-256-10 ReLU, b256, CE":
        lambda: mlp_workload("relu", [784, 256, 10], 256, "ce"),
}


def time_block(fn, inner):
    t0 = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - t0) / inner


def bench(name, factory, rounds, target=0.01):
    steps = factory()
    names = ("numpy", "engine", "torch")
    # choose an inner loop count so one block takes about `target` seconds
    inner = {}
    for n, fn in zip(names, steps):
        if fn is None:
            continue
        for _ in range(3):
            fn()
        t = time_block(fn, 3)
        inner[n] = max(1, int(target / max(t, 1e-7)))
    samples = {n: [] for n in inner}
    for _ in range(rounds):  # interleaved: numpy, engine, torch, numpy, ...
        for n, fn in zip(names, steps):
            if fn is not None:
                samples[n].append(time_block(fn, inner[n]))
    times = {n: statistics.median(v) for n, v in samples.items()}
    # Ratios are taken round by round: blocks run back to back see the same
    # machine, so a slow spell moves both sides of a ratio together.
    ratios = {n: statistics.median(a / b for a, b in zip(samples[n], samples["numpy"]))
              for n in samples}
    return times, ratios


def fmt_time(t):
    return f"{t * 1e6:9.1f} µs" if t < 1e-3 else f"{t * 1e3:9.2f} ms"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    rounds = 7 if args.quick else 21
    print(f"numpy {np.__version__}; torch {torch.__version__ if torch else 'absent'}; "
          f"median of {rounds} interleaved rounds\n")
    head = f"| {'workload':36} | {'numpy floor':>12} | {'engine':>12} | {'torch':>12} |" \
           f" {'engine/floor':>12} | {'torch/floor':>11} | {'torch/engine':>12} |"
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for name, factory in WORKLOADS.items():
        m, r = bench(name, factory, rounds)
        tt = m.get("torch")
        t_cols = ((fmt_time(tt), f"{r['torch']:10.2f}x", f"{r['torch'] / r['engine']:11.2f}x")
                  if tt else ("—",) * 3)
        print(f"| {name:36} | {fmt_time(m['numpy']):>12} | {fmt_time(m['engine']):>12} | "
              f"{t_cols[0]:>12} | {r['engine']:11.2f}x | {t_cols[1]:>11} | {t_cols[2]:>12} |")

if __name__ == "__main__":
    main()
