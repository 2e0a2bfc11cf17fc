"""``nn.Parameter``: a tensor a Module learns."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a module's knob: ``requires_grad=True`` by default.

    Assign one to a Module attribute and ``module.parameters()`` finds it
    (and keeps finding it after ``requires_grad_(False)``, as in PyTorch).
    The numbers are copied from ``data``.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        source = data if data is not None else []
        dtype = source.dtype if isinstance(source, Tensor) else None
        super().__init__(source, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
