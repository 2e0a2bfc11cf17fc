"""Knocking hidden units out of a network run, to see what each one did.

A unit ``j`` of hidden layer ``l`` is knocked out by setting to zero its incoming
weights ``W_l[j, :]``, its bias ``b_l[j]`` and its outgoing weights
``W_{l+1}[:, j]``. The layer above then receives nothing from it, whatever its
activation (a sigmoid unit still outputs ½, but no weight carries that on).

Training would grow those weights back (momentum, a sigmoid's ½ times the error),
so :func:`keep_out` zeroes them again; call it after every step while units are
out. Nothing is saved: knocking a unit back *in* leaves its weights at zero, and
a reset of the run restores its initial weights.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["keep_out", "knock_out"]


def knock_out(run: Any, layer: int, unit: int) -> None:
    """Zero hidden unit ``unit`` of hidden layer ``layer`` (0 = the first) of ``run``."""
    linears = run.linears
    if not 0 <= layer < len(linears) - 1:
        raise IndexError(f"hidden layer {layer} does not exist ({len(linears) - 1} hidden)")
    incoming, outgoing = linears[layer], linears[layer + 1]
    if not 0 <= unit < incoming.weight.data.shape[0]:
        raise IndexError(f"unit {unit} does not exist in hidden layer {layer}")
    incoming.weight.data[unit, :] = 0.0
    if incoming.bias is not None:
        incoming.bias.data[unit] = 0.0
    outgoing.weight.data[:, unit] = 0.0


def keep_out(run: Any, units: Iterable[tuple[int, int]]) -> None:
    """Knock out every ``(layer, unit)`` of ``units`` again (after a training step)."""
    for layer, unit in units:
        knock_out(run, layer, unit)
