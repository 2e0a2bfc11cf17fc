"""Lesson tests for the claims of double-applied-update, sentence by sentence.

One cached replay of the mission (its weights after every update), checked
against the closed form of gradient descent on this quadratic loss; momentum and
Adam variants through the knobs, against the update rules written out in NumPy.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from _lessons import losses_after_updates

from descent_tui.engine import hessian
from descent_tui.scenario import load_scenario
from descent_tui.scenario.overrides import apply
from descent_tui.sim import Simulation
from descent_tui.tui.widgets.status import fmt_num

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
MISSION = SCENARIOS / "double-applied-update.toml"
GOOD, PORT, DOUBLE = "PyTorch loop", "TF port", "PyTorch at lr 1.2"


@functools.cache
def replay(**changes):
    """The mission (with knob ``changes``) stepped to the end, one update at a time:
    (the simulation, {label: weights (w, b) after k updates, k = 0 … end})."""
    sim = Simulation(apply(load_scenario(MISSION), changes))
    theta = {r.label: [] for r in sim.runs}
    for k in range(sim.total_steps + 1):
        for r in sim.runs:
            if not r.diverged:
                theta[r.label].append(np.concatenate([p.data.ravel() for p in r.params]))
        if k < sim.total_steps:
            sim.step(1)
    return sim, {k: np.array(v) for k, v in theta.items()}


def run(label: str, **changes):
    return next(r for r in replay(**changes)[0].runs if r.label == label)


def data():
    d = replay()[0].runs[0].problem.data
    return d["X"][:, 0], d["y"].ravel()


def curvature() -> np.ndarray:
    """The Hessian of mean((w·x + b − y)²) in (w, b): no w or b in it."""
    x, _ = data()
    return 2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])


def grad(theta: np.ndarray) -> np.ndarray:
    x, y = data()
    r = theta[0] * x + theta[1] - y
    return np.array([2 * np.mean(r * x), 2 * np.mean(r)])


def least_squares() -> np.ndarray:
    x, y = data()
    return np.linalg.lstsq(np.column_stack([x, np.ones_like(x)]), y, rcond=None)[0]


# ---------------------------------------------------------------- the set-up


def test_the_model_data_and_runs():
    """double-applied-update: "The model is the simplest there is: thrust = w · voltage + b,
    one Linear layer (layers = [1, 1]) fitted by mean squared error to 64 noisy calibration
    readings (y = 2x + 1 + noise, x between −1 and 1), full batch, plain SGD"; "PyTorch
    loop: the correct step, lr = 0.6"; "TF port: the script above, lr = 0.6"; "PyTorch at
    lr 1.2: the correct step at twice the rate"."""
    spec = replay()[0].spec
    assert list(spec.network.model.layers) == [1, 1] and spec.network.loss == "mse"
    x, y = data()
    assert len(x) == 64 and x.min() >= -1 and x.max() <= 1
    w, b = least_squares()
    assert w == pytest.approx(2, abs=0.05) and b == pytest.approx(1, abs=0.05)
    assert 0 < np.std(y - (2 * x + 1)) < 0.2                       # noisy
    cfg = {r.label: r.config for r in replay()[0].runs}
    assert all(r.batch_size == 0 for r in replay()[0].runs)        # full batch
    assert all(c.optimizer == "sgd" and not c.momentum for c in cfg.values())
    assert (cfg[GOOD].lr, cfg[PORT].lr, cfg[DOUBLE].lr) == (0.6, 0.6, 1.2)
    assert cfg[PORT].apply_twice and not cfg[GOOD].apply_twice and not cfg[DOUBLE].apply_twice
    assert cfg[DOUBLE].lr == 2 * cfg[GOOD].lr


# ---------------------------------------------------------------- the runs


def test_the_pytorch_loop_trains_and_settles():
    """double-applied-update: "The thrust model trains fine in our PyTorch script at lr =
    0.6"; "The PyTorch loop settles within about ten updates: by then its loss is within 1%
    of where it ends"."""
    good = run(GOOD)
    loss = losses_after_updates(good)
    assert not good.diverged and len(loss) == 101
    assert int(np.argmax(loss <= 1.01 * loss[-1])) == 10
    np.testing.assert_allclose(replay()[1][GOOD][-1], least_squares(), rtol=1e-9)


