"""Lesson tests for the claims of first-descent, sentence by sentence.

Each docstring names the mission and quotes the sentences it guards (see
``tests/_claims.py``). Run claims are checked on the mission's own run (one
cached simulation); the autograd and calculus facts are recomputed with the
engine or NumPy, never read from the text.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _lessons import after_updates, losses_after_updates, run_named, run_to_end

from descent_tui.engine import Tensor
from descent_tui.engine.hessian import hessian
from descent_tui.sim import Simulation

MISSION = Path(__file__).resolve().parents[1] / "scenarios" / "first-descent.toml"


def finished(changes: tuple = ()) -> Simulation:
    return run_to_end(MISSION, changes)


def run(label: str, changes: tuple = ()):
    return run_named(finished(changes), label)


def xs(rs) -> np.ndarray:
    return after_updates(rs, "param.x")


def grads(rs) -> np.ndarray:
    return after_updates(rs, "grad.x")


def test_three_crews_and_their_rates():
    """first-descent: "Three crews start from `x = 3` with different step sizes: a
    careful `lr = 0.1`, a bold `lr = 0.45`, and a reckless `lr = 1.05`." """
    sim = finished()
    assert [(r.label, r.config.lr) for r in sim.runs] == [
        ("careful", 0.1), ("bold", 0.45), ("reckless", 1.05)]
    assert all(xs(r)[0] == 3.0 for r in sim.runs)


def test_gradient_panel_reads_two_x():
    """first-descent: "The gradient panel should read 2x."; "At the start, x = 3, so
    it should say 6."; "f(x) = x²        slope: f'(x) = 2x"; "The reckless crew never
    made a wrong *measurement*."; "The station computer gets the same `6` without
    being told the formula." """
    sim = finished()
    assert sim.spec.landscape.loss == "x**2"  # the run knows f, not f'
    for rs in sim.runs:
        x, g = xs(rs), grads(rs)
        n = min(len(x), len(g))
        assert n > 50
        assert g[0] == 6.0
        np.testing.assert_allclose(g[:n], 2 * x[:n], rtol=1e-12)
    # and the engine, told only x**2, says 6 at x = 3
    x = Tensor(3.0, requires_grad=True)
    (x ** 2).backward()
    assert float(x.grad) == 6.0


def test_every_step_multiplies_x_by_one_minus_two_lr():
    """first-descent: "Every step multiplies x by the same factor (1 - 2*lr)."; "On
    `f(x) = x²` a gradient step is `x − lr · 2x = (1 − 2·lr) · x`, so the learning
    rate alone decides what happens:" """
    for rs in finished().runs:
        x = xs(rs)
        np.testing.assert_allclose(x[1:] / x[:-1], 1 - 2 * rs.config.lr, rtol=1e-12)
    rng = np.random.default_rng(0)
    x, lr = rng.normal(size=50) * 3, rng.uniform(0.001, 1.5, size=50)
    np.testing.assert_allclose(x - lr * 2 * x, (1 - 2 * lr) * x, rtol=1e-12)


def test_by_hand_first_step_of_the_careful_crew():
    """first-descent: "By hand: at `x = 3` the slope is `6`, so with `lr = 0.1` the
    next position is `3 − 0.6 = 2.4`." """
    careful = run("careful")
    assert careful.config.lr == 0.1 and grads(careful)[0] == 6.0
    assert xs(careful)[1] == pytest.approx(2.4, rel=1e-12)


def test_bold_factor_removes_ninety_percent():
    """first-descent: "With lr = 0.45 that factor is 0.1, so each step removes 90% of
    the remaining distance." """
    bold = run("bold")
    assert 1 - 2 * bold.config.lr == pytest.approx(0.1)
    d = np.abs(xs(bold))  # the distance to the minimum at 0
    np.testing.assert_allclose(1 - d[1:] / d[:-1], 0.9, rtol=1e-9)


def test_reckless_flips_and_grows():
    """first-descent: "With lr = 1.05 the factor is -1.1: x changes sign every step
    and gets a little bigger each time."; "| 1.05 | −1.1 | jumps over the bottom,
    lands higher up the far wall, and keeps climbing: divergence |"; "The step was
    simply too long for the hill: each jump cleared the bottom and landed higher on
    the far wall." """
    reckless = run("reckless")
    x, loss = xs(reckless), losses_after_updates(reckless)
    assert 1 - 2 * reckless.config.lr == pytest.approx(-1.1)
    np.testing.assert_allclose(x[1:] / x[:-1], -1.1, rtol=1e-12)  # a sign flip, 10% bigger
    assert np.all(np.sign(x[1:]) == -np.sign(x[:-1]))  # over the bottom, every step
    assert np.all(loss[1:] > loss[:-1])  # higher on the far wall, every step
    assert reckless.diverged


def test_careful_glides_into_the_bottom():
    """first-descent: "| 0.1  | 0.8  | a smooth, steady glide into the bottom |" """
    careful = run("careful")
    x, loss = xs(careful), losses_after_updates(careful)
    assert 1 - 2 * careful.config.lr == pytest.approx(0.8)
    np.testing.assert_allclose(x[1:] / x[:-1], 0.8, rtol=1e-12)
    assert np.all(x > 0) and np.all(np.diff(loss) < 0)  # never crosses the bottom
    assert not careful.diverged and loss[-1] < 1e-15


