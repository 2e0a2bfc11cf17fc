"""Gradient clipping, the finite-difference Hessian and Newton's method."""

from __future__ import annotations

import math

import numpy as np
import pytest

from descent_tui.engine import Tensor, optim
from descent_tui.engine.hessian import hessian
from descent_tui.engine.nn.utils import clip_grad_norm_, clip_grad_value_


class P:  # any object with .data and a Tensor's ._grad (.grad: the same) is enough
    def __init__(self, grad):
        self.data = np.zeros_like(np.asarray(grad, float))
        self._grad = None if grad is None else np.asarray(grad, float)

    grad = property(lambda self: self._grad)


# ---------------------------------------------------------------- clipping
def test_clip_norm_returns_total_and_scales_all_grads_together():
    a, b, c = P([3.0, 0.0]), P([[0.0], [4.0]]), P(None)
    ga, gb = a.grad, b.grad
    total = clip_grad_norm_([a, b, c], max_norm=1.0)
    assert total.ndim == 0  # a 0-d tensor, as PyTorch returns
    assert total == pytest.approx(5.0)
    coef = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(a.grad, [3 * coef, 0.0])
    np.testing.assert_allclose(b.grad, [[0.0], [4 * coef]])
    assert c.grad is None
    # rebound, not modified in place
    np.testing.assert_array_equal(ga, [3.0, 0.0])
    np.testing.assert_array_equal(gb, [[0.0], [4.0]])
    assert math.sqrt(np.sum(a.grad**2) + np.sum(b.grad**2)) < 1.0


