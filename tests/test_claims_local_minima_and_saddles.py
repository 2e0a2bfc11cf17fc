"""Claims of local-minima-and-saddles, sentence by sentence (issue 15's Bar).

Each test's docstring names the mission and quotes the sentences it guards; the
numbers come from the mission's own run (one cached simulation), a small knob
variant, or an independent NumPy computation on the loss.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pytest
from _lessons import after_updates, losses_after_updates, updates_to_reach

from descent_tui.scenario import load_scenario
from descent_tui.scenario.overrides import apply
from descent_tui.sim import Simulation

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
M = "local-minima-and-saddles"
SADDLE, ADAM, RIDGE, HEAVY = ("SGD at the saddle", "Adam at the saddle", "SGD from the ridge",
                              "momentum from the ridge")


@functools.cache
def finished(changes: tuple = ()) -> Simulation:
    loaded = load_scenario(SCENARIOS / f"{M}.toml")
    fixed = {k: list(v) if isinstance(v, tuple) else v for k, v in changes}
    sim = Simulation(apply(loaded, fixed) if changes else loaded)
    sim.step(sim.total_steps)
    return sim


def run(label: str, changes: tuple = ()):
    return next(r for r in finished(changes).runs if r.label == label)


def xy(label: str) -> tuple[np.ndarray, np.ndarray]:
    rs = run(label)
    return after_updates(rs, "param.x"), after_updates(rs, "param.y")


def loss(p) -> float:
    return finished().loss_at(p)


def grad(p, h: float = 1e-6) -> np.ndarray:
    """Central differences of the mission's loss (not the engine's autograd)."""
    p = np.asarray(p, dtype=float)
    return np.array([(loss(p + h * e) - loss(p - h * e)) / (2 * h) for e in np.eye(2)])


def hessian(p, h: float = 1e-4) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return np.array([(grad(p + h * e) - grad(p - h * e)) / (2 * h) for e in np.eye(2)])


def test_the_formula_on_screen_is_the_loss_the_runs_descend():
    """local-minima-and-saddles: "loss(x, y) = x² − y² + 0.5·y⁴ + 0.3·y³" """
    rng = np.random.default_rng(1)
    for x, y in rng.uniform(-2, 2, size=(40, 2)):
        assert loss([x, y]) == pytest.approx(x**2 - y**2 + 0.5 * y**4 + 0.3 * y**3, rel=1e-12)


def test_the_saddle_at_the_origin():
    """local-minima-and-saddles: "At the origin sits a **saddle**: close to it the surface
    is `x² − y²`: it curves up along `x` and down along `y`, so the line `y = 0` is a
    ridge."; "The gradient there is zero, so nothing pushes you off it except how far
    from `y = 0` you already are."; "Near the origin the loss is `x² − y²`, so the
    gradient along `y` is `−2y`." """
    np.testing.assert_allclose(grad([0.0, 0.0]), 0.0, atol=1e-9)
    np.testing.assert_allclose(hessian([0.0, 0.0]), [[2, 0], [0, -2]], atol=1e-5)
    for x in (-2.0, -0.5, 0.7, 2.0):  # on the line y = 0 nothing pushes along y ...
        assert grad([x, 0.0])[1] == pytest.approx(0.0, abs=1e-9)
        assert loss([x, 0.05]) < loss([x, 0.0]) and loss([x, -0.05]) < loss([x, 0.0])  # ridge
    for y in (1e-3, 1e-2, -1e-2):  # ... and off it the push is −2y
        assert grad([0.5, y])[1] == pytest.approx(-2 * y, rel=0.01)
        assert loss([0.0, y]) == pytest.approx(-(y**2), rel=0.02)


