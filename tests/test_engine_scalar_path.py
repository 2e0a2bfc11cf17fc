"""Single-number knobs: 0-d tensors take NumPy's scalar fast path.

A 0-d array pays for NumPy's full ufunc machinery on every operation, so ops
read a 0-d operand as a NumPy scalar and plain SGD updates a 0-d parameter
with scalar arithmetic. The numbers must not change: each result here is
compared bit for bit with the same computation on shape-(1,) arrays, which
go through ordinary ufuncs.
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


# many values: NumPy's scalar and array code can part ways in the last bit
# (a scalar's ** 2 used to call C's pow where an array squares)
VALUES = np.random.default_rng(7).uniform(0.05, 3.0, 40)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_on_a_single_number_match_the_array_path(name, dtype):
    for v in VALUES:
        val0, (g0,) = _run(UNARY[name], [v], (), dtype)
        val1, (g1,) = _run(UNARY[name], [v], (1,), dtype)
        assert val0.dtype == dtype and g0.dtype == dtype
        assert type(g0) is np.ndarray and g0.shape == () and g0.flags.writeable
        assert val0.tobytes() == val1.tobytes(), (name, v)
        assert g0.tobytes() == g1.tobytes(), (name, v)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_on_single_numbers_match_the_array_path(name, dtype):
    for a, b in [(2.0, 2.0), *zip(VALUES[::2], VALUES[1::2])]:
        val0, grads0 = _run(BINARY[name], [a, b], (), dtype)
        val1, grads1 = _run(BINARY[name], [a, b], (1,), dtype)
        assert val0.tobytes() == val1.tobytes(), (name, a, b)
        for g0, g1 in zip(grads0, grads1):
            assert g0.dtype == dtype and g0.shape == ()
            assert g0.tobytes() == g1.tobytes(), (name, a, b)


def test_a_single_number_graph_computes_what_numpy_does_by_hand():
    """W1 of the benchmark: 100 SGD steps on x² + 2y², bit for bit."""
    lr = 0.05
    x, y = Tensor(3.0, requires_grad=True), Tensor(-2.0, requires_grad=True)
    opt = optim.SGD([x, y], lr=lr)
    hx, hy = np.float64(3.0), np.float64(-2.0)
    for _ in range(100):
        opt.zero_grad()
        loss = x ** 2 + 2 * y ** 2
        loss.backward()
        assert loss.item() == hx ** 2 + 2 * hy ** 2
        assert x.grad == 2 * hx and y.grad == 4 * hy
        opt.step()
        hx, hy = hx - lr * (2 * hx), hy - lr * (4 * hy)
        assert x.data == hx and y.data == hy
    assert type(x.data) is np.ndarray and x.data.shape == ()


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
        assert p0.data.dtype == dtype and p0.data.shape == ()
        assert p0.data.tobytes() == p1.data.tobytes(), i
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
    # An array's ** 2, ** 0.5 and ** -1 are a square, a square root and a
    # reciprocal, while a NumPy scalar calls C's pow, which lands one bit away
    # about once in a thousand values. Test the values where the two differ on
    # this machine, and a random sample besides.
    rng = np.random.default_rng(3)
    values = rng.uniform(1.0, 10.0, 50_000) * 10.0 ** rng.integers(-140, 140, 50_000)
    with np.errstate(all="ignore"):
        by_array = values ** p
        by_scalar = np.array([np.float64(v) ** p for v in values])
    differ = values[by_array != by_scalar]
    for v in [*differ[:50], *values[:100]]:
        val0, (g0,) = _run(lambda t: t ** p, [v], (), np.float64)
        val1, (g1,) = _run(lambda t: t ** p, [v], (1,), np.float64)
        assert val0.tobytes() == val1.tobytes(), v
        assert g0.tobytes() == g1.tobytes(), v
