"""Scenario files (the app calls them missions): the TOML format, its loader, the
learner's changes and the catalog.

Public API::

    from descent_tui.scenario import load_scenario, discover, find, ScenarioError
    from descent_tui.scenario.schema import Scenario, Run, Landscape, Network, ...
    from descent_tui.scenario.expr import parse, Expr, ExprError
    from descent_tui.scenario.overrides import apply, parse_assignment, OverrideError

Modules, from the bottom: ``schema`` (the types), ``keylines`` (the line of each
key), ``errors`` (the problem list and its wording), ``read`` (bytes to TOML),
``structure`` and ``rules`` (what a valid scenario obeys), ``loader`` (ties them
together), ``overrides`` (``--set``, knobs, reset), ``catalog`` (finding files).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "BrokenScenario",
    "ExprError",
    "LoadedScenario",
    "OverrideError",
    "Scenario",
    "ScenarioError",
    "discover",
    "find",
    "load_scenario",
    "loads_scenario",
]

_LAZY = {
    "ScenarioError": "descent_tui.scenario.errors",
    "ExprError": "descent_tui.scenario.expr",
    "Scenario": "descent_tui.scenario.schema",
    "LoadedScenario": "descent_tui.scenario.loader",
    "OverrideError": "descent_tui.scenario.overrides",
    "load_scenario": "descent_tui.scenario.loader",
    "loads_scenario": "descent_tui.scenario.loader",
    "BrokenScenario": "descent_tui.scenario.catalog",
    "discover": "descent_tui.scenario.catalog",
    "find": "descent_tui.scenario.catalog",
}

if TYPE_CHECKING:  # pragma: no cover
    from descent_tui.scenario.catalog import BrokenScenario, discover, find
    from descent_tui.scenario.errors import ScenarioError
    from descent_tui.scenario.expr import ExprError
    from descent_tui.scenario.loader import LoadedScenario, load_scenario, loads_scenario
    from descent_tui.scenario.overrides import OverrideError
    from descent_tui.scenario.schema import Scenario


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'descent_tui.scenario' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
