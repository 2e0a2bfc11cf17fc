"""Network runs: a small multilayer perceptron trained on a data set, batch by batch.

The problem (:class:`NetworkProblem`) is the scenario's data, split into train
and validation arrays once, and its loss; a :class:`NetworkRun` is one model
(a ``Sequential`` of Linear layers and activations) with its optimizer.

Batches come from this epoch's shuffled order (the whole train set when the
batch covers it), as ``accumulate`` micro-batches. After update ``k`` the run
draws the batch update ``k + 1`` will use and takes its forward and backward
pass at the new weights, so the record of step ``k``
(:class:`~descent_tui.sim.run.StepRecord`) holds, at the weights after ``k``
updates: the training loss and accuracy of that next batch (with a full batch:
of the whole training set; with mini-batches an unbiased estimate of it that
costs no extra pass), the validation loss / accuracy, and the gradient norm over
every layer. ``run.layers`` (one :class:`~descent_tui.sim.run.LayerRecord` per
Linear) describes update ``k`` itself: the gradient it used, the weights after
it, its update ratio, the activations on its batch; ``run.first_layers``
describes update 1 (the gradient at the initial weights). Update ``k`` leaving
a weight non-finite marks the run diverged at ``k``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from descent_tui.engine import Tensor, no_grad
from descent_tui.engine import functional as F
from descent_tui.scenario import schema as S
from descent_tui.sim import build
from descent_tui.sim.pretrain import load_pretrained
from descent_tui.sim.run import (
    LayerRecord,
    Problem,
    Run,
    StepRecord,
    fmt_value,
    record_values,
    sqnorm,
)

__all__ = ["NetworkProblem", "NetworkRun"]

Batch = list[tuple[np.ndarray, np.ndarray]]


class NetworkProblem(Problem):
    """The scenario's data (train / validation split) and its loss function."""

    kind = "network"

    def __init__(self, spec: S.Scenario, base_dir: Any = None) -> None:
        from descent_tui.data.datasets import make_dataset, n_classes, split
        from descent_tui.data.features import expand

        self.spec = spec
        net = spec.network
        X, y = make_dataset(net, base_dir)
        Xtr, ytr, Xva, yva = split(X, y, net.val_split, net.data.seed)
        k = n_classes(net.data, y)
        out_dim = net.model.layers[-1]
        classification = k is not None and (net.loss != "mse" or net.data.kind not in
                                            S.REGRESSION_DATASETS)
        if net.loss == "mse" and classification and out_dim > 1:
            ytr = np.eye(out_dim)[ytr.astype(np.int64).reshape(-1)]
            yva = np.eye(out_dim)[yva.astype(np.int64).reshape(-1)]
        #: the raw training columns (the plane a decision map is drawn over)
        self.plane, self.plane_val = Xtr, Xva
        self.inputs = net.inputs
        self.data = {"X": expand(Xtr, net.inputs), "y": ytr,
                     "X_val": expand(Xva, net.inputs), "y_val": yva}
        self.classification = bool(classification)
        self.n_classes = k

    def make_run(self, index: int, config: S.Run, spec: S.Scenario,
                 thresholds: Sequence[float]) -> NetworkRun:
        return NetworkRun(self, index, config, spec, thresholds)

    def features(self, X: np.ndarray) -> np.ndarray:
        """The model's inputs for raw rows ``X`` (``[network] inputs``; else ``X`` itself)."""
        from descent_tui.data.features import expand

        return expand(X, self.inputs)

    def criterion(self, out: Tensor, y: Any) -> Tensor:
        """The scenario's loss of the network output ``out`` against targets ``y``."""
        kind = self.spec.network.loss
        if kind == "mse":
            return F.mse_loss(out, y)
        if kind == "bce":
            return F.binary_cross_entropy_with_logits(out, y)
        return F.cross_entropy(out, y)

    def correct(self, out: np.ndarray, y: np.ndarray) -> float | None:
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

    def probability(self, out: np.ndarray) -> np.ndarray:
        """What a decision map shows for each output row (see ``NetworkRun.decision_grid``)."""
        loss = self.spec.network.loss
        if loss == "bce":
            return 0.5 * (1.0 + np.tanh(0.5 * out[:, 0]))
        if out.shape[1] == 1:
            return out[:, 0]
        if out.shape[1] == 2 and loss == "cross_entropy":
            z = out - out.max(axis=1, keepdims=True)
            e = np.exp(z)
            return e[:, 1] / e.sum(axis=1)
        return np.argmax(out, axis=1).astype(float)


