"""A leaf's .grad is its own array: editing one gradient never changes another."""

import numpy as np

from descent_tui.engine import Tensor


def test_leaves_fed_the_same_gradient_do_not_share_it():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad *= 2  # in place, as a learner might write it
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_leaf_grad_is_writable_after_broadcast_backward():
    w = Tensor(np.ones((2, 3)), requires_grad=True)
    w.sum().backward()  # the sum's backward broadcasts a read-only view
    w.grad[0, 0] = 5.0
    assert w.grad.sum() == 10.0


def test_backward_does_not_alias_the_callers_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    seed = np.array([1.0, 1.0])
    (x + 1.0).backward(seed)
    x.grad[0] = 7.0
    np.testing.assert_array_equal(seed, [1.0, 1.0])
