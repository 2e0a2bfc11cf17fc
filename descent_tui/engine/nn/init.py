"""Weight initialisation with PyTorch's names and formulas.

Every random initialiser takes ``rng``, a ``numpy.random.Generator``, so the
same seed always gives the same starting knobs (without one, the engine's
generator, which ``manual_seed`` restarts). Each fills ``tensor.data`` in
place and returns the tensor.

fan_in / fan_out of a weight shaped (out, in) are in and out. Xavier keeps the
variance of signals the same forwards and backwards for tanh/sigmoid-like
layers: std = gain * sqrt(2 / (fan_in + fan_out)). Kaiming (He) keeps it for
ReLU layers: std = gain / sqrt(fan), gain = sqrt(2) for ReLU.
"""

from __future__ import annotations

import math

import numpy as np

from ..creation import default_generator


def _rng(rng):
    return rng if rng is not None else default_generator()


def _fans(tensor) -> tuple[int, int]:
    shape = tensor.data.shape
    if len(shape) < 2:
        raise ValueError("fan in and fan out need a tensor with at least 2 dimensions")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Recommended gain for a nonlinearity, as ``torch.nn.init.calculate_gain``."""
    linear_fns = {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d", "sigmoid", "identity"}
    if nonlinearity in linear_fns:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


def zeros_(tensor):
    tensor.data[...] = 0
    return tensor


def ones_(tensor):
    tensor.data[...] = 1
    return tensor


def constant_(tensor, val: float):
    tensor.data[...] = val
    return tensor


def uniform_(tensor, a: float = 0.0, b: float = 1.0, rng=None):
    tensor.data[...] = _rng(rng).uniform(a, b, size=tensor.data.shape)
    return tensor


def normal_(tensor, mean: float = 0.0, std: float = 1.0, rng=None):
    tensor.data[...] = _rng(rng).normal(mean, std, size=tensor.data.shape)
    return tensor


def xavier_uniform_(tensor, gain: float = 1.0, rng=None):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a, rng)


def xavier_normal_(tensor, gain: float = 1.0, rng=None):
    """N(0, std²) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return normal_(tensor, 0.0, std, rng)


def _kaiming_std(tensor, a, mode, nonlinearity):
    fan_in, fan_out = _fans(tensor)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', not {mode!r}")
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", rng=None):
    """U(-b, b) with b = gain * sqrt(3 / fan)."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, rng)


def kaiming_normal_(tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", rng=None):
    """N(0, std²) with std = gain / sqrt(fan)."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), rng)
