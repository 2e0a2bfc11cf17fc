"""Losses and layers as functions, named as in ``torch.nn.functional``.

Each is one node in the graph with its own hand-checked backward, which keeps
training fast and the graph small enough to draw. All are numerically stable:
logits of +-1000 give finite values and gradients.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import (  # noqa: F401  (re-exported, as torch.nn.functional has them)
    Tensor,
    as_tensor,
    concatenate,
    from_op,
    logistic,
    maximum,
    stack,
    unbroadcast,
)


def _reduce(per_item: np.ndarray, reduction: str) -> tuple[Any, float | None]:
    """Reduce per-item losses; also the factor each item's gradient gets (None: 'none')."""
    if reduction == "mean":
        scale = 1.0 / per_item.size
        return np.asarray(per_item.sum() * scale), scale
    if reduction == "sum":
        return np.asarray(per_item.sum()), 1.0
    if reduction == "none":
        return per_item, None
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', not {reduction!r}")


def linear(x: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b, with W shaped (out, in) as in PyTorch.

    Backward: dL/dx = g W, dL/dW = gᵀ x, dL/db = sum of g over the batch.
    """
    x = as_tensor(x)
    X = x.data
    if X.ndim == 0:
        raise RuntimeError("linear: the input must have at least one dimension (got a "
                           "single number); as in PyTorch, pass a tensor of features")
    out_data = X.dot(weight.data.T)
    if bias is not None:
        out_data += bias.data

    def grad_fn(g):  # dL/dx = g W, dL/dW = gᵀ x, dL/db = sum of g over the batch
        gx = g.dot(weight.data) if x.requires_grad else None
        g2, X2 = g, X
        if X.ndim != 2:  # any leading batch dimensions become one (a lone sample: a batch of 1)
            g2, X2 = g.reshape(-1, g.shape[-1]), X.reshape(-1, X.shape[-1])
        gw = g2.T.dot(X2)
        gb = g2.sum(axis=0) if bias is not None else None
        return (gx, gw) if bias is None else (gx, gw, gb)

    parents = (x, weight) if bias is None else (x, weight, bias)
    return from_op(out_data, parents, "linear", grad_fn)


def relu(x: Tensor) -> Tensor:
    return x.relu()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return x.leaky_relu(negative_slope)


def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


def tanh(x: Tensor) -> Tensor:
    return x.tanh()


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error: mean((input - target)²).

    Backward: dL/dinput = 2 (input - target) / n.
    """
    input = as_tensor(input)
    target = as_tensor(target, input.dtype)
    diff = input.data - target.data
    val, scale = _reduce(diff * diff, reduction)

    def grad_fn(g):  # d/dinput (input - target)² = 2 (input - target), over n
        gi = diff * (2.0 * (g if scale is None else g * scale))
        # either side may have been broadcast against the other: sum back to its shape
        gt = unbroadcast(-gi, target.shape) if target.requires_grad else None
        return unbroadcast(gi, input.shape), gt

    return from_op(val, (input, target), "mse_loss", grad_fn)


def binary_cross_entropy_with_logits(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on raw scores z with labels y in [0, 1]:

        loss = max(z, 0) - z·y + log(1 + exp(-|z|))

    which equals -[y log σ(z) + (1-y) log(1-σ(z))] but never overflows.
    Backward: dL/dz = σ(z) - y, dL/dy = -z (divided by n for the mean).
    """
    input = as_tensor(input)
    target = as_tensor(target, input.dtype)
    z, y = input.data, target.data
    per = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    val, scale = _reduce(per, reduction)

    def grad_fn(g):  # dL/dz = σ(z) - y, dL/dy = -z (each over n for the mean)
        g = g if scale is None else g * scale
        gz = (logistic(z) - y) * g
        gy = -z * g if target.requires_grad else None
        if np.shape(z) == np.shape(y):
            return gz, gy
        # one side was broadcast against the other: sum each back to its own shape
        gz = unbroadcast(np.broadcast_to(gz, per.shape), np.shape(z))
        gy = None if gy is None else unbroadcast(np.broadcast_to(gy, per.shape), np.shape(y))
        return gz, gy

    return from_op(val, (input, target), "bce_with_logits", grad_fn)


def _check_labels(labels: np.ndarray, classes: int) -> None:
    """Class labels index the C scores: each must be in 0..C-1."""
    bad = labels[(labels < 0) | (labels >= classes)]
    if bad.size:
        raise IndexError(f"Target {int(bad[0])} is out of bounds: labels must be in "
                         f"0..{classes - 1} (or ignore_index)")


def _log_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    shifted = z - z.max(axis=axis, keepdims=True)  # the largest exponent becomes e^0
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def log_softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """log of softmax along ``axis`` (PyTorch: ``dim``), computed stably.

    Backward: g - softmax · sum(g).
    """
    axis = axis if dim is None else dim
    x = as_tensor(x)
    val = _log_softmax(x.data, axis)

    def grad_fn(g):  # g - softmax · sum(g)
        return (g - np.exp(val) * g.sum(axis=axis, keepdims=True),)

    return from_op(val, (x,), "log_softmax", grad_fn)


def softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along ``axis`` (PyTorch: ``dim``).

    Backward: s · (g - sum(g·s)).
    """
    axis = axis if dim is None else dim
    x = as_tensor(x)
    s = np.exp(_log_softmax(x.data, axis))

    def grad_fn(g):  # s · (g - sum(g·s))
        return (s * (g - (g * s).sum(axis=axis, keepdims=True)),)

    return from_op(s, (x,), "softmax", grad_fn)


def cross_entropy(logits: Any, target: Any, reduction: str = "mean", *,
                  ignore_index: int = -100) -> Tensor:
    """Cross-entropy of raw class scores (N, C) against integer labels (N,).

        loss_n = -log softmax(logits_n)[label_n]

    Items labelled ``ignore_index`` (-100, as in PyTorch) count for nothing:
    their loss and gradient are 0 and the mean is over the others. A label
    outside 0..C-1 is an error. Backward: dL/dlogits = softmax(logits) -
    onehot(label) (over the counted n for the mean).
    """
    logits = as_tensor(logits)
    labels = np.asarray(target.data if isinstance(target, Tensor) else target).astype(np.intp)
    kept = labels != ignore_index
    _check_labels(labels[kept], logits.shape[-1])
    logp = _log_softmax(logits.data, -1)
    rows, safe = np.arange(labels.shape[0]), np.where(kept, labels, 0)
    per_item = np.where(kept, -logp[rows, safe], 0.0)
    scale: float | None
    if reduction == "mean":  # the mean over the counted items only
        counted = int(kept.sum())
        scale = 1.0 / counted if counted else float("nan")
        val = np.asarray(per_item.sum() * scale)
    else:
        val, scale = _reduce(per_item, reduction)

    def grad_fn(g):  # softmax(logits) - onehot(label), over n for the mean
        grad = np.exp(logp)
        grad[rows, safe] -= 1.0
        if not kept.all():
            grad *= kept[:, None]
        grad *= g[:, None] if scale is None else g * scale
        return (grad,)

    return from_op(val, (logits,), "cross_entropy", grad_fn)
