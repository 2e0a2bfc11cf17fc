"""The simulation: every run of a scenario, trained side by side, step by step.

See /work/notes/sim_api.md for the contract. A training step is the PyTorch loop,
written with the engine::

    optimizer.zero_grad()                 # skipped when run.forget_zero_grad
    for micro-batch in batch (run.accumulate of them):
        loss = loss_fn(model(x), y) / accumulate
        loss.backward()
    clip_grad_norm_ / clip_grad_value_    # when set
    optimizer.step()                      # Newton: optimizer.step(closure)
    scheduler.step()

Metrics recorded at step ``s`` (1-based) describe that step: the loss and
gradient at the parameters *before* update ``s``, the lr it used, and the
update it made. A run whose loss or gradient stops being finite (or whose loss
exceeds ``spec.diverge_above``) is marked diverged at that step and stops; the
others go on. Nothing here raises on NaN/inf or prints numpy warnings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from descent_tui.engine import Tensor, no_grad
from descent_tui.engine import functional as F
from descent_tui.engine.nn.utils import clip_grad_norm_, clip_grad_value_
from descent_tui.scenario import schema as S
from descent_tui.scenario.overrides import apply as apply_changes
from descent_tui.sim import build
from descent_tui.sim.history import History

__all__ = ["RunState", "Simulation"]

HISTORY_CAPACITY = 2000


def _fmt(x: float) -> str:
    if isinstance(x, float) and math.isnan(x):
        return "NaN"
    return f"{x:.3g}"


def _sqnorm(a: np.ndarray) -> float:
    return float(np.vdot(a, a))


def _isfinite(x: float) -> bool:
    return math.isfinite(x)


class RunState:
    """One run: its config after overrides, engine objects, metrics and history."""

    def __init__(self, index: int, config: S.Run, total_steps: int) -> None:
        self.index = index
        self.label = config.label
        self.config = config
        self.step = 0
        self.total_steps = total_steps
        self.diverged = False
        self.diverged_at: int | None = None
        self.reason: str | None = None
        self.history = History(HISTORY_CAPACITY)
        self.last: dict[str, Any] = {}
        self.layers: list[dict[str, Any]] = []
        #: per-layer stats of the first step (for ``smallest_grad_layer``)
        self.first_layers: list[dict[str, Any]] | None = None
        self.model: Any = None
        self.optimizer: Any = None
        self.scheduler: Any = None
        self.params: list[Tensor] = []
        self.min_loss = math.inf
        self.min_loss_step: int | None = None
        #: threshold -> first step whose loss was below it (None: not yet)
        self.first_below: dict[float, int | None] = {}
        # landscape
        self.param_names: list[str] = []
        self.theta: Tensor | None = None
        self._leaves: list[Tensor] | None = None
        self._env: dict[str, Tensor] = {}
        self.grad: np.ndarray | None = None
        self._point: np.ndarray | None = None
        # network
        self.linears: list[Any] = []
        self.acts: list[str] = []
        self.act_modules: list[Any] = []
        self.batch_size = 0
        self.epoch = 0
        self._order: np.ndarray | None = None
        self._pos = 0
        self._shuffle_rng: np.random.Generator | None = None

    # ------------------------------------------------------------------ state
    @property
    def finished(self) -> bool:
        return self.diverged or self.step >= self.total_steps

    @property
    def lr(self) -> float:
        """The learning rate the next step will use."""
        return float(self.optimizer.param_groups[0]["lr"])

    # -------------------------------------------------------------- landscape
    @property
    def point(self) -> np.ndarray | None:
        """Current parameter vector (landscape; None for networks)."""
        if self.theta is None:
            return None
        return self.theta.data.copy()

    def _inspect(self, key: str) -> np.ndarray | None:
        if self.theta is None or self.optimizer is None:
            return None
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
        """(k, n_params) trajectory: the kept history points, then the current point."""
        if not self.param_names:
            return np.zeros((0, 0))
        cols = [self.history.series("param." + n) for n in self.param_names]
        past = np.column_stack(cols) if cols and len(cols[0]) else np.zeros((0, len(cols)))
        return np.vstack([past, self.point[None, :]])

    # ------------------------------------------------------------------ misc
    def first_step_below(self, threshold: float) -> int | None:
        """First step whose training loss was below ``threshold``."""
        th = float(threshold)
        if th in self.first_below:
            return self.first_below[th]
        loss = self.history.series("loss")
        hits = np.nonzero(loss < th)[0]
        return int(self.history.steps[hits[0]]) if hits.size else None

    def _batch_indices(self, n: int) -> np.ndarray:
        """The next ``batch_size`` indices of this epoch's shuffled order."""
        bs = self.batch_size
        if self._order is None or self._pos >= n:
            self._order = self._shuffle_rng.permutation(n)
            self._pos = 0
            if self.step:
                self.epoch += 1
        idx = self._order[self._pos:self._pos + bs]
        self._pos += bs
        return idx

    def __repr__(self) -> str:
        status = f"diverged at {self.diverged_at}" if self.diverged else f"step {self.step}"
        return f"RunState({self.label!r}, {status}, loss={self.last.get('loss')})"