def test_the_port_is_the_doubled_rate():
    """double-applied-update: "The TF port's loss grows every step, and so does the loss of
    'PyTorch at lr 1.2', by the same amounts."; "For plain SGD that is a doubled learning
    rate: the TF port and the correct loop at lr = 1.2 agreed to rounding on every step";
    "That is why the TF port and the correct loop at lr 1.2 matched step for step";
    "Step through and compare the TF port with PyTorch at lr 1.2 in the status line: the
    two losses agree to every printed digit". The status line prints fmt_num(loss)."""
    a, b = losses_after_updates(run(PORT)), losses_after_updates(run(DOUBLE))
    assert len(a) == len(b) == 20 and run(PORT).diverged_at == run(DOUBLE).diverged_at
    assert np.all(np.diff(a) > 0) and np.all(np.diff(b) > 0)
    np.testing.assert_allclose(np.diff(a), np.diff(b), rtol=1e-9)
    np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(replay()[1][PORT], replay()[1][DOUBLE], rtol=1e-12)
    assert [fmt_num(v) for v in a] == [fmt_num(v) for v in b]


def test_each_call_steps_with_the_same_gradient():
    """double-applied-update: "Each call takes a step w ← w − lr·g with the same gradient g,
    computed once, so one training step moves the weights by 2·lr·g"; "Plain SGD is linear
    in the gradient, so applying it twice adds the two steps". Every update of the port
    moves by −2·0.6·g, g the gradient at the weights before it."""
    th = replay()[1][PORT]
    for k in range(len(th) - 1):
        np.testing.assert_allclose(th[k + 1] - th[k], -2 * 0.6 * grad(th[k]), rtol=1e-9)
    good = replay()[1][GOOD]
    np.testing.assert_allclose(th[1] - th[0], 2 * (good[1] - good[0]), rtol=1e-12)


# ---------------------------------------------------------------- the theory


