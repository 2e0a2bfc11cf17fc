"""How the engine behaves, beyond each op's formula: accumulation, graph lifetime,
no_grad, non-finite numbers, deep graphs, dtypes, extreme logits, introspection."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from descent_tui.engine import Tensor, is_grad_enabled, list_graph, nn, no_grad, topological_order
from descent_tui.engine import functional as F


def test_gradients_accumulate_until_zeroed():
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, -4.0, 6.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [4.0, -8.0, 12.0])
    (3 * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [7.0, -5.0, 15.0])
    x.grad = None
    (3 * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0, 3.0])


@pytest.mark.parametrize("set_to_none", [True, False])
def test_module_zero_grad(set_to_none):
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(3, 4, rng=rng), nn.Tanh(), nn.Linear(4, 1, rng=rng))
    x = Tensor(rng.normal(size=(5, 3)))
    model(x).sum().backward()
    first = [p.grad.copy() for p in model.parameters()]
    model(x).sum().backward()
    for p, g in zip(model.parameters(), first):
        np.testing.assert_allclose(p.grad, 2 * g, rtol=1e-12)
    model.zero_grad(set_to_none=set_to_none)
    for p in model.parameters():
        if set_to_none:
            assert p.grad is None
        else:
            np.testing.assert_array_equal(p.grad, np.zeros_like(p.data))
    model(x).sum().backward()
    for p, g in zip(model.parameters(), first):
        np.testing.assert_allclose(p.grad, g, rtol=1e-12)


def test_leaf_grad_does_not_alias_upstream_arrays():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = Tensor([1.0, 2.0], requires_grad=True)
    g = np.array([1.0, 1.0])
    (x + y).backward(g)
    x.grad += 10  # editing one grad must not change the other, nor the caller's array
    np.testing.assert_array_equal(y.grad, [1.0, 1.0])
    np.testing.assert_array_equal(g, [1.0, 1.0])
    x.sum().backward()  # a grad from a broadcast view must be writable after accumulation
    np.testing.assert_array_equal(x.grad, [12.0, 12.0])


def test_backward_on_nonscalar_without_grad_raises():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="non-scalar"):
        y.backward()
    assert x.grad is None


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Tensor([1.0]) * 2).sum().backward()


def test_backward_with_explicit_grad():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y.backward(np.array([1.0, 0.5, -2.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, -12.0])
    x2 = Tensor([[1.0, 2.0]], requires_grad=True)
    (x2 * 3).backward(Tensor([[2.0, -1.0]]))
    np.testing.assert_array_equal(x2.grad, [[6.0, -3.0]])
    with pytest.raises(RuntimeError, match="shape"):
        (x2 * 3).backward(np.ones(2))


def test_scalar_backward_of_size_one_array():
    x = Tensor([[2.0]], requires_grad=True)
    (x * x).backward()  # size 1 counts as a scalar
    np.testing.assert_array_equal(x.grad, [[4.0]])


def test_second_backward_raises_unless_retained():
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()

    y = Tensor([1.0, 2.0], requires_grad=True)
    loss = (y.exp() * y).sum()
    loss.backward(retain_graph=True)
    once = y.grad.copy()
    np.testing.assert_allclose(once, np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])))
    loss.backward()
    np.testing.assert_allclose(y.grad, 2 * once, rtol=1e-15)
    with pytest.raises(RuntimeError):
        loss.backward()


def test_graph_is_freed_after_backward():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x.tanh()
    loss = (h * 3).sum()
    loss.backward()
    assert all(t.grad_fn is None for t in topological_order(loss) if t.op)
    # a new graph through the same leaf works fine
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad, 3 * (1 - np.tanh([1.0, 2.0]) ** 2) + 2)


def test_no_grad_records_nothing():
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        y = (x * 2).exp().sum()
        z = F.mse_loss(x, np.zeros(2))
    assert is_grad_enabled()
    for t in (y, z):
        assert not t.requires_grad
        assert t.parents == ()
        assert t.op == ""
        with pytest.raises(RuntimeError):
            t.backward()
    np.testing.assert_allclose(y.item(), np.exp(2.0) + np.exp(4.0))
    assert (x * 2).requires_grad  # recording resumes after the block


def test_no_grad_nested_and_restored_on_exception():
    with no_grad():
        with no_grad():
            pass
        assert not is_grad_enabled()
    assert is_grad_enabled()
    with pytest.raises(ValueError), no_grad():
        raise ValueError("boom")
    assert is_grad_enabled()


def test_no_grad_as_decorator():
    x = Tensor([3.0], requires_grad=True)

    @no_grad()
    def step(t):
        """Docs survive."""
        assert not is_grad_enabled()
        return t * 2

    out = step(x)
    assert step.__name__ == "step" and step.__doc__ == "Docs survive."
    assert not out.requires_grad and out.parents == ()
    assert is_grad_enabled()
    np.testing.assert_array_equal(out.data, [6.0])


def test_nonfinite_values_propagate_under_the_callers_errstate():
    # the engine leaves NumPy's error state alone: a caller who wants quiet
    # inf/nan maths (the simulation) says so with np.errstate
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("error")
        x = Tensor([0.0, -1.0, np.inf, np.nan, 1e308, -np.inf], requires_grad=True)
        y = x.log() + x.sqrt() + 1 / x + x * 10 + x.exp() + (x - x) + x.tanh() + x.sigmoid()
        y.sum().backward()
        assert np.isnan(y.data[3]) and np.isnan(x.grad[3])
        assert not np.all(np.isfinite(y.data))
        assert not np.all(np.isfinite(x.grad))
        big = Tensor([1e200], requires_grad=True)
        sq = (big ** 2).sum()
        sq.backward()
        assert sq.item() == np.inf and big.grad[0] == 2e200  # d(x²)/dx = 2x is finite
        z = Tensor([np.nan, 1.0], requires_grad=True)
        F.mse_loss(z, [0.0, 0.0]).backward()
        assert np.isnan(z.grad[0])
        r = Tensor([-np.inf, np.inf, np.nan, -1.0, 2.0]).relu()
        np.testing.assert_array_equal(r.data, [0.0, np.inf, np.nan, 0.0, 2.0])


def test_the_engine_does_not_silence_numpys_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning, match="divide by zero"):
            Tensor([0.0]).log()


def test_importing_the_engine_leaves_numpys_error_state_alone():
    code = ("import numpy as np; before = np.geterr(); import descent_tui.engine; "
            "import descent_tui.engine.functional; assert np.geterr() == before, np.geterr(); "
            "print(before)")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "'warn'" in done.stdout  # NumPy's own default, untouched


def test_relu_dead_units_block_nonfinite_upstream_gradient():
    x = Tensor([-1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x.relu().backward(np.array([np.inf, 3.0]))
    np.testing.assert_array_equal(x.grad, [0.0, 3.0])  # as PyTorch: dead means 0


def test_deep_chain_backward():
    x = Tensor([0.5], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
        y = y + 0.0  # 20,000 ops in one chain
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0001 ** 10_000], rtol=1e-9)
    np.testing.assert_allclose(y.data, [0.5 * 1.0001 ** 10_000], rtol=1e-9)


def test_deep_chain_list_graph():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y + 1.0
    nodes = list_graph(y)
    assert nodes[-1].tensor is y and nodes[0].tensor is x
    assert len([n for n in nodes if n.op.startswith("add")]) == 20_000
    assert y.item() == 20_001.0


FLOAT32_OPS = {
    "add": lambda x, w: x + w,
    "radd": lambda x, w: 1.5 + x,
    "rsub": lambda x, w: 1.0 - x,
    "rdiv": lambda x, w: 2.0 / (x + 3.0),
    "ndarray": lambda x, w: np.ones(3) * x + np.ones(3),
    "mul": lambda x, w: x * w,
    "div": lambda x, w: x / (w + 3.0),
    "pow2": lambda x, w: x ** 2,
    "pow_half": lambda x, w: (x + 3.0) ** 0.5,
    "pow_tensor": lambda x, w: (x + 3.0) ** w,
    "rpow": lambda x, w: 2.0 ** x,
    "np_scalars": lambda x, w: (np.float64(2.0) * x * np.float64(0.5) + np.float64(1.0)
                                - np.float64(0.5)) / np.float64(3.0),
    "np_scalars_reversed": lambda x, w: np.float64(1.0) - np.float64(2.0) / (x + 3.0),
    "np_pow": lambda x, w: (x + 3.0) ** np.float64(1.5) + x ** np.int64(2),
    "neg": lambda x, w: -x,
    "matmul": lambda x, w: x @ w.T,
    "exp": lambda x, w: x.exp(),
    "log": lambda x, w: (x + 3.0).log(),
    "sqrt": lambda x, w: (x + 3.0).sqrt(),
    "abs": lambda x, w: x.abs(),
    "sin": lambda x, w: x.sin(),
    "cos": lambda x, w: x.cos(),
    "tanh": lambda x, w: x.tanh(),
    "sigmoid": lambda x, w: x.sigmoid(),
    "relu": lambda x, w: x.relu(),
    "leaky_relu": lambda x, w: x.leaky_relu(0.1),
    "clip": lambda x, w: x.clip(-0.5, 0.5),
    "maximum": lambda x, w: x.maximum(w),
    "maximum_scalar": lambda x, w: x.maximum(0.1),
    "sum": lambda x, w: x.sum(axis=0),
    "mean": lambda x, w: x.mean(axis=(0, 1), keepdims=True),
    "mean_all": lambda x, w: x.mean(),
    "max": lambda x, w: x.max(axis=1),
    "max_all": lambda x, w: x.max(),
    "reshape": lambda x, w: x.reshape(-1),
    "T": lambda x, w: x.T,
    "index": lambda x, w: x[np.array([0, 0, 1])],
    "concat": lambda x, w: F.concatenate([x, w], axis=1),
    "stack": lambda x, w: F.stack([x, w]),
    "linear": lambda x, w: F.linear(x, w, w[:, 0]),
    "mse": lambda x, w: F.mse_loss(x, w),
    "bce": lambda x, w: F.binary_cross_entropy_with_logits(x, (w.data > 0) * 1.0),
    "ce": lambda x, w: F.cross_entropy(x, np.array([0, 2])),
    "softmax": lambda x, w: F.softmax(x),
    "log_softmax": lambda x, w: F.log_softmax(x, axis=0),
}


@pytest.mark.parametrize("name", sorted(FLOAT32_OPS))
def test_float32_stays_float32(name):
    rng = np.random.default_rng(1)
    x = Tensor(rng.normal(size=(2, 3)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.normal(size=(2, 3)).astype(np.float32), requires_grad=True)
    out = FLOAT32_OPS[name](x, w)
    assert out.dtype == np.float32, out.dtype
    out.sum().backward()
    for t in (x, w):
        if t.grad is not None:
            assert t.grad.dtype == np.float32, t.grad.dtype
    assert x.grad is not None


def test_float32_linear_module_and_training_step():
    model = nn.Linear(3, 2, rng=np.random.default_rng(0), dtype=np.float32)
    assert model.weight.dtype == np.float32 and model.bias.dtype == np.float32
    x = Tensor(np.ones((4, 3), dtype=np.float32))
    loss = F.mse_loss(model(x), np.zeros((4, 2)))
    assert loss.dtype == np.float32
    loss.backward()
    assert model.weight.grad.dtype == np.float32 and model.bias.grad.dtype == np.float32


def _np_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_extreme_logits_cross_entropy():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = Tensor([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]], requires_grad=True)
        loss = F.cross_entropy(z, np.array([1, 2]), reduction="none")
        # row 0: label's logit is 2000 below the max; row 1: 1 below
        np.testing.assert_allclose(loss.data, [2000.0, 1.0 + np.log1p(np.exp(-1.0))],
                                   rtol=1e-12)
        loss.sum().backward()
    assert np.all(np.isfinite(z.grad))
    e = np.exp(-1.0)
    np.testing.assert_allclose(z.grad, [[1.0, -1.0, 0.0],
                                        [0.0, 1 / (1 + e), e / (1 + e) - 1]], atol=1e-12)


def test_extreme_logits_bce():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = Tensor([1000.0, -1000.0, 1000.0, -1000.0], requires_grad=True)
        y = np.array([1.0, 0.0, 0.0, 1.0])
        loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
        np.testing.assert_allclose(loss.data, [0.0, 0.0, 1000.0, 1000.0], atol=1e-12)
        loss.sum().backward()
    np.testing.assert_allclose(z.grad, [0.0, 0.0, 1.0, -1.0], atol=1e-12)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_extreme_logits_softmax(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = Tensor([[1000.0, -1000.0, 999.0]], requires_grad=True)
        out = getattr(F, name)(z)
        w = np.array([[1.0, 2.0, 3.0]])
        (out * w).sum().backward()
    e = np.exp(-1.0)
    s = np.array([[1 / (1 + e), 0.0, e / (1 + e)]])
    if name == "softmax":
        np.testing.assert_allclose(out.data, s, atol=1e-15)
        expected = s * (w - (w * s).sum())
    else:
        np.testing.assert_allclose(out.data, [[-np.log1p(e), -2000 - np.log1p(e),
                                               -1 - np.log1p(e)]], rtol=1e-12)
        expected = w - s * w.sum()
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(z.grad))
    np.testing.assert_allclose(z.grad, expected, atol=1e-12)


def test_extreme_logits_sigmoid():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = Tensor([1000.0, -1000.0, 0.0, 40.0, -40.0], requires_grad=True)
        s = z.sigmoid()
        s.sum().backward()
    np.testing.assert_allclose(s.data, [1.0, 0.0, 0.5, _np_sigmoid(40.0), np.exp(-40.0)],
                               rtol=1e-12, atol=0)
    assert s.data[1] == 0.0 and np.all(np.isfinite(z.grad))
    # at +40, 1 - σ rounds to 0 in float64 (PyTorch gives 0 too); at -40 it is exact
    np.testing.assert_allclose(z.grad, [0.0, 0.0, 0.25, 0.0, np.exp(-40.0)],
                               rtol=1e-9, atol=1e-17)


def test_list_graph_introspection():
    x = Tensor(1.0, requires_grad=True)
    x.name = "x"
    y = 2 * x
    z = y ** 2
    nodes = list_graph(z)
    assert len(nodes) == 3  # the constant 2 is part of y's op, not a node of its own
    # topological order: everything a node depends on comes before it
    assert [n.index for n in nodes] == list(range(len(nodes)))
    assert nodes[-1].tensor is z
    for n in nodes:
        assert all(p < n.index for p in n.parents)
    by_tensor = {id(n.tensor): n for n in nodes}
    nx, ny, nz = by_tensor[id(x)], by_tensor[id(y)], by_tensor[id(z)]
    assert nx.op == "" and nx.name == "x" and nx.parents == []
    assert ny.op.startswith("mul") and nz.op.startswith("pow")
    assert [nx.index, ny.index, nz.index] == [0, 1, 2]
    assert nz.parents == [ny.index] and ny.parents == [nx.index]
    assert ny.value == 2.0 and nz.value == 4.0 and nx.shape == ()
    assert nz.grad is None and ny.grad is None  # nothing yet
    z.backward()
    nodes = list_graph(z)
    by_tensor = {id(n.tensor): n for n in nodes}
    assert by_tensor[id(z)].grad == 1.0
    assert by_tensor[id(y)].grad == 4.0  # dz/dy = 2y
    assert by_tensor[id(x)].grad == 8.0  # dz/dx = 2y * 2
    assert [n.index for n in list_graph(x)] == [0]


def test_topological_order_parents_first():
    a = Tensor([1.0], requires_grad=True)
    b = a * 2
    c = a + b
    d = c * b
    order = topological_order(d)
    pos = {id(t): i for i, t in enumerate(order)}
    assert order[-1] is d and len(order) == 4
    assert pos[id(a)] < pos[id(b)] < pos[id(c)] < pos[id(d)]
    d.backward()
    np.testing.assert_allclose(a.grad, [12.0])  # d = 3a·2a = 6a², dd/da = 12a


def test_detach_item_numpy_T_shape_dtype():
    x = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.parents == () and d.is_leaf
    np.testing.assert_array_equal(d.numpy(), [[2, 4, 6], [8, 10, 12]])
    loss = (d * x).sum()
    loss.backward()
    np.testing.assert_array_equal(x.grad, d.data)  # no gradient through the detached path
    assert x.shape == (2, 3) and x.T.shape == (3, 2) and x.ndim == 2 and x.numel() == 6
    np.testing.assert_array_equal(x.T.numpy(), x.numpy().T)
    assert x.dtype == np.float64 and len(x) == 2
    assert Tensor([1, 2]).dtype == np.float64  # integers become float64
    assert Tensor([1.0], dtype=np.float32).dtype == np.float32
    s = x.sum()
    assert isinstance(s.item(), float) and s.item() == 21.0
    assert isinstance(x.numpy(), np.ndarray)
    with pytest.raises((ValueError, TypeError)):
        x.item()
    assert x.is_leaf and not (x * 1).is_leaf
    assert "requires_grad=True" in repr(x) and "op='mul" in repr(x * 1)


def test_tensor_copies_its_input():
    a = np.array([1.0, 2.0])
    t = Tensor(a)
    a[0] = 100.0
    assert t.data[0] == 1.0


def test_constant_operands_get_no_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])
