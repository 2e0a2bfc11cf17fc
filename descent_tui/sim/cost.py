"""What a run cost: multiply-adds to reach a target loss, and the energy they take.

Counted from the network's shapes, not timed (a timer measures this laptop; the
count is the same on any machine). The rule, for Linear layers
``layers[0] → layers[1] → … → layers[L]``::

    forward MACs per example  = Σ_l layers[l-1] · layers[l]       (one multiply-add
                                                                    per weight)
    training MACs per example ≈ 3 × forward                        (the backward pass
                                                                    is two matmuls per
                                                                    layer: dL/dx and dL/dW)
    MACs per step             = 3 × forward × examples in the step  (batch × accumulate,
                                                                    or the train set)
    MACs to target            = MACs per step × updates to reach the target loss
    energy                    = MACs × joules_per_mac

Biases, activations, the loss and the optimizer's update are left out (each is
a few operations per number, against one per weight per example); so is the
validation pass the app makes each step to draw its curves (monitoring, not
training). "3 × forward" is the usual estimate (Kaplan et al. 2020, "Scaling
Laws for Neural Language Models": C ≈ 6·N FLOPs per token = 3 × 2·N).

``joules_per_mac`` (``[cost]``, default 1e-11 J = 10 pJ) is an order of
magnitude, not a measurement: a datacenter GPU's peak is about 2.6 pJ per
16-bit multiply-add (NVIDIA A100: 312 TFLOP/s at 400 W), real training runs at
a fraction of peak, and cooling, memory traffic and the host come on top.

A pretrained run (:mod:`descent_tui.sim.pretrain`) reports its pretraining
apart (``pretrain_macs``): paid once, shared by everyone who reuses the weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["RunCost", "costs", "forward_macs", "macs_per_step", "run_cost", "summary_line",
           "updates_to_reach"]

#: training ≈ this many forward passes (forward + a backward of two matmuls per layer)
PASSES = 3


def forward_macs(layers: Sequence[int]) -> int:
    """Multiply-adds of one example's forward pass: Σ layers[l-1]·layers[l]."""
    return sum(a * b for a, b in zip(layers, layers[1:]))


@dataclass(frozen=True, slots=True)
class RunCost:
    """One run's bill. ``*_to_target`` are None when the run never got below ``target``."""

    label: str
    target: float
    macs_per_step: int
    #: updates the run has taken so far, and their multiply-adds
    updates_taken: int
    macs_spent: int
    updates: int | None
    macs_to_target: int | None
    joules_to_target: float | None
    pretrain_macs: int
    pretrain_joules: float
    joules_per_mac: float

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "macs_per_step": self.macs_per_step,
                "updates_taken": self.updates_taken, "macs_spent": self.macs_spent,
                "joules_spent": self.macs_spent * self.joules_per_mac,
                "updates_to_target": self.updates, "macs_to_target": self.macs_to_target,
                "joules_to_target": self.joules_to_target, "pretrain_macs": self.pretrain_macs,
                "pretrain_joules": self.pretrain_joules, "joules_per_mac": self.joules_per_mac}


def macs_per_step(run: Any) -> int:
    """Training multiply-adds of one step of a network run (see the module docstring)."""
    layers = run.spec.network.model.layers
    n_train = len(run.problem.data["X"])
    examples = n_train if run.batch_size == 0 else run.batch_size * run.config.accumulate
    return PASSES * forward_macs(layers) * examples


def updates_to_reach(run: Any, target: float) -> int | None:
    """Updates the run took until its training loss was below ``target`` (None: never).

    The record of step ``s`` describes the state after ``s`` updates
    (:mod:`descent_tui.sim.run`), so the first step below is the count. A mini-batch
    run's recorded loss is that of one batch, which a lucky batch can take below the
    target long before the model gets there; such a run also records its loss on the
    whole training set (``train_loss``), and that is what the bill counts. (In a run
    longer than its history the first *kept* row below is the count: at most one
    decimation stride late.)
    """
    if "train_loss" in run.history:
        hits = np.nonzero(run.history.series("train_loss") < float(target))[0]
        return int(run.history.steps[hits[0]]) if hits.size else None
    return run.first_step_below(target)


def _pretrain_macs(run: Any) -> int:
    pre = run.config.pretrain
    if pre is None:
        return 0
    return PASSES * forward_macs(run.spec.network.model.layers) * pre.data.n * pre.steps


def run_cost(run: Any, target: float, joules_per_mac: float) -> RunCost:
    """The bill of one network run for reaching ``target``."""
    per_step = macs_per_step(run)
    updates = updates_to_reach(run, target)
    macs = None if updates is None else per_step * updates
    pre = _pretrain_macs(run)
    return RunCost(run.label, float(target), per_step, run.step, per_step * run.step, updates, macs,
                   None if macs is None else macs * joules_per_mac, pre, pre * joules_per_mac,
                   joules_per_mac)


def costs(sim: Any) -> list[RunCost]:
    """Every run's bill when the scenario has a ``[cost]`` table (else an empty list)."""
    spec = sim.spec
    cost = getattr(spec, "cost", None)
    if cost is None or getattr(spec, "network", None) is None:
        return []
    return [run_cost(rs, cost.target, cost.joules_per_mac) for rs in sim.runs]


def _si(value: float, unit: str) -> str:
    """``value`` with an SI prefix: 3.2e-5 J → '32 µJ'."""
    if value == 0:
        return f"0 {unit}"
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""),
                           (1e-3, "m"), (1e-6, "µ"), (1e-9, "n")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {prefix}{unit}"
    return f"{value / 1e-12:.3g} p{unit}"


def summary_line(cost: RunCost) -> str:
    """One line for the debrief: updates, multiply-adds and energy to the target."""
    if cost.updates is None:
        spent = cost.macs_spent
        head = (f"not below {cost.target:g} after {cost.updates_taken} updates:"
                f" {_si(spent, 'MAC')}, {_si(spent * cost.joules_per_mac, 'J')} spent so far")
    else:
        head = (f"{cost.updates} updates to loss < {cost.target:g}: "
                f"{_si(cost.macs_to_target, 'MAC')}, {_si(cost.joules_to_target, 'J')}")
    if cost.pretrain_macs:
        head += (f" (+ pretraining {_si(cost.pretrain_macs, 'MAC')},"
                 f" {_si(cost.pretrain_joules, 'J')}, paid once)")
    return head