class Simulation:
    """All runs of a loaded scenario; ``step(n)`` advances them together."""

    def __init__(self, loaded: Any, overrides: Mapping[str, Any] | None = None) -> None:
        self.loaded = loaded
        self.base_spec: S.Scenario = loaded.spec
        self._data: dict[str, np.ndarray] | None = None
        self._expr = None
        self._grid_cache: dict[tuple[int, int], tuple] = {}
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

    def reset(self, overrides: Mapping[str, Any] | None = None) -> None:
        """Rebuild every run from the spec and ``overrides`` (raise OverrideError if bad)."""
        spec = apply_changes(self.loaded, overrides or {}).spec
        runs = list(spec.runs)
        self.overrides = dict(overrides or {})
        self.spec = spec
        self.total_steps = spec.steps
        self.step_count = 0
        self._thresholds = sorted({float(q.threshold) for q in spec.quiz.prediction
                                   if q.metric == "first_below" and q.threshold is not None})
        if self.kind == "landscape":
            if self._expr is None:
                from descent_tui.scenario.expr import parse

                ls = spec.landscape
                self._expr = parse(ls.loss, ls.params)
                self._fast = self._expr.compile()
        else:
            self._load_data()
        self.runs = []
        with np.errstate(all="ignore"):
            for i, cfg in enumerate(runs):
                rs = RunState(i, cfg, self.total_steps)
                rs.first_below = dict.fromkeys(self._thresholds)
                if self.kind == "landscape":
                    self._setup_landscape(rs)
                else:
                    self._setup_network(rs)
                self.runs.append(rs)

    def _setup_landscape(self, rs: RunState) -> None:
        ls = self.spec.landscape
        start = rs.config.start if rs.config.start is not None else ls.start
        rs.param_names = list(ls.params)
        # one vector parameter: the optimizer updates (and inspect_state reports) all
        # coordinates at once; each step the loss is built from scalar leaves
        # theta[i] and their gradients are gathered into theta.grad
        rs.theta = Tensor(np.array(start, dtype=np.float64), requires_grad=True)
        rs.params = [rs.theta]
        rs.optimizer = build.build_optimizer(rs.config, rs.params)
        rs.scheduler = build.build_scheduler(rs.config, rs.optimizer, self.total_steps)
        rs.grad = np.zeros(len(start))
        loss = self._landscape_value(np.asarray(start, dtype=float))
        rs.last = {"step": 0, "loss": loss, "val_loss": None, "accuracy": None,
                   "val_accuracy": None, "lr": rs.lr, "grad_norm": None}

    def _landscape_value(self, point: np.ndarray) -> float:
        env = {n: np.float64(v) for n, v in zip(self.spec.landscape.params, point, strict=True)}
        try:
            return float(self._expr.evaluate(env))
        except Exception:
            return math.nan

    def _load_data(self) -> None:
        if self._data is not None:
            return
        from descent_tui.data.datasets import make_dataset, n_classes, split

        net = self.base_spec.network
        X, y = make_dataset(net, getattr(self.loaded, "base_dir", None))
        Xtr, ytr, Xva, yva = split(X, y, net.val_split, net.data.seed)
        k = n_classes(net.data, y)
        out_dim = net.model.layers[-1]
        classification = k is not None and (net.loss != "mse" or net.data.kind not in
                                            S.REGRESSION_DATASETS)
        if net.loss == "mse" and classification and out_dim > 1:
            ytr = np.eye(out_dim)[ytr.astype(np.int64).reshape(-1)]
            yva = np.eye(out_dim)[yva.astype(np.int64).reshape(-1)]
        self._data = {"X": Xtr, "y": ytr, "X_val": Xva, "y_val": yva}
        self.classification = bool(classification)
        self.n_classes = k

    @property
    def data(self) -> dict[str, np.ndarray] | None:
        """Network: the train / validation arrays ``X, y, X_val, y_val`` (None for landscapes)."""
        return self._data

    def _setup_network(self, rs: RunState) -> None:
        net = self.spec.network
        seed = build.run_seed(self.spec, rs.config)
        init_ss, shuffle_ss = np.random.SeedSequence(seed).spawn(2)
        model, linears, acts = build.build_model(self.spec, rs.config, np.random.default_rng(init_ss))
        rs.model, rs.linears, rs.acts = model, linears, acts
        rs.act_modules = [model[2 * i + 1] if 2 * i + 1 < len(model) else None
                          for i in range(len(linears))]
        rs.params = model.parameters()
        rs.optimizer = build.build_optimizer(rs.config, rs.params)
        rs.scheduler = build.build_scheduler(rs.config, rs.optimizer, self.total_steps)
        rs._shuffle_rng = np.random.default_rng(shuffle_ss)
        bs = rs.config.batch_size if rs.config.batch_size is not None else net.batch_size
        n = len(self._data["X"])
        rs.batch_size = 0 if bs >= n else bs
        with no_grad():
            loss, acc = self._eval(rs, self._data["X"], self._data["y"])
            vloss, vacc = self._eval_val(rs)
        rs.last = {"step": 0, "loss": loss, "val_loss": vloss, "accuracy": acc,
                   "val_accuracy": vacc, "lr": rs.lr, "grad_norm": None}

    # ------------------------------------------------------------------ api
    def step(self, n: int = 1) -> int:
        """Advance every live run ``n`` steps (not past ``total_steps``); return steps done."""
        done = 0
        with np.errstate(all="ignore"):
            for _ in range(max(0, int(n))):
                if self.step_count >= self.total_steps:
                    break
                any_live = False
                for rs in self.runs:
                    if rs.finished:
                        continue
                    any_live = True
                    try:
                        if self.kind == "landscape":
                            self._step_landscape(rs)
                        else:
                            self._step_network(rs)
                    except Exception as e:
                        self._diverge(rs, rs.step + 1,
                                      f"{type(e).__name__} at step {rs.step + 1}: {e}")
                self.step_count += 1
                done += 1
                if not any_live:
                    break
        return done

    def set_lr(self, lr: float, run: int | None = None) -> None:
        """Change the learning rate now (all runs, or run index ``run``)."""
        lr = float(lr)
        if not lr > 0 or not math.isfinite(lr):
            raise ValueError(f"learning rate must be a positive number, not {lr!r}")
        targets = self.runs if run is None else [self.runs[run]]
        for rs in targets:
            for g in rs.optimizer.param_groups:
                g["lr"] = lr
                if "initial_lr" in g:
                    g["initial_lr"] = lr
            build.set_scheduler_base_lr(rs.scheduler, lr)

    # ------------------------------------------------------------- landscape
    def _landscape_forward_backward(self, rs: RunState) -> tuple[float, np.ndarray]:
        """loss(theta) with autograd; returns (loss, gradient) without touching theta.grad.

        The scalar leaves are 0-d views of ``theta.data`` (so in-place updates by the
        optimizer or the Hessian's nudges are seen), their gradients reset each time.
        """
        td = rs.theta.data
        leaves = rs._leaves
        if leaves is None or leaves[0].data.base is not td:
            leaves = rs._leaves = [Tensor(0.0, requires_grad=True) for _ in rs.param_names]
            for i, t in enumerate(leaves):
                t.data = td[i, ...]
            rs._env = dict(zip(rs.param_names, leaves, strict=True))
        for t in leaves:
            t.grad = None
        loss = self._fast(rs._env)
        if isinstance(loss, Tensor) and loss.requires_grad:
            loss.backward()
        grad = np.array([0.0 if t.grad is None else t.grad for t in leaves], dtype=float)
        return float(loss.data if isinstance(loss, Tensor) else loss), grad

    def _step_landscape(self, rs: RunState) -> None:
        cfg = rs.config
        opt = rs.optimizer
        theta = rs.theta
        s = rs.step + 1
        if not cfg.forget_zero_grad:
            opt.zero_grad()
        point = theta.data.copy()
        loss_v, grad = self._landscape_forward_backward(rs)
        # leaves accumulate, as in PyTorch: without zero_grad the old gradient stays
        theta.grad = grad if theta.grad is None else theta.grad + grad
        gnorm = math.sqrt(_sqnorm(grad))
        rs.grad = grad
        lr = float(opt.param_groups[0]["lr"])
        rec = {"loss": loss_v, "lr": lr, "grad_norm": gnorm}
        for name, pv, gv in zip(rs.param_names, point.tolist(), grad.tolist(), strict=True):
            rec["param." + name] = pv
            rec["grad." + name] = gv
        if not self._check(rs, s, loss_v, gnorm, rec):
            return
        if cfg.clip_norm is not None:
            clip_grad_norm_(rs.params, cfg.clip_norm)
        if cfg.clip_value is not None:
            clip_grad_value_(rs.params, cfg.clip_value)
        if cfg.optimizer == "newton":
            cached = [loss_v, grad.copy(), point]

            def closure():
                # Newton first asks for the loss at the current point: we just computed it
                if cached and np.array_equal(theta.data, cached[2]):
                    value, g = cached[0], cached[1]
                    cached.clear()
                else:
                    cached.clear()
                    value, g = self._landscape_forward_backward(rs)
                theta.grad = g
                return value

            opt.step(closure)
        else:
            opt.step()
        if rs.scheduler is not None:
            rs.scheduler.step()
        rs.step = s
        rs.history.append(s, rec)
        self._after(rs, s, loss_v, gnorm, lr, None, None, None)
        if not np.isfinite(theta.data).all():
            bad = theta.data[~np.isfinite(theta.data)][0]
            self._diverge(rs, s, f"parameters became {_fmt(float(bad))} at step {s} "
                                 f"(gradient norm {_fmt(gnorm)})")

    # --------------------------------------------------------------- network
    def _loss(self, out: Tensor, y: np.ndarray) -> Tensor:
        kind = self.spec.network.loss
        if kind == "mse":
            return F.mse_loss(out, y)
        if kind == "bce":
            return F.binary_cross_entropy_with_logits(out, y)
        return F.cross_entropy(out, y)

    def _correct(self, out: np.ndarray, y: np.ndarray) -> float | None:
        """Number of correct predictions (None for regression)."""
        if not self.classification:
            return None
        kind = self.spec.network.loss
        if kind == "bce":
            return float(np.count_nonzero((out > 0) == (y > 0.5)))
        if out.shape[1] == 1:  # mse on 0/1 labels
            return float(np.count_nonzero((out > 0.5) == (y > 0.5)))
        labels = y if y.ndim == 1 else np.argmax(y, axis=1)
        return float(np.count_nonzero(np.argmax(out, axis=1) == labels))

    def _forward(self, rs: RunState, X: np.ndarray, stats: list | None = None) -> Tensor:
        """Run the Sequential layer by layer; fill ``stats`` with (pre, post) arrays."""
        h = Tensor(X)
        for lin, act in zip(rs.linears, rs.act_modules, strict=True):
            z = lin(h)
            h = act(z) if act is not None else z
            if stats is not None:
                stats.append((z.data, h.data))
        return h

    def _eval(self, rs: RunState, X: np.ndarray, y: np.ndarray) -> tuple[float, float | None]:
        if len(X) == 0:
            return None, None
        out = self._forward(rs, X)
        loss = float(self._loss(out, y).data)
        c = self._correct(out.data, y)
        return loss, (None if c is None else c / len(X))

    def _eval_val(self, rs: RunState) -> tuple[float | None, float | None]:
        d = self._data
        if len(d["X_val"]) == 0:
            return None, None
        return self._eval(rs, d["X_val"], d["y_val"])

    def _micro_batches(self, rs: RunState) -> list[tuple[np.ndarray, np.ndarray]]:
        """The batch of ``rs``'s next step, as ``accumulate`` micro-batches (advances the order)."""
        X, y = self._data["X"], self._data["y"]
        n = len(X)
        acc_n = rs.config.accumulate
        if rs.batch_size == 0:
            if acc_n == 1:
                return [(X, y)]
            return [(X[i], y[i]) for i in np.array_split(np.arange(n), acc_n) if len(i)]
        return [(X[idx], y[idx]) for idx in (rs._batch_indices(n) for _ in range(acc_n))]

    def next_batch(self, run_index: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Network: the micro-batches the next ``step()`` of run ``run_index`` will train on.

        Changes nothing: the shuffled order, position, epoch and shuffle rng are restored,
        so the next ``step()`` draws exactly these (for the backprop inspector).
        """
        rs = self.runs[run_index]
        rng = rs._shuffle_rng
        saved = (rs._order, rs._pos, rs.epoch, None if rng is None else rng.bit_generator.state)
        try:
            return self._micro_batches(rs)
        finally:
            rs._order, rs._pos, rs.epoch = saved[:3]
            if rng is not None:
                rng.bit_generator.state = saved[3]

    def _step_network(self, rs: RunState) -> None:
        cfg = rs.config
        opt = rs.optimizer
        s = rs.step + 1
        acc_n = cfg.accumulate
        micro = self._micro_batches(rs)
        with no_grad():
            vloss, vacc = self._eval_val(rs)
        if not cfg.forget_zero_grad:
            opt.zero_grad()
        loss_v = 0.0
        correct: float | None = 0.0
        seen = 0
        stats: list = []
        for j, (xm, ym) in enumerate(micro):
            last = j == len(micro) - 1
            out = self._forward(rs, xm, stats if last else None)
            loss = self._loss(out, ym)
            if acc_n > 1:
                loss = loss / acc_n
            loss.backward()
            loss_v += float(loss.data)
            c = self._correct(out.data, ym)
            correct = None if c is None or correct is None else correct + c
            seen += len(xm)
        if acc_n > 1 and len(micro) != acc_n:  # fewer chunks than asked (tiny batch)
            loss_v *= acc_n / len(micro)
        accuracy = None if correct is None else correct / max(seen, 1)
        # gradient norms, per layer and total
        layer_g = []
        total_sq = 0.0
        for lin in rs.linears:
            gw = lin.weight.grad
            sq = 0.0 if gw is None else _sqnorm(gw)
            if lin.bias is not None and lin.bias.grad is not None:
                sq += _sqnorm(lin.bias.grad)
            layer_g.append(sq)
            total_sq += sq
        gnorm = math.sqrt(total_sq)
        lr = float(opt.param_groups[0]["lr"])
        rec: dict[str, float] = {"loss": loss_v, "lr": lr, "grad_norm": gnorm}
        if vloss is not None:
            rec["val_loss"] = vloss
        if accuracy is not None:
            rec["accuracy"] = accuracy
        if vacc is not None:
            rec["val_accuracy"] = vacc
        if not self._check(rs, s, loss_v, gnorm, rec):
            return
        before = [lin.weight.data.copy() for lin in rs.linears]
        if cfg.clip_norm is not None:
            clip_grad_norm_(rs.params, cfg.clip_norm)
        if cfg.clip_value is not None:
            clip_grad_value_(rs.params, cfg.clip_value)
        if cfg.optimizer == "newton":
            xs = np.concatenate([m[0] for m in micro]) if len(micro) > 1 else micro[0][0]
            ys = np.concatenate([m[1] for m in micro]) if len(micro) > 1 else micro[0][1]
            opt.step(lambda: self._loss(self._forward(rs, xs), ys))
        else:
            opt.step()
        if rs.scheduler is not None:
            rs.scheduler.step()
        rs.step = s
        layers = []
        names = self.layer_names
        for i, lin in enumerate(rs.linears):
            w = lin.weight.data
            wn = math.sqrt(_sqnorm(before[i]))
            du = math.sqrt(_sqnorm(w - before[i]))
            ratio = du / wn if wn > 0 else (0.0 if du == 0 else math.inf)
            z, a = stats[i]
            act = rs.acts[i]
            m = float(a.sum()) / a.size
            var = _sqnorm(a) / a.size - m * m if math.isfinite(m) else math.nan
            info = {"name": names[i], "grad_norm": math.sqrt(layer_g[i]),
                    "weight_norm": math.sqrt(_sqnorm(w)), "update_ratio": ratio,
                    "act_mean": m, "act_std": math.sqrt(var) if var > 0 else (0.0 if var <= 0 else math.nan),
                    "dead_frac": None, "saturated_frac": None}
            if act in ("relu", "leaky_relu"):
                info["dead_frac"] = float(np.count_nonzero((z > 0).sum(axis=0) == 0)) / z.shape[1]
            elif act == "sigmoid":
                info["saturated_frac"] = float(np.count_nonzero((a < 0.02) | (a > 0.98))) / a.size
            elif act == "tanh":
                info["saturated_frac"] = float(np.count_nonzero(np.abs(a) > 0.98)) / a.size
            layers.append(info)
            p = names[i] + "."
            for key in ("grad_norm", "weight_norm", "update_ratio", "act_mean", "act_std",
                        "dead_frac", "saturated_frac"):
                v = info[key]
                if v is not None:
                    rec[p + key] = v
        rs.layers = layers
        if rs.first_layers is None:
            rs.first_layers = layers
        rs.history.append(s, rec)
        self._after(rs, s, loss_v, gnorm, lr, vloss, accuracy, vacc)
        wsq = sum(_sqnorm(lin.weight.data) for lin in rs.linears)
        if not math.isfinite(wsq):
            self._diverge(rs, s, f"weights became {_fmt(wsq)} at step {s} "
                                 f"(gradient norm {_fmt(gnorm)})")

    # ---------------------------------------------------------------- common
    def _check(self, rs: RunState, s: int, loss_v: float, gnorm: float, rec: dict) -> bool:
        """False (and the run marked diverged) if the loss / gradient went bad."""
        reason = None
        if not math.isfinite(loss_v):
            reason = f"loss is {_fmt(loss_v)} at step {s} (gradient norm {_fmt(gnorm)})"
        elif loss_v > self.spec.diverge_above:
            reason = (f"loss {_fmt(loss_v)} exceeded {_fmt(self.spec.diverge_above)} at step {s}"
                      f" (gradient norm {_fmt(gnorm)})")
        elif not math.isfinite(gnorm):
            reason = f"gradient norm is {_fmt(gnorm)} at step {s} (loss {_fmt(loss_v)})"
        if reason is None:
            return True
        rs.last = {"step": s, "loss": loss_v, "val_loss": rec.get("val_loss"),
                   "accuracy": rec.get("accuracy"), "val_accuracy": rec.get("val_accuracy"),
                   "lr": rec.get("lr"), "grad_norm": gnorm}
        rs.history.latest = rec
        rs.history.latest_step = s
        self._diverge(rs, s, reason)
        return False

    def _diverge(self, rs: RunState, s: int, reason: str) -> None:
        rs.diverged = True
        rs.diverged_at = s
        rs.reason = reason

    def _after(self, rs: RunState, s: int, loss_v: float, gnorm: float, lr: float,
               vloss: float | None, acc: float | None, vacc: float | None) -> None:
        rs.last = {"step": s, "loss": loss_v, "val_loss": vloss, "accuracy": acc,
                   "val_accuracy": vacc, "lr": lr, "grad_norm": gnorm}
        if loss_v < rs.min_loss:
            rs.min_loss = loss_v
            rs.min_loss_step = s
        fb = rs.first_below
        if fb:
            for th, at in fb.items():
                if at is None and loss_v < th:
                    fb[th] = s

    # ----------------------------------------------------------------- plots
    def loss_grid(self, nx: int = 60, ny: int = 30) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Landscape loss over the plot bounds of the first two params: ``(xs, ys, Z)``.

        ``Z`` has shape ``(ny, nx)``; other params sit at their start values. With a
        single param, ``ys`` is ``linspace(0, 1, ny)`` and every row of ``Z`` is the
        same curve. Cached per size.
        """
        if self.spec.landscape is None:
            raise ValueError("loss_grid needs a landscape scenario")
        key = (int(nx), int(ny))
        hit = self._grid_cache.get(key)
        if hit is not None:
            return hit
        ls = self.spec.landscape
        bounds = ls.plot_bounds()
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
            Z = np.broadcast_to(np.asarray(self._expr.evaluate(env), dtype=float),
                                gx.shape).copy()
        self._grid_cache[key] = (xs, ys, Z)
        return xs, ys, Z

    def loss_at(self, point: Any) -> float:
        """Landscape loss at ``point`` (a sequence, one value per param)."""
        with np.errstate(all="ignore"):
            return self._landscape_value(np.asarray(point, dtype=float))

    def decision_grid(self, run_index: int, n: int = 40
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Network with 2 input features: ``(xs, ys, P)``, ``P[i, j]`` at ``(xs[j], ys[i])``.

        ``P`` is the probability of class 1 (bce, 2-class cross-entropy, mse on 0/1
        labels), the predicted class (more classes) or the raw output (regression).
        """
        if self._data is None or self._data["X"].shape[1] != 2:
            return None
        rs = self.runs[run_index]
        X = self._data["X"]
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = 0.1 * np.maximum(hi - lo, 1e-9)
        xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], n)
        ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], n)
        gx, gy = np.meshgrid(xs, ys)
        pts = np.column_stack([gx.ravel(), gy.ravel()])
        with np.errstate(all="ignore"), no_grad():
            out = self._forward(rs, pts).data
            loss = self.spec.network.loss
            if loss == "bce":
                P = 0.5 * (1.0 + np.tanh(0.5 * out[:, 0]))
            elif out.shape[1] == 1:
                P = out[:, 0]
            elif out.shape[1] == 2 and loss == "cross_entropy":
                z = out - out.max(axis=1, keepdims=True)
                e = np.exp(z)
                P = e[:, 1] / e.sum(axis=1)
            else:
                P = np.argmax(out, axis=1).astype(float)
        return xs, ys, P.reshape(n, n)

    # --------------------------------------------------------------- summary
    def summary(self) -> dict[str, Any]:
        """A JSON-friendly summary (NaN / inf left as floats: encode with care)."""
        runs = []
        for rs in self.runs:
            runs.append({
                "label": rs.label,
                "steps": rs.step,
                "final_loss": rs.last.get("loss"),
                "min_loss": rs.min_loss if rs.min_loss_step is not None else None,
                "min_loss_step": rs.min_loss_step,
                "diverged_at": rs.diverged_at,
                "reason": rs.reason,
                "final": dict(rs.last),
                "first_below": {_fmt(th): at for th, at in rs.first_below.items()},
            })
        return {"scenario": self.spec.id, "title": self.spec.title, "kind": self.kind,
                "steps": self.step_count, "total_steps": self.total_steps, "runs": runs}

    def __repr__(self) -> str:
        return (f"Simulation({self.spec.id!r}, {self.kind}, step {self.step_count}/"
                f"{self.total_steps}, {len(self.runs)} runs)")
