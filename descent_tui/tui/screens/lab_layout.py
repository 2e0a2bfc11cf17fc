"""How the Lab fits its screen: the views fold on a small terminal, text is cut at word ends.

At :data:`FOLD` (columns, rows) or larger the Lab shows every view at once: the
network picture, the decision map, the gradients per layer and the loss curves.
Below it (e.g. 80×24) the views fold as the mission screen's do: one view fills the
area beside the controls and ``v`` shows the next (:data:`VIEWS`, in that order).

Text that would not fit is shortened by whole parts, never cut mid-word:

* :func:`fit_title`: a panel title ``"HEAD  detail · more"`` loses its last parts
  (after ``" · "``, then after two spaces) until it fits its border;
* :func:`pack_parts`: a line of parts (the status line) keeps, in order, the parts
  that fit, dropping the ones whose priority is lowest first;
* :func:`wrap_parts`: parts packed into lines, a part never split (the selected
  unit's line shows as many weights as fit its two rows).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.cells import cell_len

__all__ = ["FOLD", "VIEWS", "fit_title", "folds", "pack_parts", "wrap_parts"]

#: at this size (columns, rows) or larger every view shows at once
FOLD = (100, 30)
#: the views, in the order ``v`` walks them when they fold
VIEWS: tuple[str, ...] = ("network", "decision", "loss", "grads")
#: where a title may be shortened: before " · " or two spaces
_BREAKS = re.compile(r" · |  ")


def folds(width: int, height: int) -> bool:
    """True when a ``width`` × ``height`` screen shows one view at a time."""
    return width < FOLD[0] or height < FOLD[1]


def fit_title(title: str, width: int) -> str:
    """``title`` shortened at its breaks to fit a border ``width`` cells wide (the
    border's corners and the title's padding take 4); the head alone when nothing
    shorter fits (Textual then cuts it, which only a very thin panel needs)."""
    room = width - 4
    cuts = [m.start() for m in _BREAKS.finditer(title)]
    for end in [len(title), *reversed(cuts)]:
        if end <= room:
            return title[:end]
    return title[:cuts[0]] if cuts else title


def pack_parts(parts: Sequence[tuple[str, int]], width: int) -> list[int]:
    """Indices of the ``(text, priority)`` parts a line ``width`` cells wide keeps, in
    order: while the texts are too long, the part of lowest priority goes (the last
    of equals first). A part of priority 0 or more always stays."""
    keep = list(range(len(parts)))
    while sum(cell_len(parts[i][0]) for i in keep) > width:
        droppable = [i for i in keep if parts[i][1] < 0]
        if not droppable:
            break
        keep.remove(min(reversed(droppable), key=lambda i: parts[i][1]))
    return keep


def wrap_parts(parts: Sequence[str], width: int) -> list[str]:
    """``parts`` joined by spaces into lines of at most ``width`` cells, a part never split
    (one longer than a line gets a line of its own)."""
    lines: list[str] = []
    for part in parts:
        if lines and cell_len(lines[-1]) + 1 + cell_len(part) <= width:
            lines[-1] += " " + part
        else:
            lines.append(part)
    return lines
