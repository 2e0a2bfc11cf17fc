"""The backprop trace must show exactly the numbers backward() produces."""

import numpy as np
import pytest

from descent_tui.engine import Tensor, nn
from descent_tui.engine import functional as F
from descent_tui.sim.trace import norm, trace_backward


def test_first_descent_chain_numbers_by_hand():
    # y = 2x, z = y² at x = 1: y = 2, z = 4; dz/dy = 2y = 4, dy/dx = 2, dz/dx = 8
    x = Tensor([1.0], requires_grad=True)
    y = x * 2
    z = y ** 2
    tr = trace_backward(z)
    assert [n.value.item() for n in tr.nodes] == [1.0, 2.0, 4.0]
    first, second = tr.steps
    assert first.node == 2 and first.incoming.item() == 1.0
    (h,) = first.handoffs
    assert h.parent == 1 and h.local.item() == 4.0 and h.grad.item() == 4.0
    (h,) = second.handoffs
    assert h.parent == 0 and h.local.item() == 2.0 and h.grad.item() == 8.0
    assert x.grad is None  # tracing writes no gradient


def test_trace_equals_backward_on_shared_subexpressions():
    rng = np.random.default_rng(0)
    a = Tensor(rng.normal(size=(3, 4)), requires_grad=True)
    b = Tensor(rng.normal(size=(4,)), requires_grad=True)
    h = (a * b).tanh()
    loss = (h * h + h.sigmoid() * a).sum() / 3.0
    tr = trace_backward(loss)
    loss.backward()
    by_tensor = {id(n.tensor): tr.grad_of(n.index) for n in tr.nodes}
    np.testing.assert_array_equal(by_tensor[id(a)], a.grad)
    np.testing.assert_array_equal(by_tensor[id(b)], b.grad)


def test_network_trace_weight_grads_match_backward():
    rng = np.random.default_rng(1)
    model = nn.Sequential(nn.Linear(3, 5, rng=rng), nn.Sigmoid(), nn.Linear(5, 2, rng=rng))
    X = Tensor(rng.normal(size=(8, 3)))
    labels = rng.integers(0, 2, size=8)
    loss = F.cross_entropy(model(X), labels)
    tr = trace_backward(loss)
    loss.backward()
    for p in model.parameters():
        node = next(n for n in tr.nodes if n.tensor is p)
        assert node.is_param
        np.testing.assert_array_equal(tr.grad_of(node.index), p.grad)
        assert norm(tr.grad_of(node.index)) == pytest.approx(float(np.linalg.norm(p.grad)))


def test_trace_after_backward_without_retain_is_a_clear_error():
    x = Tensor([2.0], requires_grad=True)
    z = (x * x).exp()
    z.backward()
    with pytest.raises(RuntimeError, match="freed"):
        trace_backward(z)
