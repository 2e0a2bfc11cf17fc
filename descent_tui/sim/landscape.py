"""Landscape runs: an optimizer walking a loss written as a formula of a few parameters.

The problem (:class:`LandscapeProblem`) is the scenario's expression, shared by
every run; a :class:`LandscapeRun` is one optimizer on it. The parameters are
one vector Tensor ``theta``: the optimizer updates (and ``inspect_state``
reports) all coordinates at once, and each step the loss is built from scalar
leaves ``theta[i]`` whose gradients are gathered into ``theta.grad``.

The record of step ``k`` (:class:`~descent_tui.sim.run.StepRecord`) carries the
loss and gradient norm at the point after ``k`` updates, the point drawn; its
history row adds ``param.<name>`` (that point) and ``grad.<name>`` (the
gradient there, which update ``k + 1`` will use). Update ``k`` leaving a
coordinate non-finite marks the run diverged at ``k``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from descent_tui.engine import Tensor
from descent_tui.scenario import schema as S
from descent_tui.sim import build
from descent_tui.sim.run import Problem, Run, StepRecord, fmt_value, sqnorm

__all__ = ["LandscapeProblem", "LandscapeRun"]


class LandscapeProblem(Problem):
    """The scenario's loss formula: parsed once, compiled for Tensors, plotted on a grid."""

    kind = "landscape"

    def __init__(self, spec: S.Scenario, base_dir: Any = None) -> None:
        from descent_tui.scenario.expr import parse

        self.spec = spec
        ls = spec.landscape
        self.expr = parse(ls.loss, ls.params)
        #: ``env -> loss`` on Tensors: the expression compiled into engine ops
        self.loss_fn = self.expr.compile()
        self._grid_cache: dict[tuple, tuple] = {}

    @property
    def expression(self) -> Any:
        """The parsed loss expression (the inspector compiles it with named nodes)."""
        return self.expr

    def make_run(self, index: int, config: S.Run, spec: S.Scenario,
                 thresholds: Sequence[float]) -> LandscapeRun:
        return LandscapeRun(self, index, config, spec, thresholds)

    def value(self, point: np.ndarray) -> float:
        """The loss at ``point`` (one value per param; NaN where it cannot be evaluated)."""
        env = {n: np.float64(v) for n, v in zip(self.spec.landscape.params, point, strict=True)}
        try:
            return float(self.expr.evaluate(env))
        except Exception:
            return math.nan

    def loss_at(self, point: Any) -> float:
        with np.errstate(all="ignore"):
            return self.value(np.asarray(point, dtype=float))

    def loss_grid(self, nx: int = 60, ny: int = 30, bounds: Any = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ls = self.spec.landscape
        bounds = ls.plot_bounds() if bounds is None else [tuple(map(float, b)) for b in bounds]
        key = (int(nx), int(ny), tuple(bounds))
        hit = self._grid_cache.get(key)
        if hit is not None:
            return hit
        if len(self._grid_cache) > 16:  # zooming in and out: keep the cache small
            self._grid_cache.clear()
        xs = np.linspace(bounds[0][0], bounds[0][1], nx)
        if len(ls.params) >= 2:
            ys = np.linspace(bounds[1][0], bounds[1][1], ny)
        else:
            ys = np.linspace(0.0, 1.0, ny)
        gx, gy = np.meshgrid(xs, ys)
        env: dict[str, Any] = {}
        for i, name in enumerate(ls.params):
            if i == 0:
                env[name] = gx
            elif i == 1:
                env[name] = gy
            else:
                env[name] = np.full_like(gx, float(ls.start[i]))
        with np.errstate(all="ignore"):
            Z = np.broadcast_to(np.asarray(self.expr.evaluate(env), dtype=float),
                                gx.shape).copy()
        self._grid_cache[key] = (xs, ys, Z)
        return xs, ys, Z


class LandscapeRun(Run):
    """One optimizer on the landscape: a point, its path, the optimizer's state there."""

    kind = "landscape"

    def __init__(self, problem: LandscapeProblem, index: int, config: S.Run,
                 spec: S.Scenario, thresholds: Sequence[float] = ()) -> None:
        self.problem = problem
        self.param_names = list(spec.landscape.params)
        super().__init__(index, config, spec, thresholds)

    def reset(self) -> None:
        """Back to the start point with a fresh optimizer and scheduler."""
        super().reset()
        ls = self.spec.landscape
        start = self.config.start if self.config.start is not None else ls.start
        self.theta = Tensor(np.array(start, dtype=np.float64), requires_grad=True)
        self.params = [self.theta]
        self.optimizer = build.build_optimizer(self.config, self.params)
        self.scheduler = build.build_scheduler(self.config, self.optimizer, self.total_steps)
        #: the gradient at the current point (what the next update will use)
        self.grad = np.zeros(len(start))
        self._point = self.theta.data.copy()  # where ``grad`` was measured
        self._leaves: list[Tensor] | None = None
        self._env: dict[str, Tensor] = {}
        self._start()

    # ------------------------------------------------------------------ state
    #: ``_leaves`` and ``_env`` are a cache of views of ``theta``, rebuilt on demand
    FIXED = Run.FIXED | {"problem", "param_names", "theta", "_leaves", "_env"}

    def state_dict(self) -> dict[str, Any]:
        """:meth:`Run.state_dict` and the gradient measured at the point (and that point)."""
        state = super().state_dict()
        state.update(grad=self.grad, _point=self._point)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.grad, self._point = state["grad"], state["_point"]
        self._leaves, self._env = None, {}  # views of the old theta.data: rebuilt

    @property
    def expression(self) -> Any:
        """The parsed loss expression this run descends."""
        return self.problem.expression

    @property
    def point(self) -> np.ndarray:
        """The current parameter vector (a copy)."""
        return self.theta.data.copy()

    def _inspect(self, key: str) -> np.ndarray | None:
        v = self.optimizer.inspect_state(self.theta).get(key)
        return None if v is None else np.asarray(v, dtype=float).reshape(-1)

    @property
    def velocity(self) -> np.ndarray | None:
        """Momentum buffer / Adam's bias-corrected first moment (None if the method has none)."""
        return self._inspect("velocity")

    @property
    def step_size(self) -> np.ndarray | None:
        """Effective per-parameter learning rate of the last step."""
        return self._inspect("step_size")

    @property
    def sq_avg(self) -> np.ndarray | None:
        return self._inspect("sq_avg")

    @property
    def path(self) -> np.ndarray:
        """(k, n_params) trajectory: the kept history points, then the current point if not kept."""
        cols = [self.history.series("param." + n) for n in self.param_names]
        past = np.column_stack(cols) if cols and len(cols[0]) else np.zeros((0, len(cols)))
        steps = self.history.steps
        if len(steps) and steps[-1] == self.step and not self.diverged:
            return past
        return np.vstack([past, self.point[None, :]])

    # ------------------------------------------------------------------- step
    def forward_backward(self) -> tuple[float, np.ndarray]:
        """loss(theta) with autograd; returns (loss, gradient) without touching theta.grad.

        The scalar leaves are 0-d views of ``theta.data`` (so in-place updates by the
        optimizer or the Hessian's nudges are seen), their gradients reset each time.
        """
        td = self.theta.data
        leaves = self._leaves
        if leaves is None or leaves[0].data.base is not td:
            leaves = self._leaves = [Tensor(0.0, requires_grad=True) for _ in self.param_names]
            for i, t in enumerate(leaves):
                t.data = td[i, ...]
            self._env = dict(zip(self.param_names, leaves, strict=True))
        for t in leaves:
            t.grad = None
        loss = self.problem.loss_fn(self._env)
        if isinstance(loss, Tensor) and loss.requires_grad:
            loss.backward()
        grad = np.array([0.0 if t.grad is None else t.grad for t in leaves], dtype=float)
        return float(loss.data if isinstance(loss, Tensor) else loss), grad

    def _measure(self, s: int) -> tuple[StepRecord, dict[str, Any]]:
        point = self.theta.data.copy()
        loss_v, grad = self.forward_backward()
        self.grad, self._point = grad, point
        record = StepRecord(s, loss_v, lr=self.lr, grad_norm=math.sqrt(sqnorm(grad)))
        row = record.row()
        for name, pv, gv in zip(self.param_names, point.tolist(), grad.tolist(), strict=True):
            row["param." + name] = pv
            row["grad." + name] = gv
        return record, row

    def _train_step(self, s: int) -> None:
        """Update ``s`` with the gradient measured at the current point, then measure anew."""
        theta, grad = self.theta, self.grad
        if not self.config.forget_zero_grad:
            self.optimizer.zero_grad()
        # leaves accumulate, as in PyTorch: without zero_grad the old gradient stays
        theta.grad = grad if theta.grad is None else theta.grad + grad
        self._update(self._newton_closure(self.last.loss, grad, self._point)
                     if self.config.optimizer == "newton" else None)
        if not np.isfinite(theta.data).all():
            bad = theta.data[~np.isfinite(theta.data)][0]
            self._broken(s, f"parameters became {fmt_value(float(bad))} at step {s} "
                            f"(gradient norm {fmt_value(self.last.grad_norm)})")
            return
        self._observe(s)

    def _newton_closure(self, loss_v: float, grad: np.ndarray, point: np.ndarray) -> Any:
        """Newton's closure: re-evaluates loss and gradient (theta.grad) at theta."""
        theta = self.theta
        cached = [loss_v, grad.copy(), point]

        def closure():
            # Newton first asks for the loss at the current point: we just computed it
            if cached and np.array_equal(theta.data, cached[2]):
                value, g = cached[0], cached[1]
                cached.clear()
            else:
                cached.clear()
                value, g = self.forward_backward()
            theta.grad = g
            return value

        return closure