class NetworkRun(Run):
    """One network and its optimizer, with per-layer statistics of its latest step."""

    kind = "network"

    def __init__(self, problem: NetworkProblem, index: int, config: S.Run,
                 spec: S.Scenario, thresholds: Sequence[float] = ()) -> None:
        self.problem = problem
        super().__init__(index, config, spec, thresholds)

    def reset(self) -> None:
        """A freshly initialised model (the run's seed), optimizer, scheduler and shuffle."""
        super().reset()
        data = self.problem.data
        seed = build.run_seed(self.spec, self.config)
        init_ss, shuffle_ss = np.random.SeedSequence(seed).spawn(2)
        model, linears, acts = build.build_model(self.spec, self.config,
                                                 np.random.default_rng(init_ss))
        self.model, self.linears, self.acts = model, linears, acts
        #: the activation module after each Linear (None: the output layer's identity)
        self.act_modules = [model[2 * i + 1] if 2 * i + 1 < len(model) else None
                            for i in range(len(linears))]
        self.params = model.parameters()
        if self.config.pretrain is not None:
            load_pretrained(self)
        self.optimizer = build.build_optimizer(self.config, self.params)
        self.scheduler = build.build_scheduler(self.config, self.optimizer, self.total_steps)
        self._shuffle_rng = np.random.default_rng(shuffle_ss)
        self._order: np.ndarray | None = None
        self._pos = 0
        self.epoch = 0
        bs = self.config.batch_size if self.config.batch_size is not None else \
            self.spec.network.batch_size
        self.batch_size = 0 if bs >= len(data["X"]) else bs
        #: a mini-batch run of a mission with a compute bill also records its loss on the
        #: whole training set (``train_loss``): the bill counts the updates until the
        #: *model* is below the target, not until one lucky batch reads below it
        self.tracks_train_loss = self.batch_size != 0 and getattr(self.spec, "cost", None) is not None
        #: the L1 penalty now (the Lab changes it live, see :meth:`add_l1_gradient`)
        self.l1 = float(self.config.l1)
        self.layers: list[LayerRecord] = []
        self.first_layers: list[LayerRecord] | None = None
        #: the next update's micro-batches, their activations and layer gradient norms
        self._pending: tuple[Batch, list, list[float]] | None = None
        self._start()

    # ------------------------------------------------------------------ state
    FIXED = Run.FIXED | {"problem", "model", "linears", "acts", "act_modules", "_shuffle_rng",
                         "tracks_train_loss"}

    def state_dict(self) -> dict[str, Any]:
        """:meth:`Run.state_dict` and the data order (shuffle, position, generator), the
        layer records and the pending batch. The batch's activations are left out
        (:meth:`load_state_dict` recomputes them); a full batch is the problem's own
        arrays, so it is named (None), not copied."""
        state = super().state_dict()
        pending: Any = self._pending
        if pending is not None:
            micro = pending[0]
            full = len(micro) == 1 and micro[0][0] is self.problem.data["X"]
            pending = (None if full else micro, pending[2])
        first = self.first_layers
        state.update(_order=self._order, _pos=self._pos, epoch=self.epoch,
                     batch_size=self.batch_size, l1=self.l1,
                     rng=self._shuffle_rng.bit_generator.state, _pending=pending,
                     layers=[record_values(r) for r in self.layers],
                     first_layers=None if first is None else [record_values(r) for r in first])
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """:meth:`Run.load_state_dict`, then the network's part. The pending batch's
        activations are the run's ``forward`` on its last micro-batch at the loaded
        weights: the same code on the same numbers as when they were first measured,
        so the same bits."""
        super().load_state_dict(state)
        self._order, self._pos, self.epoch = state["_order"], state["_pos"], state["epoch"]
        self.batch_size, self.l1 = state["batch_size"], state["l1"]
        self._shuffle_rng.bit_generator.state = state["rng"]
        self.layers = [LayerRecord(*v) for v in state["layers"]]
        first = state["first_layers"]
        self.first_layers = None if first is None else [LayerRecord(*v) for v in first]
        self._pending = None
        if state["_pending"] is not None:
            micro, layer_sq = state["_pending"]
            data = self.problem.data
            micro = [(data["X"], data["y"])] if micro is None else micro
            stats: list = []
            with np.errstate(all="ignore"):
                self.forward(micro[-1][0], stats)
            self._pending = (micro, stats, layer_sq)

    # ------------------------------------------------------------- the model
    def criterion(self, out: Tensor, y: Any) -> Tensor:
        """The scenario's loss function (see :meth:`NetworkProblem.criterion`)."""
        return self.problem.criterion(out, y)

    def forward(self, X: np.ndarray, stats: list | None = None) -> Tensor:
        """Run the Sequential layer by layer; fill ``stats`` with (pre, post) arrays."""
        h = Tensor(X)
        for lin, act in zip(self.linears, self.act_modules, strict=True):
            z = lin(h)
            h = act(z) if act is not None else z
            if stats is not None:
                stats.append((z.data, h.data))
        return h

    def _eval(self, X: np.ndarray, y: np.ndarray) -> tuple[float | None, float | None]:
        if len(X) == 0:
            return None, None
        out = self.forward(X)
        loss = float(self.criterion(out, y).data)
        c = self.problem.correct(out.data, y)
        return loss, (None if c is None else c / len(X))

    def _eval_val(self) -> tuple[float | None, float | None]:
        d = self.problem.data
        if len(d["X_val"]) == 0:
            return None, None
        return self._eval(d["X_val"], d["y_val"])

    def decision_grid(self, n: int = 40, ny: int | None = None
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """With 2 input features: ``(xs, ys, P)``, ``P[i, j]`` at ``(xs[j], ys[i])``.

        ``n`` points across, ``ny`` (default ``n``) up, over the training inputs' range
        padded by a tenth. ``P`` is the probability of class 1 (bce, 2-class
        cross-entropy, mse on 0/1 labels), the predicted class (more classes) or the
        raw output (regression).
        """
        X = self.problem.plane
        if X.shape[1] != 2:
            return None
        ny = n if ny is None else ny
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = 0.1 * np.maximum(hi - lo, 1e-9)
        xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], n)
        ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], ny)
        gx, gy = np.meshgrid(xs, ys)
        pts = np.column_stack([gx.ravel(), gy.ravel()])
        with np.errstate(all="ignore"), no_grad():
            P = self.problem.probability(self.forward(self.problem.features(pts)).data)
        return xs, ys, P.reshape(ny, n)

    def fit_curve(self, n: int = 100) -> tuple[np.ndarray, np.ndarray] | None:
        """With 1 input feature and 1 output: ``(xs, f(xs))``, the fitted curve.

        ``n`` points evenly over the range of the train and validation inputs
        (padded by a twentieth); None for any other shape of network.
        """
        X = self.problem.plane
        if X.shape[1] != 1 or self.problem.data["y"].reshape(len(X), -1).shape[1] != 1:
            return None
        X_val = self.problem.plane_val
        inputs = np.concatenate([X[:, 0], X_val[:, 0]])
        lo, hi = float(inputs.min()), float(inputs.max())
        pad = 0.05 * max(hi - lo, 1e-9)
        xs = np.linspace(lo - pad, hi + pad, n)
        with np.errstate(all="ignore"), no_grad():
            out = self.forward(self.problem.features(xs[:, None])).data
        return xs, np.asarray(out, dtype=float).reshape(n, -1)[:, 0]

    # ------------------------------------------------------------- batches
    def _batch_indices(self, n: int) -> np.ndarray:
        """The next ``batch_size`` indices of this epoch's shuffled order."""
        bs = self.batch_size
        if self._order is None or self._pos >= n:
            if self._order is not None:
                self.epoch += 1
            self._order = self._shuffle_rng.permutation(n)
            self._pos = 0
        idx = self._order[self._pos:self._pos + bs]
        self._pos += bs
        return idx

    def _micro_batches(self) -> Batch:
        """The batch of the next step, as ``accumulate`` micro-batches (advances the order)."""
        X, y = self.problem.data["X"], self.problem.data["y"]
        n = len(X)
        acc_n = self.config.accumulate
        if self.batch_size == 0:
            if acc_n == 1:
                return [(X, y)]
            return [(X[i], y[i]) for i in np.array_split(np.arange(n), acc_n) if len(i)]
        return [(X[idx], y[idx]) for idx in (self._batch_indices(n) for _ in range(acc_n))]

    def next_batch(self) -> Batch:
        """The micro-batches the next update trains on (drawn when the last record was measured)."""
        if self._pending is None:
            raise RuntimeError(f"run '{self.label}' has no measured batch (it diverged at the start)")
        return self._pending[0]

    # ------------------------------------------------------------------- step
    def _measure(self, s: int) -> tuple[StepRecord, dict[str, Any]]:
        """Draw the next batch; loss, accuracy and gradient on it at the weights now."""
        micro = self._micro_batches()
        with no_grad():
            vloss, vacc = self._eval_val()
        if not self.config.forget_zero_grad:
            self.optimizer.zero_grad()
        loss_v, accuracy, stats = self._forward_backward(micro)
        if self.l1:
            self.add_l1_gradient()
        layer_sq = self._layer_grad_sq()
        self._pending = (micro, stats, layer_sq)
        record = StepRecord(s, loss_v, vloss, accuracy, vacc, lr=self.lr,
                            grad_norm=math.sqrt(sum(layer_sq)))
        row = record.row()
        if self.tracks_train_loss:
            with no_grad():
                row["train_loss"] = self._eval(self.problem.data["X"], self.problem.data["y"])[0]
        if s:
            for layer in self.layers:
                layer.add_to(row)
        return record, row

    def _train_step(self, s: int) -> None:
        """Update ``s`` with the gradient of the pending batch, then measure the next one."""
        assert self._pending is not None  # measured by reset or the previous step
        micro, stats, layer_sq = self._pending
        before = [lin.weight.data.copy() for lin in self.linears]
        self._update(self._newton_closure(micro) if self.config.optimizer == "newton" else None)
        self.layers = self._layer_records(before, stats, layer_sq)
        if self.first_layers is None:
            self.first_layers = self.layers
        wsq = sum(sqnorm(lin.weight.data) for lin in self.linears)
        if not math.isfinite(wsq):
            self._broken(s, f"weights became {fmt_value(wsq)} at step {s} "
                            f"(gradient norm {fmt_value(self.last.grad_norm)})")
            return
        self._observe(s)

    def _forward_backward(self, micro: Batch) -> tuple[float, float | None, list]:
        """Backward over the micro-batches: (loss of the batch, its accuracy, last one's stats)."""
        acc_n = self.config.accumulate
        loss_v = 0.0
        correct: float | None = 0.0
        seen = 0
        stats: list = []
        for j, (xm, ym) in enumerate(micro):
            last = j == len(micro) - 1
            out = self.forward(xm, stats if last else None)
            loss = self.criterion(out, ym)
            if acc_n > 1:
                loss = loss / acc_n
            loss.backward()
            loss_v += float(loss.data)
            c = self.problem.correct(out.data, ym)
            correct = None if c is None or correct is None else correct + c
            seen += len(xm)
        if acc_n > 1 and len(micro) != acc_n:  # fewer chunks than asked (tiny batch)
            loss_v *= acc_n / len(micro)
        accuracy = None if correct is None else correct / max(seen, 1)
        return loss_v, accuracy, stats

    def add_l1_gradient(self) -> None:
        """L1 regularisation: ``dW += l1 * sign(W)`` on every weight (biases are not penalised).

        The gradient of ``l1 * Σ|w|``; the reported loss stays the data loss.
        """
        for lin in self.linears:
            if lin.weight.grad is not None:
                lin.weight.grad = lin.weight.grad + self.l1 * np.sign(lin.weight.data)

    def _layer_grad_sq(self) -> list[float]:
        """‖dL/dW‖² + ‖dL/db‖² of each Linear layer."""
        out = []
        for lin in self.linears:
            gw = lin.weight.grad
            sq = 0.0 if gw is None else sqnorm(gw)
            if lin.bias is not None and lin.bias.grad is not None:
                sq += sqnorm(lin.bias.grad)
            out.append(sq)
        return out

    def _newton_closure(self, micro: Batch) -> Any:
        """Newton's closure: the loss of the whole batch at the current weights."""
        xs = np.concatenate([m[0] for m in micro]) if len(micro) > 1 else micro[0][0]
        ys = np.concatenate([m[1] for m in micro]) if len(micro) > 1 else micro[0][1]
        return lambda: self.criterion(self.forward(xs), ys)

    def _layer_records(self, before: list[np.ndarray], stats: list,
                       layer_sq: list[float]) -> list[LayerRecord]:
        """Each layer after the update; ``before`` holds the weights before it."""
        layers = []
        names = self.spec.layer_names
        for i, lin in enumerate(self.linears):
            w = lin.weight.data
            wn = math.sqrt(sqnorm(before[i]))
            du = math.sqrt(sqnorm(w - before[i]))
            ratio = du / wn if wn > 0 else (0.0 if du == 0 else math.inf)
            z, a = stats[i]
            act = self.acts[i]
            m = float(a.sum()) / a.size
            var = sqnorm(a) / a.size - m * m if math.isfinite(m) else math.nan
            dead = sat = None
            if act in ("relu", "leaky_relu"):
                dead = float(np.count_nonzero((z > 0).sum(axis=0) == 0)) / z.shape[1]
            elif act == "sigmoid":
                sat = float(np.count_nonzero((a < 0.02) | (a > 0.98))) / a.size
            elif act == "tanh":
                sat = float(np.count_nonzero(np.abs(a) > 0.98)) / a.size
            layers.append(LayerRecord(
                names[i], math.sqrt(layer_sq[i]), math.sqrt(sqnorm(w)), ratio,
                m, math.sqrt(var) if var > 0 else (0.0 if var <= 0 else math.nan), dead, sat))
        return layers
