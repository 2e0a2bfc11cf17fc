"""The Tensor: an ndarray that remembers how it was made, so blame can flow back.

Every operation below is written the same way, micrograd-style but over whole
arrays: compute the forward value, and right above the op define its local
derivative ``_<op>_grad(g, saved)``, which receives the gradient of the loss
with respect to the op's output (``g``) and hands each parent its share by the
chain rule::

    dL/d(parent) = dL/d(out) * d(out)/d(parent)

``saved`` holds whatever the derivative needs from the forward pass (for tanh,
its output), as ``ctx.save_for_backward`` does in PyTorch.

``backward()`` walks the graph from the loss back to the leaves, newest tensor
first (iteratively, so a 20,000-op chain is fine). Gradients of leaves
*accumulate* across calls, exactly as in PyTorch, until ``zero_grad()`` clears
them.

Speed matters as much as clarity here, because every number in the app comes
from this file. For big arrays NumPy does the work; for tiny ones (a landscape's
two knobs) Python's own overhead dominates, so the hot paths avoid needless
steps: a 0-d value is computed as a NumPy scalar (see ``_num``), and an op
stores a ready-made derivative function with its saved values instead of
building a new closure every time it runs.
"""

from __future__ import annotations

import heapq
import itertools
from contextlib import contextmanager

import numpy as np

# Non-finite numbers are lessons in descent, not errors: an exploding run should
# show inf and NaN on screen, not spray RuntimeWarnings over the terminal.
np.seterr(all="ignore")

_grad_enabled = True
# Every tensor gets a creation number. A tensor is always made after its inputs,
# so walking by decreasing number visits children before parents: a
# topological order for free, with no recursion.
_counter = itertools.count()
_NUMBER = (int, float)
_NUMBER_LIKE = (int, float, np.number)
_heappop, _heappush = heapq.heappop, heapq.heappush


def is_grad_enabled() -> bool:
    return _grad_enabled


@contextmanager
def _no_grad_ctx():
    global _grad_enabled
    prev = _grad_enabled
    _grad_enabled = False
    try:
        yield
    finally:
        _grad_enabled = prev


class no_grad:
    """Context manager (and decorator): operations inside record no graph.

    Use it for updates and evaluation, as in PyTorch::

        with no_grad():
            w.data -= lr * w.grad
    """

    def __enter__(self):
        global _grad_enabled
        self._prev = _grad_enabled
        _grad_enabled = False

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self._prev
        return False

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)

        wrapper.__name__ = getattr(fn, "__name__", "wrapper")
        wrapper.__doc__ = getattr(fn, "__doc__", None)
        return wrapper


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
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


