"""The simulation: every run of a scenario, trained side by side, step by step.

    from descent_tui.sim import Simulation
    sim = Simulation(load_scenario("scenarios/the-ravine.toml"))
    sim.step(100)
    sim.runs[0].last.loss

A :class:`Simulation` builds the scenario's problem once (a landscape's
formula, a network's data: :mod:`descent_tui.sim.landscape`,
:mod:`descent_tui.sim.network`) and one run per ``[[runs]]`` entry. ``step(n)``
advances every live run one step at a time, in lockstep, ``n`` times (never
past ``total_steps``); a run that diverges stops, the others go on. What a
step does, what the record of step ``k`` holds (the state after ``k``
updates) and when a run is marked diverged is written in :mod:`descent_tui.sim.run`. All numerical work runs
under ``np.errstate(all="ignore")``: a diverging run prints no NumPy warning.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

import numpy as np

from descent_tui.scenario import schema as S
from descent_tui.scenario.overrides import apply as apply_changes
from descent_tui.sim.landscape import LandscapeProblem
from descent_tui.sim.network import NetworkProblem
from descent_tui.sim.run import Problem, Run, fmt_value

__all__ = ["PROBLEMS", "Simulation"]

#: the problem class of each scenario kind
PROBLEMS: dict[str, type[Problem]] = {"landscape": LandscapeProblem, "network": NetworkProblem}


class Simulation:
    """All runs of a loaded scenario; ``step(n)`` advances them together."""

    def __init__(self, loaded: Any, overrides: Mapping[str, Any] | None = None) -> None:
        self.loaded = loaded
        self.base_spec: S.Scenario = loaded.spec
        #: called with the simulation after every lockstep step (the timeline's checkpoints)
        self.on_step: list[Callable[[Simulation], None]] = []
        #: called with ``(sim, lr, run)`` after every :meth:`set_lr` (the timeline's edit log)
        self.on_set_lr: list[Callable[[Simulation, float, int | None], None]] = []
        with np.errstate(all="ignore"):
            self.problem = PROBLEMS[self.base_spec.kind](
                self.base_spec, getattr(loaded, "base_dir", None))
        self.reset(overrides)

    # ------------------------------------------------------------------ setup
    @property
    def kind(self) -> str:
        return self.base_spec.kind

    @property
    def layer_names(self) -> list[str]:
        return self.base_spec.layer_names

    @property
    def done(self) -> bool:
        return all(r.finished for r in self.runs)

    @property
    def data(self) -> dict[str, np.ndarray] | None:
        """Network: the train / validation arrays ``X, y, X_val, y_val`` (None for landscapes).

        ``X`` holds the data set's columns (what a decision map plots); with
        ``[network] inputs`` the model reads ``problem.data``, their features, instead.
        """
        data = self.problem.data
        plane = getattr(self.problem, "plane", None)
        if data is None or plane is None or plane is data["X"]:
            return data
        return {**data, "X": plane, "X_val": self.problem.plane_val}

    def reset(self, overrides: Mapping[str, Any] | None = None) -> None:
        """Rebuild every run from the spec and ``overrides`` (raise OverrideError if bad)."""
        spec = apply_changes(self.loaded, overrides or {}).spec
        runs = list(spec.runs)
        self.overrides = dict(overrides or {})
        self.spec = spec
        self.total_steps = spec.steps
        self.step_count = 0
        thresholds = sorted({float(q.threshold) for q in spec.quiz.prediction
                             if q.metric == "first_below" and q.threshold is not None})
        with np.errstate(all="ignore"):
            self.runs: list[Run] = [self.problem.make_run(i, cfg, spec, thresholds)
                                    for i, cfg in enumerate(runs)]

    # ------------------------------------------------------------------ api
    def step(self, n: int = 1) -> int:
        """Advance every live run ``n`` steps (not past ``total_steps``); return steps done."""
        done = 0
        with np.errstate(all="ignore"):
            for _ in range(max(0, int(n))):
                if self.step_count >= self.total_steps:
                    break
                live = [rs for rs in self.runs if not rs.finished]
                if not live:  # every run diverged (possibly at its start)
                    break
                for rs in live:
                    rs.advance()
                self.step_count += 1
                done += 1
                for hook in self.on_step:
                    hook(self)
        return done

    def set_lr(self, lr: float, run: int | None = None) -> None:
        """Change the learning rate now (all runs, or run index ``run``)."""
        lr = float(lr)
        if not lr > 0 or not math.isfinite(lr):
            raise ValueError(f"learning rate must be a positive number, not {lr!r}")
        for rs in self.runs if run is None else [self.runs[run]]:
            rs.set_lr(lr)
        for hook in self.on_set_lr:
            hook(self, lr, run)

    def set_regularization(self, l2: float | None = None, l1: float | None = None,
                           run: int | None = None) -> None:
        """Change the penalties now: ``l2`` is the optimizer's ``weight_decay``, ``l1`` the
        L1 strength of network runs (``dW += l1 * sign(W)``); None leaves one as it is."""
        for value in (l2, l1):
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ValueError(f"a penalty must be a number >= 0, not {value!r}")
        for rs in self.runs if run is None else [self.runs[run]]:
            if l2 is not None and hasattr(rs, "optimizer"):
                for group in rs.optimizer.param_groups:
                    group["weight_decay"] = float(l2)
            if l1 is not None and hasattr(rs, "l1"):
                rs.l1 = float(l1)

    def next_batch(self, run_index: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Network: the micro-batches run ``run_index``'s next step trains on (changes nothing)."""
        return self.runs[run_index].next_batch()

    # ----------------------------------------------------------------- plots
    def loss_grid(self, nx: int = 60, ny: int = 30, bounds: Any = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Landscape loss over the plot bounds of the first two params: ``(xs, ys, Z)``.

        ``bounds`` (``[(x0, x1), (y0, y1)]``, or one pair for one param) replaces the
        mission's plot bounds, e.g. to zoom on the runs.

        ``Z`` has shape ``(ny, nx)``; other params sit at their start values. With a
        single param, ``ys`` is ``linspace(0, 1, ny)`` and every row of ``Z`` is the
        same curve. Cached per size. A network scenario raises ValueError.
        """
        return self.problem.loss_grid(nx, ny, bounds)

    def loss_at(self, point: Any) -> float:
        """Landscape loss at ``point`` (a sequence, one value per param)."""
        return self.problem.loss_at(point)

    def decision_grid(self, run_index: int, n: int = 40, ny: int | None = None
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Network with 2 input features: ``(xs, ys, P)`` of run ``run_index`` (else None).

        ``n`` grid points across and ``ny`` (default ``n``) up. See
        :meth:`descent_tui.sim.network.NetworkRun.decision_grid`.
        """
        return self.runs[run_index].decision_grid(n, ny)

    def fit_curve(self, run_index: int, n: int = 100) -> tuple[np.ndarray, np.ndarray] | None:
        """Network with 1 input feature and 1 output: ``(xs, f(xs))`` of run ``run_index``.

        The curve the run has fitted to the data, ``n`` points over the inputs' range
        (else None). See :meth:`descent_tui.sim.network.NetworkRun.fit_curve`.
        """
        return self.runs[run_index].fit_curve(n)

    # --------------------------------------------------------------- summary
    def summary(self) -> dict[str, Any]:
        """A JSON-friendly summary (NaN / inf left as floats: encode with care)."""
        runs = []
        for rs in self.runs:
            runs.append({
                "label": rs.label,
                "steps": rs.step,
                "final_loss": rs.last.loss,
                "min_loss": rs.min_loss if rs.min_loss_step is not None else None,
                "min_loss_step": rs.min_loss_step,
                "diverged_at": rs.diverged_at,
                "reason": rs.reason,
                "final": asdict(rs.last),
                "first_below": {fmt_value(th): at for th, at in rs.first_below.items()},
            })
        return {"scenario": self.spec.id, "title": self.spec.title, "kind": self.kind,
                "steps": self.step_count, "total_steps": self.total_steps, "runs": runs}

    def __repr__(self) -> str:
        return (f"Simulation({self.spec.id!r}, {self.kind}, step {self.step_count}/"
                f"{self.total_steps}, {len(self.runs)} runs)")
