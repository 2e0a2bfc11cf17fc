"""``--set KEY=VALUE`` items split into simulation overrides and document assignments.

What is left here of the old headless runner (its printing moved to
:mod:`descent_tui.cli`); the scenario layer's override module replaces it.
"""

from __future__ import annotations

from typing import Any

from descent_tui.sim.build import RUN_FIELDS, SCENARIO_KEYS, OverrideError, parse_value

__all__ = ["parse_assignments"]


def _is_sim_key(key: str) -> bool:
    return (key in RUN_FIELDS or key in SCENARIO_KEYS or key in ("beta1", "beta2")
            or key.startswith(("runs.", "runs[")))


def parse_assignments(items: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Split ``KEY=VALUE`` strings into (simulation overrides, document assignments).

    Raises :class:`OverrideError` for an item without ``=``.
    """
    overrides: dict[str, Any] = {}
    doc: list[str] = []
    for item in items:
        key, eq, raw = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise OverrideError(item, "expected KEY=VALUE")
        if _is_sim_key(key):
            overrides[key] = parse_value(raw)
        else:
            doc.append(f"{key}={raw.strip()}")
    return overrides, doc
