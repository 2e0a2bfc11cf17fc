"""Transfer learning: a run that starts from weights trained on a related data set.

A run with ``[runs.pretrain]`` (``data``, ``steps``, optional ``lr``) does not
start from its random initialisation. Its model is first initialised exactly as
it would be (the run's seed), then trained on the pretraining data::

    for k in 1 .. pretrain.steps:           # full batch, the run's optimizer settings
        optimizer.zero_grad()
        loss_fn(model(X_pre), y_pre).backward()
        optimizer.step()

and the run begins its own step 1 from those weights with a fresh optimizer (the
moments of pretraining are not carried over, as when one loads a published
checkpoint). Pretraining is the work of "someone else, once": its cost is
reported apart from the run's own (:mod:`descent_tui.sim.cost`).

The weights are cached on the problem, keyed by everything that determines
them, so resetting a run (a knob, ``r``) does not pretrain again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np

from descent_tui.engine import Tensor
from descent_tui.scenario import schema as S
from descent_tui.sim import build

__all__ = ["load_pretrained"]


def _key(spec: S.Scenario, config: S.Run) -> bytes:
    """Everything the pretrained weights depend on (not the label, not the schedule)."""
    cfg = msgspec.structs.replace(config, label="-", schedule=None)
    return msgspec.json.encode([cfg, build.run_model_spec(spec, config), spec.network.loss,
                                build.run_seed(spec, config)])


def _pretrain_problem(spec: S.Scenario, pre: S.Pretrain) -> Any:
    """The pretraining data set, prepared as the scenario's own is (targets, one-hot)."""
    from descent_tui.sim.network import NetworkProblem

    net = msgspec.structs.replace(spec.network, data=pre.data, val_split=0.0, batch_size=0)
    return NetworkProblem(msgspec.structs.replace(spec, network=net))


def _train(params: list[Any], forward: Callable[[np.ndarray], Tensor], problem: Any,
           config: S.Run, pre: S.Pretrain) -> None:
    """``pre.steps`` full-batch updates of ``params`` on ``problem``'s data."""
    run_cfg = msgspec.structs.replace(config, lr=pre.lr or config.lr, pretrain=None,
                                      apply_twice=False, forget_zero_grad=False)
    opt = build.build_optimizer(run_cfg, params)
    X, y = problem.data["X"], problem.data["y"]
    for _ in range(pre.steps):
        opt.zero_grad()
        problem.criterion(forward(X), y).backward()
        opt.step()


def load_pretrained(run: Any) -> None:
    """Overwrite ``run``'s freshly initialised parameters with the pretrained ones."""
    pre = run.config.pretrain
    problem = run.problem
    cache: dict[bytes, list[np.ndarray]] = problem.__dict__.setdefault("_pretrained", {})
    key = _key(run.spec, run.config)
    weights = cache.get(key)
    if weights is None:
        _train(run.params, run.forward, _pretrain_problem(run.spec, pre), run.config, pre)
        weights = cache[key] = [p.data.copy() for p in run.params]
        for p in run.params:
            p.grad = None
    for p, w in zip(run.params, weights, strict=True):
        p.data[...] = w
