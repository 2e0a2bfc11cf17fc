"""Layers, named and shaped as in ``torch.nn``.

A ``Module`` owns parameters (Tensors with ``requires_grad=True``) and child
modules; ``parameters()`` finds them all, in the order they were assigned.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..tensor import Tensor
from . import init, utils  # noqa: F401


class Module:
    """Base class: assign Tensors and Modules as attributes; call it like a function."""

    training = True

    def forward(self, *args):
        raise NotImplementedError

    def __call__(self, *args):
        return self.forward(*args)

    def named_parameters(self, prefix: str = ""):
        """(name, tensor) for every parameter, e.g. ('0.weight', ...)."""
        seen = set()
        for name, value in vars(self).items():
            if isinstance(value, Tensor) and value.requires_grad:
                if id(value) not in seen:
                    seen.add(id(value))
                    yield prefix + name, value
            elif isinstance(value, Module):
                for sub, p in value.named_parameters(prefix + name + "."):
                    if id(p) not in seen:
                        seen.add(id(p))
                        yield sub, p

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            p.grad = None if set_to_none else np.zeros_like(p.data)

    def children(self):
        return [v for v in vars(self).values() if isinstance(v, Module)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Linear(Module):
    """y = x Wᵀ + b with ``weight`` (out, in) and ``bias`` (out,).

    Initialised as PyTorch does: W and b uniform in ±1/sqrt(in_features)
    (kaiming_uniform_ with a=sqrt(5)). Pass ``rng`` (a numpy Generator) so runs
    are reproducible.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 rng: np.random.Generator | None = None, dtype=np.float64):
        rng = rng if rng is not None else np.random.default_rng()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Tensor(np.empty((out_features, in_features), dtype=dtype), True)
        init.kaiming_uniform_(self.weight, a=5 ** 0.5, rng=rng)
        self.bias = None
        if bias:
            self.bias = Tensor(np.empty(out_features, dtype=dtype), True)
            bound = 1 / in_features ** 0.5 if in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound, rng=rng)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def __repr__(self) -> str:
        return (f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None})")


class Sequential(Module):
    """Modules applied one after another; indexable, with parameters named '0.weight'..."""

    def __init__(self, *layers: Module):
        for i, layer in enumerate(layers):
            setattr(self, str(i), layer)
        self._layers = list(layers)

    def forward(self, x):
        for layer in self._layers:
            x = layer(x)
        return x

    def __getitem__(self, i):
        return self._layers[i]

    def __len__(self) -> int:
        return len(self._layers)

    def __iter__(self):
        return iter(self._layers)

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({i}): {m!r}" for i, m in enumerate(self._layers))
        return f"Sequential(\n{inner}\n)"


class ReLU(Module):
    def forward(self, x):
        return x.relu()


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = negative_slope

    def forward(self, x):
        return x.leaky_relu(self.negative_slope)


class Sigmoid(Module):
    def forward(self, x):
        return x.sigmoid()


class Tanh(Module):
    def forward(self, x):
        return x.tanh()


class Identity(Module):
    def forward(self, x):
        return x