def test_the_gradient_points_uphill_and_the_step_sets_off_downhill():
    """first-descent: "The gradient pointed uphill the whole time, as a gradient
    does, and every step set off the opposite way, downhill." """
    reckless = run("reckless")
    x, g = xs(reckless), grads(reckless)
    n = min(len(x), len(g)) - 1
    f = lambda v: v ** 2
    h = 1e-6 * np.abs(x[:n])
    # uphill: a small move along the gradient raises the loss
    assert np.all(f(x[:n] + h * np.sign(g[:n])) > f(x[:n]))
    # the step went against the gradient, so it set off downhill (descent direction)
    step = x[1:n + 1] - x[:n]
    assert np.all(step * g[:n] < 0)
    assert np.all(f(x[:n] + h * np.sign(step)) < f(x[:n]))


def test_the_chain_rule_walk_at_x_equals_one():
    """first-descent: "forward at `x = 1`: `y = 2`, `z = 4`"; "backward: `dz/dy = 2y =
    4`, `dy/dx = 2`, so `dz/dx = 4 · 2 = 8`"; "Walking backwards: dz/dy = 2y = 4
    (since y = 2), dy/dx = 2, and the chain rule multiplies them: 4 · 2 = 8."; "For
    `x = 1` that gives `dz/dx = 8`, the same number you get from writing `z = 4x²`
    and differentiating to `8x`."; "Check: z = 4x², dz/dx = 8x = 8." """
    x = Tensor(1.0, requires_grad=True)
    y = x * 2
    z = y ** 2
    assert float(y.data) == 2.0 and float(z.data) == 4.0
    z.backward()
    assert float(y.grad) == 4.0  # dz/dy = 2y, kept on the inner node
    assert float(x.grad) == 8.0  # = dz/dy · dy/dx = 4 · 2
    x2 = Tensor(1.0, requires_grad=True)
    dy_dx = Tensor(1.0, requires_grad=True)
    (dy_dx * 2).backward()
    assert float(dy_dx.grad) == 2.0
    for v in (-1.5, 0.5, 1.0, 2.0):  # z = 4x² written out: dz/dx = 8x
        x2 = Tensor(v, requires_grad=True)
        (4 * x2 ** 2).backward()
        assert float(x2.grad) == pytest.approx(8 * v, rel=1e-15)


def test_autograd_records_the_graph_and_multiplies_local_slopes():
    """first-descent: "It records every operation as it happens (a *computational
    graph*) and then walks that graph backwards, multiplying local slopes." """
    x = Tensor(1.0, requires_grad=True)
    y = x * 2
    z = y ** 2
    assert z.parents[0] is y and x in y.parents  # each op recorded as it ran
    assert z.op and y.op and x.is_leaf
    z.backward()
    assert float(x.grad) == pytest.approx((2 * float(y.data)) * 2)


def test_quiz_gradient_at_three():
    """first-descent: "f'(x) = 2x, and 2 · 3 = 6." """
    x = Tensor(3.0, requires_grad=True)
    (x ** 2).backward()
    assert float(x.grad) == 2 * 3 == 6


def test_backprop_only_measures_it_does_not_move_the_knobs():
    """first-descent: "Backprop only tells you how the loss changes as each knob
    moves." """
    w = Tensor([1.0, -2.0, 0.5], requires_grad=True)
    before = w.data.copy()
    loss = (w ** 2).sum()
    loss.backward()
    np.testing.assert_array_equal(w.data, before)  # no knob was turned
    np.testing.assert_allclose(w.grad, 2 * before)  # only the slopes


def test_the_gradient_is_the_map_for_every_knob_at_once():
    """first-descent: "what we want instead is a map that answers, for every knob at
    once"; "Trying each knob by hand is hopeless: poke one, rerun the whole brain,
    write down whether things got better, move on to the next." (one forward pass a
    knob by hand; one backward pass gives every sign and slope)"""
    rng = np.random.default_rng(1)
    a, w0 = rng.normal(size=(20, 6)), rng.normal(size=6)
    calls = 0

    def loss_of(w):
        nonlocal calls
        calls += 1
        return float(np.mean((a @ w - 1) ** 2))

    base = loss_of(w0)
    h = 1e-6
    poked = np.array([(loss_of(w0 + h * e) - base) / h for e in np.eye(6)])
    assert calls == 1 + 6  # a rerun for every knob
    w = Tensor(w0, requires_grad=True)
    (((Tensor(a) @ w - 1) ** 2).mean()).backward()  # one forward, one backward
    np.testing.assert_allclose(w.grad, poked, rtol=1e-4, atol=1e-6)
    assert np.all(np.sign(w.grad) == np.sign(poked))  # rise or fall, and how fast


def test_the_edge_is_two_over_the_curvature():
    """first-descent: "The curvature of x² is f″ = 2, and 2/f″ = 1.0 is the edge
    between bouncing that dies out and bouncing that grows."; "The factor is 1 − 2·1
    = −1, so x flips sign and keeps its size: 3, −3, 3, −3, ..."; "Half of that, lr =
    1/f″ = 0.5, lands on the minimum in a single step." """
    x = Tensor(3.0, requires_grad=True)
    f2 = hessian(lambda: x ** 2, x)[0, 0]
    assert f2 == pytest.approx(2.0, rel=1e-9) and 2 / f2 == pytest.approx(1.0)
    steps = (("steps", 12),)
    edge = xs(run("careful", (("lr", 1.0),) + steps))
    np.testing.assert_allclose(edge[:4], [3, -3, 3, -3], rtol=1e-12)
    np.testing.assert_allclose(np.abs(edge), 3.0, rtol=1e-12)
    below = np.abs(xs(run("careful", (("lr", 0.99),) + steps)))
    above = np.abs(xs(run("careful", (("lr", 1.01),) + steps)))
    assert np.all(np.diff(below) < 0) and np.all(np.diff(above) > 0)
    half = xs(run("careful", (("lr", 0.5),) + steps))
    assert half[1] == 0.0
