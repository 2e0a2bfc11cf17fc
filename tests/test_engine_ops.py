"""Every op of the engine, gradient-checked against central differences.

Hypothesis draws the shapes (broadcasting ones for binary ops) and the values.
Each check compares (1) the forward value with a NumPy reference and (2) the
analytic gradient of ``sum(W * op(inputs))`` with central differences, both via
the engine's public ``gradcheck`` and by comparing the arrays directly. ``W`` is a
fixed random weight so that a wrong gradient cannot hide behind a plain sum
(e.g. softmax sums to 1, so d(sum softmax) is zero whatever backward does).
Values are drawn away from kinks (0 for abs/relu, ties for max, clip bounds).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from descent_tui.engine import Tensor, concatenate, gradcheck, maximum, stack
from descent_tui.engine import functional as F
from descent_tui.engine.tensor import from_op

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
EPS, RTOL, ATOL = 1e-6, 1e-6, 1e-7

ANY = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)
POS = st.floats(0.2, 3.0, allow_nan=False)
AWAY0 = st.one_of(st.floats(-2.0, -0.1), st.floats(0.1, 2.0))
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def arr(shape, elements=ANY):
    return hnp.arrays(np.float64, shape, elements=elements)


def check(fn, arrays, ref=None, requires=None):
    """Gradcheck ``fn`` at ``arrays`` and compare its value with ``ref``."""
    requires = requires or [True] * len(arrays)
    inputs = [Tensor(np.array(a, dtype=np.float64), requires_grad=r)
              for a, r in zip(arrays, requires)]
    out = fn(*inputs)
    assert isinstance(out, Tensor)
    if ref is not None:
        expected = np.asarray(ref(*[np.array(a, dtype=np.float64) for a in arrays]))
        assert out.shape == expected.shape
        np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    rng = np.random.default_rng(abs(hash(out.shape)) % 2**32)
    w = Tensor(rng.uniform(0.5, 1.5, out.shape) * rng.choice([-1.0, 1.0], out.shape))

    def weighted(*xs):
        return (fn(*xs) * w).sum()

    grad_inputs = [t for t in inputs if t.requires_grad]
    if not grad_inputs:
        return

    def closed(*gx):  # gradcheck only the inputs that require grad
        it = iter(gx)
        return weighted(*[next(it) if t.requires_grad else t for t in inputs])

    res = gradcheck(closed, grad_inputs, eps=EPS, atol=ATOL, rtol=RTOL)
    assert res.ok, f"gradcheck failed: abs {res.max_abs_error:.3e} rel {res.max_rel_error:.3e}"
    for a, n in zip(res.analytic, res.numerical):
        assert a.shape == n.shape
        np.testing.assert_allclose(a, n, rtol=RTOL, atol=ATOL)
    # the grads gradcheck read come from a real backward; check it once more by hand
    for t in grad_inputs:
        t.grad = None
    weighted(*inputs).backward()
    for t, n in zip(grad_inputs, res.numerical):
        assert t.grad.shape == t.shape
        np.testing.assert_allclose(t.grad, n, rtol=RTOL, atol=ATOL)


# ------------------------------------------------------------------- binary ops
BINARY = {
    "add": (lambda a, b: a + b, np.add, ANY, ANY),
    "sub": (lambda a, b: a - b, np.subtract, ANY, ANY),
    "mul": (lambda a, b: a * b, np.multiply, ANY, ANY),
    "div": (lambda a, b: a / b, np.divide, ANY, st.one_of(st.floats(-2, -0.3), st.floats(0.3, 2))),
    "pow": (lambda a, b: a ** b, np.power, POS, ANY),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(data=st.data(), shapes=hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=3, max_side=4))
def test_binary_broadcasting(name, data, shapes):
    fn, ref, ea, eb = BINARY[name]
    sa, sb = shapes.input_shapes
    a = data.draw(arr(sa, ea))
    b = data.draw(arr(sb, eb))
    check(fn, [a, b], ref)
    check(fn, [a, b], ref, requires=[True, False])
    check(fn, [a, b], ref, requires=[False, True])


@pytest.mark.parametrize("p", [2, 3, 0.5, -1, -1.5, 1.7])
@SETTINGS
@given(data=st.data(), shape=SHAPES)
def test_pow_scalar_exponent(p, data, shape):
    elements = AWAY0 if float(p).is_integer() and p > 0 else POS
    a = data.draw(arr(shape, elements))
    check(lambda x: x ** p, [a], lambda x: x ** p)


@SETTINGS
@given(data=st.data(), shape=SHAPES, base=st.floats(0.3, 4.0))
def test_rpow_scalar_base(data, shape, base):
    a = data.draw(arr(shape))
    check(lambda x: base ** x, [a], lambda x: base ** x)


REVERSED = {
    "2*x": (lambda x: 2 * x, lambda x: 2 * x, ANY),
    "1-x": (lambda x: 1 - x, lambda x: 1 - x, ANY),
    "2/x": (lambda x: 2 / x, lambda x: 2 / x, AWAY0),
    "3+x": (lambda x: 3 + x, lambda x: 3 + x, ANY),
    "x-1.5": (lambda x: x - 1.5, lambda x: x - 1.5, ANY),
    "x/4": (lambda x: x / 4, lambda x: x / 4, ANY),
    "-x": (lambda x: -x, lambda x: -x, ANY),
    "--x": (lambda x: -(-x * 3), lambda x: 3 * x, ANY),
}


@pytest.mark.parametrize("name", sorted(REVERSED))
@SETTINGS
@given(data=st.data(), shape=SHAPES)
def test_scalar_and_reversed_forms(name, data, shape):
    fn, ref, elements = REVERSED[name]
    check(fn, [data.draw(arr(shape, elements))], ref)


NDARRAY_OPS = {
    "nd+x": (lambda c, x: c + x, np.add, ANY),
    "nd-x": (lambda c, x: c - x, np.subtract, ANY),
    "nd*x": (lambda c, x: c * x, np.multiply, ANY),
    "nd/x": (lambda c, x: c / x, np.divide, AWAY0),
    "x+nd": (lambda c, x: x + c, lambda c, x: x + c, ANY),
    "x*nd": (lambda c, x: x * c, lambda c, x: x * c, ANY),
}


@pytest.mark.parametrize("name", sorted(NDARRAY_OPS))
@SETTINGS
@given(data=st.data(), shapes=hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=3, max_side=4))
def test_ndarray_with_tensor(name, data, shapes):
    """`ndarray + x` must defer to the Tensor (a Tensor comes back, not an ndarray)."""
    fn, ref, elements = NDARRAY_OPS[name]
    sc, sx = shapes.input_shapes
    c = data.draw(arr(sc))
    x = data.draw(arr(sx, elements))
    out = fn(c, Tensor(x, requires_grad=True))
    assert type(out) is Tensor
    check(lambda t: fn(c, t), [x], lambda t: ref(c, t))


# ------------------------------------------------------------------------ matmul
MATMUL_CASES = {
    "2d@2d": lambda m, k, n, b: ((m, k), (k, n)),
    "1d@2d": lambda m, k, n, b: ((k,), (k, n)),
    "2d@1d": lambda m, k, n, b: ((m, k), (k,)),
    "1d@1d": lambda m, k, n, b: ((k,), (k,)),
    "3d@2d": lambda m, k, n, b: ((b, m, k), (k, n)),
    "2d@3d": lambda m, k, n, b: ((m, k), (b, k, n)),
    "3d@3d": lambda m, k, n, b: ((b, m, k), (b, k, n)),
    "3d@1d": lambda m, k, n, b: ((b, m, k), (k,)),
    "1d@3d": lambda m, k, n, b: ((k,), (b, k, n)),
    "bcast(1,m,k)@(b,k,n)": lambda m, k, n, b: ((1, m, k), (b, k, n)),
}


@pytest.mark.parametrize("case", sorted(MATMUL_CASES))
@SETTINGS
@given(data=st.data(), dims=st.tuples(*[st.integers(1, 4)] * 4))
def test_matmul(case, data, dims):
    sa, sb = MATMUL_CASES[case](*dims)
    a, b = data.draw(arr(sa)), data.draw(arr(sb))
    check(lambda x, y: x @ y, [a, b], np.matmul)
    check(lambda x, y: x @ y, [a, b], np.matmul, requires=[False, True])
    check(lambda x, y: x @ y, [a, b], np.matmul, requires=[True, False])
    # ndarray @ Tensor and Tensor @ ndarray
    check(lambda y: a @ y, [b], lambda y: a @ y)
    check(lambda x: x @ b, [a], lambda x: x @ b)


# ----------------------------------------------------------------- unary funcs
def _np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


UNARY = {
    "exp": (lambda x: x.exp(), np.exp, ANY),
    "log": (lambda x: x.log(), np.log, POS),
    "sqrt": (lambda x: x.sqrt(), np.sqrt, POS),
    "abs": (lambda x: x.abs(), np.abs, AWAY0),
    "builtin_abs": (lambda x: abs(x), np.abs, AWAY0),
    "tanh": (lambda x: x.tanh(), np.tanh, ANY),
    "F.tanh": (F.tanh, np.tanh, ANY),
    "sigmoid": (lambda x: x.sigmoid(), _np_sigmoid, st.floats(-6, 6)),
    "F.sigmoid": (F.sigmoid, _np_sigmoid, st.floats(-6, 6)),
    "relu": (lambda x: x.relu(), lambda x: np.maximum(x, 0), AWAY0),
    "F.relu": (F.relu, lambda x: np.maximum(x, 0), AWAY0),
    "leaky_relu": (lambda x: x.leaky_relu(), lambda x: np.where(x > 0, x, 0.01 * x), AWAY0),
    "F.leaky_relu0.2": (lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x),
                        AWAY0),
    "sin": (lambda x: x.sin(), np.sin, st.floats(-4, 4)),
    "cos": (lambda x: x.cos(), np.cos, st.floats(-4, 4)),
    "clip": (lambda x: x.clip(-1.0, 1.0), lambda x: np.clip(x, -1, 1),
             st.one_of(st.floats(-3, -1.1), st.floats(-0.9, 0.9), st.floats(1.1, 3))),
    "clip_min": (lambda x: x.clip(min=0.5), lambda x: np.clip(x, 0.5, None),
                 st.one_of(st.floats(-3, 0.4), st.floats(0.6, 3))),
    "clip_max": (lambda x: x.clip(max=-0.5), lambda x: np.clip(x, None, -0.5),
                 st.one_of(st.floats(-3, -0.6), st.floats(-0.4, 3))),
    "maximum_scalar": (lambda x: maximum(x, 0.3), lambda x: np.maximum(x, 0.3),
                       st.one_of(st.floats(-2, 0.2), st.floats(0.4, 2))),
    "method_maximum": (lambda x: x.maximum(-0.3), lambda x: np.maximum(x, -0.3),
                       st.one_of(st.floats(-2, -0.4), st.floats(-0.2, 2))),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(data=st.data(), shape=SHAPES)
def test_unary(name, data, shape):
    fn, ref, elements = UNARY[name]
    check(fn, [data.draw(arr(shape, elements))], ref)


@SETTINGS
@given(data=st.data(), shapes=hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=3, max_side=4), swap=st.booleans())
def test_maximum_broadcasting(data, shapes, swap):
    _, sb = shapes.input_shapes
    full = shapes.result_shape
    b = data.draw(arr(sb))
    # a has the full shape and is kept at least 0.1 away from b: no ties, no kinks
    d = data.draw(arr(full, AWAY0))
    a = np.broadcast_to(b, full) + d
    pair = [b, a] if swap else [a, b]
    check(lambda x, y: maximum(x, y), pair, np.maximum)


# ------------------------------------------------------------------ reductions
@st.composite
def shape_and_axis(draw, min_dims=1):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=4))
    nd = len(shape)
    axis = draw(st.one_of(
        st.none(),
        st.integers(-nd, nd - 1),
        st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True).map(tuple),
        st.lists(st.integers(-nd, -1), min_size=1, max_size=nd, unique=True).map(tuple),
    ))
    return shape, axis


@pytest.mark.parametrize("name", ["sum", "mean"])
@SETTINGS
@given(data=st.data(), sa=shape_and_axis(), keepdims=st.booleans())
def test_sum_mean(name, data, sa, keepdims):
    shape, axis = sa
    a = data.draw(arr(shape))
    check(lambda x: getattr(x, name)(axis=axis, keepdims=keepdims), [a],
          lambda x: getattr(np, name)(x, axis=axis, keepdims=keepdims))


@SETTINGS
@given(data=st.data(), sa=shape_and_axis(), keepdims=st.booleans())
def test_max(data, sa, keepdims):
    shape, axis = sa
    if isinstance(axis, tuple):
        axis = axis[0]
    n = int(np.prod(shape))
    perm = data.draw(st.permutations(range(n)))
    jitter = data.draw(arr((n,), st.floats(0.0, 0.2)))
    a = (np.array(perm, dtype=float) * 0.5 + jitter - n / 4).reshape(shape)  # gaps >= 0.3
    check(lambda x: x.max(axis=axis, keepdims=keepdims), [a],
          lambda x: np.max(x, axis=axis, keepdims=keepdims))


# ------------------------------------------------------------------------ shape
@SETTINGS
@given(data=st.data(), shape=SHAPES, how=st.sampled_from(["flat", "reversed", "col", "tuple"]))
def test_reshape(data, shape, how):
    a = data.draw(arr(shape))
    new = {"flat": (-1,), "reversed": tuple(reversed(shape)), "col": (a.size, 1),
           "tuple": (1,) + tuple(shape)}[how]
    if how in ("tuple", "reversed"):
        check(lambda x: x.reshape(new), [a], lambda x: x.reshape(new))
    else:
        check(lambda x: x.reshape(*new), [a], lambda x: x.reshape(*new))


@SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=2, max_dims=2, max_side=4))
def test_T_and_transpose_2d(data, shape):
    a = data.draw(arr(shape))
    check(lambda x: x.T, [a], lambda x: x.T)
    check(lambda x: x.transpose(), [a], lambda x: x.T)
    check(lambda x: x.transpose(1, 0), [a], lambda x: x.T)


@SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=3, max_dims=3, max_side=4),
       perm=st.permutations([0, 1, 2]), negative=st.booleans(), as_tuple=st.booleans())
def test_transpose_permutation(data, shape, perm, negative, as_tuple):
    a = data.draw(arr(shape))
    axes = tuple(p - 3 if negative else p for p in perm)
    if as_tuple:
        check(lambda x: x.transpose(axes), [a], lambda x: np.transpose(x, axes))
    else:
        check(lambda x: x.transpose(*axes), [a], lambda x: np.transpose(x, axes))


@st.composite
def index_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    n0 = shape[0]
    kind = draw(st.sampled_from(["int", "negint", "slice", "array", "tuple", "two_arrays",
                                 "int_slice"]))
    ints = st.integers(0, n0 - 1)
    if kind == "int":
        idx = draw(ints)
    elif kind == "negint":
        idx = -1 - draw(ints)
    elif kind == "slice":
        start = draw(st.integers(-n0, n0))
        stop = draw(st.integers(-n0, n0))
        step = draw(st.sampled_from([1, 2, -1, None]))
        idx = slice(start, stop, step)
    elif kind == "array":  # integer array WITH repeats (the first entry is used twice)
        lst = draw(st.lists(ints, min_size=1, max_size=6))
        idx = np.array(lst + [lst[0]])
    elif kind == "tuple" and len(shape) >= 2:
        lst = draw(st.lists(st.integers(0, shape[1] - 1), min_size=1, max_size=5))
        idx = (slice(None), np.array(lst + lst[:1]))
    elif kind == "two_arrays" and len(shape) >= 2:
        k = draw(st.integers(1, 5))
        rows = draw(st.lists(ints, min_size=k, max_size=k))
        cols = draw(st.lists(st.integers(0, shape[1] - 1), min_size=k, max_size=k))
        idx = (np.array(rows + rows[:1]), np.array(cols + cols[:1]))
    elif kind == "int_slice" and len(shape) >= 2:
        idx = (draw(ints), slice(None, None, -1))
    else:
        idx = np.array([0, 0, n0 - 1, 0])
    return shape, idx


@SETTINGS
@given(data=st.data(), case=index_case())
def test_getitem(data, case):
    shape, idx = case
    a = data.draw(arr(shape))
    check(lambda x: x[idx], [a], lambda x: x[idx])


def test_getitem_repeated_indices_accumulate():
    x = Tensor([10.0, 20.0, 30.0], requires_grad=True)
    x[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])
    y = Tensor(np.zeros((2, 3)), requires_grad=True)
    (y[[1, 1], [2, 2]] * Tensor([1.0, 5.0])).sum().backward()
    np.testing.assert_array_equal(y.grad, [[0, 0, 0], [0, 0, 6.0]])
    z = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    z[Tensor(np.array([2, 2]))].sum().backward()  # a Tensor of indices works too
    np.testing.assert_array_equal(z.grad, [0.0, 0.0, 2.0])


@st.composite
def join_case(draw, new_axis):
    nd = draw(st.integers(1, 3))
    base = list(draw(hnp.array_shapes(min_dims=nd, max_dims=nd, max_side=3)))
    k = draw(st.integers(1, 4))
    axis = draw(st.integers(-nd - (1 if new_axis else 0), nd - 1 + (1 if new_axis else 0)))
    shapes = []
    for _ in range(k):
        s = list(base)
        if not new_axis:
            s[axis] = draw(st.integers(1, 3))
        shapes.append(tuple(s))
    return shapes, axis


@SETTINGS
@given(data=st.data(), case=join_case(new_axis=False))
def test_concatenate(data, case):
    shapes, axis = case
    arrays = [data.draw(arr(s)) for s in shapes]
    check(lambda *xs: concatenate(list(xs), axis=axis), arrays,
          lambda *xs: np.concatenate(xs, axis=axis))


@SETTINGS
@given(data=st.data(), case=join_case(new_axis=True))
def test_stack(data, case):
    shapes, axis = case
    arrays = [data.draw(arr(s)) for s in shapes]
    check(lambda *xs: stack(list(xs), axis=axis), arrays,
          lambda *xs: np.stack(xs, axis=axis))
    if len(arrays) > 1:  # a constant among the stacked tensors gets no gradient
        check(lambda *xs: stack(list(xs), axis=axis), arrays,
              lambda *xs: np.stack(xs, axis=axis),
              requires=[True] + [False] * (len(arrays) - 2) + [True])


# ------------------------------------------------------------------- functional
@SETTINGS
@given(data=st.data(), dims=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)),
       batch=st.sampled_from(["2d", "1d", "3d"]), bias=st.booleans())
def test_linear(data, dims, batch, bias):
    n, i, o = dims
    xshape = {"2d": (n, i), "1d": (i,), "3d": (2, n, i)}[batch]
    x, w, b = data.draw(arr(xshape)), data.draw(arr((o, i))), data.draw(arr((o,)))
    if bias:
        check(lambda x_, w_, b_: F.linear(x_, w_, b_), [x, w, b],
              lambda x_, w_, b_: x_ @ w_.T + b_)
        check(lambda x_, w_, b_: F.linear(x_, w_, b_), [x, w, b],
              lambda x_, w_, b_: x_ @ w_.T + b_, requires=[False, True, True])
    else:
        check(lambda x_, w_: F.linear(x_, w_), [x, w], lambda x_, w_: x_ @ w_.T)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
def test_mse_loss(reduction, data, shape):
    x, t = data.draw(arr(shape)), data.draw(arr(shape))
    ref = {"mean": lambda a, b: np.mean((a - b) ** 2), "sum": lambda a, b: np.sum((a - b) ** 2),
           "none": lambda a, b: (a - b) ** 2}[reduction]
    check(lambda a, b: F.mse_loss(a, b, reduction=reduction), [x, t], ref)
    check(lambda a, b: F.mse_loss(a, b, reduction=reduction), [x, t], ref,
          requires=[True, False])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
def test_bce_with_logits(reduction, data, shape):
    z = data.draw(arr(shape, st.floats(-6, 6)))
    y = data.draw(arr(shape, st.floats(0, 1)))

    def naive(a, b):
        s = _np_sigmoid(a)
        per = -(b * np.log(s) + (1 - b) * np.log(1 - s))
        return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](per)

    def ours(a, b):
        return F.binary_cross_entropy_with_logits(a, b, reduction=reduction)

    out = ours(Tensor(z), Tensor(y))
    np.testing.assert_allclose(out.data, naive(z, y), rtol=1e-10, atol=1e-12)
    check(ours, [z, y])  # the target's gradient (-z) is checked too
    check(ours, [z, y], requires=[True, False])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@SETTINGS
@given(data=st.data(), shapes=hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=3, max_side=3))
def test_losses_with_broadcast_targets(reduction, data, shapes):
    """A target (or input) broadcast against the other gets a gradient of its own shape."""
    sx, sy = shapes.input_shapes
    x = data.draw(arr(sx, st.floats(-3, 3)))
    t = data.draw(arr(sy, st.floats(0, 1)))
    full = shapes.result_shape
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]

    def mse_ref(a, b):
        return reduce(np.broadcast_to((a - b) ** 2, full))

    def bce_ref(a, b):
        s = _np_sigmoid(a)
        return reduce(np.broadcast_to(-(b * np.log(s) + (1 - b) * np.log(1 - s)), full))

    def bce(a, b):
        return F.binary_cross_entropy_with_logits(a, b, reduction=reduction)

    check(lambda a, b: F.mse_loss(a, b, reduction=reduction), [x, t], mse_ref)
    out = bce(Tensor(x), Tensor(t))
    np.testing.assert_allclose(out.data, bce_ref(x, t), rtol=1e-10, atol=1e-12)
    check(bce, [x, t])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@SETTINGS
@given(data=st.data(), n=st.integers(1, 5), c=st.integers(1, 5))
def test_cross_entropy(reduction, data, n, c):
    z = data.draw(arr((n, c), st.floats(-5, 5)))
    labels = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))

    def naive(a):
        p = np.exp(a) / np.exp(a).sum(axis=1, keepdims=True)
        per = -np.log(p[np.arange(n), labels])
        return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](per)

    check(lambda a: F.cross_entropy(a, labels, reduction=reduction), [z], naive)
    # labels given as a Tensor (of floats) work the same
    check(lambda a: F.cross_entropy(a, Tensor(labels), reduction=reduction), [z], naive)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
       axis_pick=st.integers(0, 10))
def test_softmax_family(name, data, shape, axis_pick):
    z = data.draw(arr(shape, st.floats(-5, 5)))
    axis = (axis_pick % (2 * len(shape))) - len(shape)  # any valid axis, negative or not

    def naive(a):
        e = np.exp(a)
        s = e / e.sum(axis=axis, keepdims=True)
        return s if name == "softmax" else np.log(s)

    check(lambda a: getattr(F, name)(a, axis=axis), [z], naive)
    if axis in (-1, len(shape) - 1):
        check(lambda a: getattr(F, name)(a), [z], naive)  # default axis is the last


# ------------------------------------------------------------- composite graphs
@SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=4))
def test_composite_reuses_inputs(data, shape):
    """A tensor used several times collects every path's gradient."""
    a = data.draw(arr(shape, POS))
    b = data.draw(arr(shape))

    def fn(x, y):
        h = x * y + x.exp() / (x + 1.0)
        return (h * h).sqrt() * y.tanh() - x.log() * x + (h - y) ** 2

    def ref(x, y):
        h = x * y + np.exp(x) / (x + 1)
        return np.abs(h) * np.tanh(y) - np.log(x) * x + (h - y) ** 2

    h = a * b + np.exp(a) / (a + 1)
    if np.abs(h).min() > 0.05:  # sqrt(h²) = |h| has a kink at 0
        check(fn, [a, b], ref)


def test_gradcheck_catches_a_wrong_backward():
    """The checker itself must be able to fail: give it an op with a bad backward."""
    x = Tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)

    def bad_square(t):
        return from_op(t.data ** 2, (t,), "bad_square", lambda g: (g * t.data,))  # should be 2t

    res = gradcheck(bad_square, [x])
    assert not res.ok
    np.testing.assert_allclose(res.numerical[0], 2 * x.data, rtol=1e-6)
    np.testing.assert_allclose(res.analytic[0], x.data)
    with pytest.raises(AssertionError):
        gradcheck(bad_square, [x], raise_exception=True)
    assert gradcheck(lambda t: t ** 2, [x]).ok
