"""Losses and layers as functions, named as in ``torch.nn.functional``.

Each is one node in the graph with its own hand-checked backward, which keeps
training fast and the graph small enough to draw. All are numerically stable:
logits of +-1000 give finite values and gradients.
"""

from __future__ import annotations

import numpy as np

from .tensor import (  # noqa: F401
    Tensor,
    _node,
    _sigmoid,
    as_tensor,
    concatenate,
    maximum,
    stack,
    unbroadcast,
)


def _reduce(per_item: np.ndarray, reduction: str):
    if reduction == "mean":
        scale = 1.0 / per_item.size
        return np.asarray(per_item.sum() * scale), scale
    if reduction == "sum":
        return np.asarray(per_item.sum()), 1.0
    if reduction == "none":
        return per_item, None
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', not {reduction!r}")


def _linear_grad(g, saved):  # dL/dx = g W, dL/dW = gᵀ x, dL/db = sum of g over the batch
    x, weight, bias = saved
    X = x.data
    gx = g @ weight.data if x.requires_grad else None
    if X.ndim == 2:
        gw = g.T @ X
        gb = g.sum(axis=0)
    else:  # any leading batch dimensions
        g2 = g.reshape(-1, g.shape[-1])
        gw = g2.T @ X.reshape(-1, X.shape[-1])
        gb = g2.sum(axis=0)
    return (gx, gw) if bias is None else (gx, gw, gb)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b, with W shaped (out, in) as in PyTorch.

    Backward: dL/dx = g W, dL/dW = gᵀ x, dL/db = sum of g over the batch.
    """
    x = as_tensor(x)
    out_data = x.data @ weight.data.T
    if bias is not None:
        out_data += bias.data
    parents = (x, weight) if bias is None else (x, weight, bias)
    return _node(out_data, parents, "linear", _linear_grad, (x, weight, bias))


def relu(x: Tensor) -> Tensor:
    return x.relu()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return x.leaky_relu(negative_slope)


def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


def tanh(x: Tensor) -> Tensor:
    return x.tanh()


def _mse_grad(g, saved):  # d/dinput (input - target)² = 2 (input - target), over n
    diff, scale, input_shape, target_shape, target_needs = saved
    gi = 2.0 * diff * (g if scale is None else g * scale)
    # either side may have been broadcast against the other: sum back to its shape
    gt = unbroadcast(-gi, target_shape) if target_needs else None
    return unbroadcast(gi, input_shape), gt


def mse_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """Mean squared error: mean((input - target)²).

    Backward: dL/dinput = 2 (input - target) / n.
    """
    input, target = as_tensor(input), as_tensor(target, dtype=as_tensor(input).dtype)
    diff = input.data - target.data
    val, scale = _reduce(diff * diff, reduction)
    return _node(val, (input, target), "mse_loss",
                 _mse_grad, (diff, scale, input.shape, target.shape, target.requires_grad))


def _bce_grad(g, saved):  # dL/dz = σ(z) - y, dL/dy = -z (each over n for the mean)
    z, y, scale, full, target_needs = saved  # full: the broadcast shape, if z and y differ
    g = g if scale is None else g * scale
    gz = (_sigmoid(z) - y) * g
    gy = -z * g if target_needs else None
    if full is None:
        return gz, gy
    # one side was broadcast against the other: sum each back to its own shape
    gz = unbroadcast(np.broadcast_to(gz, full), np.shape(z))
    gy = None if gy is None else unbroadcast(np.broadcast_to(gy, full), np.shape(y))
    return gz, gy


def binary_cross_entropy_with_logits(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on raw scores z with labels y in [0, 1]:

        loss = max(z, 0) - z·y + log(1 + exp(-|z|))

    which equals -[y log σ(z) + (1-y) log(1-σ(z))] but never overflows.
    Backward: dL/dz = σ(z) - y (divided by n for the mean).
    """
    input, target = as_tensor(input), as_tensor(target, dtype=as_tensor(input).dtype)
    z, y = input.data, target.data
    per = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    val, scale = _reduce(per, reduction)
    full = None if np.shape(z) == np.shape(y) else per.shape
    return _node(val, (input, target), "bce_with_logits",
                 _bce_grad, (z, y, scale, full, target.requires_grad))


def _log_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    shifted = z - z.max(axis=axis, keepdims=True)  # the largest exponent becomes e^0
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _log_softmax_grad(g, saved):  # g - softmax · sum(g)
    val, axis = saved
    return (g - np.exp(val) * g.sum(axis=axis, keepdims=True),)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """log of softmax, computed stably. Backward: g - softmax · sum(g)."""
    x = as_tensor(x)
    val = _log_softmax(x.data, axis)
    return _node(val, (x,), "log_softmax", _log_softmax_grad, (val, axis))


def _softmax_grad(g, saved):  # s · (g - sum(g·s))
    s, axis = saved
    return (s * (g - (g * s).sum(axis=axis, keepdims=True)),)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x_i) / sum_j exp(x_j). Backward: s · (g - sum(g·s))."""
    x = as_tensor(x)
    s = np.exp(_log_softmax(x.data, axis))
    return _node(s, (x,), "softmax", _softmax_grad, (s, axis))


def _cross_entropy_grad(g, saved):  # softmax(logits) - onehot(label), over n for the mean
    logp, rows, labels, scale = saved
    grad = np.exp(logp)
    grad[rows, labels] -= 1.0
    if scale is None:
        return (grad * g[:, None],)
    return (grad * (g * scale),)


def cross_entropy(logits: Tensor, target, reduction: str = "mean") -> Tensor:
    """Cross-entropy of raw class scores (N, C) against integer labels (N,).

        loss_n = -log softmax(logits_n)[label_n]

    Backward: dL/dlogits = softmax(logits) - onehot(label) (over n for the mean).
    """
    logits = as_tensor(logits)
    labels = np.asarray(target.data if isinstance(target, Tensor) else target).astype(np.intp)
    logp = _log_softmax(logits.data, -1)
    rows = np.arange(labels.shape[0])
    per = -logp[rows, labels]
    val, scale = _reduce(per, reduction)
    return _node(val, (logits,), "cross_entropy", _cross_entropy_grad, (logp, rows, labels, scale))
