"""backward() visits every node only after all the nodes that used it.

Random graphs with fan-out and fan-in (a value used by several later ones,
long and short paths meeting again) are the cases where a wrong visiting
order would lose part of a gradient. Each is checked against central
differences.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from descent_tui.engine import Tensor, gradcheck

OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "tanh": lambda a, b: a.tanh(),
    "sin": lambda a, b: a.sin(),
    "scale": lambda a, b: a * 0.7,
    "square": lambda a, b: a ** 2 * 0.3,
}

STEP = st.tuples(st.sampled_from(sorted(OPS)), st.integers(0, 10**6), st.integers(0, 10**6))


def build(program, n_leaves, outputs):
    """A function of the leaves: each step combines two earlier values."""

    def fn(*leaves):
        values = list(leaves)
        for op, i, j in program:
            values.append(OPS[op](values[i % len(values)], values[j % len(values)]))
        # the loss reads several values, so some nodes feed both the loss and later nodes
        total = values[-1].sum()
        for k in outputs:
            total = total + values[k % len(values)].sum() * 0.5
        return total

    return fn


@settings(max_examples=60, deadline=None)
@given(
    program=st.lists(STEP, min_size=1, max_size=14),
    n_leaves=st.integers(1, 3),
    outputs=st.lists(st.integers(0, 10**6), max_size=3),
    shape=st.sampled_from([(), (3,)]),
    seed=st.integers(0, 2**16),
)
def test_random_graphs_get_the_central_difference_gradient(program, n_leaves, outputs, shape, seed):
    rng = np.random.default_rng(seed)
    leaves = [Tensor(rng.uniform(-1.0, 1.0, shape), requires_grad=True) for _ in range(n_leaves)]
    result = gradcheck(build(program, n_leaves, outputs), leaves, eps=1e-6, atol=1e-6, rtol=1e-5)
    assert result.ok, result


def test_a_value_reached_by_a_long_and_a_short_path():
    # h feeds the loss directly and through a chain of three newer nodes: its
    # gradient is complete only after the whole chain has been walked
    x = Tensor(0.4, requires_grad=True)
    h = x * 3.0
    chain = ((h.tanh() * 2.0).sin()) ** 2
    loss = h + chain
    loss.backward()
    t = np.tanh(1.2)
    dchain_dh = 2 * np.sin(2 * t) * np.cos(2 * t) * 2 * (1 - t * t)
    np.testing.assert_allclose(x.grad, 3.0 * (1 + dchain_dh), rtol=1e-13)


def test_a_failed_backward_leaves_nothing_half_done():
    x = Tensor([0.5, -1.0], requires_grad=True)
    h = x * 2.0
    bad = h.exp()

    def boom(g):
        raise ValueError("boom")

    bad.grad_fn = boom
    loss = (bad + h.tanh()).sum()
    with pytest.raises(ValueError, match="boom"):
        loss.backward()
    # bad is reached before h (the path to x), so x was never touched
    assert x.grad is None
    # the leaf and a fresh graph are unharmed
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, -2.0])