def test_clip_norm_below_max_leaves_grads_alone():
    a = P([0.3, -0.4])
    g = a.grad
    assert clip_grad_norm_(a, max_norm=1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(a.grad, g)


def test_clip_norm_inf_and_p_norms():
    a, b = P([1.0, -7.0]), P([2.0])
    assert clip_grad_norm_([a, b], max_norm=3.5, norm_type=float("inf")) == 7.0
    np.testing.assert_allclose(a.grad, np.array([1.0, -7.0]) * 3.5 / (7.0 + 1e-6))
    c, d = P([1.0, -2.0]), P([3.0])
    assert clip_grad_norm_([c, d], max_norm=100.0, norm_type=1) == pytest.approx(6.0)
    e = P([1.0, 2.0])
    assert clip_grad_norm_([e], 100.0, norm_type=3) == pytest.approx(9 ** (1 / 3))


def test_clip_norm_nonfinite():
    a = P([np.inf, 1.0])
    with pytest.raises(RuntimeError):
        clip_grad_norm_([a], 1.0, error_if_nonfinite=True)
    n = P([np.nan, 1.0])
    assert math.isnan(clip_grad_norm_([n], 1.0))
    assert np.all(np.isnan(n.grad))  # like PyTorch: grads scaled by a nan coefficient


def test_clip_value():
    a, b = P([-3.0, 0.5, 2.0]), P(None)
    g = a.grad
    clip_grad_value_([a, b], 1.0)
    np.testing.assert_array_equal(a.grad, [-1.0, 0.5, 1.0])
    np.testing.assert_array_equal(g, [-3.0, 0.5, 2.0])
    t = Tensor([1.0, 2.0], requires_grad=True)
    (t * t).sum().backward()
    clip_grad_value_(t, 3.0)
    np.testing.assert_array_equal(t.grad, [2.0, 3.0])


def test_clip_works_on_engine_tensors():
    from descent_tui.engine import nn

    assert nn.utils.clip_grad_norm_ is clip_grad_norm_
    w = Tensor([3.0, 4.0], requires_grad=True)
    (w * w).sum().backward()  # grad = (6, 8), norm 10
    assert nn.utils.clip_grad_norm_([w], 5.0) == pytest.approx(10.0)
    np.testing.assert_allclose(w.grad, [3.0, 4.0], rtol=1e-6)


# ----------------------------------------------------------------- hessian
def test_hessian_of_known_functions():
    # f(x, y) = x²·y + sin(y)·x + exp(x)  →  H = [[2y + e^x, 2x + cos y], [2x + cos y, −x sin y]]
    x = Tensor([0.3], requires_grad=True)
    y = Tensor([-1.1], requires_grad=True)

    def f():
        return (x * x * y + y.sin() * x + x.exp()).sum()

    H = hessian(f, [x, y])
    xv, yv = 0.3, -1.1
    expected = np.array([[2 * yv + math.exp(xv), 2 * xv + math.cos(yv)],
                         [2 * xv + math.cos(yv), -xv * math.sin(yv)]])
    np.testing.assert_allclose(H, expected, rtol=1e-7, atol=1e-8)
    np.testing.assert_array_equal(H, H.T)


def test_hessian_quadratic_exact_and_restores_state():
    rng = np.random.default_rng(5)
    A = rng.normal(size=(5, 5))
    A = A @ A.T + np.eye(5)
    b = rng.normal(size=5)
    w = Tensor(rng.normal(size=(2, 2)), requires_grad=True)
    v = Tensor(rng.normal(size=1), requires_grad=True)
    old_grad = np.array([[1.0, 2.0], [3.0, 4.0]])
    w.grad = old_grad
    data_before = (w.data.copy(), v.data.copy())
    w_data_obj = w.data

    def f():
        flat = _concat(w, v)
        return (flat @ Tensor(A) @ flat) * 0.5 + (flat * Tensor(b)).sum()

    H = hessian(f, [w, v])
    np.testing.assert_allclose(H, A, rtol=1e-9, atol=1e-9)
    assert w.grad.base is old_grad and v.grad is None  # the same array, restored
    assert w.data is w_data_obj
    np.testing.assert_array_equal(w.data, data_before[0])
    np.testing.assert_array_equal(v.data, data_before[1])


def _concat(w, v):
    from descent_tui.engine import concatenate

    return concatenate([w.reshape(-1), v.reshape(-1)])


def test_hessian_accepts_closure_that_calls_backward():
    x = Tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([x], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (x * x * x).sum()
        loss.backward()
        return loss

    np.testing.assert_allclose(hessian(closure, [x]), np.diag([6.0, 12.0]), rtol=1e-7)


# ------------------------------------------------------------------ Newton
@pytest.mark.parametrize("seed", range(6))
def test_newton_lands_on_quadratic_minimum_in_one_step(seed):
    rng = np.random.default_rng(seed)
    n1, n2 = 3, 4
    n = n1 + n2
    M = rng.normal(size=(n, n))
    A = M @ M.T + 0.5 * np.eye(n)  # random positive definite
    b = rng.normal(size=n) * 3
    x_star = np.linalg.solve(A, -b)
    p1 = Tensor(rng.normal(size=n1) * 5, requires_grad=True)
    p2 = Tensor(rng.normal(size=(2, 2)) * 5, requires_grad=True)
    At, bt = Tensor(A), Tensor(b)

    def closure():
        x = _concat(p1, p2)
        return (x @ At @ x) * 0.5 + (x * bt).sum() + 7.0

    opt = optim.Newton([p1, p2])
    x0 = np.concatenate([p1.data, p2.data.ravel()])
    loss0 = opt.step(closure)
    assert loss0.item() == pytest.approx(0.5 * x0 @ A @ x0 + b @ x0 + 7.0)
    x1 = np.concatenate([p1.data, p2.data.ravel()])
    np.testing.assert_allclose(x1, x_star, rtol=1e-9, atol=1e-9)
    upd = opt.inspect_state(p2)["update"]
    np.testing.assert_allclose(upd.ravel(), (x_star - x0)[n1:], rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(opt.last_hessian, A, rtol=1e-8, atol=1e-8)


def test_newton_lr_and_damping():
    # f = sum(a x²/2): Newton step with damping d is x ← x − lr·a x/(a + d)
    a = np.array([1.0, 4.0])
    x = Tensor([2.0, -1.0], requires_grad=True)

    def closure():
        return (Tensor(a) * x * x).sum() * 0.5

    opt = optim.Newton([x], lr=0.5, damping=1.0)
    opt.step(closure)
    np.testing.assert_allclose(x.data, np.array([2.0, -1.0]) * (1 - 0.5 * a / (a + 1.0)),
                               rtol=1e-9)
    with pytest.raises(ValueError):
        opt.step()


def test_newton_singular_hessian_falls_back_to_least_squares():
    # f = (x + y − 1)²: H = [[2, 2], [2, 2]] is singular; lstsq gives the min-norm step
    x = Tensor([0.0], requires_grad=True)
    y = Tensor([0.0], requires_grad=True)

    def closure():
        return ((x + y - 1.0) ** 2).sum()

    optim.Newton([x, y]).step(closure)
    assert (x.data[0] + y.data[0]) == pytest.approx(1.0, abs=1e-8)
    assert x.data[0] == pytest.approx(0.5, abs=1e-6)


def test_newton_on_rosenbrock_converges_fast():
    p = Tensor([-1.2, 1.0], requires_grad=True)

    def closure():
        x, y = p[0], p[1]
        return (1 - x) ** 2 + (y - x * x) ** 2 * 100.0

    opt = optim.Newton([p])
    for _ in range(12):
        opt.step(closure)
    np.testing.assert_allclose(p.data, [1.0, 1.0], atol=1e-6)
