"""The Tensor: an ndarray that remembers how it was made, so blame can flow back.

Every operation below is written the same way, micrograd-style but over whole
arrays: compute the forward value, and right beside it define ``grad_fn``, the
op's local derivative. ``grad_fn(g)`` receives the gradient of the loss with
respect to the op's output (``g`` = dL/dout) and hands each parent its share by
the chain rule::

    dL/d(parent) = dL/d(out) · d(out)/d(parent)

It returns one share per parent (``None`` where a parent needs none), each
summed back to that parent's shape when NumPy broadcast it (see
``unbroadcast``): either ``g`` itself or a new array for that parent alone.
A Python number on the other side of an op is a constant, not a node: it is
part of the op's name (``2 * x`` is "mul(2)").

``backward()`` walks the graph from the loss back to the leaves (the walk
itself lives in :mod:`.graph`, where the inspector reads it too). Gradients of
leaves *accumulate* across calls, exactly as in PyTorch, until ``zero_grad()``
clears them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

from .graph import run_backward

#: An op's local derivative: dL/d(out) -> one share of it per parent (None: no share).
GradFn = Callable[[Any], Sequence[Any]]

_grad_enabled = True
_NUMBER = (int, float)


def is_grad_enabled() -> bool:
    return _grad_enabled


class no_grad:
    """Context manager (and decorator): operations inside record no graph.

    Use it for updates and evaluation, as in PyTorch::

        with no_grad():
            w.data -= lr * w.grad
    """

    def __enter__(self) -> None:
        global _grad_enabled
        self._outer = _grad_enabled
        _grad_enabled = False

    def __exit__(self, *exc: object) -> Literal[False]:
        global _grad_enabled
        _grad_enabled = self._outer
        return False

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with no_grad():
                return fn(*args, **kwargs)

        wrapper.__name__ = getattr(fn, "__name__", "wrapper")
        wrapper.__doc__ = getattr(fn, "__doc__", None)
        return wrapper


def unbroadcast(grad: Any, shape: tuple) -> Any:
    """Sum ``grad`` back down to ``shape``, undoing NumPy broadcasting.

    If ``b`` of shape (3,) was added to every row of a (4, 3) array, each of its
    entries touched 4 outputs, so its gradient is the sum over those 4 rows.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def _float_array(data: Any, dtype: Any = None) -> np.ndarray:
    """``data`` as a float array of the tensor's own (float64 unless told)."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.array(data, dtype=dtype)
    arr = np.asarray(data)
    if arr.dtype == np.float64 or arr.dtype == np.float32:
        return np.array(arr, copy=True) if arr is data else arr
    return arr.astype(np.float64)


class Tensor:
    """An n-dimensional array of numbers that can carry a gradient.

    ``Tensor(data, requires_grad=False, dtype=None)`` wraps ``data`` as a NumPy
    array (float64 by default; float32 allowed). Set ``requires_grad=True`` on a
    knob you want to turn: after ``loss.backward()`` its ``.grad`` holds
    dL/dknob, an array of the knob's own shape.

    A tensor made by an operation remembers the operation's name (``op``), its
    inputs (``parents``) and its local derivative (``grad_fn``), so the graph
    can be drawn, inspected and walked backwards. A leaf has ``op == ''``,
    no parents and ``grad_fn is None``.
    """

    __slots__ = ("__weakref__", "data", "grad", "grad_fn", "name", "op", "parents",
                 "requires_grad")
    __array_priority__ = 1000  # make `ndarray * Tensor` call Tensor.__rmul__

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self.data: Any = _float_array(data, dtype)
        self.grad: Any = None
        self.requires_grad = requires_grad
        self.parents: tuple[Tensor, ...] = ()
        self.op = ""
        self.grad_fn: GradFn | None = None
        self.name: str | None = None

    # ----------------------------------------------------------------- basics
    # the array's own attributes, read through
    shape = property(lambda self: self.data.shape, doc="The length of each axis: () for a number.")
    dtype = property(lambda self: self.data.dtype, doc="float64, or float32 if asked for.")
    ndim = property(lambda self: self.data.ndim, doc="The number of axes.")
    size = property(lambda self: self.data.size, doc="The number of entries.")

    @property
    def is_leaf(self) -> bool:
        """True for an input or a knob: made by no op, so it has no parents."""
        return not self.parents

    def item(self) -> float:
        return self.data.item()

    def numpy(self) -> np.ndarray:
        return self.data

    def detach(self) -> Tensor:
        """The same numbers, cut off from the graph (no gradient flows through)."""
        return from_op(self.data, (), "", None)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        extra = f", op={self.op!r}" if self.op else ""
        rg = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(np.asarray(self.data), precision=4)}{rg}{extra})"

    # ------------------------------------------------------------ backward
    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Backpropagate: add dL/dleaf into ``.grad`` of every leaf this tensor depends on.

        The walk visits each node once, after every node that used it, and
        hands each parent its share: the steps of :func:`.graph.backward_steps`,
        run by :func:`.graph.run_backward` in one loop. Leaves accumulate
        (``grad += new``) across calls until zeroed; that is why training
        loops call ``optimizer.zero_grad()`` first. Each node's ``grad_fn`` is
        freed on the way; pass ``retain_graph=True`` to walk the graph again.
        Intermediate nodes keep their dL/dnode in ``.grad``.
        """
        grad = self._seed(grad)
        if self.is_leaf:  # backward() on a leaf: dL/dL = 1 lands in its own .grad
            _accumulate(self, grad, grad)
            return
        run_backward(self, grad, retain_graph, _accumulate)

    def _seed(self, grad: Any) -> np.ndarray:
        """The gradient backward() starts from: dL/dL = 1, or the caller's ``grad``."""
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: nothing in its "
                "graph has requires_grad=True"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() needs a gradient argument for a non-scalar output "
                    f"(shape {self.shape}); call .sum() or .mean() first, or pass grad="
                )
            # dL/dL = 1: for a 0-d loss a NumPy scalar, as NumPy's 0-d arithmetic returns
            d = self.data
            return d.dtype.type(1.0) if d.ndim == 0 else np.ones(d.shape, d.dtype)
        grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
        if grad.shape != self.shape:
            raise RuntimeError(f"backward(): grad has shape {grad.shape}, expected {self.shape}")
        return grad

    # ----------------------------------------------------------- arithmetic
    # A Python number is made a Python float, a "weak" scalar: np.float64
    # would turn a float32 tensor into float64.

    def __add__(self, other: Any) -> Tensor:
        if isinstance(other, _NUMBER):
            c = float(other)  # d(a+c)/da = 1
            return from_op(self.data + c, (self,), f"add({c:g})", lambda g: (g,))
        other = as_tensor(other, self.dtype)
        a_shape, b_shape = self.shape, other.shape

        def grad_fn(g):  # d(a+b)/da = 1, d(a+b)/db = 1
            return unbroadcast(g, a_shape), unbroadcast(g, b_shape)

        return from_op(self.data + other.data, (self, other), "add", grad_fn)

    __radd__ = __add__

    def __sub__(self, other: Any) -> Tensor:
        if isinstance(other, _NUMBER):
            return self + (-float(other))
        other = as_tensor(other, self.dtype)
        a_shape, b_shape = self.shape, other.shape

        def grad_fn(g):  # d(a-b)/da = 1, d(a-b)/db = -1
            return unbroadcast(g, a_shape), unbroadcast(-g, b_shape)

        return from_op(self.data - other.data, (self, other), "sub", grad_fn)

    def __rsub__(self, other: Any) -> Tensor:
        if isinstance(other, _NUMBER):
            c = float(other)
            return from_op(c - self.data, (self,), f"rsub({c:g})", _negate)
        return as_tensor(other, self.dtype) - self

    def __neg__(self) -> Tensor:
        return from_op(-self.data, (self,), "neg", _negate)

    def __mul__(self, other: Any) -> Tensor:
        if isinstance(other, _NUMBER):
            c = float(other)  # d(c·a)/da = c
            return from_op(self.data * c, (self,), f"mul({c:g})", lambda g: (g * c,))
        other = as_tensor(other, self.dtype)
        a, b = self.data, other.data

        def grad_fn(g):  # d(ab)/da = b, d(ab)/db = a
            ga = unbroadcast(g * b, a.shape) if self.requires_grad else None
            gb = unbroadcast(g * a, b.shape) if other.requires_grad else None
            return ga, gb

        return from_op(a * b, (self, other), "mul", grad_fn)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Tensor:
        if isinstance(other, _NUMBER):
            c = float(other)  # d(a/c)/da = 1/c
            return from_op(self.data / c, (self,), f"div({c:g})", lambda g: (g / c,))
        other = as_tensor(other, self.dtype)
        a, b = self.data, other.data

        def grad_fn(g):  # d(a/b)/da = 1/b, d(a/b)/db = -a/b²
            ga = unbroadcast(g / b, a.shape) if self.requires_grad else None
            gb = unbroadcast(-g * a / (b * b), b.shape) if other.requires_grad else None
            return ga, gb

        return from_op(a / b, (self, other), "div", grad_fn)

    def __rtruediv__(self, other: Any) -> Tensor:
        if isinstance(other, _NUMBER):
            c = float(other)
            a = self.data

            def grad_fn(g):  # d(c/a)/da = -c/a²
                return (-g * c / (a * a),)

            return from_op(c / a, (self,), f"rdiv({c:g})", grad_fn)
        return as_tensor(other, self.dtype) / self

    def __pow__(self, other: Any) -> Tensor:
        if not isinstance(other, (int, float, np.number)):
            return self._pow_tensor(as_tensor(other, self.dtype))
        p = float(other)
        a = self.data
        if p == 2.0:  # the square, a·a, by far the commonest power: d(a²)/da = 2a
            return from_op(a * a, (self,), "pow2", lambda g: (g * 2.0 * a,))

        def grad_fn(g):  # d(a^p)/da = p·a^(p-1)
            return (g * p * a ** (p - 1),)

        return from_op(a ** p, (self,), f"pow{p:g}", grad_fn)

    def _pow_tensor(self, other: Tensor) -> Tensor:
        a, b = self.data, other.data
        val = a ** b

        def grad_fn(g):  # d(a^b)/da = b·a^(b-1), d(a^b)/db = a^b·ln a
            ga = unbroadcast(g * b * a ** (b - 1), a.shape) if self.requires_grad else None
            gb = unbroadcast(g * val * np.log(a), b.shape) if other.requires_grad else None
            return ga, gb

        return from_op(val, (self, other), "pow", grad_fn)

    def __rpow__(self, other: Any) -> Tensor:
        return as_tensor(other, self.dtype)._pow_tensor(self)

    def __matmul__(self, other: Any) -> Tensor:
        other = as_tensor(other, self.dtype)
        A, B = self.data, other.data

        def grad_fn(g):  # d(AB)/dA = g Bᵀ, d(AB)/dB = Aᵀ g
            if A.ndim == 1 and B.ndim == 1:  # dot product: d(a·b)/da = b, d/db = a
                return g * B, g * A
            # as NumPy does: a 1-D left operand is a row, a 1-D right one a column
            A2 = A[None, :] if A.ndim == 1 else A
            B2 = B[:, None] if B.ndim == 1 else B
            G = np.expand_dims(g, -2) if A.ndim == 1 else g
            G = np.expand_dims(G, -1) if B.ndim == 1 else G
            ga = gb = None
            if self.requires_grad:
                ga = unbroadcast(G @ np.swapaxes(B2, -1, -2), A2.shape).reshape(A.shape)
            if other.requires_grad:
                gb = unbroadcast(np.swapaxes(A2, -1, -2) @ G, B2.shape).reshape(B.shape)
            return ga, gb

        return from_op(A @ B, (self, other), "matmul", grad_fn)

    def __rmatmul__(self, other: Any) -> Tensor:
        return as_tensor(other, self.dtype) @ self

    # --------------------------------------------------- elementwise funcs
    def exp(self) -> Tensor:
        val = np.exp(self.data)

        def grad_fn(g):  # d(e^a)/da = e^a
            return (g * val,)

        return from_op(val, (self,), "exp", grad_fn)

    def log(self) -> Tensor:
        a = self.data

        def grad_fn(g):  # d(ln a)/da = 1/a
            return (g / a,)

        return from_op(np.log(a), (self,), "log", grad_fn)

    def sqrt(self) -> Tensor:
        val = np.sqrt(self.data)

        def grad_fn(g):  # d√a/da = 1/(2√a)
            return (g * 0.5 / val,)

        return from_op(val, (self,), "sqrt", grad_fn)

    def abs(self) -> Tensor:
        a = self.data

        def grad_fn(g):  # d|a|/da = sign(a) (0 at 0, as PyTorch)
            return (g * np.sign(a),)

        return from_op(np.abs(a), (self,), "abs", grad_fn)

    __abs__ = abs

    def sin(self) -> Tensor:
        a = self.data

        def grad_fn(g):  # d sin a = cos a
            return (g * np.cos(a),)

        return from_op(np.sin(a), (self,), "sin", grad_fn)

    def cos(self) -> Tensor:
        a = self.data

        def grad_fn(g):  # d cos a = -sin a
            return (-g * np.sin(a),)

        return from_op(np.cos(a), (self,), "cos", grad_fn)

    def tanh(self) -> Tensor:
        val = np.tanh(self.data)

        def grad_fn(g):  # d tanh = 1 - tanh²
            return (g * (1.0 - val * val),)

        return from_op(val, (self,), "tanh", grad_fn)

    def sigmoid(self) -> Tensor:
        val = logistic(self.data)

        def grad_fn(g):  # dσ = σ(1-σ), at most 1/4
            return (g * val * (1.0 - val),)

        return from_op(val, (self,), "sigmoid", grad_fn)

    def relu(self) -> Tensor:
        a = self.data

        def grad_fn(g):  # 1 where a > 0, else 0 (a dead unit passes nothing back)
            return (np.where(a > 0, g, 0),)

        # where, not `a * mask`: -inf * 0 would be nan (relu(-inf) is 0, relu(nan) nan)
        return from_op(np.where(a < 0, 0, a), (self,), "relu", grad_fn)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        a = self.data
        slope = np.where(a > 0, 1.0, negative_slope).astype(a.dtype, copy=False)

        def grad_fn(g):  # the slope: 1 where a > 0, negative_slope elsewhere
            return (g * slope,)

        return from_op(a * slope, (self,), "leaky_relu", grad_fn)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Clamp into [min, max]; gradient is 1 inside the range, 0 where clipped."""
        a = self.data

        def grad_fn(g):  # 1 inside the range, 0 where clipped
            inside = np.ones_like(a, dtype=bool)
            if min is not None:
                inside &= a >= min
            if max is not None:
                inside &= a <= max
            return (g * inside,)

        return from_op(np.clip(a, min, max), (self,), "clip", grad_fn)

    def maximum(self, other: Any) -> Tensor:
        return maximum(self, other)

    # ------------------------------------------------------------ reductions
    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        shape = self.shape

        def grad_fn(g):  # every input element contributed once
            if axis is not None and not keepdims:
                g = np.expand_dims(g, _norm_axes(axis, len(shape)))
            return (np.broadcast_to(g, shape),)

        return from_op(np.asarray(self.data.sum(axis=axis, keepdims=keepdims)), (self,), "sum",
                       grad_fn)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        shape = self.shape
        n = self.size if axis is None else int(
            np.prod([shape[i] for i in _norm_axes(axis, self.ndim)]))

        def grad_fn(g):  # each input moves the mean by 1/n
            if axis is not None and not keepdims:
                g = np.expand_dims(g, _norm_axes(axis, len(shape)))
            return (np.broadcast_to(g / n, shape),)

        return from_op(np.asarray(self.data.mean(axis=axis, keepdims=keepdims)), (self,), "mean",
                       grad_fn)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Maximum; the gradient goes to the max entries (split evenly on ties)."""
        a = self.data
        m = a.max(axis=axis, keepdims=True)
        val = m if keepdims else (m.reshape(()) if axis is None else np.squeeze(m, axis))

        def grad_fn(g):  # to the max entries, split evenly on ties
            mask = a == m
            count = mask.sum(axis=axis, keepdims=True)
            if not keepdims:
                g = g.reshape(m.shape)
            return ((g * mask / count).astype(a.dtype, copy=False),)

        return from_op(np.asarray(val), (self,), "max", grad_fn)

    # ---------------------------------------------------------------- shape
    def reshape(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        old = self.shape

        def grad_fn(g):  # the same numbers, back in the old shape
            return (g.reshape(old),)

        return from_op(self.data.reshape(shape), (self,), "reshape", grad_fn)

    def transpose(self, *axes: Any) -> Tensor:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        perm = axes or None
        ndim = self.ndim

        def grad_fn(g):  # undo the permutation
            inv = None if perm is None else tuple(np.argsort([ax % ndim for ax in perm]))
            return (np.transpose(g, inv),)

        return from_op(np.transpose(self.data, perm), (self,), "transpose", grad_fn)

    @property
    def T(self) -> Tensor:
        return self.transpose()

    def __getitem__(self, idx: Any) -> Tensor:
        if isinstance(idx, Tensor):  # Tensors hold floats; as an index they mean integers
            idx = idx.data.astype(np.intp)
        shape, dtype = self.shape, self.dtype

        def grad_fn(g):  # scatter back; np.add.at sums repeated indices
            full = np.zeros(shape, dtype=dtype)
            np.add.at(full, idx, g)
            return (full,)

        return from_op(np.asarray(self.data[idx]), (self,), "index", grad_fn)


def from_op(data: Any, parents: tuple[Tensor, ...], op: str, grad_fn: GradFn | None) -> Tensor:
    """The tensor an op returns: its value ``data`` (used as it is, no copy).

    It joins the graph, remembering ``parents``, ``op`` and the op's local
    derivative ``grad_fn``, when grad mode is on and some parent requires
    grad; otherwise it is a plain leaf, as in PyTorch under ``no_grad``.
    """
    out = Tensor.__new__(Tensor)  # __init__ would copy data; an op's result is already its own
    out.data = data
    out.grad = out.name = None
    if _grad_enabled:
        for p in parents:
            if p.requires_grad:  # someone will ask for dL/dp: remember how out was made
                out.requires_grad, out.parents, out.op, out.grad_fn = True, parents, op, grad_fn
                return out
    out.requires_grad, out.parents, out.op, out.grad_fn = False, (), "", None
    return out


def _negate(g: Any) -> tuple:  # d(-a)/da = -1, and so is d(c-a)/da
    return (-g,)


def _accumulate(leaf: Tensor, g: Any, passed: Any) -> None:
    """``leaf.grad += g``, as PyTorch does until zero_grad().

    Editing one ``.grad`` in place must never change another array, so the
    first gradient is kept as it is only when it is the leaf's alone: an
    array the op's ``grad_fn`` made for this parent. It is copied when it
    may also be someone else's: ``passed`` on unchanged (the node's own
    dL/dnode, as ``a + b`` hands it to both sides, or the caller's seed), a
    view of another array, or read-only. (A ``grad_fn`` returns either what
    it was given or a new array per parent.) ``.grad`` is always an array.
    """
    old = leaf.grad
    if old is not None:
        leaf.grad = np.asarray(old + g)
    elif type(g) is np.ndarray and g is not passed and g.base is None and g.flags.writeable:
        leaf.grad = g
    else:
        leaf.grad = np.array(g)


def _norm_axes(axis: Any, ndim: int) -> tuple:
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(sorted(a % ndim for a in axes))


def logistic(x: Any) -> Any:
    """σ(x) = 1 / (1 + e^-x) on plain arrays.

    For x << 0, e^-x overflows to inf and 1/(1+inf) = 0: still the right
    answer, so the overflow is expected and kept quiet.
    """
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def as_tensor(x: Any, dtype: Any = None) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x, dtype=dtype)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise max; on ties the gradient is split evenly, as in PyTorch."""
    a = as_tensor(a)
    b = as_tensor(b, a.dtype)
    ad, bd = a.data, b.data

    def grad_fn(g):  # to the larger of the two; a tie splits it evenly
        wa = ((ad > bd) + 0.5 * (ad == bd)).astype(g.dtype, copy=False)
        return unbroadcast(g * wa, ad.shape), unbroadcast(g * (1.0 - wa), bd.shape)

    return from_op(np.maximum(ad, bd), (a, b), "maximum", grad_fn)


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis; each gets back its own slice of grad."""
    parts = tuple(as_tensor(t) for t in tensors)
    cuts = np.cumsum([t.shape[axis] for t in parts])[:-1]

    def grad_fn(g):  # each input gets back its own slice
        return tuple(np.split(g, cuts, axis=axis))

    return from_op(np.concatenate([t.data for t in parts], axis=axis), parts, "concat", grad_fn)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Stack tensors along a new axis; each gets back its own layer of grad."""
    parts = tuple(as_tensor(t) for t in tensors)

    def grad_fn(g):  # each input gets back its own layer
        return tuple(np.take(g, i, axis=axis) for i in range(len(parts)))

    return from_op(np.stack([t.data for t in parts], axis=axis), parts, "stack", grad_fn)
