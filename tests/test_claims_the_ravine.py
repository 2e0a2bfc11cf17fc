"""the-ravine: every claim of the mission's text, checked on its own run or on the theory.

One cached run of the mission; the curvatures come from the engine's Hessian of
the mission's formula, the heavy-ball rates from the eigenvalues of its 2×2
iteration matrix (NumPy), not from the text.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _lessons import after_updates, losses_after_updates, run_named, run_to_end, updates_to_reach

from descent_tui.engine import Tensor, hessian
from descent_tui.scenario import load_scenario
from descent_tui.sim import Simulation

M = "the-ravine"
PATH = Path(__file__).resolve().parents[1] / "scenarios" / f"{M}.toml"
LAM = np.array([0.1, 10.0])  # the floor's and the walls' curvature (checked below)


def finished() -> Simulation:
    return run_to_end(PATH)


def run(label: str):
    return run_named(finished(), label)


def series(label: str, name: str) -> np.ndarray:
    return after_updates(run(label), name)


def sign_flips(v: np.ndarray) -> int:
    return int(np.count_nonzero(np.sign(v[1:]) != np.sign(v[:-1])))


def heavy_ball_radius(lr, beta, lam) -> np.ndarray:
    """The spectral radius of the heavy ball's iteration on curvature ``lam``: the
    roots of t² − (1 + β − lr·λ)·t + β = 0 (NumPy, broadcast)."""
    b = 1 + beta - lr * lam
    disc = np.sqrt((b * b - 4 * beta).astype(complex))
    return np.maximum(np.abs((b + disc) / 2), np.abs((b - disc) / 2))


def test_the_ravine_formula_and_curvatures():
    """the-ravine: "loss(x, y) = 0.05·x² + 5·y²"; "Across the trench (`y`) the
    curvature is 10."; "Along the floor (`x`) it is 0.1, a hundred times flatter."
    (the engine's value and Hessian of the mission's formula)"""
    problem = finished().runs[0].problem
    for point in np.random.default_rng(0).uniform(-5, 5, (4, 2)):
        theta = Tensor(point.copy(), requires_grad=True)
        value = float(problem.loss_fn({"x": theta[0], "y": theta[1]}).data)
        assert value == pytest.approx(0.05 * point[0] ** 2 + 5 * point[1] ** 2, rel=1e-12)
        H = hessian(lambda t=theta: problem.loss_fn({"x": t[0], "y": t[1]}), [theta])
        np.testing.assert_allclose(H, np.diag(LAM), atol=1e-6)
    assert LAM[1] / LAM[0] == pytest.approx(100)


def test_the_ravine_start_goal_and_settings():
    """the-ravine: "Everyone starts high on a wall at `(−9, 1.5)`."; "The goal is a
    loss below `0.01`."; "SGD (`lr = 0.19`): close to the most plain SGD can stand.";
    "Adam (`lr = 0.5`): momentum plus a separate step size for each knob, divided
    by that knob's recent gradient size."; "momentum (`lr = 0.05`, heavy ball with β =
    0.9): every step adds the new gradient to a running velocity." (start; the
    quiz's threshold; SGD at 0.19 settles and at 0.21 diverges; the momentum run
    follows v ← 0.9·v + g, θ ← θ − 0.05·v)"""
    sim = finished()
    for rs in sim.runs:
        x, y = after_updates(rs, "param.x"), after_updates(rs, "param.y")
        assert (x[0], y[0]) == (-9.0, 1.5)
    x0, y0 = series("SGD", "param.x")[0], series("SGD", "param.y")[0]
    wall, floor = 5 * y0 ** 2, 0.05 * x0 ** 2  # "high on a wall": most of the loss is y's
    assert wall > 2 * floor and losses_after_updates(run("SGD"))[0] == pytest.approx(wall + floor)
    assert sim.spec.quiz.prediction[0].threshold == 0.01
    sgd = run("SGD")
    assert sgd.config.lr == 0.19 and 0.19 / (2 / LAM.max()) == pytest.approx(0.95)
    assert not sgd.diverged
    thrown = Simulation(load_scenario(PATH), {"runs.SGD.lr": 0.21})
    thrown.step(100)
    assert thrown.runs[0].diverged
    adam = run("Adam")
    assert adam.config.optimizer == "adam" and adam.config.lr == 0.5
    mom = run("momentum")
    assert mom.config.optimizer == "momentum" and (mom.config.lr, mom.config.momentum) == (0.05, 0.9)
    for n in ("x", "y"):
        p, g = series("momentum", f"param.{n}"), series("momentum", f"grad.{n}")
        v = -np.diff(p) / 0.05  # the velocity each update used
        np.testing.assert_allclose(v[1:], 0.9 * v[:-1] + g[1:len(v)], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(v[0], g[0], rtol=1e-12)


def test_the_ravine_sgd_bounces_and_crawls():
    """the-ravine: "SGD's y coordinate changes sign on every step."; "Meanwhile SGD's
    x shrinks by under 2% per step."; "Across the trench the factor is 1 − 10·0.19 =
    −0.9, a sign flip every step."; "Along the floor it is 1 − 0.1·0.19 ≈ 0.98, a
    crawl."; "Its learning rate has to stay below `2 / 10 = 0.2` or the steep walls
    throw it out, and with a learning rate that small the flat floor (curvature 0.1)
    only shrinks `x` by `0.1 · 0.19 ≈ 2%` per step."; "So SGD spends its time
    bouncing from wall to wall: `y` flips sign on every single step while the real
    progress along the floor crawls." """
    x, y = series("SGD", "param.x"), series("SGD", "param.y")
    lr = run("SGD").config.lr
    lo, hi = LAM
    assert sign_flips(y) == len(y) - 1
    np.testing.assert_allclose(y[1:] / y[:-1], 1 - hi * lr, rtol=1e-9)
    assert 1 - hi * lr == pytest.approx(-0.9)
    shrink = 1 - x[1:] / x[:-1]
    np.testing.assert_allclose(shrink, lo * lr, rtol=1e-9)
    assert np.all(shrink < 0.02) and lo * lr == pytest.approx(0.02, abs=0.001)
    assert 1 - lo * lr == pytest.approx(0.98, abs=0.005)
    assert abs(x[-1]) > 0.05  # after 250 updates x is still not at the bottom
    lrs = np.linspace(0.001, 0.3, 3000)
    stable = np.abs(1 - np.outer(lrs, LAM)).max(axis=1) < 1
    assert np.all(stable == (lrs < 2 / LAM.max()))


