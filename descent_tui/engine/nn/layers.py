"""More of ``torch.nn``'s layers: Flatten, Softmax, LogSoftmax, Embedding, ModuleList,
and the losses as modules (MSELoss, CrossEntropyLoss, BCEWithLogitsLoss).

Each layer is a thin Module around a tensor method or a function of
:mod:`descent_tui.engine.functional`, whose derivative it uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import functional as F
from ..creation import default_generator
from ..tensor import Tensor
from . import Module
from .parameter import Parameter

__all__ = [
    "BCEWithLogitsLoss", "CrossEntropyLoss", "Embedding", "Flatten", "LogSoftmax", "MSELoss",
    "ModuleList", "Softmax",
]


class Flatten(Module):
    """Merge dimensions ``start_dim`` .. ``end_dim``: (N, C, H, W) -> (N, C·H·W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)


class Softmax(Module):
    def __init__(self, dim: int = -1) -> None:
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, dim=self.dim)


class LogSoftmax(Module):
    def __init__(self, dim: int = -1) -> None:
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, dim=self.dim)


class Embedding(Module):
    """A table of ``num_embeddings`` learned vectors; ``emb(ids)`` looks rows up.

    The weight starts N(0, 1), as in PyTorch; its gradient is the sum of
    dL/drow over every place the row was looked up.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, rng: Any = None,
                 dtype: Any = None) -> None:
        rng = rng if rng is not None else default_generator()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = Parameter(Tensor(rng.standard_normal((num_embeddings, embedding_dim)),
                                       dtype=dtype))

    def forward(self, ids: Any) -> Tensor:
        return self.weight[ids]


class ModuleList(Module):
    """A list of modules whose parameters the parent module finds (named '0.weight'...)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        self._modules_list: list[Module] = []
        for m in modules or ():
            self.append(m)

    def append(self, module: Module) -> ModuleList:
        setattr(self, str(len(self._modules_list)), module)
        self._modules_list.append(module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def __getitem__(self, i: int) -> Any:
        return self._modules_list[i]

    def __len__(self) -> int:
        return len(self._modules_list)

    def __iter__(self):
        return iter(self._modules_list)


class MSELoss(Module):
    """``loss_fn(input, target)`` = :func:`~descent_tui.engine.functional.mse_loss`."""

    def __init__(self, reduction: str = "mean") -> None:
        self.reduction = reduction

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(Module):
    """``loss_fn(logits, labels)`` = :func:`~descent_tui.engine.functional.cross_entropy`."""

    def __init__(self, ignore_index: int = -100, reduction: str = "mean") -> None:
        self.ignore_index, self.reduction = ignore_index, reduction

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.cross_entropy(input, target, ignore_index=self.ignore_index,
                               reduction=self.reduction)


class BCEWithLogitsLoss(Module):
    """``loss_fn(scores, labels)`` = ``binary_cross_entropy_with_logits``."""

    def __init__(self, reduction: str = "mean") -> None:
        self.reduction = reduction

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, reduction=self.reduction)
