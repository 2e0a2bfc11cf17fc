"""Axis ticks for the character plots: "nice" values, short labels, label rows.

``nice_ticks(lo, hi, n)`` picks about ``n`` round values (1, 2 or 5 × 10ᵏ apart)
inside ``[lo, hi]``; ``short(v)`` writes a value in at most 5 characters.
"""

from __future__ import annotations

import math

__all__ = ["label_row", "nice_ticks", "short"]


def nice_ticks(lo: float, hi: float, n: int) -> list[float]:
    """About ``n`` round values between ``lo`` and ``hi`` (both ends included if round)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo or n < 1:
        return []
    raw = (hi - lo) / max(1, n)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 5, 10)), key=lambda st: abs((hi - lo) / st - n))
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    k = 0
    while first + k * step <= hi + 1e-9 * step:
        v = first + k * step
        ticks.append(0.0 if abs(v) < 1e-12 * step else v)
        k += 1
    return ticks


def short(v: float) -> str:
    """``v`` in at most 5 characters: 0, 2.5, -40, 1200, 3e+05, 1e-04."""
    if not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if v == 0:
        return "0"
    a = abs(v)
    if 1e-2 <= a < 1e4:
        for digits in (3, 2, 1, 0):
            s = f"{v:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{v:.0f}"
            if len(s) <= 5:
                return s
    s = f"{v:.0e}"
    return s.replace("e+0", "e").replace("e-0", "e-")


def label_row(width: int, labels: list[tuple[int, str]], end: int | None = None) -> str:
    """A row of ``width`` characters with each label centred on its column, none overlapping.

    ``end``: the labels must stop before this column (a note follows there); one that
    would reach it is left out, not moved."""
    row = [" "] * width
    free_from = 0
    stop = width if end is None else min(width, end)
    for col, text in labels:
        start = max(0, min(width - len(text), col - len(text) // 2))
        if start < free_from or start + len(text) > stop:
            continue
        row[start:start + len(text)] = list(text)
        free_from = start + len(text) + 1
    return "".join(row)