def test_the_ravine_momentum_crosses_less_but_swings_wider():
    """the-ravine: "Momentum crosses the floor far less often than SGD, but each swing
    is wider: its y strays further from 0 than SGD's does." (every swing of momentum
    between two crossings reaches further than SGD's y over the same updates)"""
    y_sgd, y_mom = series("SGD", "param.y"), series("momentum", "param.y")
    assert sign_flips(y_mom) < sign_flips(y_sgd) / 4
    cross = np.flatnonzero(np.sign(y_mom[1:]) != np.sign(y_mom[:-1])) + 1
    swings = np.split(np.arange(len(y_mom)), cross)[1:]  # the first is the start
    assert len(swings) > 50
    for steps in swings:
        assert np.abs(y_mom[steps]).max() > np.abs(y_sgd[steps]).max()


def _cancelled(label: str, name: str, lr: float, beta: float) -> np.ndarray:
    """|velocity| over what it would be if every push had kept its sign."""
    p = series(label, f"param.{name}")
    g = np.abs(series(label, f"grad.{name}"))[: len(p) - 1]
    v = np.abs(np.diff(p)) / lr
    no_cancel = np.zeros_like(v)
    acc = 0.0
    for k, gk in enumerate(g):
        acc = beta * acc + gk
        no_cancel[k] = acc
    return v / no_cancel


def test_the_ravine_pushes_cancel_across_and_add_along():
    """the-ravine: "Pushes that alternate across the trench largely cancel; the push
    along the floor keeps pointing the same way (until the run nears the bottom) and
    adds up."; "Components that keep flipping sign largely cancel, so the run crosses
    the floor less often (its swings can still be wide); components that keep their
    sign add up (a steady push grows to 1/(1 − β) times a single step)."; "The
    along-the-floor push points the same way step after step, so it accumulates: a
    steady push builds a velocity of `1/(1 − β) = 10` times the raw step." """
    gx = series("momentum", "grad.x")
    turn = int(np.argmax(np.sign(gx) != np.sign(gx[0])))  # the first update it turns
    loss = losses_after_updates(run("momentum"))
    assert turn > 40 and loss[turn] < 0.01  # the floor's push turns only near the bottom
    along = _cancelled("momentum", "x", 0.05, 0.9)[:turn]
    np.testing.assert_allclose(along, 1.0, rtol=1e-9)  # nothing cancels along the floor
    across = _cancelled("momentum", "y", 0.05, 0.9)[:turn]
    assert across.mean() < 0.25  # across the trench most of the push cancels
    x = series("momentum", "param.x")
    step_over_raw = np.diff(x)[:turn] / (0.05 * -gx[:turn])
    assert step_over_raw[0] == pytest.approx(1) and step_over_raw[10] > 5
    v = 0.0  # a steady push: the velocity tends to g/(1 − β)
    for _ in range(500):
        v = 0.9 * v + 1.0
    beta = run("momentum").config.momentum
    assert v == pytest.approx(1 / (1 - beta), rel=1e-9) and 1 / (1 - beta) == pytest.approx(10)