def test_curvature_is_fixed_and_about_2():
    """double-applied-update: "Why 1.2 blows up when 0.6 does not: for a linear model with
    squared error the curvature of the loss is fixed"; "Its largest value here is about
    2.0, which puts the edge of stability at 2 / 2.0 ≈ 1.0"; "Here that limit is just
    under 1.0". The engine's Hessian of the run's own loss, at the start and at the end."""
    r = run(GOOD)
    X, Y = r.problem.data["X"], r.problem.data["y"]

    def loss():
        return r.criterion(r.forward(X), Y)

    at_end = hessian(loss, r.params)
    fresh = Simulation(load_scenario(MISSION)).runs[0]
    at_start = hessian(lambda: fresh.criterion(fresh.forward(X), Y), fresh.params)
    np.testing.assert_allclose(at_start, at_end, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(at_end, curvature(), rtol=1e-6)
    lam = np.linalg.eigvalsh(at_end).max()
    assert lam == pytest.approx(2.0, abs=0.01) and 2 / lam == pytest.approx(1.0, abs=0.01)
    assert 0.99 < 2 / lam < 1.0


def test_error_shrinks_at_06_and_grows_by_a_constant_factor_at_12():
    """double-applied-update: "At 0.6 every step shrinks the error"; "At 1.2 each step
    overshoots by more than it corrects, and the error grows by a constant factor". The
    error is the distance to the least-squares weights; at 1.2 the factor along the
    steepest direction is |1 − 1.2·λmax| ≈ 1.40."""
    star = least_squares()
    err = np.linalg.norm(replay()[1][GOOD] - star, axis=1)
    live = err > 1e-12
    assert np.all(np.diff(err[live]) < 0)
    lam, vec = np.linalg.eigh(curvature())
    assert np.all(np.abs(1 - 0.6 * lam) < 1)
    e = replay()[1][DOUBLE] - star
    along = e @ vec[:, -1]                                  # the steepest direction
    assert np.all(np.sign(along[1:]) != np.sign(along[:-1]))   # overshoots every step
    ratio = np.linalg.norm(e[1:], axis=1) / np.linalg.norm(e[:-1], axis=1)
    assert np.all(ratio[1:] > 1)
    factor = abs(1 - 1.2 * lam[-1])
    assert factor == pytest.approx(1.40, abs=0.01)
    np.testing.assert_allclose(ratio[-8:], factor, rtol=1e-3)  # a constant factor


def test_the_rule_of_the_bowl():
    """double-applied-update: "The same rule as on the bowl: gradient descent on a quadratic
    is stable while lr < 2 / (largest curvature)". On this loss: just under the edge the
    error shrinks, just over it grows."""
    edge = 2 / np.linalg.eigvalsh(curvature()).max()
    star = least_squares()
    for lr, stable in ((0.98 * edge, True), (1.02 * edge, False)):
        th = np.zeros(2)
        for _ in range(400):
            th = th - lr * grad(th)
        assert (np.linalg.norm(th - star) < 1e-3) == stable
    bowl = load_scenario(SCENARIOS / "the-bowl.toml").spec
    assert "stable" in bowl.debrief


# ---------------------------------------------------------------- other optimizers


def reference_momentum(lr: float, beta: float, twice: bool, steps: int) -> list[float]:
    """SGD with momentum (PyTorch's rule: v ← β·v + g, the first v = g), optionally the
    update applied twice per gradient: the losses after each update."""
    x, y = data()
    th = np.array(replay()[1][GOOD][0])
    v = None
    out = []
    for _ in range(steps + 1):
        out.append(float(np.mean((th[0] * x + th[1] - y) ** 2)))
        g = grad(th)
        for _ in range(2 if twice else 1):
            v = g.copy() if v is None else beta * v + g
            th = th - lr * v
    return out


def test_momentum_double_call_is_not_a_doubled_rate():
    """double-applied-update: "For other optimizers the double call is not exactly a
    doubled rate:"; "Momentum adds the same gradient to its velocity twice per batch and
    decays the velocity twice"; "With β = 0.9 the port behaves worse than the doubled rate:
    the lesson test found a rate (0.2) at which the double call diverges while the
    correct step at 0.4 does not"; "The lesson test shows a rate where the double call
    diverges and the correct step at twice the rate does not"."""
    knobs = load_scenario(MISSION).spec.knobs
    assert knobs.momentum.min <= 0.9 <= knobs.momentum.max
    assert knobs.lr.min <= 0.2 and knobs.lr.max >= 0.4
    changes = {"optimizer": "momentum", "momentum": 0.9, "runs[0].lr": 0.2,
               "runs[1].lr": 0.2, "runs[2].lr": 0.4}
    sim = Simulation(apply(load_scenario(MISSION), changes))
    sim.step(sim.total_steps)
    port, double = (next(r for r in sim.runs if r.label == x) for x in (PORT, DOUBLE))
    assert port.diverged and not double.diverged
    ref = reference_momentum(0.2, 0.9, True, 12)
    np.testing.assert_allclose(losses_after_updates(port)[:13], ref, rtol=1e-9)
    # not the doubled rate, not even at the start: the first update moves 0.2·(1 + 1.9)·g,
    # the doubled rate 0.4·g
    a = losses_after_updates(port)
    b = reference_momentum(0.4, 0.9, False, 3)
    np.testing.assert_allclose(losses_after_updates(double)[:4], b, rtol=1e-9)
    assert abs(a[1] - b[1]) / b[1] > 0.2


def test_adam_double_call_starts_doubled_then_drifts():
    """double-applied-update: "Adam takes two steps of about lr each from the same
    gradient, which starts out close to a doubled rate"; "But it also advances its step
    counter and moments twice, so the two runs drift apart after the first few steps".
    Adam at 0.05 applied twice against Adam at 0.1 applied once."""
    sim = Simulation(apply(load_scenario(MISSION), {"optimizer": "adam", "runs[0].lr": 0.05,
                                                    "runs[1].lr": 0.05, "runs[2].lr": 0.1}))
    port, double = (next(r for r in sim.runs if r.label == x) for x in (PORT, DOUBLE))
    before = np.concatenate([p.data.ravel() for p in port.params])
    sim.step(1)
    after = np.concatenate([p.data.ravel() for p in port.params])
    np.testing.assert_allclose(np.abs(after - before), 2 * 0.05, rtol=1e-6)  # two steps of lr
    st = port.optimizer.state[port.params[0]]
    assert st["step"] == 2 and double.optimizer.state[double.params[0]]["step"] == 1
    sim.step(39)
    a, b = losses_after_updates(port), losses_after_updates(double)
    assert np.allclose(a[:4], b[:4], rtol=2e-3)
    assert np.max(np.abs(a - b) / b) > 0.1
