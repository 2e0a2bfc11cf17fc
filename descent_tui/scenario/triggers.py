"""Watch-for triggers: the machine-checkable event a watch-for note describes.

A watch-for item is a plain note (``"SGD zig-zags"``) or a table with a trigger,
``{ text = "...", when = "..." }``. The trigger is one of::

    diverged            any run diverges
    diverged:LABEL      run LABEL diverges
    below:VALUE         any run's training loss drops below VALUE
    below:VALUE:LABEL   run LABEL's training loss drops below VALUE
    above:VALUE[:LABEL] a run's training loss rises above VALUE
    step:N              the runs have taken N steps
    done                the run is over

:func:`parse_trigger` reads one (ValueError with a one-line reason if it is not
one of these); the simulation's event detection (:mod:`descent_tui.sim.events`)
decides when it has happened.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["TRIGGER_FORMS", "Trigger", "parse_trigger"]

#: the accepted forms, as the error message lists them
TRIGGER_FORMS = ("diverged[:LABEL]", "below:VALUE[:LABEL]", "above:VALUE[:LABEL]", "step:N",
                 "done")


@dataclass(frozen=True, slots=True)
class Trigger:
    """One parsed trigger: ``kind`` with its number (``value``) and run label (``run``)."""

    kind: str                 # "diverged" | "below" | "above" | "step" | "done"
    value: float | None = None
    run: str | None = None


def _number(word: str, kind: str) -> float:
    try:
        v = float(word)
    except ValueError:
        raise ValueError(f"'{kind}:' needs a number, got '{word}'") from None
    if not math.isfinite(v):
        raise ValueError(f"'{kind}:' needs a finite number, got '{word}'")
    return v


def parse_trigger(text: str) -> Trigger:
    """The trigger ``text`` names (see the module docstring); ValueError if it names none."""
    kind, _, rest = text.strip().partition(":")
    if kind == "done" and not rest:
        return Trigger("done")
    if kind == "diverged":
        return Trigger("diverged", run=rest or None)
    if kind in ("below", "above"):
        value, _, label = rest.partition(":")
        return Trigger(kind, _number(value, kind), label or None)
    if kind == "step":
        n = _number(rest, kind)
        if n < 0 or n != int(n):
            raise ValueError(f"'step:' needs a whole number of steps, got '{rest}'")
        return Trigger("step", n)
    raise ValueError(f"unknown trigger '{text}'; expected one of: {', '.join(TRIGGER_FORMS)}")
