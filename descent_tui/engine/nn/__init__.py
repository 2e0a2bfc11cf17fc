"""Layers, named and shaped as in ``torch.nn``.

A ``Module`` owns parameters (Tensors with ``requires_grad=True``) and child
modules; ``parameters()`` finds them all, in the order they were assigned.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..creation import default_generator
from ..tensor import Tensor, no_grad
from . import functional, init, utils
from .parameter import Parameter


class Module:
    """Base class: assign Tensors and Modules as attributes; call it like a function."""

    training = True

    def forward(self, *args):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def named_parameters(self, prefix: str = ""):
        """(name, tensor) for every parameter, e.g. ('0.weight', ...)."""
        seen = set()
        for name, value in vars(self).items():
            if isinstance(value, Tensor) and (value.requires_grad or isinstance(value, Parameter)):
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
            p._grad = None if set_to_none else np.zeros_like(p.data)

    def children(self):
        return [v for v in vars(self).values() if isinstance(v, Module)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    # ---------------------------------------------------- PyTorch's habits
    def modules(self):
        """This module and every module inside it, depth first."""
        yield self
        for child in self.children():
            yield from child.modules()

    def train(self, mode: bool = True) -> Module:
        """Set ``training`` on this module and all inside it (layers such as
        dropout behave differently in training); returns the module."""
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def apply(self, fn) -> Module:
        """Call ``fn(m)`` on every module inside, then on this one (e.g. to initialise)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter; returns the module."""
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def state_dict(self) -> dict:
        """``{name: tensor}`` for every parameter: the same numbers, out of the graph."""
        return {name: p.detach() for name, p in self.named_parameters()}

    def load_state_dict(self, state_dict: dict, strict: bool = True):
        """Copy the numbers of ``state_dict`` into the parameters of the same names."""
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}: "
                               f"missing keys {missing}, unexpected keys {unexpected}")
        with no_grad():
            for name, p in own.items():
                if name in state_dict:
                    value = state_dict[name]
                    p.zero_()
                    p += value.data if isinstance(value, Tensor) else value
        return missing, unexpected


class Linear(Module):
    """y = x Wᵀ + b with ``weight`` (out, in) and ``bias`` (out,).

    Initialised as PyTorch does: W and b uniform in ±1/sqrt(in_features)
    (kaiming_uniform_ with a=sqrt(5)). Pass ``rng`` (a numpy Generator) so runs
    are reproducible.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 rng: np.random.Generator | None = None, dtype=np.float64):
        rng = rng if rng is not None else default_generator()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        init.kaiming_uniform_(self.weight, a=5 ** 0.5, rng=rng)
        self.bias = None
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=dtype))
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


# more layers, and the losses as modules (they build on Module, above)
from .layers import (  # noqa: E402
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Embedding,
    Flatten,
    LogSoftmax,
    ModuleList,
    MSELoss,
    Softmax,
)

__all__ = [
    "BCEWithLogitsLoss", "CrossEntropyLoss", "Embedding", "Flatten", "Identity", "LeakyReLU",
    "Linear", "LogSoftmax", "MSELoss", "Module", "ModuleList", "Parameter", "ReLU", "Sequential",
    "Sigmoid", "Softmax", "Tanh", "functional", "init", "utils",
]
