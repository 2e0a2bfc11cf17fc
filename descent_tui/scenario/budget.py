"""What one training step of a network scenario costs, estimated from the file alone.

A mission file may describe a network that validates but cannot run on a
laptop (100 000 samples through ten 1024-wide layers, eight runs side by side;
Newton's method on ten thousand parameters).  The loader refuses such a file
before anything is allocated, naming the key and the estimate; ``--set`` and
the knobs go through the same rules, so they cannot reach it either.

The model (float64, 8 bytes a number; ``P`` parameters, ``r`` rows in a batch,
``w_1 … w_L`` the widths after the input)::

    memory  = Σ_runs 6·P                      weights, gradients, two optimizer moments,
                                               the copy kept for the layer panel, a temporary
            + max_runs  4·r·Σ w_l             each layer's linear output, activation and
                                               their gradients, kept for the backward pass
            + max_newton 3·P²                  Newton: the Hessian, its symmetrised copy, the solve
    work    = Σ_runs 6·r·P                     forward (2·r·P) + backward (4·r·P) on the batch
            + Σ_runs 2·v·P                     the validation forward pass (v rows)
            + Σ_newton (2P·6·r·P + P³/3)       Newton: 2P gradient evaluations + the solve

The estimate is rough (within a small factor of what NumPy really allocates)
but monotone in every key, which is what a refusal needs: the limits below sit
far above every shipped mission and far below what swaps a laptop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from descent_tui.scenario import schema as S
from descent_tui.scenario.errors import Problems

__all__ = ["MAX_STEP_BYTES", "MAX_STEP_FLOPS", "NEWTON_MAX_PARAMS", "StepCost", "check_budget", "step_cost"]

BYTES = 8
#: the most memory one step may need (estimate)
MAX_STEP_BYTES = 2 * 1024**3
#: the most arithmetic one step may need (estimate; a laptop core does ~1e9-1e10 a second)
MAX_STEP_FLOPS = 2e10
#: Newton's full Hessian is offered (as a run's optimizer or a knob) up to this many parameters
NEWTON_MAX_PARAMS = 400


@dataclass(frozen=True)
class StepCost:
    """The estimate for one step of every run, and the parts it is made of."""

    bytes: float
    flops: float
    #: parameters of the network; Hessian bytes of the largest Newton run (0 if none)
    n_params: int
    newton_bytes: float


def n_parameters(layers: list[int]) -> int:
    """Weights and biases of the Linear layers ``layers[0] → layers[1] → …``."""
    return sum(a * b + b for a, b in zip(layers, layers[1:]))


def _batch_rows(net: S.Network, run: S.Run, n_train: int) -> int:
    """Rows through the network at once: the micro-batch (0 or too big = the train set)."""
    bs = run.batch_size if run.batch_size is not None else net.batch_size
    rows = n_train if bs == 0 or bs >= n_train else bs
    return max(1, math.ceil(rows / max(1, run.accumulate)))


def _newton_cost(p: int, rows: int) -> tuple[float, float]:
    """(bytes, flops) Newton adds to a step on ``p`` parameters and ``rows`` rows."""
    return 3.0 * p * p * BYTES, 2.0 * p * 6.0 * rows * p + p**3 / 3.0


def step_cost(spec: S.Scenario, n_rows: int, optimizers: list[str] | None = None) -> StepCost:
    """The estimate of :mod:`this module <descent_tui.scenario.budget>` for ``spec``.

    ``n_rows`` is the size of the data set; ``optimizers`` (default: each run's)
    lets a caller price a choice the file offers (a knob).
    """
    net = spec.network
    assert net is not None
    layers = net.model.layers
    p = n_parameters(layers)
    n_val = int(n_rows * net.val_split)
    n_train = max(1, n_rows - n_val)
    widths = sum(layers[1:])
    optimizers = optimizers or [run.optimizer for run in spec.runs]
    memory = act = flops = newton = 0.0
    for run, optimizer in zip(spec.runs, optimizers):
        rows = _batch_rows(net, run, n_train)
        memory += 6.0 * p * BYTES
        act = max(act, 4.0 * rows * widths * BYTES, 3.0 * max(n_train, n_val) * max(layers) * BYTES)
        flops += 6.0 * rows * p + 2.0 * n_val * p
        if optimizer == "newton":
            nb, nf = _newton_cost(p, rows)
            newton = max(newton, nb)
            flops += nf
    return StepCost(bytes=memory + act + newton, flops=flops, n_params=p, newton_bytes=newton)


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"  # pragma: no cover


def _refusal(cost: StepCost) -> str | None:
    """Why ``cost`` is too much for a laptop, or None."""
    if cost.bytes > MAX_STEP_BYTES:
        return (f"one step needs about {_size(cost.bytes)} of memory"
                f" (limit {_size(MAX_STEP_BYTES)})")
    if cost.flops > MAX_STEP_FLOPS:
        return (f"one step needs about {cost.flops:.1e} floating-point operations"
                f" (limit {MAX_STEP_FLOPS:.0e})")
    return None


def check_budget(spec: S.Scenario, n_rows: int, probs: Problems) -> None:
    """Refuse a network whose step is beyond a laptop, naming the key that makes it so."""
    net = spec.network
    if net is None or n_rows <= 0:
        return
    base = step_cost(spec, n_rows, ["sgd"] * len(spec.runs))
    why = _refusal(base)
    if why is not None:
        probs.add("network.model.layers",
                  f"{why}: {len(spec.runs)} run(s) × {n_rows} samples × layers"
                  f" {net.model.layers} ({base.n_params} parameters); use fewer samples,"
                  " a smaller batch_size, narrower layers or fewer runs")
        return
    for i, run in enumerate(spec.runs):
        if run.optimizer == "newton":
            why = _refusal(step_cost(spec, n_rows))
            if why is not None:
                probs.add(f"runs[{i}].optimizer", f"'newton' on {base.n_params} parameters: {why}")
                return
    knob = spec.knobs.present().get("optimizer")
    if knob is not None and "newton" in (knob.choices or []):
        why = _refusal(step_cost(spec, n_rows, ["newton"] * len(spec.runs)))
        if base.n_params > NEWTON_MAX_PARAMS:
            why = f"needs the full Hessian (max {NEWTON_MAX_PARAMS} parameters)"
        if why is not None:
            probs.add("knobs.optimizer.choices",
                      f"offers 'newton', which on {base.n_params} parameters: {why}")
