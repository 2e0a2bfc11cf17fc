"""What an exported script must reproduce, read from a freshly built Simulation.

:func:`run_plans` builds the mission's runs exactly as descent does (overrides
applied, seeds, pretrained weights) and keeps, per run, what a standalone
script needs: its settings, the starting point or initial weights, and, for a
network, the training data and the seed of the batch order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from descent_tui.scenario import schema as S
from descent_tui.scenario.errors import ScenarioError
from descent_tui.sim import build

__all__ = ["ExportError", "RunPlan", "run_plans"]


class ExportError(ScenarioError):
    """A run that cannot be written as a standalone script (one line; exit 2)."""


@dataclass
class RunPlan:
    """One run of a mission, as an exported script needs it."""

    mission: str
    title: str
    kind: str
    label: str
    config: S.Run
    steps: int
    diverge_above: float
    #: landscape: the parsed loss, parameter names and start point
    expr: Any = None
    params: list[str] = field(default_factory=list)
    start: list[float] = field(default_factory=list)
    #: network: layer sizes, activation after each Linear, initial (W, b) per Linear
    sizes: list[int] = field(default_factory=list)
    acts: list[str] = field(default_factory=list)
    weights: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    loss: str = ""
    X: Any = None
    y: Any = None
    batch_size: int = 0
    seed: int = 0

    @property
    def accumulate(self) -> int:
        return int(self.config.accumulate)


def _plan(sim: Any, run: Any) -> RunPlan:
    spec = sim.spec
    plan = RunPlan(spec.id, spec.title, spec.kind, run.label, run.config, spec.steps,
                   float(spec.diverge_above))
    if spec.kind == "landscape":
        plan.expr = sim.problem.expression
        plan.params = list(spec.landscape.params)
        plan.start = [float(v) for v in run.theta.data]
        return plan
    plan.sizes = list(build.run_model_spec(spec, run.config).layers)
    plan.acts = list(run.acts)
    plan.weights = [(lin.weight.data.copy(), lin.bias.data.copy()) for lin in run.linears]
    plan.loss = spec.network.loss
    plan.X, plan.y = sim.data["X"], sim.data["y"]
    if plan.loss == "cross_entropy":
        plan.y = np.asarray(plan.y).astype(np.int64)
    plan.batch_size = run.batch_size
    plan.seed = build.run_seed(spec, run.config)
    return plan


def run_plans(loaded: Any, overrides: Any = ()) -> list[RunPlan]:
    """One plan per run of ``loaded`` after ``overrides`` (raises OverrideError if bad)."""
    from descent_tui.scenario.overrides import apply
    from descent_tui.sim import Simulation

    sim = Simulation(apply(loaded, list(overrides)))
    return [_plan(sim, run) for run in sim.runs]