def test_the_two_valleys():
    """local-minima-and-saddles: "On the `y > 0` side lies a **shallow valley**, a local
    minimum at `(0, 0.8)` with loss −0.28."; "On the `y < 0` side lies the **deep
    valley**, the global minimum at `(0, −1.25)` with loss −0.93 (the marker on the
    map)." (NumPy: ∂L/∂y = y·(2y² + 0.9y − 2) = 0)"""
    roots = sorted(np.roots([2.0, 0.9, -2.0]).real)
    np.testing.assert_allclose(roots, [-1.25, 0.8], rtol=1e-12)
    for y, want in ((0.8, -0.28), (-1.25, -0.93)):
        assert loss([0.0, y]) == pytest.approx(want, abs=0.005)
        np.testing.assert_allclose(grad([0.0, y]), 0.0, atol=1e-8)
        assert np.all(np.linalg.eigvalsh(hessian([0.0, y])) > 0)  # a minimum
    xs, ys = np.meshgrid(np.linspace(-3, 3, 301), np.linspace(-2, 2.5, 451))
    grid = xs**2 - ys**2 + 0.5 * ys**4 + 0.3 * ys**3
    assert grid.min() == pytest.approx(loss([0.0, -1.25]), abs=1e-3)  # the global one
    assert finished().spec.landscape.minimum == [0.0, -1.25]


def test_the_starts():
    """local-minima-and-saddles: "**SGD at the saddle** (`lr = 0.01`) and **Adam at the
    saddle** (`lr = 0.1`) both start at `(2, 0.001)`: one thousandth off the ridge
    line."; "**SGD from the ridge** and **momentum from the ridge** (`lr = 0.01`, β =
    0.9) both start high on the shallow valley's far wall, at `(−1.5, 2.2)`." """
    want = {SADDLE: ("sgd", 0.01, (2.0, 0.001)), ADAM: ("adam", 0.1, (2.0, 0.001)),
            RIDGE: ("sgd", 0.01, (-1.5, 2.2)), HEAVY: ("momentum", 0.01, (-1.5, 2.2))}
    for label, (opt, lr, start) in want.items():
        rs = run(label)
        x, y = xy(label)
        assert (rs.config.optimizer, rs.config.lr, (x[0], y[0])) == (opt, lr, start)
    assert run(HEAVY).config.momentum == 0.9
    # high on the wall: far above the shallow floor, beyond it on the y > 0 side
    assert loss([-1.5, 2.2]) > 12 and 2.2 > 0.8


def test_sgd_multiplies_y_by_1_02_and_stalls_for_hundreds_of_updates():
    """local-minima-and-saddles: "Starting at `y = 0.001`, each SGD step multiplies `y` by
    `1 + 2·lr = 1.02`: it takes hundreds of updates before `y` is large enough for the
    run to notice it is on a ridge."; "With lr = 0.01, y grows by 2% per update.";
    "SGD's step is lr times the gradient, tiny near a saddle." """
    rs = run(SADDLE)
    x, y = xy(SADDLE)
    np.testing.assert_allclose(y[1:101] / y[:100], 1.02, atol=2e-4)
    assert updates_to_reach(rs, -0.05) > 200  # hundreds of updates before the loss shows it
    g = np.stack([after_updates(rs, "grad.x"), after_updates(rs, "grad.y")], axis=1)
    step = np.stack([np.diff(x), np.diff(y)], axis=1)
    np.testing.assert_allclose(step, -0.01 * g[:-1], rtol=1e-9, atol=1e-15)
    size = np.hypot(*step.T)
    assert np.all(size[130:230] < size[0] / 10)  # near the saddle: a tenth of its first step


def test_350_updates_and_the_first_230_invisible():
    """local-minima-and-saddles: "Growing from 0.001 to about 1 takes ln(1000)/ln(1.02) ≈
    350 updates."; "For the first 230 of them y is still below 0.1, so the escape adds
    less than 0.01 to the loss: nothing to see on the curve." (arithmetic, and the run)"""
    assert math.log(1000) / math.log(1.02) == pytest.approx(350, abs=2)
    assert 0.001 * 1.02**230 < 0.1 < 0.001 * 1.02**235
    _, y = xy(SADDLE)
    assert np.all(y[:231] < 0.1) and np.all(y[:231] ** 2 < 0.01)


