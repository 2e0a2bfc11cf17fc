"""Dtypes and devices, named as in PyTorch, for code written for PyTorch.

The engine runs on NumPy on the CPU: ``device("cpu")``, ``.to(device)``,
``set_default_device("cpu")`` are accepted and change nothing;
``cuda.is_available()`` and ``accelerator.is_available()`` are False. The
dtypes are NumPy's (``float`` is float32, as ``torch.float``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

float32 = float = np.float32
float64 = double = np.float64
int64 = long = np.int64
int32 = np.int32
bool = np.bool_

__all__ = ["accelerator", "cuda", "device", "get_default_dtype", "set_default_device"]


class device:
    """A place for tensors to live: only ``"cpu"`` exists here."""

    def __init__(self, type: str = "cpu", index: int | None = None) -> None:
        self.type = str(type).split(":")[0]
        if self.type != "cpu":
            raise RuntimeError(f"descent's engine runs on the CPU only, not on {type!r}")

    def __repr__(self) -> str:
        return "device(type='cpu')"

    def __eq__(self, other: Any) -> Any:
        return isinstance(other, device) or other == "cpu"

    __hash__ = object.__hash__


def set_default_device(where: Any) -> None:
    """Accepted for PyTorch code; the engine's one device is the CPU."""
    device(where.type if isinstance(where, device) else where)


def get_default_dtype() -> Any:
    """float64: the engine's floating-point tensors are float64 unless asked otherwise."""
    return np.float64


class _NoGPU:
    """``torch.cuda`` and ``torch.accelerator`` as seen from a CPU-only engine."""

    @staticmethod
    def is_available() -> Any:
        return False

    @staticmethod
    def current_accelerator() -> None:
        return None


cuda = accelerator = _NoGPU()
