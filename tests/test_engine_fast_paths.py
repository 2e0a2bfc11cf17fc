"""The engine's fast paths agree with the readable code they stand beside.

``Tensor.backward`` runs :func:`graph.run_backward`, one loop; the inspector
reads :func:`graph.backward_steps`, the readable generator. SGD's plain groups
take ``SGD._plain_steps``; any other group the shared loop and ``SGD._update``.
Each pair must give the same numbers (compared to a tight tolerance, not bit
for bit: they are two code paths).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from descent_tui.engine import Tensor, backward_steps, nn, optim, topological_order
from descent_tui.engine import functional as F
from descent_tui.engine.optim.optimizer import Optimizer

RTOL = 1e-13


def readable_backward(root: Tensor) -> dict[int, np.ndarray]:
    """dL/dleaf for every leaf, summed from the readable generator's shares."""
    grads: dict[int, np.ndarray] = {}
    seed = np.ones(root.shape, root.dtype)
    for _node, _g, shares in backward_steps(root, seed):
        for parent, share in shares:
            if share is not None and not parent.parents:
                grads[id(parent)] = grads[id(parent)] + share if id(parent) in grads else share
    return grads


def leaves_of(root: Tensor) -> list[Tensor]:
    return [t for t in topological_order(root) if not t.parents]


OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1.0),
    "tanh": lambda a, b: a.tanh(),
    "square": lambda a, b: a ** 2 * 0.3,
    "bcast": lambda a, b: a * b.sum(),
}


@settings(max_examples=40, deadline=None)
@given(
    program=st.lists(st.tuples(st.sampled_from(sorted(OPS)), st.integers(0, 99),
                               st.integers(0, 99)), min_size=1, max_size=12),
    shape=st.sampled_from([(), (3,), (2, 3)]),
    seed=st.integers(0, 2**16),
)
def test_backward_gives_what_the_readable_walk_gives(program, shape, seed):
    """Shared subexpressions, broadcasting, fan-in: the leaves' gradients agree."""
    rng = np.random.default_rng(seed)
    leaves = [Tensor(rng.uniform(-1, 1, shape), requires_grad=True) for _ in range(3)]
    values = list(leaves)
    for op, i, j in program:
        values.append(OPS[op](values[i % len(values)], values[j % len(values)]))
    loss = (values[-1] * values[len(values) // 2]).sum()
    expected = readable_backward(loss)
    loss.backward(retain_graph=True)
    for leaf in leaves_of(loss):
        np.testing.assert_allclose(leaf.grad, expected[id(leaf)], rtol=RTOL, atol=0)


@settings(max_examples=40, deadline=None)
@given(
    program=st.lists(st.tuples(st.sampled_from(sorted(OPS)), st.integers(0, 99),
                               st.integers(0, 99)), min_size=1, max_size=12),
    constants=st.integers(0, 2),
)
def test_the_walks_order_is_the_whole_order_without_its_leaves(program, constants):
    """topological_order(leaves=False), which the backward walk follows, lists the
    nodes made by ops in the order of the whole list, with or without constants."""
    leaves = [Tensor(np.ones(3), requires_grad=i >= constants) for i in range(3)]
    values = list(leaves)
    for op, i, j in program:
        values.append(OPS[op](values[i % len(values)], values[j % len(values)]))
    root = values[-1] * values[len(values) // 2] + leaves[0]
    for keep in (False, True):
        whole = topological_order(root, keep_constants=keep)
        assert topological_order(root, keep_constants=keep, leaves=False) == [
            t for t in whole if t.parents]


def test_backward_keeps_each_nodes_gradient_as_the_walk_yields_it():
    x = Tensor([0.5, -1.0, 2.0], requires_grad=True)
    h = x.tanh()
    loss = (h * h + h).sum()
    yielded = {id(node): g for node, g, _ in backward_steps(loss, np.float64(1.0))}
    loss.backward()
    for node in topological_order(loss):
        if node.parents:
            np.testing.assert_allclose(node.grad, yielded[id(node)], rtol=RTOL, atol=0)


def test_mlp_backward_matches_the_readable_walk():
    rng = np.random.default_rng(3)
    model = nn.Sequential(nn.Linear(4, 8, rng=rng), nn.Tanh(), nn.Linear(8, 3, rng=rng))
    X = Tensor(rng.normal(size=(16, 4)))
    loss = F.cross_entropy(model(X), rng.integers(0, 3, size=16))
    expected = readable_backward(loss)
    loss.backward()
    for p in model.parameters():
        np.testing.assert_allclose(p.grad, expected[id(p)], rtol=RTOL, atol=0)


def _train(opt_factory, readable: bool, steps: int = 25):
    """Train a small MLP; ``readable`` makes every group take the shared loop."""
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(3, 6, rng=rng), nn.ReLU(), nn.Linear(6, 1, rng=rng))
    X, y = Tensor(rng.normal(size=(20, 3))), Tensor(rng.normal(size=(20, 1)))
    opt = opt_factory(model.parameters())
    if readable:  # the base class's loop, which calls SGD._update per parameter
        opt._step_group = lambda group: Optimizer._step_group(opt, group)
    for _ in range(steps):
        opt.zero_grad()
        F.mse_loss(model(X), y).backward()
        opt.step()
    return [p.data.copy() for p in model.parameters()], opt


@pytest.mark.parametrize("kwargs", [{}, {"momentum": 0.9}, {"weight_decay": 0.1}])
def test_sgd_fast_path_trains_as_the_readable_rule(kwargs):
    fast, fast_opt = _train(lambda ps: optim.SGD(ps, lr=0.05, **kwargs), readable=False)
    slow, slow_opt = _train(lambda ps: optim.SGD(ps, lr=0.05, **kwargs), readable=True)
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-15)
    p_fast = fast_opt.param_groups[0]["params"][0]
    p_slow = slow_opt.param_groups[0]["params"][0]
    info_fast, info_slow = fast_opt.inspect_state(p_fast), slow_opt.inspect_state(p_slow)
    assert info_fast["step"] == info_slow["step"] == 25
    np.testing.assert_allclose(info_fast["update"], info_slow["update"], rtol=RTOL, atol=1e-15)


def test_sgd_fast_path_on_single_number_knobs():
    """The landscape case: two 0-d knobs, each update -lr·g, counted per parameter."""
    x, y = Tensor(3.0, requires_grad=True), Tensor(-2.0, requires_grad=True)
    opt = optim.SGD([x, y], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        (x ** 2 + 2 * y ** 2).backward()
        opt.step()
    np.testing.assert_allclose([x.item(), y.item()], [3.0 * 0.8 ** 3, -2.0 * 0.6 ** 3], rtol=1e-14)
    assert opt.inspect_state(x)["step"] == 3
    np.testing.assert_allclose(opt.inspect_state(y)["update"], -0.1 * 4 * (-2.0 * 0.6 ** 2))
