"""Claims of newton-vs-gradient, sentence by sentence (issue 15's Bar).

Each test's docstring names the mission and quotes the sentences it guards; the
numbers come from the mission's own run (one cached simulation), a small variant
bowl, or an independent NumPy computation (finite differences of the mission's
loss, linear algebra, arithmetic).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from _lessons import after_updates, losses_after_updates, run_named, run_to_end, updates_to_reach

from descent_tui.scenario.loader import loads_scenario
from descent_tui.sim import Simulation

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
M = "newton-vs-gradient"
H = np.array([[2.0, 2.0], [2.0, 10.0]])
MIN = np.array([3.0, -1.0])


def finished() -> Simulation:
    return run_to_end(SCENARIOS / f"{M}.toml")


def run(label: str):
    return run_named(finished(), label)


def points(label: str) -> np.ndarray:
    rs = run(label)
    return np.stack([after_updates(rs, "param.x"), after_updates(rs, "param.y")], axis=1)


def loss(p) -> float:
    return finished().loss_at(p)


def grad(p, h: float = 1e-5) -> np.ndarray:
    """Central differences of the mission's loss (exact for a quadratic, up to rounding)."""
    p = np.asarray(p, dtype=float)
    return np.array([(loss(p + h * e) - loss(p - h * e)) / (2 * h) for e in np.eye(2)])


def hessian(p, h: float = 1e-3) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return np.array([(grad(p + h * e) - grad(p - h * e)) / (2 * h) for e in np.eye(2)])


