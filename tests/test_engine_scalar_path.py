"""Single-number knobs: a 0-d tensor computes what a one-element array does.

A landscape's x and y are 0-d tensors. Every op must treat them like any
other array: the same value, dtype and gradient as the same computation on
shape-(1,) arrays, and a gradient that is a writable 0-d array of its own.
The two are different code paths inside NumPy (scalar loops and vectorised
SIMD kernels, which differ by CPU), so they are compared to a few units in
the last place; a rerun of the same path is compared bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest

from descent_tui.engine import Tensor, maximum, optim

UNARY = {
    "neg": lambda t: -t,
    "add c": lambda t: t + 1.5,
    "radd c": lambda t: 1.5 + t,
    "sub c": lambda t: t - 0.25,
    "rsub c": lambda t: 2.0 - t,
    "mul c": lambda t: t * 3.0,
    "rmul c": lambda t: 3 * t,
    "div c": lambda t: t / 7.0,
    "rdiv c": lambda t: 7.0 / t,
    "pow 2": lambda t: t ** 2,
    "pow 3": lambda t: t ** 3,
    "pow 0.5": lambda t: t ** 0.5,
    "exp": lambda t: t.exp(),
    "log": lambda t: t.log(),
    "sqrt": lambda t: t.sqrt(),
    "abs": lambda t: abs(t),
    "sin": lambda t: t.sin(),
    "cos": lambda t: t.cos(),
    "tanh": lambda t: t.tanh(),
    "sigmoid": lambda t: t.sigmoid(),
    "relu": lambda t: t.relu(),
    "leaky_relu": lambda t: t.leaky_relu(0.1),
    "clip": lambda t: t.clip(0.0, 1.0),
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "maximum": lambda a, b: maximum(a, b),
}


def _run(fn, values, shape, dtype):
    """Value and leaf gradients of ``fn`` at ``values``, each leaf of ``shape``."""
    leaves = [Tensor(np.full(shape, v, dtype=dtype), requires_grad=True) for v in values]
    out = fn(*leaves)
    (out * 1.25).sum().backward()  # a non-unit upstream gradient
    return np.asarray(out.data), [t.grad for t in leaves]


def _close(a, b, dtype, ulps=4):
    """Equal to a few units in the last place (NaN where both are NaN)."""
    np.testing.assert_allclose(np.asarray(a).reshape(-1), np.asarray(b).reshape(-1),
                               rtol=ulps * np.finfo(dtype).eps, atol=0)


VALUES = np.random.default_rng(7).uniform(0.05, 3.0, 40)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_on_a_single_number_match_the_array_path(name, dtype):
    for v in VALUES:
        val0, (g0,) = _run(UNARY[name], [v], (), dtype)
        val1, (g1,) = _run(UNARY[name], [v], (1,), dtype)
        assert val0.dtype == dtype and g0.dtype == dtype
        assert isinstance(g0, np.ndarray) and g0.shape == () and g0.flags.writeable
        _close(val0, val1, dtype)
        _close(g0, g1, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_on_single_numbers_match_the_array_path(name, dtype):
    for a, b in [(2.0, 2.0), *zip(VALUES[::2], VALUES[1::2])]:
        val0, grads0 = _run(BINARY[name], [a, b], (), dtype)
        val1, grads1 = _run(BINARY[name], [a, b], (1,), dtype)
        _close(val0, val1, dtype)
        for g0, g1 in zip(grads0, grads1):
            assert isinstance(g0, np.ndarray) and g0.dtype == dtype and g0.shape == ()
            _close(g0, g1, dtype)


def _bowl(steps, lr=0.05):
    """W1 of the benchmark: SGD on x² + 2y² from (3, -2); the losses and the end point."""
    x, y = Tensor(3.0, requires_grad=True), Tensor(-2.0, requires_grad=True)
    opt = optim.SGD([x, y], lr=lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = x ** 2 + 2 * y ** 2
        loss.backward()
        losses.append(loss.item())
        opt.step()
    return np.array(losses), x, y


def test_a_single_number_graph_computes_what_numpy_does_by_hand():
    lr = 0.05
    losses, x, y = _bowl(100, lr)
    hx, hy = np.float64(3.0), np.float64(-2.0)
    by_hand = []
    for _ in range(100):
        by_hand.append(hx * hx + 2 * (hy * hy))
        hx, hy = hx - lr * (2 * hx), hy - lr * (4 * hy)
    np.testing.assert_allclose(losses, by_hand, rtol=1e-14)
    np.testing.assert_allclose([x.item(), y.item()], [hx, hy], rtol=1e-14)
    assert type(x.data) is np.ndarray and x.data.shape == ()


def test_a_rerun_of_a_single_number_run_gives_the_same_bits():
    first, x1, y1 = _bowl(50)
    again, x2, y2 = _bowl(50)
    assert first.tobytes() == again.tobytes()
    assert x1.data.tobytes() == x2.data.tobytes() and y1.data.tobytes() == y2.data.tobytes()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sgd_on_a_single_number_matches_the_array_path(dtype):
    rng = np.random.default_rng(0)
    grads = rng.normal(size=60).astype(dtype)
    p0 = Tensor(np.array(1.5, dtype=dtype), requires_grad=True)
    p1 = Tensor(np.array([1.5], dtype=dtype), requires_grad=True)
    opt0, opt1 = optim.SGD([p0], lr=0.1), optim.SGD([p1], lr=0.1)
    for i, g in enumerate(grads):
        if i == 30:  # momentum switched on mid-run: its buffers take over from the plain step
            opt0.param_groups[0]["momentum"] = opt1.param_groups[0]["momentum"] = 0.9
        before = p0.data.copy()
        p0.grad, p1.grad = np.array(g), np.array([g])
        opt0.step()
        opt1.step()
        assert type(p0.data) is np.ndarray and p0.data.dtype == dtype and p0.data.shape == ()
        _close(p0.data, p1.data, dtype)
        upd = opt0.inspect_state(p0)["update"]
        assert isinstance(upd, np.ndarray) and upd.shape == ()
        np.testing.assert_allclose(upd, p0.data - before, rtol=1e-6, atol=1e-7)
    assert opt0.inspect_state(p0)["step"] == len(grads)


def test_optimizer_state_is_keyed_by_the_parameter():
    p = Tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    assert opt.state[p]["step"] == 1  # as in PyTorch: optimizer.state[param]
    np.testing.assert_array_equal(opt.state[p]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])


@pytest.mark.parametrize("p", [2, 0.5, -1, 3, 1.5])
def test_powers_of_a_single_number_match_the_array_path_at_any_magnitude(p):
    # a ** p and its derivative p·a^(p-1), from tiny to huge bases: NumPy may
    # square, take a root or a reciprocal for an array and call pow for a
    # number, which agree to within an ulp or two
    rng = np.random.default_rng(3)
    values = rng.uniform(1.0, 10.0, 200) * 10.0 ** rng.integers(-140, 140, 200)
    for v in values:
        with np.errstate(over="ignore", under="ignore"):
            val0, (g0,) = _run(lambda t: t ** p, [v], (), np.float64)
            val1, (g1,) = _run(lambda t: t ** p, [v], (1,), np.float64)
        _close(val0, val1, np.float64)
        _close(g0, g1, np.float64)