def _float_array(data, dtype=None) -> np.ndarray:
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

    Each tensor made by an operation remembers the operation's name (``op``)
    and its inputs (``parents``) so the graph can be drawn and inspected.
    """

    __slots__ = (
        "__weakref__",
        "_backward",
        "_op",
        "_pending",
        "_prev",
        "_saved",
        "_seq",
        "data",
        "grad",
        "name",
        "requires_grad",
    )
    __array_priority__ = 1000  # make `ndarray * Tensor` call Tensor.__rmul__

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = _float_array(data, dtype)
        self.grad = None
        self.requires_grad = requires_grad
        self._backward = None
        self._saved = None
        self._prev = ()
        self._op = ""
        self.name = None
        self._seq = next(_counter)
        self._pending = None

    # ----------------------------------------------------------------- basics
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def op(self) -> str:
        """Name of the operation that produced this tensor ('' for a leaf).

        A Python number on the other side of an op is a constant, not a node,
        so it is part of the name: ``2 * x`` is "mul(2)", ``x ** 2`` is "pow2".
        """
        op = self._op
        # kept as (template, constant) until asked for: formatting costs more than the op
        return op if type(op) is str else op[0].format(op[1])

    @property
    def parents(self) -> tuple:
        """The tensors this one was computed from."""
        return self._prev

    @property
    def is_leaf(self) -> bool:
        return not self._op

    def item(self) -> float:
        return self.data.item()

    def numpy(self) -> np.ndarray:
        return self.data

    def detach(self) -> Tensor:
        """The same numbers, cut off from the graph (no gradient flows through)."""
        return _node(self.data, (), "")

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        extra = f", op={self.op!r}" if self._op else ""
        rg = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(self.data, precision=4)}{rg}{extra})"

    # ------------------------------------------------------------ backward
    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Backpropagate: fill ``.grad`` of every tensor this one depends on.

        Leaves accumulate (``grad += new``) across calls until zeroed; that is
        why training loops call ``optimizer.zero_grad()`` first. The graph is
        freed afterwards; pass ``retain_graph=True`` to walk it again.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: nothing in its "
                "graph has requires_grad=True"
            )
        if grad is None:  # dL/dL = 1
            d = self.data
            one = _ONE.get(type(d))  # a NumPy scalar, as NumPy hands back for 0-d (see _num)
            if one is not None:
                grad = one
            elif not d.ndim:
                grad = d.dtype.type(1)
            elif d.size == 1:
                grad = np.ones(d.shape, d.dtype)
            else:
                raise RuntimeError(
                    f"backward() needs a gradient argument for a non-scalar output "
                    f"(shape {self.shape}); call .sum() or .mean() first, or pass grad="
                )
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad,
                              dtype=self.data.dtype)
            if grad.shape != self.shape:
                raise RuntimeError(
                    f"backward(): grad has shape {grad.shape}, expected {self.shape}"
                )
        if not self._prev:  # backward() on a leaf: dL/dL = 1 lands in its own .grad
            _accumulate(self, grad, grad)
            return
        # Walk from the loss towards the inputs, newest tensor first. A node
        # waits in the heap once it has received some gradient; by the time it
        # is the newest one waiting, every tensor that used it has already
        # handed over its share. Leaves never wait: their share goes straight
        # into .grad. In a chain the next node is nearly always the parent just
        # reached, so that one skips the heap when it is the newest.
        self._pending = grad
        heap = []
        pop, push = _heappop, _heappush
        node, newest = self, None
        try:
            while True:
                g = node._pending
                node._pending = None
                node.grad = g  # intermediate gradients are kept for the inspector
                backward_fn = node._backward
                if backward_fn is None:
                    raise RuntimeError(
                        "Trying to backward through the graph a second time: its saved "
                        "values were freed. Use backward(retain_graph=True) the first time."
                    )
                grads = backward_fn(g, node._saved)
                if not retain_graph:  # free what the forward pass saved
                    node._backward = node._saved = None
                newest = None  # the newest parent that started waiting just now
                i = -1  # grads[i] is the i-th parent's share (a counter, as zip() costs ~0.3 µs)
                for parent in node._prev:
                    i += 1
                    pg = grads[i]
                    if pg is None or not parent.requires_grad:
                        continue
                    if not parent._prev:  # a leaf
                        if parent.grad is None and type(pg) is not _ndarray:
                            parent.grad = _array(pg)  # from a fresh NumPy scalar: nobody else's
                        else:
                            _accumulate(parent, pg, g)
                        continue
                    pending = parent._pending
                    if pending is not None:
                        parent._pending = pending + pg
                        continue
                    parent._pending = pg
                    if newest is None:
                        newest = parent
                    elif parent._seq > newest._seq:
                        push(heap, (-newest._seq, newest))
                        newest = parent
                    else:
                        push(heap, (-parent._seq, parent))
                if newest is not None:
                    if not heap or newest._seq > -heap[0][0]:
                        node = newest
                        continue
                    push(heap, (-newest._seq, newest))
                if not heap:
                    break
                node = pop(heap)[1]
        except BaseException:
            for _, waiting in heap:
                waiting._pending = None
            if newest is not None:
                newest._pending = None
            raise

    # ----------------------------------------------------------- arithmetic
    # Each op computes its value and hands ``_node`` its local derivative: the
    # small ``_..._grad(g, saved)`` function written right above the op, plus
    # ``saved``, whatever that function needs from the forward pass.
    # ``grad(g, saved)`` returns one gradient per parent (None where a parent
    # needs none). This is PyTorch's autograd.Function pattern, and cheaper than
    # building a closure for every op. When ``saved`` would cost work of its own
    # (a mask, a sign), the op attaches it only if the graph is being recorded.
    #
    # A Python number on the other side is a constant, not a node: the op keeps
    # it in its name (e.g. "mul(2)") so the inspector can still show it. It is
    # made a Python float, a "weak" scalar: np.float64 would upcast float32.

    @staticmethod
    def _identity_grad(g, _):  # d(a+c)/da = 1
        return (g,)

    @staticmethod
    def _add_grad(g, shapes):  # d(a+b)/da = 1, d(a+b)/db = 1
        if shapes is None:  # nothing was broadcast: both get g as it is
            return g, g
        return unbroadcast(g, shapes[0]), unbroadcast(g, shapes[1])

    def __add__(self, other):
        if not isinstance(other, Tensor):
            if isinstance(other, _NUMBER):
                c = float(other)
                a = self.data
                if type(a) is _ndarray and not a.ndim:
                    a = a[()]  # see _num
                return _node(a + c, (self,), ("add({:g})", c), self._identity_grad)
            other = Tensor(other, dtype=self.data.dtype)
        a, b = self.data, other.data
        sa, sb = a.shape, b.shape
        if type(a) is _ndarray and not sa:
            a = a[()]  # see _num
        if type(b) is _ndarray and not sb:
            b = b[()]
        return _node(a + b, (self, other), "add", self._add_grad, None if sa == sb else (sa, sb))

    __radd__ = __add__

    @staticmethod
    def _sub_grad(g, shapes):  # d(a-b)/da = 1, d(a-b)/db = -1
        if shapes is None:  # nothing was broadcast
            return g, -g
        return unbroadcast(g, shapes[0]), unbroadcast(-g, shapes[1])

    def __sub__(self, other):
        if isinstance(other, _NUMBER):
            return self.__add__(-float(other))
        other = other if isinstance(other, Tensor) else Tensor(other, dtype=self.data.dtype)
        a, b = self.data, other.data
        sa, sb = a.shape, b.shape
        return _node(_num(a) - _num(b), (self, other), "sub",
                     self._sub_grad, None if sa == sb else (sa, sb))

    @staticmethod
    def _neg_grad(g, _):  # d(-a)/da = -1, and so is d(c-a)/da
        return (-g,)

    def __rsub__(self, other):
        if isinstance(other, _NUMBER):
            c = float(other)
            return _node(c - _num(self.data), (self,), ("rsub({:g})", c), self._neg_grad)
        return Tensor(other, dtype=self.data.dtype) - self

    def __neg__(self):
        return _node(-_num(self.data), (self,), "neg", self._neg_grad)

    @staticmethod
    def _scale_grad(g, c):  # d(ca)/da = c
        return (g * c,)

    @staticmethod
    def _mul_grad(g, saved):  # d(ab)/da = b, d(ab)/db = a
        a, b, ta, tb = saved
        ga = unbroadcast(g * b, ta.data.shape) if ta.requires_grad else None
        gb = unbroadcast(g * a, tb.data.shape) if tb.requires_grad else None
        return ga, gb

    def __mul__(self, other):
        if isinstance(other, _NUMBER):
            c = float(other)
            a = self.data
            if type(a) is _ndarray and not a.ndim:
                a = a[()]  # see _num
            return _node(a * c, (self,), ("mul({:g})", c), self._scale_grad, c)
        other = other if isinstance(other, Tensor) else Tensor(other, dtype=self.data.dtype)
        a, b = _num(self.data), _num(other.data)
        return _node(a * b, (self, other), "mul", self._mul_grad, (a, b, self, other))

    __rmul__ = __mul__

    @staticmethod
    def _div_const_grad(g, c):  # d(a/c)/da = 1/c
        return (g / c,)

    @staticmethod
    def _div_grad(g, saved):  # d(a/b)/da = 1/b, d(a/b)/db = -a/b²
        a, b, ta, tb = saved
        ga = unbroadcast(g / b, ta.data.shape) if ta.requires_grad else None
        gb = unbroadcast(-g * a / (b * b), tb.data.shape) if tb.requires_grad else None
        return ga, gb

    def __truediv__(self, other):
        if isinstance(other, _NUMBER):
            c = float(other)
            return _node(_num(self.data) / c, (self,), ("div({:g})", c), self._div_const_grad, c)
        other = other if isinstance(other, Tensor) else Tensor(other, dtype=self.data.dtype)
        a, b = _num(self.data), _num(other.data)
        return _node(a / b, (self, other), "div", self._div_grad, (a, b, self, other))

    @staticmethod
    def _rdiv_grad(g, saved):  # d(c/a)/da = -c/a²
        a, c = saved
        return (-g * c / (a * a),)

    def __rtruediv__(self, other):
        if isinstance(other, _NUMBER):
            c = float(other)
            a = _num(self.data)
            return _node(c / a, (self,), ("rdiv({:g})", c), self._rdiv_grad, (a, c))
        return Tensor(other, dtype=self.data.dtype) / self

    @staticmethod
    def _square_grad(g, a):  # d(a²)/da = 2a
        return (g * 2.0 * a,)

    @staticmethod
    def _pow_grad(g, saved):  # d(a^p)/da = p·a^(p-1)
        a, p = saved
        return (g * p * _power(a, p - 1),)

    def __pow__(self, other):
        if isinstance(other, _NUMBER_LIKE):
            p = float(other)
        elif isinstance(other, Tensor):
            return self._pow_tensor(other)
        else:
            p = other
        a = self.data
        if type(a) is _ndarray and not a.ndim:
            a = a[()]  # see _num
        if p == 2:
            return _node(a * a, (self,), "pow2", self._square_grad, a)
        return _node(_power(a, p), (self,), ("pow{:g}", p), self._pow_grad, (a, p))

    @staticmethod
    def _pow_tensor_grad(g, saved):  # d(a^b)/da = b·a^(b-1), d(a^b)/db = a^b·ln a
        a, b, val = saved
        ga = unbroadcast(g * b.data * a.data ** (b.data - 1), a.shape) \
            if a.requires_grad else None
        gb = unbroadcast(g * val * np.log(a.data), b.shape) if b.requires_grad else None
        return ga, gb

    def _pow_tensor(self, other: Tensor):
        val = self.data ** other.data
        return _node(val, (self, other), "pow", self._pow_tensor_grad, (self, other, val))

    def __rpow__(self, other):
        return Tensor(other, dtype=self.data.dtype)._pow_tensor(self)

    @staticmethod
    def _matmul_grad(g, saved):  # d(AB)/dA = g Bᵀ, d(AB)/dB = Aᵀ g
        a, b = saved
        A, B = a.data, b.data
        if A.ndim == 1 and B.ndim == 1:  # dot product: d(a·b)/da = b, d/db = a
            return g * B, g * A
        # as NumPy does: a 1-D left operand is a row, a 1-D right one a column
        A2 = A[None, :] if A.ndim == 1 else A
        B2 = B[:, None] if B.ndim == 1 else B
        G = np.expand_dims(g, -2) if A.ndim == 1 else g
        G = np.expand_dims(G, -1) if B.ndim == 1 else G
        ga = gb = None
        if a.requires_grad:
            ga = unbroadcast(G @ np.swapaxes(B2, -1, -2), A2.shape).reshape(A.shape)
        if b.requires_grad:
            gb = unbroadcast(np.swapaxes(A2, -1, -2) @ G, B2.shape).reshape(B.shape)
        return ga, gb

    def __matmul__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other, dtype=self.data.dtype)
        return _node(self.data @ other.data, (self, other), "matmul", self._matmul_grad, (self, other))

    def __rmatmul__(self, other):
        return Tensor(other, dtype=self.data.dtype) @ self

    # --------------------------------------------------- elementwise funcs
    @staticmethod
    def _exp_grad(g, val):  # d(e^a)/da = e^a
        return (g * val,)

    def exp(self):
        val = np.exp(_num(self.data))
        return _node(val, (self,), "exp", self._exp_grad, val)

    @staticmethod
    def _log_grad(g, a):  # d(ln a)/da = 1/a
        return (g / a,)

    def log(self):
        a = _num(self.data)
        return _node(np.log(a), (self,), "log", self._log_grad, a)

    @staticmethod
    def _sqrt_grad(g, val):  # d√a/da = 1/(2√a)
        return (g * 0.5 / val,)

    def sqrt(self):
        val = np.sqrt(_num(self.data))
        return _node(val, (self,), "sqrt", self._sqrt_grad, val)

    @staticmethod
    def _abs_grad(g, sign):  # d|a|/da = sign(a) (0 at 0, as PyTorch)
        return (g * sign,)

    def abs(self):
        a = _num(self.data)
        out = _node(np.abs(a), (self,), "abs")
        if out.requires_grad:
            out._backward, out._saved = self._abs_grad, np.sign(a)
        return out

    __abs__ = abs

    @staticmethod
    def _sin_grad(g, a):  # d sin a = cos a
        return (g * np.cos(a),)

    def sin(self):
        a = _num(self.data)
        return _node(np.sin(a), (self,), "sin", self._sin_grad, a)

    @staticmethod
    def _cos_grad(g, a):  # d cos a = -sin a
        return (-g * np.sin(a),)

    def cos(self):
        a = _num(self.data)
        return _node(np.cos(a), (self,), "cos", self._cos_grad, a)

    @staticmethod
    def _tanh_grad(g, val):  # d tanh = 1 - tanh²
        return (g * (1.0 - val * val),)

    def tanh(self):
        val = np.tanh(_num(self.data))
        return _node(val, (self,), "tanh", self._tanh_grad, val)

    @staticmethod
    def _sigmoid_grad(g, val):  # dσ = σ(1-σ), at most 1/4
        return (g * val * (1.0 - val),)

    def sigmoid(self):
        val = _sigmoid(_num(self.data))
        return _node(val, (self,), "sigmoid", self._sigmoid_grad, val)

    @staticmethod
    def _relu_grad(g, alive):  # 1 where a > 0, else 0 (a dead unit passes nothing back)
        return (np.where(alive, g, 0),)

    def relu(self):
        a = self.data
        # where, not `data * mask`: -inf * 0 would be nan (relu(-inf) is 0, relu(nan) nan)
        out = _node(np.where(a < 0, 0, a), (self,), "relu")
        if out.requires_grad:
            out._backward, out._saved = self._relu_grad, a > 0
        return out

    @staticmethod
    def _leaky_relu_grad(g, slope):  # the slope: 1 where a > 0, negative_slope elsewhere
        return (g * slope,)

    def leaky_relu(self, negative_slope: float = 0.01):
        a = self.data
        slope = np.where(a > 0, 1.0, negative_slope).astype(a.dtype, copy=False)
        return _node(a * slope, (self,), "leaky_relu", self._leaky_relu_grad, slope)

    @staticmethod
    def _clip_grad(g, inside):  # 1 inside the range, 0 where clipped
        return (g * inside,)

    def clip(self, min=None, max=None):
        """Clamp into [min, max]; gradient is 1 inside the range, 0 where clipped."""
        a = self.data
        out = _node(np.clip(a, min, max), (self,), "clip")
        if out.requires_grad:
            inside = np.ones_like(a, dtype=bool)
            if min is not None:
                inside &= a >= min
            if max is not None:
                inside &= a <= max
            out._backward, out._saved = self._clip_grad, inside
        return out

    def maximum(self, other):
        return maximum(self, other)

    # ------------------------------------------------------------ reductions
    @staticmethod
    def _sum_grad(g, saved):  # every input element contributed once
        axis, keepdims, shape = saved
        if axis is not None and not keepdims:
            g = np.expand_dims(g, _norm_axes(axis, len(shape)))
        return (np.broadcast_to(g, shape),)

    def sum(self, axis=None, keepdims: bool = False):
        return _node(np.asarray(self.data.sum(axis=axis, keepdims=keepdims)), (self,), "sum",
                     self._sum_grad, (axis, keepdims, self.shape))

    @staticmethod
    def _mean_grad(g, saved):  # each input moves the mean by 1/n
        axis, keepdims, shape, n = saved
        if axis is not None and not keepdims:
            g = np.expand_dims(g, _norm_axes(axis, len(shape)))
        return (np.broadcast_to(g / n, shape),)

    def mean(self, axis=None, keepdims: bool = False):
        n = self.data.size if axis is None else int(
            np.prod([self.shape[i] for i in _norm_axes(axis, self.ndim)]))
        return _node(np.asarray(self.data.mean(axis=axis, keepdims=keepdims)), (self,), "mean",
                     self._mean_grad, (axis, keepdims, self.shape, n))

    @staticmethod
    def _max_grad(g, saved):  # to the max entries, split evenly on ties
        keepdims, m_shape, mask, count, dtype = saved
        if not keepdims:
            g = g.reshape(m_shape)
        return ((g * mask / count).astype(dtype, copy=False),)

    def max(self, axis=None, keepdims: bool = False):
        """Maximum; the gradient goes to the max entries (split evenly on ties)."""
        a = self.data
        m = a.max(axis=axis, keepdims=True)
        val = m if keepdims else (m.reshape(()) if axis is None else np.squeeze(m, axis))
        out = _node(np.asarray(val), (self,), "max")
        if out.requires_grad:
            mask = (a == m)
            count = mask.sum(axis=axis, keepdims=True)
            out._backward, out._saved = self._max_grad, (keepdims, m.shape, mask, count, a.dtype)
        return out

    # ---------------------------------------------------------------- shape
    @staticmethod
    def _reshape_grad(g, old):  # the same numbers, back in the old shape
        return (g.reshape(old),)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _node(self.data.reshape(shape), (self,), "reshape", self._reshape_grad, self.shape)

    @staticmethod
    def _transpose_grad(g, inv):  # undo the permutation
        return (np.transpose(g, inv),)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        axes = axes or None
        out = _node(np.transpose(self.data, axes), (self,), "transpose")
        if out.requires_grad:
            inv = None if axes is None else tuple(np.argsort([ax % self.ndim for ax in axes]))
            out._backward, out._saved = self._transpose_grad, inv
        return out

    @property
    def T(self):
        return self.transpose()

    @staticmethod
    def _index_grad(g, saved):  # scatter back; np.add.at sums repeated indices
        idx, shape, dtype = saved
        full = np.zeros(shape, dtype=dtype)
        np.add.at(full, idx, g)
        return (full,)

    def __getitem__(self, idx):
        if isinstance(idx, Tensor):  # Tensors hold floats; as an index they mean integers
            idx = idx.data.astype(np.intp)
        return _node(np.asarray(self.data[idx]), (self,), "index",
                     self._index_grad, (idx, self.shape, self.data.dtype))


def _node(data, parents: tuple, op, backward=None, saved=None) -> Tensor:
    """Wrap an op's output (no copy), recording the graph only if it is needed.

    The result remembers ``parents``, ``op`` and the op's local derivative
    (``backward``, with the values it needs, ``saved``) when some parent
    requires grad and grad mode is on; otherwise it is a plain leaf, as in
    PyTorch under ``no_grad``.
    """
    out = _new_object(Tensor)
    out.data = data
    out.grad = out.name = out._pending = None
    out._seq = next(_counter)
    # most often the first parent settles it; the loop covers the rest
    if _grad_enabled and ((parents and parents[0].requires_grad) or _any_requires_grad(parents)):
        out.requires_grad = True
        out._prev = parents
        out._op = op
        out._backward = backward
        out._saved = saved
        return out
    out._backward = out._saved = None
    out.requires_grad = False
    out._prev = ()
    out._op = ""
    return out


def _any_requires_grad(tensors) -> bool:
    for t in tensors:  # noqa: SIM110 - a plain loop: any() with a generator costs more here
        if t.requires_grad:
            return True
    return False


def _accumulate(leaf: Tensor, g, passed) -> None:
    """Add ``g`` into ``leaf.grad``, which must end up an array the leaf owns.

    ``g`` can't be kept as it is when it is also someone else's: the gradient
    ``passed`` on unchanged by an op like ``a + b``, a view, or a read-only
    array. Editing one ``.grad`` in place must never change another.
    """
    old = leaf.grad
    if old is not None:
        g = old + g  # accumulate, as PyTorch does, until zero_grad()
    elif type(g) is _ndarray and (g is passed or g.base is not None or not g.flags.writeable):
        g = g.copy()
    # NumPy hands back scalars for 0-d results; .grad is always an array
    leaf.grad = g if type(g) is _ndarray else np.array(g)

_new_object = object.__new__
_ndarray = np.ndarray
_array = np.array
_ONE = {np.float64: np.float64(1.0), np.float32: np.float32(1.0)}  # dL/dL for a scalar loss


def _num(d):
    """``d`` in the form NumPy computes with fastest.

    Every operation on a 0-d array goes through NumPy's full ufunc set-up
    (about a microsecond); the same number as a NumPy scalar takes the scalar
    fast path, several times quicker. A single knob, like a landscape's x and y,
    is 0-d, so the ops read it as a scalar. Larger arrays pass through.
    """
    return d[()] if type(d) is _ndarray and d.ndim == 0 else d


def _power(a, p):
    """``a ** p`` exactly as NumPy computes it for arrays.

    For an array NumPy turns ``** 2``, ``** 0.5`` and ``** -1`` into a square, a
    square root and a reciprocal; a NumPy scalar calls the C library's pow, which
    can differ in the last bit. Doing the same here keeps a 0-d value (see
    ``_num``) in step with the array it could have been.
    """
    if p == 2:
        return a * a
    if p == 0.5:
        return np.sqrt(a)
    if p == -1:
        return 1.0 / a
    return a ** p


def _norm_axes(axis, ndim: int) -> tuple:
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(sorted(a % ndim for a in axes))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # for x << 0, exp(-x) overflows to inf and 1/(1+inf) = 0: still the right answer
    return 1.0 / (1.0 + np.exp(-x))


def as_tensor(x, dtype=None) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x, dtype=dtype)


def _maximum_grad(g, saved):  # to the larger of the two; a tie splits it evenly
    ad, bd = saved
    wa = ((ad > bd) + 0.5 * (ad == bd)).astype(g.dtype, copy=False)
    return unbroadcast(g * wa, ad.shape), unbroadcast(g * (1.0 - wa), bd.shape)


def maximum(a, b) -> Tensor:
    """Elementwise max; on ties the gradient is split evenly, as in PyTorch."""
    a, b = as_tensor(a), as_tensor(b, dtype=as_tensor(a).dtype)
    return _node(np.maximum(a.data, b.data), (a, b), "maximum", _maximum_grad, (a.data, b.data))


def _concatenate_grad(g, saved):  # each input gets back its own slice
    cuts, axis = saved
    return tuple(np.split(g, cuts, axis=axis))


def concatenate(tensors, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis; each gets back its own slice of grad."""
    tensors = [as_tensor(t) for t in tensors]
    sizes = [t.shape[axis] for t in tensors]
    return _node(np.concatenate([t.data for t in tensors], axis=axis), tuple(tensors), "concat",
                 _concatenate_grad, (np.cumsum(sizes)[:-1], axis))


def _stack_grad(g, saved):  # each input gets back its own layer
    n, axis = saved
    return tuple(np.take(g, i, axis=axis) for i in range(n))


def stack(tensors, axis: int = 0) -> Tensor:
    """Stack tensors along a new axis."""
    tensors = [as_tensor(t) for t in tensors]
    return _node(np.stack([t.data for t in tensors], axis=axis), tuple(tensors), "stack",
                 _stack_grad, (len(tensors), axis))


def topological_order(root: Tensor) -> list:
    """Every tensor ``root`` depends on, parents before children (iterative DFS)."""
    order, seen = [], set()
    stack_ = [(root, False)]
    while stack_:
        node, done = stack_.pop()
        if done:
            order.append(node)
            continue
        nid = id(node)
        if nid in seen:
            continue
        seen.add(nid)
        stack_.append((node, True))
        for p in node._prev:
            if id(p) not in seen and p.requires_grad:
                stack_.append((p, False))
    return order
