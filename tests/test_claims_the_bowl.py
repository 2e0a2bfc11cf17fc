"""the-bowl: every claim of the mission's text, checked on its own run or on the theory.

One cached run of the mission (and one of a variant with other learning rates);
the theory checks use NumPy or the engine (gradient, Hessian), not the text.
"""

from __future__ import annotations

import functools
from pathlib import Path

import msgspec
import numpy as np
import pytest
from _lessons import after_updates, losses_after_updates, run_named, run_to_end

from descent_tui.engine import Tensor, hessian
from descent_tui.scenario import load_scenario
from descent_tui.sim import Simulation

M = "the-bowl"
PATH = Path(__file__).resolve().parents[1] / "scenarios" / f"{M}.toml"
#: the variant's learning rates, one a run (five runs): a sweep below and past the edge
VARIANT_LRS = (0.2, 0.3, 0.4, 0.45, 0.49)


def finished() -> Simulation:
    return run_to_end(PATH)


@functools.cache
def variant() -> Simulation:
    labels = [r.label for r in finished().runs]
    sim = Simulation(load_scenario(PATH),
                     {f"runs.{k}.lr": lr for k, lr in zip(labels, VARIANT_LRS, strict=True)})
    sim.step(sim.total_steps)
    return sim


def run(label: str):
    return run_named(finished(), label)


def xy(rs) -> tuple[np.ndarray, np.ndarray]:
    return after_updates(rs, "param.x"), after_updates(rs, "param.y")


def flips_every_step(v: np.ndarray) -> bool:
    return bool(np.all(np.sign(v[1:]) == -np.sign(v[:-1])) and np.all(v != 0))


def test_the_bowl_loss_gradient_and_curvatures():
    """the-bowl: "loss(x, y) = x² + 2y² gradient: (2x, 4y)"; "It curves twice as
    sharply along `y` as along `x`." (the engine's gradient and Hessian of the
    mission's own formula, and the gradients the run recorded)"""
    problem = finished().runs[0].problem
    rng = np.random.default_rng(0)
    for point in rng.uniform(-10, 10, (5, 2)):
        theta = Tensor(point.copy(), requires_grad=True)
        loss = problem.loss_fn({"x": theta[0], "y": theta[1]})
        assert float(loss.data) == pytest.approx(point[0] ** 2 + 2 * point[1] ** 2, rel=1e-12)
        loss.backward()
        np.testing.assert_allclose(theta.grad, [2 * point[0], 4 * point[1]], rtol=1e-12)
        H = hessian(lambda t=theta: problem.loss_fn({"x": t[0], "y": t[1]}), [theta])
        np.testing.assert_allclose(H, [[2, 0], [0, 4]], atol=1e-6)
    for rs in finished().runs:
        x, y = xy(rs)
        n = len(x)
        np.testing.assert_allclose(after_updates(rs, "grad.x")[:n], 2 * x, rtol=1e-12)
        np.testing.assert_allclose(after_updates(rs, "grad.y")[:n], 4 * y, rtol=1e-12)


def test_the_bowl_five_crews_and_their_rates():
    """the-bowl: "Five crews start at `(8, 8)` and differ only in their learning
    rate:"; "too small: `lr = 0.01`"; "just right: `lr = 0.1`"; "best fixed: `lr =
    1/3`, the rate that shrinks both directions equally fast"; "on the edge: `lr =
    0.5`"; "too large: `lr = 0.55`" """
    runs = finished().runs
    want = {"too small": 0.01, "just right": 0.1, "best fixed": 1 / 3,
            "on the edge": 0.5, "too large": 0.55}
    assert {r.label: r.config.lr for r in runs} == pytest.approx(want, rel=1e-12)
    strip = [msgspec.structs.replace(r.config, label="-", lr=0.0) for r in runs]
    assert all(c == strip[0] for c in strip)  # nothing else differs
    for r in runs:
        x, y = xy(r)
        assert (x[0], y[0]) == (8.0, 8.0)
    x, y = xy(run("best fixed"))
    np.testing.assert_allclose(np.abs(x[1:] / x[:-1]), np.abs(y[1:] / y[:-1]), rtol=1e-9)