def test_the_flat_stretch_looks_like_convergence():
    """local-minima-and-saddles: "The loss plot of 'SGD at the saddle': it falls to about 0
    and then sits within 0.05 of it for more than a hundred updates while y creeps away
    from the ridge."; "The loss curve shows it: a long flat stretch near 0 that looks
    like convergence and is not."; "A flat loss only means a small gradient." """
    rs = run(SADDLE)
    loss_k = losses_after_updates(rs)
    near = np.flatnonzero(np.abs(loss_k) < 0.05)
    assert near[-1] - near[0] + 1 == len(near) > 100  # one unbroken stretch
    _, y = xy(SADDLE)
    stretch = slice(near[0], near[-1] + 1)
    assert np.all(np.diff(y[stretch]) > 0)  # y creeps away all along
    assert np.all(after_updates(rs, "grad_norm")[stretch] < 0.5)  # a small gradient ...
    assert loss_k[-1] < -0.28 + 0.01  # ... and not a minimum: the loss falls again later
    assert np.linalg.eigvalsh(hessian([0.0, y[near[0]]])).min() < 0


def test_adam_leaves_at_once():
    """local-minima-and-saddles: "Its first update already moved `y` from 0.001 to about
    0.1, and it was out of the flat zone (loss below −0.05) after 17 updates."; "On this
    map, Adam got out of the saddle's flat zone (loss below −0.05) after 17 updates and
    plain SGD after 283."; "Adam's step is normalised: lr times roughly the sign of a
    steady gradient." """
    adam = run(ADAM)
    x, y = xy(ADAM)
    assert y[0] == 0.001 and y[1] == pytest.approx(0.1, abs=0.002)
    assert updates_to_reach(adam, -0.05) == 17 and updates_to_reach(run(SADDLE), -0.05) == 283
    gx = after_updates(adam, "grad.x")
    dx = np.diff(x)
    np.testing.assert_allclose(dx[:10], -0.1 * np.sign(gx[:10]), rtol=0.1)  # lr · sign
    assert abs(after_updates(adam, "grad.y")[0]) < 0.003  # though y's gradient was tiny


def test_sgd_from_the_ridge_only_goes_downhill_into_the_shallow_valley():
    """local-minima-and-saddles: "**Local minima trap plain gradient descent.** At `lr =
    0.01`, SGD from the ridge takes small steps that only ever go downhill, so it
    settles in the first valley it reaches, the shallow one at loss −0.28." """
    rs = run(RIDGE)
    assert rs.config.lr == 0.01
    assert np.all(np.diff(losses_after_updates(rs)) <= 1e-12)
    _, y = xy(RIDGE)
    assert np.all(y > 0)  # never left the y > 0 side
    assert rs.point == pytest.approx([0.0, 0.8], abs=1e-3)
    assert rs.last.loss == pytest.approx(-0.28, abs=0.005)


def test_momentum_rolls_over_the_bump():
    """local-minima-and-saddles: "**Momentum** keeps the velocity it built on the way down
    and rolls over the bump between the valleys into the deep one (loss −0.93)." """
    rs = run(HEAVY)
    loss_k = losses_after_updates(rs)
    _, y = xy(HEAVY)
    cross = int(np.argmax(y < 0))  # first update on the deep side
    assert cross > 0
    rises = np.flatnonzero(np.diff(loss_k) > 0)
    assert len(rises) and rises[0] < 40  # it climbed while still moving fast
    assert rs.last.loss == pytest.approx(-0.93, abs=0.005) and np.all(y[cross:] < 0)


def test_the_heavy_ball_is_lucky():
    """local-minima-and-saddles: "This is luck as much as skill: started at `(−1.5, 1.5)`,
    or with β = 0.7 or 0.95 instead of 0.9, the heavy ball stops in the shallow valley
    too."; "Whether it lands in a better one depends on the start and on β." """
    assert run(HEAVY).point[1] == pytest.approx(-1.25, abs=1e-3)  # the mission's run
    key = f"runs.{HEAVY}."
    for change in ((key + "start", (-1.5, 1.5)), (key + "momentum", 0.7),
                   (key + "momentum", 0.95)):
        assert run(HEAVY, (change,)).point == pytest.approx([0.0, 0.8], abs=1e-3), change
