"""Scenario (mission) files: the TOML format, its loader and the catalog.

Public API::

    from descent_tui.scenario import load_scenario, discover, find, ScenarioError
    from descent_tui.scenario.schema import Scenario, Run, Landscape, Network, ...
    from descent_tui.scenario.expr import parse, Expr, ExprError
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "BrokenScenario",
    "ExprError",
    "LoadedScenario",
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
    from descent_tui.scenario.schema import Scenario


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'descent_tui.scenario' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