def test_the_bowl_factors_per_step():
    """the-bowl: "A gradient step multiplies y by (1 − 4·lr)."; "| crew | x factor (1
    − 2·lr) | y factor (1 − 4·lr) | outcome |"; "At lr = 2/(2 + 4) = 1/3 the x factor
    is 1/3 and the y factor −1/3: both directions shrink by 3x per step."; "The y
    factor is 1 − 4·0.5 = −1: same size, opposite sign, every step." """
    for rs in finished().runs + variant().runs:
        x, y = xy(rs)
        lr = rs.config.lr
        np.testing.assert_allclose(x[1:], (1 - 2 * lr) * x[:-1], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(y[1:], (1 - 4 * lr) * y[:-1], rtol=1e-9, atol=1e-12)
    lam_min, lam_max = 2, 4
    assert 2 / (lam_min + lam_max) == pytest.approx(run("best fixed").config.lr)
    x, y = xy(run("best fixed"))
    np.testing.assert_allclose(x[1:11] / x[:10], 1 / 3, rtol=1e-9)
    np.testing.assert_allclose(y[1:11] / y[:10], -1 / 3, rtol=1e-9)
    _, y = xy(run("on the edge"))
    np.testing.assert_array_equal(y[1:], -y[:-1])


def test_the_bowl_the_edge_and_past_it():
    """the-bowl: "Once lr reaches 0.5 that factor is −1 or worse, so y stops
    shrinking."; "The steepest direction sets the largest safe learning rate. Here
    that is `y` (curvature 4), and any `lr ≥ 2/4 = 0.5` stops `y` from settling.";
    "The steepest curvature always sets the ceiling." (the runs at and past 0.5, a
    run at 0.49 for contrast, and for every lr of the knob's range the factors;
    for any quadratic, plain gradient descent settles iff lr < 2/λmax)"""
    for label in ("on the edge", "too large"):
        _, y = xy(run(label))
        assert np.all(np.abs(y[1:]) >= np.abs(y[:-1]))
    y = after_updates(variant().runs[-1], "param.y")  # lr 0.49
    assert abs(y[-1]) < 0.05 * abs(y[0])  # 0.96¹⁰⁰ ≈ 0.017
    lrs = np.geomspace(0.001, 1.0, 2001)  # the lr knob's range
    fy = np.abs(1 - 4 * lrs)
    assert np.all((fy >= 1 - 1e-12) == (lrs >= 0.5 - 1e-12))
    assert np.all(np.abs(1 - 2 * lrs) <= 1)  # x never sets the ceiling here
    rng = np.random.default_rng(1)
    for _ in range(200):
        lam = rng.uniform(0.1, 10, 3)
        lr = rng.uniform(0.01, 1.0)
        settles = np.all(np.abs(1 - lr * lam) < 1)
        assert settles == (lr < 2 / lam.max())


def test_the_bowl_best_fixed_rate_theory():
    """the-bowl: "The slowest direction decides the speed, so the best single
    learning rate makes the two factors equally small in size: `1 − 2·lr = −(1 −
    4·lr)` gives `lr = 2/(λmin + λmax) = 2/(2 + 4) = 1/3`, and both factors have size
    `(κ − 1)/(κ + 1) = 1/3`, where `κ = λmax/λmin = 2` is the condition number." """
    lrs = np.linspace(0.001, 1.0, 99901)
    worst = np.maximum(np.abs(1 - 2 * lrs), np.abs(1 - 4 * lrs))
    assert lrs[np.argmin(worst)] == pytest.approx(1 / 3, abs=1e-4)
    assert worst.min() == pytest.approx(1 / 3, abs=1e-4)
    lr = 1 / 3
    assert 1 - 2 * lr == pytest.approx(-(1 - 4 * lr))
    kappa = 4 / 2
    assert (kappa - 1) / (kappa + 1) == pytest.approx(1 / 3)
    assert 2 / (2 + kappa * 2) == pytest.approx(1 / 3)


def test_the_bowl_past_one_third_steep_is_slow():
    """the-bowl: "Past `1/3` the steep direction becomes the slow one, and at `0.5` it
    stops shrinking." (theory for every lr, and the variant's runs at 0.4 and 0.45)"""
    lrs = np.linspace(0.001, 0.499, 2000)
    fx, fy = np.abs(1 - 2 * lrs), np.abs(1 - 4 * lrs)
    assert np.all((fy > fx) == (lrs > 1 / 3))
    assert abs(1 - 4 * 0.5) == 1
    for rs in variant().runs[2:4]:
        x, y = xy(rs)
        assert rs.config.lr > 1 / 3
        assert abs(y[1] / y[0]) > abs(x[1] / x[0])


def test_the_bowl_smaller_step_shrinks_the_zigzag():
    """the-bowl: "A smaller step turns the growing zig-zag into a shrinking one: on
    this bowl any lr below 0.5 does, and below 0.25 the zig-zag stops altogether."
    (the variant runs the crews at 0.2 to 0.49)"""
    _, y = xy(run("too large"))
    assert flips_every_step(y) and np.all(np.abs(y[1:]) > np.abs(y[:-1]))
    for rs in variant().runs:
        _, y = xy(rs)
        assert rs.config.lr < 0.5 and not rs.diverged
        assert np.all(np.abs(y[1:]) < np.abs(y[:-1]))
        assert flips_every_step(y) == (rs.config.lr > 0.25)
    lrs = np.linspace(0.001, 0.4999, 5000)
    assert np.all(np.abs(1 - 4 * lrs) < 1)


def test_the_bowl_oscillation_warning():
    """the-bowl: "A parameter that changes sign every step has overshot the bottom
    of its direction: here `y` starts flipping once `lr` passes 1/4, half of the
    stable limit 2/4 = 0.5, and its swing grows once `lr` passes 0.5."; "Lower the
    learning rate before the divergence alarm stops the run." """
    for rs in finished().runs + variant().runs:
        lr = rs.config.lr
        _, y = xy(rs)
        assert flips_every_step(y) == (lr > 0.25)
        assert bool(np.all(np.abs(y[1:]) > np.abs(y[:-1]))) == (lr > 0.5)
    flip_from, limit = np.roots([-4, 1])[0], 2 / 4  # 1 − 4·lr = 0, and 2/λmax
    assert flip_from == pytest.approx(limit / 2)
    big = run("too large")
    assert big.diverged and big.step < finished().total_steps  # the alarm stopped it
    assert len(losses_after_updates(big)) <= big.diverged_at + 1
    np.testing.assert_array_equal(after_updates(big, "lr"), 0.55)  # the lr is still 0.55


def test_the_bowl_only_the_learning_rate_wrecks_it():
    """the-bowl: "Even so, I've seen crews wreck it, and the wrecking always starts
    with the same dial: the learning rate." (the crews differ only in lr; exactly the
    ones at lr ≥ 0.5 fail to settle)"""
    for rs in finished().runs:
        loss = losses_after_updates(rs)
        settles = not rs.diverged and loss[-1] < loss[0] / 10
        assert settles == (rs.config.lr < 0.5)


def test_the_bowl_too_small_is_safe_but_slow():
    """the-bowl: "A tiny learning rate is safe but slow: every step is correct and
    short." (every step of 'too small' lowers the loss and moves x and y by at most
    4% of their distance to 0; after 100 steps the loss is still above 1)"""
    rs = run("too small")
    loss = losses_after_updates(rs)
    assert np.all(np.diff(loss) < 0) and loss[-1] > 1
    for v in xy(rs):
        assert np.all(np.abs(np.diff(v)) <= 0.04 * np.abs(v[:-1]) + 1e-12)
        assert np.all(np.sign(v) == 1)  # never overshoots
