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


def test_first_gradients_kept_without_a_copy_alias_nothing_else():
    """A share the op made for one parent becomes that leaf's .grad as it is; every
    other gradient in the graph stays untouched when it is edited in place."""
    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([3.0, 4.0], requires_grad=True)
    b = Tensor(np.ones((3, 2)), requires_grad=True)
    y = x * w              # new arrays for x and w
    z = y + b              # dL/dz passed on unchanged to b's side, summed for y
    (z * 1.0).sum().backward()  # z's dL/dz is a new, writeable array
    seen = [np.array(t.grad) for t in (x, w, b, y, z)]
    for t in (x, w, b):
        t.grad *= 100.0    # in place, as a learner might write it
        t.grad += 1.0
    np.testing.assert_array_equal(y.grad, seen[3])
    np.testing.assert_array_equal(z.grad, seen[4])
    np.testing.assert_array_equal(x.grad, seen[0] * 100.0 + 1.0)
    np.testing.assert_array_equal(w.grad, seen[1] * 100.0 + 1.0)
    np.testing.assert_array_equal(b.grad, seen[2] * 100.0 + 1.0)


def test_backward_on_a_leaf_does_not_alias_the_callers_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    seed = np.array([1.0, 1.0])
    x.backward(seed)
    x.grad[0] = 7.0
    np.testing.assert_array_equal(seed, [1.0, 1.0])