def test_the_ravine_adam_steps_and_rounder_ravine():
    """the-ravine: "Adam's steps start at about lr in every direction, whatever the
    slope."; "Steep directions get smaller steps and flat directions get larger ones,
    so a stretched ravine looks much rounder: on this one, Adam's first step sees a
    curvature ratio of 6 instead of 100." (the first steps' sizes; the effective
    learning rate step/gradient times each curvature)"""
    x, y = series("Adam", "param.x"), series("Adam", "param.y")
    gx, gy = series("Adam", "grad.x"), series("Adam", "grad.y")
    assert abs(gy[0]) > 10 * abs(gx[0])  # very different slopes ...
    np.testing.assert_allclose(np.abs([x[1] - x[0], y[1] - y[0]]), 0.5, rtol=1e-6)  # ... one size
    np.testing.assert_allclose(np.abs(np.diff(x)[:3]), 0.5, rtol=0.01)
    np.testing.assert_allclose(np.abs(np.diff(y)[:3]), 0.5, rtol=0.11)
    eff_x, eff_y = -(x[1] - x[0]) / gx[0], -(y[1] - y[0]) / gy[0]
    assert eff_y < eff_x  # the steep y gets the smaller effective rate
    assert (eff_y * LAM[1]) / (eff_x * LAM[0]) == pytest.approx(6, rel=1e-6)


def test_the_ravine_adam_is_momentum_plus_rmsprop_scaling():
    """the-ravine: "Adam = momentum (first moment) + RMSProp-style scaling (second
    moment)."; "Its first moment is a momentum term." (the run's Adam updates, rebuilt
    in NumPy from its recorded gradients: m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²,
    step lr·m̂/(√v̂ + ε))"""
    rs = run("Adam")
    b1, b2 = rs.config.betas
    eps = rs.config.eps
    p = np.stack([series("Adam", "param.x"), series("Adam", "param.y")], 1)
    g = np.stack([series("Adam", "grad.x"), series("Adam", "grad.y")], 1)
    m = v = np.zeros(2)
    for k in range(30):
        m = b1 * m + (1 - b1) * g[k]
        v = b2 * v + (1 - b2) * g[k] ** 2
        step = 0.5 * (m / (1 - b1 ** (k + 1))) / (np.sqrt(v / (1 - b2 ** (k + 1))) + eps)
        np.testing.assert_allclose(p[k] - p[k + 1], step, rtol=1e-7, atol=1e-12)


def test_the_ravine_polyak_settings():
    """the-ravine: "tuned heavy ball: momentum again, but with both settings chosen
    from the two curvatures by Polyak's rule, `lr = (2/(√λmax + √λmin))² = 40/121 ≈
    0.331` and `β = ((√κ − 1)/(√κ + 1))² = 81/121 ≈ 0.669`, with `κ = λmax/λmin =
    100`." """
    lo, hi = LAM
    kappa = hi / lo
    lr = (2 / (np.sqrt(hi) + np.sqrt(lo))) ** 2
    beta = ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2
    assert kappa == pytest.approx(100)
    assert lr == pytest.approx(40 / 121) and round(lr, 3) == 0.331
    assert beta == pytest.approx(81 / 121) and round(beta, 3) == 0.669
    ball = run("tuned heavy ball")
    assert ball.config.lr == pytest.approx(lr, rel=1e-12)
    assert ball.config.momentum == pytest.approx(beta, rel=1e-12)


def test_the_ravine_polyak_rate_is_the_best_heavy_ball():
    """the-ravine: "With Polyak's learning rate and momentum, every direction shrinks
    at the same long-run rate `√β = 9/11` per step, the best rate any fixed heavy
    ball achieves on this bowl (early on its `y` swings out to about ±5.6 before the
    decay takes over)."; "With those settings both the steep and the flat direction
    contract at the long-run rate √β = (√κ − 1)/(√κ + 1) per step." """
    lr, beta = 40 / 121, 81 / 121
    np.testing.assert_allclose(heavy_ball_radius(lr, beta, LAM), 9 / 11, rtol=1e-6)
    assert np.sqrt(beta) == pytest.approx((10 - 1) / (10 + 1))
    lrs, betas = np.meshgrid(np.linspace(0.01, 0.6, 300), np.linspace(0.0, 0.99, 300))
    worst = np.maximum(heavy_ball_radius(lrs, betas, LAM[0]), heavy_ball_radius(lrs, betas, LAM[1]))
    assert worst.min() >= 9 / 11 - 1e-3  # no fixed (lr, β) does better
    x, y = series("tuned heavy ball", "param.x"), series("tuned heavy ball", "param.y")
    assert np.abs(y).max() == pytest.approx(5.6, abs=0.05) and np.argmax(np.abs(y)) < 10
    dist = np.hypot(x, y)
    assert (dist[150] / dist[50]) ** (1 / 100) == pytest.approx(9 / 11, abs=0.015)
    assert updates_to_reach(run("tuned heavy ball"), 1e-8) is not None
