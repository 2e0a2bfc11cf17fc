"""What every run has, whatever it trains: its state, its per-step record, divergence.

A *run* is one optimizer configuration (a ``[[runs]]`` entry after overrides)
training one copy of a scenario's problem. :class:`Run` holds what landscape
and network runs share; :mod:`descent_tui.sim.landscape` and
:mod:`descent_tui.sim.network` each add one subclass with the same interface.

The contract of a step (``Run.advance``), for every kind: update ``s`` uses
the gradient measured at the point the previous record describes, then the run
measures the point it arrived at::

    optimizer.zero_grad()                 # skipped when config.forget_zero_grad
    for micro-batch in batch (config.accumulate of them):
        loss = loss_fn(model(x), y) / accumulate
        loss.backward()                   # -- that was record s - 1's measurement --
    clip_grad_norm_ / clip_grad_value_    # when set
    optimizer.step()                      # update s (Newton: optimizer.step(closure))
    optimizer.step()                      # again, on the same gradient, when config.apply_twice
    scheduler.step()
    -- measure the new point: the zero_grad / backward above, on the next batch --
    -- divergence check on that loss and gradient (below) --

so each loss and gradient is computed once, as before, and the record of step
``k`` (:class:`StepRecord`) describes the state after ``k`` updates: the loss
and gradient norm at the parameters now (a network's: on the batch the next
update will use, see :mod:`descent_tui.sim.network`), the learning rate the
next update will use, and (networks) the validation loss / accuracy there.
Record 0 is the starting point, measured by ``reset``. ``run.last`` is the
latest record; each accepted record also goes into ``run.history`` as one row of
named series (:meth:`StepRecord.row`), row 0 included.

A run is marked diverged at step ``k`` (``diverged_at = k``, ``reason`` one
sentence) when update ``k`` leaves a parameter non-finite, or the loss at the
point after ``k`` updates is not finite or exceeds the scenario's
``diverge_above``, or the gradient norm there is not finite -- then record
``k`` is kept as ``last`` but not in the history (``step`` is ``k``: the update
was applied) -- or when update ``k`` (or measuring the point after it) raises.
A start whose loss is already bad is diverged at step 0. A
diverged run takes no more steps; the other runs go on. Running out of memory
is not a divergence (the numbers did nothing wrong, the machine is too small):
it raises :class:`OutOfMemory`, a one-line error naming the run and the step. Nothing here raises on
NaN / inf, and the caller wraps the numerical work in ``np.errstate`` so no
NumPy warning is printed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from descent_tui.engine.nn.utils import clip_grad_norm_, clip_grad_value_
from descent_tui.scenario import schema as S
from descent_tui.scenario.errors import ScenarioError
from descent_tui.sim import build
from descent_tui.sim.flat import is_plain
from descent_tui.sim.history import History

__all__ = ["HISTORY_CAPACITY", "LayerRecord", "OutOfMemory", "Problem", "Run", "StepRecord",
           "divergence_reason", "fmt_value", "load_optimizer_state", "load_scheduler_state",
           "optimizer_state", "record_values", "scheduler_state", "sqnorm"]


class OutOfMemory(ScenarioError, MemoryError):
    """A step could not allocate its arrays: an error for the learner, never a divergence.

    A :class:`~descent_tui.scenario.errors.ScenarioError` (one line; the CLI prints
    it and exits 2) and a :class:`MemoryError` (what it is).
    """


#: rows a run's history keeps (it decimates beyond, see :class:`History`)
HISTORY_CAPACITY = 2000


def fmt_value(x: float) -> str:
    """A number as a divergence message shows it: 3 significant digits, NaN spelled so."""
    if isinstance(x, float) and math.isnan(x):
        return "NaN"
    return f"{x:.3g}"


def sqnorm(a: np.ndarray) -> float:
    """‖a‖², the squared Euclidean norm of an array."""
    return float(np.vdot(a, a))


@dataclass(frozen=True, slots=True)
class StepRecord:
    """The scalars of the state after ``step`` updates (see the module docstring).

    ``loss`` and ``grad_norm`` are measured at the parameters after ``step``
    updates, ``lr`` is what update ``step + 1`` will use; the validation and
    accuracy fields are None where they do not apply (landscapes, regression, no
    validation split). ``grad_norm`` is None only where it could not be measured
    (parameters that became non-finite).
    """

    step: int
    loss: float | None
    val_loss: float | None = None
    accuracy: float | None = None
    val_accuracy: float | None = None
    lr: float | None = None
    grad_norm: float | None = None

    def row(self) -> dict[str, Any]:
        """The history row of this step: ``loss``, ``lr``, ``grad_norm``, then the rest set."""
        row: dict[str, Any] = {"loss": self.loss, "lr": self.lr, "grad_norm": self.grad_norm}
        if self.val_loss is not None:
            row["val_loss"] = self.val_loss
        if self.accuracy is not None:
            row["accuracy"] = self.accuracy
        if self.val_accuracy is not None:
            row["val_accuracy"] = self.val_accuracy
        return row


@dataclass(frozen=True, slots=True)
class LayerRecord:
    """One Linear layer after a network step (its activation's statistics on the batch).

    ``grad_norm`` is sqrt(‖dL/dW‖² + ‖dL/db‖²) before the update; ``update_ratio``
    is ‖ΔW‖ / ‖W‖ of the update; ``act_mean`` / ``act_std`` describe the layer's
    output on the last micro-batch. ``dead_frac`` (ReLU family: units that never
    fired on the batch) and ``saturated_frac`` (sigmoid / tanh: outputs within
    0.02 of a bound) are None where they do not apply.
    """

    name: str
    grad_norm: float
    weight_norm: float
    update_ratio: float
    act_mean: float
    act_std: float
    dead_frac: float | None = None
    saturated_frac: float | None = None

    #: the series a layer adds to the history, as ``"<name>.<field>"``
    FIELDS: ClassVar[tuple[str, ...]] = ("grad_norm", "weight_norm", "update_ratio",
                                         "act_mean", "act_std", "dead_frac", "saturated_frac")

    def add_to(self, row: dict[str, Any]) -> None:
        """Add this layer's non-None fields to a history row."""
        prefix = self.name + "."
        for key in self.FIELDS:
            v = getattr(self, key)
            if v is not None:
                row[prefix + key] = v


def divergence_reason(record: StepRecord, diverge_above: float) -> str | None:
    """Why step ``record.step`` counts as diverged (None: it does not)."""
    s, loss_v, gnorm = record.step, record.loss, record.grad_norm
    if not math.isfinite(loss_v):
        return f"loss is {fmt_value(loss_v)} at step {s} (gradient norm {fmt_value(gnorm)})"
    if loss_v > diverge_above:
        return (f"loss {fmt_value(loss_v)} exceeded {fmt_value(diverge_above)} at step {s}"
                f" (gradient norm {fmt_value(gnorm)})")
    if not math.isfinite(gnorm):
        return f"gradient norm is {fmt_value(gnorm)} at step {s} (loss {fmt_value(loss_v)})"
    return None


class Problem:
    """What every run of one scenario trains on, built once and shared (one subclass per kind).

    ``make_run`` builds a run of the matching kind; the plotting helpers answer
    for the kinds that have them (a landscape's loss surface, a network's data).
    """

    kind: ClassVar[str] = ""
    #: network: the train / validation arrays ``X, y, X_val, y_val`` (None for landscapes)
    data: dict[str, np.ndarray] | None = None

    def make_run(self, index: int, config: S.Run, spec: S.Scenario,
                 thresholds: Sequence[float]) -> Run:
        raise NotImplementedError

    def loss_grid(self, nx: int = 60, ny: int = 30, bounds: Any = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        raise ValueError("loss_grid needs a landscape scenario")

    def loss_at(self, point: Any) -> float:
        raise ValueError("loss_at needs a landscape scenario")


class Run:
    """One run: its config after overrides, engine objects, latest record and history.

    Subclasses build their engine objects in :meth:`reset` and implement
    :meth:`_train_step`; :meth:`advance` is the one way to take a step.
    """

    #: the scenario kind this class trains ("landscape" | "network")
    kind: ClassVar[str] = ""

    def __init__(self, index: int, config: S.Run, spec: S.Scenario,
                 thresholds: Sequence[float] = ()) -> None:
        self.index = index
        self.label = config.label
        self.config = config
        self.spec = spec
        self.total_steps = spec.steps
        self._thresholds = list(thresholds)
        self.optimizer: Any = None
        self.scheduler: Any = None
        self.params: list[Any] = []
        self.reset()

    def reset(self) -> None:
        """Back to step 0: clear the record and history (subclasses rebuild the model)."""
        self.step = 0
        self.diverged = False
        self.diverged_at: int | None = None
        self.reason: str | None = None
        self.history = History(HISTORY_CAPACITY)
        self.last = StepRecord(0, None)
        self.min_loss = math.inf
        self.min_loss_step: int | None = None
        #: threshold -> first step (updates taken) whose loss was below it (None: not yet)
        self.first_below: dict[float, int | None] = dict.fromkeys(self._thresholds)

    # ------------------------------------------------------------------ state
    @property
    def finished(self) -> bool:
        return self.diverged or self.step >= self.total_steps

    @property
    def lr(self) -> float:
        """The learning rate the next step will use."""
        return float(self.optimizer.param_groups[0]["lr"])

    @property
    def base_lr(self) -> float:
        """The learning-rate knob as it stands now (a live change included): the base lr
        the schedule scales, or :attr:`lr` itself for a run without a schedule."""
        return float(self.optimizer.param_groups[0].get("initial_lr", self.lr))

    def set_lr(self, lr: float) -> None:
        """Use ``lr`` from the next step on (the scheduler continues from it)."""
        for g in self.optimizer.param_groups:
            g["lr"] = lr
            if "initial_lr" in g:
                g["initial_lr"] = lr
        build.set_scheduler_base_lr(self.scheduler, lr)

    def first_step_below(self, threshold: float) -> int | None:
        """First step whose training loss was below ``threshold``: updates it took (0: the start)."""
        th = float(threshold)
        if th in self.first_below:
            return self.first_below[th]
        loss = self.history.series("loss")
        hits = np.nonzero(loss < th)[0]
        return int(self.history.steps[hits[0]]) if hits.size else None

    def decision_grid(self, n: int = 40, ny: int | None = None
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """A map of the model's output over a 2-feature input plane (None: this run has none)."""
        return None

    def fit_curve(self, n: int = 100) -> tuple[np.ndarray, np.ndarray] | None:
        """The model's output over a 1-feature input line (None: this run has none)."""
        return None

    # ------------------------------------------------------------------- step
    def advance(self) -> None:
        """Take update ``self.step + 1`` and measure where it lands (see the module docstring).

        An error diverges the run; raises :class:`OutOfMemory` (the run is left as
        it was) when NumPy cannot allocate the step's arrays.
        """
        self._guarded(self.step + 1, self._train_step)

    def _start(self) -> None:
        """Measure the starting point: record 0 (subclasses call this at the end of ``reset``)."""
        self._guarded(0, self._observe)

    def _guarded(self, s: int, work: Any) -> None:
        """``work(s)``; an exception diverges the run at ``s``, MemoryError is OutOfMemory."""
        try:
            work(s)
        except MemoryError:
            raise OutOfMemory(f"run '{self.label}': out of memory at step {s}; this scenario"
                              " is too large for this machine (fewer samples, a smaller"
                              " batch_size or narrower layers)") from None
        except Exception as e:
            self._diverge(s, f"{type(e).__name__} at step {s}: {e}")

    def _measure(self, s: int) -> tuple[StepRecord, dict[str, Any]]:
        """Loss and gradient at the current parameters: record ``s`` and its history row.

        Leaves the gradient where the next update finds it.
        """
        raise NotImplementedError

    def _observe(self, s: int) -> None:
        """Measure the point after ``s`` updates; keep record ``s`` unless it diverges."""
        record, row = self._measure(s)
        if self._check(record, row):
            self._record(record, row)

    def _broken(self, s: int, reason: str) -> None:
        """Update ``s`` left a parameter non-finite: diverge, with the loss there as ``last``."""
        try:
            record, row = self._measure(s)
        except Exception:
            record, row = StepRecord(s, math.nan), {}
        self._reject(record, row)
        self._diverge(s, reason)

    def _train_step(self, s: int) -> None:
        raise NotImplementedError

    def _update(self, closure: Any = None) -> None:
        """Clip the gradients (when set), apply the optimizer, advance the schedule."""
        cfg = self.config
        if cfg.clip_norm is not None:
            clip_grad_norm_(self.params, cfg.clip_norm)
        if cfg.clip_value is not None:
            clip_grad_value_(self.params, cfg.clip_value)
        if closure is not None:
            self.optimizer.step(closure)
        else:
            self.optimizer.step()
            if cfg.apply_twice:  # the bug: a second update from the same gradients
                self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()

    def _check(self, record: StepRecord, row: dict[str, Any]) -> bool:
        """False (and the run marked diverged at ``record.step``) if the loss / gradient went bad."""
        reason = divergence_reason(record, self.spec.diverge_above)
        if reason is None:
            return True
        self._reject(record, row)
        self._diverge(record.step, reason)
        return False

    def _reject(self, record: StepRecord, row: dict[str, Any]) -> None:
        """Record ``record.step`` is the last but stays out of the history."""
        self.step = record.step
        self.last = record
        self.history.latest = row
        self.history.latest_step = record.step

    def _diverge(self, s: int, reason: str) -> None:
        self.diverged = True
        self.diverged_at = s
        self.reason = reason

    def _record(self, record: StepRecord, row: dict[str, Any]) -> None:
        """Keep an accepted record: history row, ``last``, best loss, first-below thresholds."""
        s = record.step
        self.step = s
        self.history.append(s, row)
        self.last = record
        loss_v = record.loss
        if loss_v < self.min_loss:
            self.min_loss = loss_v
            self.min_loss_step = s
        fb = self.first_below
        if fb:
            for th, at in fb.items():
                if at is None and loss_v < th:
                    fb[th] = s

    # ------------------------------------------------------------------ state
    #: attributes a step never changes (set when the run is built, or when a fork is
    #: made, before its first checkpoint); everything else is in :meth:`state_dict`.
    #: ``history`` travels beside the state (the timeline archives it once per stride)
    FIXED: ClassVar[frozenset[str]] = frozenset({
        "index", "label", "config", "spec", "total_steps", "_thresholds", "optimizer",
        "scheduler", "params", "history", "fork"})

    def state_dict(self) -> dict[str, Any]:
        """What the steps so far changed, as plain data (:mod:`descent_tui.sim.flat`):
        the record, best loss and thresholds, divergence, each parameter's data and
        gradient, the optimizer's and scheduler's state. The arrays and containers are
        the run's own, not copies: lay them flat (or copy them) before keeping them."""
        return {"step": self.step, "diverged": self.diverged, "diverged_at": self.diverged_at,
                "reason": self.reason, "last": record_values(self.last),
                "min_loss": self.min_loss, "min_loss_step": self.min_loss_step,
                "first_below": self.first_below,
                "params": [(p.data, p._grad) for p in self.params],
                "optimizer": optimizer_state(self.optimizer),
                "scheduler": scheduler_state(self.scheduler)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Put the run in the state :meth:`state_dict` gave (of this run or a copy of it;
        ``history`` is not touched). Takes ``state``'s arrays and containers as its own."""
        self.step, self.diverged = state["step"], state["diverged"]
        self.diverged_at, self.reason = state["diverged_at"], state["reason"]
        self.last = StepRecord(*state["last"])
        self.min_loss, self.min_loss_step = state["min_loss"], state["min_loss_step"]
        self.first_below = state["first_below"]
        for p, (data, grad) in zip(self.params, state["params"], strict=True):
            p.data, p._grad = data, grad
        load_optimizer_state(self.optimizer, state["optimizer"])
        load_scheduler_state(self.scheduler, state["scheduler"])

    def __repr__(self) -> str:
        status = f"diverged at {self.diverged_at}" if self.diverged else f"step {self.step}"
        return f"{type(self).__name__}({self.label!r}, {status}, loss={self.last.loss})"


def record_values(record: StepRecord | LayerRecord) -> tuple[Any, ...]:
    """A frozen record's fields as a tuple (``type(record)(*values)`` builds it back)."""
    return tuple(getattr(record, name) for name in record.__slots__)


#: what an optimizer holds that :meth:`Optimizer.state_dict` covers or never changes
_OPTIMIZER_OWN = frozenset({"defaults", "state", "param_groups", "_last_lr"})


def optimizer_state(optimizer: Any) -> dict[str, Any]:
    """An optimizer's state as plain data: its ``state_dict()``, the lr each group's
    last step used, and what else a step left on it (Newton's last Hessian)."""
    groups = optimizer.param_groups
    return {"state_dict": optimizer.state_dict(),
            "last_lr": [optimizer._last_lr.get(id(g)) for g in groups],
            "extra": {k: v for k, v in vars(optimizer).items() if k not in _OPTIMIZER_OWN}}


def load_optimizer_state(optimizer: Any, saved: dict[str, Any]) -> None:
    """The inverse of :func:`optimizer_state`, on an optimizer of the same parameters."""
    optimizer.load_state_dict(saved["state_dict"])
    optimizer._last_lr = {id(g): lr for g, lr in zip(optimizer.param_groups, saved["last_lr"],
                                                      strict=True) if lr is not None}
    extra = saved["extra"]
    for name in [k for k in vars(optimizer) if k not in _OPTIMIZER_OWN and k not in extra]:
        delattr(optimizer, name)
    for name, value in extra.items():
        setattr(optimizer, name, value)


def scheduler_state(scheduler: Any) -> dict[str, Any] | None:
    """A scheduler's state as plain data: the plain entries of its ``state_dict()``
    (the rest, functions and milestone counters, never changes) and those of the
    schedulers it chains."""
    if scheduler is None:
        return None
    own = {k: v for k, v in scheduler.state_dict().items() if k != "_schedulers" and is_plain(v)}
    return {"own": own, "chained": [scheduler_state(s)
                                    for s in getattr(scheduler, "_schedulers", ())]}


def load_scheduler_state(scheduler: Any, saved: dict[str, Any] | None) -> None:
    """The inverse of :func:`scheduler_state`."""
    if scheduler is None or saved is None:
        return
    scheduler.load_state_dict(saved["own"])
    for sub, state in zip(getattr(scheduler, "_schedulers", ()), saved["chained"], strict=True):
        load_scheduler_state(sub, state)