def test_formula_minimum_and_constant_hessian():
    """newton-vs-gradient: "loss(x, y) = (x − 3)² + 5·(y + 1)² + 2·(x − 3)·(y + 1)
    minimum: (3, −1)"; "Its Hessian is the same everywhere, `[[2, 2], [2, 10]]`." """
    rng = np.random.default_rng(2)
    for x, y in rng.uniform(-6, 6, size=(20, 2)):
        want = (x - 3) ** 2 + 5 * (y + 1) ** 2 + 2 * (x - 3) * (y + 1)
        assert loss([x, y]) == pytest.approx(want, rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(hessian([x, y]), H, atol=1e-4)
    assert loss(MIN) == 0 and np.all(np.linalg.eigvalsh(H) > 0)
    np.testing.assert_allclose(grad(MIN), 0, atol=1e-9)
    assert finished().spec.landscape.minimum == list(MIN)


def test_curvatures_and_the_slant_of_the_valley():
    """newton-vs-gradient: "The cross term couples `x` and `y`, so the valley's floor
    runs at a slant, about 13° off the `x` axis:"; "Gradient descent spent dozens of
    steps on the same trip, held back by the gap between the steepest curvature (≈
    10.5) and the flattest (≈ 1.5)."; "The flat direction, curvature about 1.5, is the
    slow part." """
    lam, vec = np.linalg.eigh(H)
    assert lam == pytest.approx([1.5, 10.5], abs=0.05)
    floor = vec[:, 0]
    assert math.degrees(math.atan(abs(floor[1] / floor[0]))) == pytest.approx(13, abs=0.5)
    gd = run("gradient descent")
    assert 24 <= updates_to_reach(gd, 1e-6) <= 100  # dozens
    # the error along each direction shrinks by |1 − lr·λ| a step: the flat one is slow
    along = (points("gradient descent") - MIN) @ vec
    np.testing.assert_allclose(along[1:40, 0] / along[:39, 0], 1 - 0.15 * lam[0], rtol=1e-6)
    np.testing.assert_allclose(along[1:12, 1] / along[:11, 1], 1 - 0.15 * lam[1], rtol=1e-6)
    assert abs(1 - 0.15 * lam[0]) > abs(1 - 0.15 * lam[1])
    # the gap is what holds it back: even the best fixed lr, 2/(λmin + λmax), shrinks
    # the error by only (κ − 1)/(κ + 1) ≈ 0.75 a step, Newton's by 0 in one step
    kappa = lam[1] / lam[0]
    rates = [max(abs(1 - lr * lam)) for lr in np.linspace(0.01, 0.19, 181)]
    assert min(rates) == pytest.approx((kappa - 1) / (kappa + 1), abs=2e-3)
    assert min(rates) > 0.7


def test_gradient_descent_zig_zags_then_creeps():
    """newton-vs-gradient: "Gradient descent zig-zags across the tilted valley at first
    (the steep direction), then creeps along it."; "Gradient descent uses only the slope
    (first derivatives)." """
    gd = run("gradient descent")
    p = points("gradient descent")
    g = np.stack([after_updates(gd, "grad.x"), after_updates(gd, "grad.y")], axis=1)
    np.testing.assert_allclose(np.diff(p, axis=0), -0.15 * g[:-1], rtol=1e-9, atol=1e-12)
    _, vec = np.linalg.eigh(H)
    flat, steep = ((p - MIN) @ vec).T
    assert np.all(np.sign(steep[1:12]) != np.sign(steep[:11]))  # across, side to side
    assert np.all(np.sign(flat) == np.sign(flat[0]))  # along: never crosses
    assert np.all(np.abs(steep[15:]) < 0.01 * np.abs(flat[15:]))  # then only the creep left


def test_the_crews():
    """newton-vs-gradient: "The crews start at `(−5, 5)`:"; "**Newton**: `lr = 1`, the
    full jump"; "**damped Newton**: `lr = 0.5`, half a jump each step"; "**Adam**: `lr =
    0.5`" """
    want = {"Newton": ("newton", 1.0), "damped Newton": ("newton", 0.5),
            "gradient descent": ("sgd", 0.15), "Adam": ("adam", 0.5)}
    for rs in finished().runs:
        assert (rs.config.optimizer, rs.config.lr) == want[rs.label]
        np.testing.assert_array_equal(points(rs.label)[0], [-5.0, 5.0])
    start = np.array([-5.0, 5.0])
    jump = -np.linalg.solve(H, grad(start))
    np.testing.assert_allclose(points("Newton")[1], start + jump, atol=1e-9)
    np.testing.assert_allclose(points("damped Newton")[1], start + 0.5 * jump, atol=1e-9)


def test_newton_step_is_the_hessian_solve():
    """newton-vs-gradient: "w_new = w − H⁻¹ · ∇L"; "Newton also uses the curvature
    (second derivatives) to work out how far to go in every direction."; "What you
    can't see is the bill: every Newton step needs the whole Hessian (here 2 × 2) and a
    linear solve with it." """
    p = points("damped Newton")
    for k in range(5):
        step = -0.5 * np.linalg.solve(H, grad(p[k]))
        np.testing.assert_allclose(p[k + 1] - p[k], step, rtol=1e-6, atol=1e-9)
    assert hessian(p[0]).shape == (2, 2)
    # the curvature decides how far: the step is not along the slope
    g = grad(p[0])
    cos = float(-g @ (p[1] - p[0]) / np.linalg.norm(g) / np.linalg.norm(p[1] - p[0]))
    assert cos < 0.99


def test_newton_lands_in_one_step_and_damped_halves():
    """newton-vs-gradient: "Newton's path is one straight line from the start to the
    minimum."; "The loss is 0 after the first step."; "Newton: its very first update
    lands on the minimum, so after one update the loss is 0."; "Damped Newton goes in
    the same straight line, halving the remaining distance each step."; "Damped Newton
    needs about fifteen halvings, gradient descent about three dozen updates, and Adam
    doesn't get there within 100." """
    newton = points("Newton")
    np.testing.assert_allclose(newton[1:], np.broadcast_to(MIN, newton[1:].shape), atol=1e-12)
    assert losses_after_updates(run("Newton"))[1] == pytest.approx(0, abs=1e-20)
    assert updates_to_reach(run("Newton"), 1e-6) == 1
    d = points("damped Newton") - MIN
    np.testing.assert_allclose(d[1:20], 0.5 * d[:19], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(d[1:20, 0] * d[0, 1] - d[1:20, 1] * d[0, 0], 0, atol=1e-9)  # one line
    assert 13 <= updates_to_reach(run("damped Newton"), 1e-6) <= 17
    assert 30 <= updates_to_reach(run("gradient descent"), 1e-6) <= 40
    assert finished().total_steps == 100 and updates_to_reach(run("Adam"), 1e-6) is None


def test_one_newton_step_whatever_the_stretching():
    """newton-vs-gradient: "On a quadratic bowl the local bowl Newton builds is the
    *actual* landscape, so one full Newton step lands **exactly** on the minimum,
    whatever the stretching or tilting." (the engine's Newton on a bowl 100x stretched
    and tilted; NumPy on random positive-definite bowls)"""
    text = """id = "b"\ntitle = "b"\nsteps = 2\n[landscape]\nparams = ["x", "y"]
loss = "(x - 1)**2 + 100*(y - 2)**2 + 19*(x - 1)*(y - 2)"\nstart = [-4.0, 7.0]
[[runs]]\nlabel = "n"\noptimizer = "newton"\nlr = 1.0\n"""
    sim = Simulation(loads_scenario(text))
    sim.step(1)
    np.testing.assert_allclose(sim.runs[0].point, [1.0, 2.0], atol=1e-9)
    rng = np.random.default_rng(3)
    for _ in range(20):
        a = rng.standard_normal((3, 3))
        h = a @ a.T + 0.01 * np.eye(3)  # stretched up to ~1000x, tilted anyhow
        w_star, w = rng.standard_normal(3), rng.standard_normal(3) * 10
        g = h @ (w - w_star)  # the gradient of ½(w − w*)ᵀ H (w − w*)
        np.testing.assert_allclose(w - np.linalg.solve(h, g), w_star, atol=1e-8)


def test_the_bill():
    """newton-vs-gradient: "| memory | `N` numbers | the Hessian: `N²` numbers |"; "| work
    | about one backward pass | build `H`, then solve with it: about `N³` operations |";
    "| `N = 2` (today) | trivial | trivial |"; "| `N = 10⁶` | fine | 10¹² numbers
    (terabytes), 10¹⁸ operations |"; "| `N = 10⁹` (our brain) | fine | 10¹⁸ numbers,
    10²⁷ operations: hopeless |"; "At N = 10⁹ the Hessian would have 10¹⁸ entries." """
    assert H.size == 2**2 and np.linalg.eigh(H)[0].size == 2
    # Gaussian elimination on N × N: Σ (N − k)² multiply-adds ≈ N³/3, "about N³"
    for n in (10, 100, 1000):
        count = sum((n - k) ** 2 for k in range(n))
        assert 0.3 < count / n**3 < 0.4
    assert 2**2 == 4 and 2**3 == 8  # today: trivial
    for n, entries, ops in ((10**6, 10**12, 10**18), (10**9, 10**18, 10**27)):
        assert n**2 == entries and n**3 == ops
    assert 1e12 <= 4 * 10**12 < 1e15  # 10¹² float32 numbers: 4 TB
    exaflop_years = 10**27 / 1e18 / 3.15e7  # at 10¹⁸ operations a second
    assert exaflop_years > 30  # hopeless: decades of the fastest machine, every step


def test_hessian_vector_product_from_two_gradients():
    """newton-vs-gradient: "A Hessian-vector product `H·v` costs about two gradient
    evaluations and never stores `H`, so methods such as conjugate-gradient
    ("Hessian-free") Newton use curvature without paying `N²`." (NumPy: H·v as a
    difference of two gradients, and conjugate gradient solving H·s = −g from products
    alone, in N of them)"""
    rng = np.random.default_rng(4)
    p = rng.uniform(-4, 4, 2)
    for v in rng.standard_normal((5, 2)):
        hv = (grad(p + 1e-3 * v) - grad(p - 1e-3 * v)) / 2e-3  # two gradients, vectors only
        np.testing.assert_allclose(hv, H @ v, rtol=1e-5)

    def hvp(v):
        return (grad(p + 1e-3 * v) - grad(p - 1e-3 * v)) / 2e-3

    g = grad(p)
    s, r = np.zeros(2), -g
    d = r.copy()
    for _ in range(2):  # conjugate gradient: N products for an N-knob quadratic
        hd = hvp(d)
        alpha = (r @ r) / (d @ hd)
        s, r_new = s + alpha * d, r - alpha * hd
        d, r = r_new + (r_new @ r_new) / (r @ r) * d, r_new
    np.testing.assert_allclose(p + s, MIN, atol=1e-6)  # the Newton step, no H stored


def test_diagonal_and_quasi_newton_stand_ins():
    """newton-vs-gradient: "Adam's per-parameter scaling is a crude diagonal stand-in for
    the curvature, and methods such as L-BFGS and K-FAC build low-cost approximations
    of `H⁻¹`." (NumPy: no diagonal scaling undoes this bowl's coupling; BFGS builds
    H⁻¹ from gradient differences alone)"""
    # the best diagonal preconditioner (Jacobi) leaves a condition number well above 1
    d = np.diag(1 / np.sqrt(np.diag(H)))
    lam = np.linalg.eigvalsh(d @ H @ d)
    assert lam[1] / lam[0] > 2.5
    adam = run("Adam")
    assert updates_to_reach(adam, 1.0) > 30 and updates_to_reach(run("Newton"), 1.0) == 1
    # BFGS with exact line searches: the inverse estimate equals H⁻¹ after N = 2 steps
    w, inv = np.array([-5.0, 5.0]), np.eye(2)
    for _ in range(2):
        g = H @ (w - MIN)
        step = -inv @ g
        step *= -(g @ step) / (step @ H @ step)
        y = H @ step  # the change of the gradient over the step
        rho = 1 / (y @ step)
        e = np.eye(2) - rho * np.outer(step, y)
        inv = e @ inv @ e.T + rho * np.outer(step, step)
        w = w + step
    np.testing.assert_allclose(inv, np.linalg.inv(H), rtol=1e-9)
    np.testing.assert_allclose(w, MIN, atol=1e-9)


def test_newton_jumps_to_the_bottom_of_the_local_bowl():
    """newton-vs-gradient: "Near any point the loss looks like a quadratic built from those
    two (a bowl, where the curvature is upward in every direction), and Newton's method
    jumps to that bowl's bottom:" (the engine's Newton on a loss that is not quadratic,
    Rosenbrock's banana, from a point where its Hessian is positive definite)"""
    text = """id = "r"\ntitle = "r"\nsteps = 2\n[landscape]\nparams = ["x", "y"]
loss = "(1 - x)**2 + 10*(y - x**2)**2"\nstart = [1.2, 1.0]
[[runs]]\nlabel = "n"\noptimizer = "newton"\nlr = 1.0\n"""
    sim = Simulation(loads_scenario(text))
    w = np.array([1.2, 1.0])

    def f(p):
        return sim.loss_at(p)

    h = 1e-4
    g = np.array([(f(w + h * e) - f(w - h * e)) / (2 * h) for e in np.eye(2)])
    hess = np.array([[(f(w + h * a + h * b) - f(w + h * a - h * b) - f(w - h * a + h * b)
                       + f(w - h * a - h * b)) / (4 * h * h) for b in np.eye(2)]
                     for a in np.eye(2)])
    assert np.all(np.linalg.eigvalsh(hess) > 0)  # a bowl here
    sim.step(1)
    jump = np.asarray(sim.runs[0].point) - w
    np.testing.assert_allclose(jump, -np.linalg.solve(hess, g), rtol=1e-4)

    def model(d):  # the local quadratic built from the slope and the curvature
        return f(w) + g @ d + 0.5 * d @ hess @ d

    rng = np.random.default_rng(7)
    assert all(model(jump) < model(jump + 0.01 * e) for e in rng.standard_normal((20, 2)))
    assert f(w + jump) != pytest.approx(model(jump), abs=1e-6)  # a model, not the loss
