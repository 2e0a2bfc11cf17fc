"""What a valid scenario obeys.

``check(data, base_dir)`` validates a TOML tree and returns
``(scenario or None, problems)``.  It runs in two passes:

1. the types (:func:`~descent_tui.scenario.structure.check_struct`): every
   unknown key, wrong type and out-of-range value, and "exactly one of
   ``[landscape]`` / ``[network]``";
2. if that pass is clean, the tree becomes a
   :class:`~descent_tui.scenario.schema.Scenario` and the cross-field rules run:
   the landscape's loss parses and is finite at every start point; a network's
   layer sizes fit its data (including a CSV file's columns and labels) and its
   loss; run labels are unique; knob ranges are sane; quiz answers name real
   runs and layers.

Both passes collect every problem as ``(key path, message)`` in a
:class:`~descent_tui.scenario.errors.Problems`; nothing here raises for a bad
document.  A file and a learner's change (:mod:`descent_tui.scenario.overrides`)
are held to these same rules.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec

from descent_tui.data.csv_table import MissingColumn, read_csv_table, resolve_data_path
from descent_tui.data.features import needs_columns
from descent_tui.scenario import schema as S
from descent_tui.scenario.budget import MAX_STEP_FLOPS, check_budget, n_parameters
from descent_tui.scenario.errors import Problems, did_you_mean, msgspec_message, short
from descent_tui.scenario.expr import FUNCTIONS, Expr, ExprError, parse
from descent_tui.scenario.keylines import join_path
from descent_tui.scenario.read import MAX_DEPTH, depth
from descent_tui.scenario.structure import check_struct
from descent_tui.scenario.triggers import parse_trigger

__all__ = ["check"]


def check(data: Any, base_dir: Path | None) -> tuple[S.Scenario | None, Problems]:
    """Validate a TOML tree: ``(scenario, no problems)`` or ``(None, problems)``.

    ``base_dir`` is where a CSV data path is resolved from.
    """
    probs = Problems()
    if not isinstance(data, dict):
        probs.add("", "expected a TOML table at the top level")
        return None, probs
    if depth(data, MAX_DEPTH) > MAX_DEPTH:
        probs.add("", f"document nested too deeply (max depth {MAX_DEPTH})")
        return None, probs
    check_struct(data, S.Scenario, "", probs)
    has_l, has_n = "landscape" in data, "network" in data
    if has_l and has_n:
        probs.add("", "has both [landscape] and [network]; a scenario is exactly one kind")
    elif not has_l and not has_n:
        probs.add("", "needs a [landscape] or a [network] table")
    if probs:
        return None, probs
    try:
        spec = msgspec.convert(data, S.Scenario)
    except msgspec.ValidationError as e:  # the walk above should have caught it
        probs.add(*msgspec_message(str(e), data, ""))
        return None, probs
    if spec.landscape is not None:
        _check_landscape(spec, probs)
    elif spec.network is not None:
        _check_network(spec, base_dir, probs)
    _check_runs(spec, probs)
    _check_knobs(spec, probs)
    _check_quiz(spec, probs)
    _check_cost(spec, probs)
    _check_sources(spec, probs)
    _check_watch_for(spec, probs)
    return (None if probs else spec), probs


def _unknown(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)``, or the list of what is allowed."""
    options = list(options)
    return did_you_mean(word, options) or f"; expected one of: {', '.join(options)}"


# -------------------------------------------------------------------- landscape


def _finite_list(values: Iterable[float], path: str, probs: Problems) -> None:
    for i, v in enumerate(values):
        if not math.isfinite(v):
            probs.add(join_path(path, i), f"expected a finite number, got {v}")


def _check_params(land: S.Landscape, probs: Problems) -> Expr | None:
    """Parameter names are unique and no function's; the loss parses (or None)."""
    seen: set[str] = set()
    for i, p in enumerate(land.params):
        if p in FUNCTIONS:
            probs.add(f"landscape.params[{i}]", f"'{p}' is a function name, pick another name")
        if p in seen:
            probs.add(f"landscape.params[{i}]", f"duplicate parameter '{p}'")
        seen.add(p)
    if probs:
        return None
    try:
        return parse(land.loss, land.params)
    except ExprError as e:
        probs.add("landscape.loss", str(e))
        return None


def _check_points(spec: S.Scenario, probs: Problems) -> list[tuple[str, list[float]]]:
    """Start, bounds and minimum have one entry per parameter; return the start points."""
    land = spec.landscape
    assert land is not None
    n = len(land.params)
    if len(land.start) != n:
        probs.add("landscape.start",
                  f"needs one value per param ({n}: {', '.join(land.params)}), got {len(land.start)}")
    _finite_list(land.start, "landscape.start", probs)
    if land.bounds is not None:
        if len(land.bounds) != n:
            probs.add("landscape.bounds", f"needs one [lo, hi] per param ({n}), got {len(land.bounds)}")
        for i, (lo, hi) in enumerate(land.bounds):
            if not (math.isfinite(lo) and math.isfinite(hi)):
                probs.add(f"landscape.bounds[{i}]", f"expected finite numbers, got [{lo}, {hi}]")
            elif lo >= hi:
                probs.add(f"landscape.bounds[{i}]", f"lo must be < hi, got [{lo}, {hi}]")
            elif not math.isfinite(hi - lo):  # the plot divides by the span
                probs.add(f"landscape.bounds[{i}]", f"the span hi - lo overflows, got [{lo}, {hi}]")
    if land.minimum is not None:
        if len(land.minimum) != n:
            probs.add("landscape.minimum", f"needs one value per param ({n}), got {len(land.minimum)}")
        _finite_list(land.minimum, "landscape.minimum", probs)
    starts = [("landscape.start", land.start)]
    for i, run in enumerate(spec.runs):
        if run.start is not None:
            if len(run.start) != n:
                probs.add(f"runs[{i}].start", f"needs one value per param ({n}), got {len(run.start)}")
            else:
                starts.append((f"runs[{i}].start", run.start))
            _finite_list(run.start, f"runs[{i}].start", probs)
    return starts


def _check_landscape(spec: S.Scenario, probs: Problems) -> None:
    land = spec.landscape
    assert land is not None
    expr = _check_params(land, probs)
    starts = _check_points(spec, probs)
    if expr is None:
        return
    for where, start in starts:
        if len(start) != len(land.params) or not all(math.isfinite(v) for v in start):
            continue
        try:
            value = expr.evaluate(dict(zip(land.params, (float(v) for v in start), strict=True)))
        except Exception as e:
            probs.add("landscape.loss", f"cannot be evaluated at {where}: {e}")
            continue
        if not math.isfinite(value):
            probs.add("landscape.loss", f"is not finite at {where} {list(start)} (got {value})")


# ---------------------------------------------------------------------- network


def _check_csv(data: S.DataSpec, base_dir: Path | None, probs: Problems
               ) -> tuple[int, list[float]] | None:
    """Read the CSV file: ``(number of rows, labels)``, or None after a problem."""
    try:
        path = resolve_data_path(data.path, base_dir)
        rows, labels = read_csv_table(path, list(data.features or ()), data.label or "")
    except MissingColumn as e:
        probs.add("network.data.path", e.message(did_you_mean(e.column, e.header)))
        return None
    except (ValueError, OSError) as e:
        probs.add("network.data.path", str(e))
        return None
    return len(rows), labels


def _check_columns(data: S.DataSpec, probs: Problems) -> bool:
    """No feature named twice, the label not among the features (False after a problem)."""
    ok = True
    seen: set[str] = set()
    for i, name in enumerate(data.features or ()):
        if name in seen:
            probs.add(f"network.data.features[{i}]", f"duplicate feature column {short(name)}")
            ok = False
        elif name == data.label:
            probs.add(f"network.data.features[{i}]", f"column {short(name)} is the label; a"
                                                     " column is a feature or the label, not both")
            ok = False
        seen.add(name)
    return ok


def _check_data(data: S.DataSpec, base_dir: Path | None, probs: Problems
                ) -> tuple[int, list[float] | None]:
    """The csv-only keys are there exactly for kind = 'csv'; ``(rows, csv labels)``."""
    csv_only = ("path", "features", "label")
    if data.kind != "csv":
        for key in csv_only:
            if getattr(data, key) is not None:
                probs.add(f"network.data.{key}", "only used with kind = 'csv'")
        return data.n, None
    for key in csv_only:
        if getattr(data, key) is None:
            probs.add("network.data", f"missing required key '{key}' (needed for kind = 'csv')")
    if not _check_columns(data, probs):
        return data.n, None
    if data.path is not None and data.features is not None and data.label is not None:
        result = _check_csv(data, base_dir, probs)
        if result is not None:
            return result
    return data.n, None


def _csv_classes(net: S.Network, labels: list[float], probs: Problems) -> int | None:
    """Classes in a CSV label column for a classification loss (None after a problem)."""
    bad = next((v for v in labels if v != int(v) or v < 0), None)
    if bad is not None:
        probs.add("network.data.label", f"class labels must be whole numbers >= 0"
                                        f" for loss '{net.loss}' (got {bad})")
    elif net.loss == "bce" and any(v not in (0, 1) for v in labels):
        probs.add("network.data.label", "loss 'bce' needs labels 0 or 1")
    else:
        return int(max(labels)) + 1
    return net.data.n_classes


def _check_loss(net: S.Network, n_classes: int | None, probs: Problems) -> None:
    """The last layer and the loss fit the task (regression or k classes)."""
    out = net.model.layers[-1]
    if net.loss == "mse":
        if out != 1:
            probs.add("network.model.layers", f"loss 'mse' needs 1 output, got {out}")
    elif net.data.kind in S.REGRESSION_DATASETS:
        probs.add("network.loss", f"dataset '{net.data.kind}' is a regression task; use"
                                  f" loss = 'mse' (got '{net.loss}')")
    elif net.loss == "bce":
        if out != 1:
            probs.add("network.model.layers", f"loss 'bce' needs 1 output, got {out}")
        if n_classes is not None and n_classes != 2:
            probs.add("network.loss", f"loss 'bce' needs 2 classes, the data has {n_classes};"
                                      " use loss = 'cross_entropy'")
    elif net.loss == "cross_entropy":
        if out < 2:
            probs.add("network.model.layers", f"loss 'cross_entropy' needs one output per class"
                                              f" (at least 2), got {out}")
        elif n_classes is not None and out != n_classes:
            probs.add("network.model.layers",
                      f"last layer has {out} outputs but the data has {n_classes} classes")


def _check_sizes(spec: S.Scenario, n_rows: int, probs: Problems) -> None:
    """One activation per hidden layer; no batch larger than the data set."""
    net = spec.network
    assert net is not None
    n_hidden = len(net.model.layers) - 2
    activation = net.model.activation
    if isinstance(activation, list) and len(activation) != n_hidden:
        probs.add("network.model.activation",
                  f"needs one activation per hidden layer ({n_hidden}), got {len(activation)}")
    if net.batch_size > n_rows:
        probs.add("network.batch_size", f"larger than the data set ({net.batch_size} > {n_rows})")
    for i, run in enumerate(spec.runs):
        if isinstance(run.activation, list) and len(run.activation) != n_hidden:
            probs.add(f"runs[{i}].activation",
                      f"needs one activation per hidden layer ({n_hidden}), got {len(run.activation)}")
        if run.batch_size is not None and run.batch_size > n_rows:
            probs.add(f"runs[{i}].batch_size", f"larger than the data set ({run.batch_size} > {n_rows})")


def _check_inputs(net: S.Network, probs: Problems) -> None:
    """``inputs``: no feature twice, each readable from the data's columns, one input each."""
    inputs = net.inputs or []
    n_cols = net.data.n_features
    for i, name in enumerate(inputs):
        if name in inputs[:i]:
            probs.add(f"network.inputs[{i}]", f"'{name}' is listed twice")
        elif needs_columns(name) > n_cols:
            probs.add(f"network.inputs[{i}]", f"'{name}' needs 2 data columns; kind ="
                                             f" '{net.data.kind}' has {n_cols}")
    if n_cols > 2:
        probs.add("network.inputs", f"features are computed from 1 or 2 columns; the data has"
                                    f" {n_cols}")
    if net.model.layers[0] != len(inputs):
        probs.add("network.model.layers[0]", f"input size {net.model.layers[0]} does not match"
                                             f" the {len(inputs)} inputs {inputs}")


def _check_network(spec: S.Scenario, base_dir: Path | None, probs: Problems) -> None:
    net = spec.network
    assert net is not None
    n_rows, csv_labels = _check_data(net.data, base_dir, probs)
    layers, n_features = net.model.layers, net.data.n_features
    if net.inputs is not None:
        _check_inputs(net, probs)
    elif n_features and layers[0] != n_features:
        probs.add("network.model.layers[0]",
                  f"input size {layers[0]} does not match the data ({n_features} feature"
                  f"{'s' if n_features != 1 else ''} for kind = '{net.data.kind}')")
    n_classes = net.data.n_classes
    if csv_labels is not None and net.loss in ("cross_entropy", "bce"):
        n_classes = _csv_classes(net, csv_labels, probs)
    _check_loss(net, n_classes, probs)
    _check_sizes(spec, n_rows, probs)
    check_budget(spec, n_rows, probs)


# ------------------------------------------------------------------------- runs


def _check_label(i: int, label: str, seen: dict[str, int], probs: Problems) -> None:
    """Labels are not blank, not 'none', and unique ignoring case."""
    key = label.strip().lower()
    if not label.strip():
        probs.add(f"runs[{i}].label", "must not be blank")
    if key in seen:
        probs.add(f"runs[{i}].label", f"duplicate run label '{label}' (also runs[{seen[key]}])")
    seen.setdefault(key, i)
    if key == "none":
        probs.add(f"runs[{i}].label", "'none' is reserved for prediction answers")


def _check_schedule(sch: S.Schedule, p: str, probs: Problems) -> None:
    if sch.kind == "multistep":
        if not sch.milestones:
            probs.add(f"{p}.milestones", "multistep needs at least one milestone")
        elif any(b <= a for a, b in zip(sch.milestones, sch.milestones[1:])):
            probs.add(f"{p}.milestones", f"must be strictly increasing, got {sch.milestones}")
    if sch.kind == "warmup" and sch.warmup_steps < 1:
        probs.add(f"{p}.warmup_steps", "warmup needs warmup_steps >= 1")


def _check_runs(spec: S.Scenario, probs: Problems) -> None:
    seen: dict[str, int] = {}
    network_only = ("init", "init_value", "init_std", "bias_init", "activation", "batch_size")
    for i, run in enumerate(spec.runs):
        p = f"runs[{i}]"
        _check_label(i, run.label, seen, probs)
        if spec.kind == "landscape":
            for name in network_only:
                if getattr(run, name) is not None:
                    probs.add(f"{p}.{name}", "only used by network scenarios")
            if run.l1:
                probs.add(f"{p}.l1", "only used by network scenarios")
        elif run.start is not None:
            probs.add(f"{p}.start", "only used by landscape scenarios")
        if run.uses_nesterov and (run.effective_momentum <= 0 or run.dampening != 0):
            probs.add(f"{p}.nesterov", "Nesterov momentum needs momentum > 0 and dampening = 0")
        if run.optimizer == "newton" and spec.network is not None:
            layers = spec.network.model.layers
            n_params = sum(a * b + b for a, b in zip(layers, layers[1:]))
            if n_params > 400:
                probs.add(f"{p}.optimizer",
                          f"'newton' needs the full Hessian; this network has {n_params}"
                          " parameters (max 400)")
        if run.schedule is not None:
            _check_schedule(run.schedule, f"{p}.schedule", probs)
        _check_run_switches(spec, run, p, probs)


def _check_run_switches(spec: S.Scenario, run: S.Run, p: str, probs: Problems) -> None:
    """``bias_correction``, ``apply_twice`` and ``pretrain`` fit the run's optimizer and kind."""
    if not run.bias_correction and run.optimizer not in ("adam", "adamw"):
        probs.add(f"{p}.bias_correction", f"only used by optimizers 'adam' and 'adamw'"
                                          f" (optimizer is '{run.optimizer}')")
    if run.apply_twice and run.optimizer == "newton":
        probs.add(f"{p}.apply_twice", "'newton' re-evaluates the gradient in its closure;"
                                      " apply_twice needs a first-order optimizer")
    if run.pretrain is not None:
        if spec.network is None:
            probs.add(f"{p}.pretrain", "only used by network scenarios")
        else:
            _check_pretrain(spec.network, run.pretrain, f"{p}.pretrain", probs)


def _check_pretrain(net: S.Network, pre: S.Pretrain, p: str, probs: Problems) -> None:
    """The pretraining data fits the model (features, task, classes) and its cost a laptop."""
    data, want = pre.data, net.data
    if data.kind == "csv":
        probs.add(f"{p}.data.kind", "pretraining takes a generated data set, not 'csv'")
        return
    for key in ("path", "features", "label"):
        if getattr(data, key) is not None:
            probs.add(f"{p}.data.{key}", "only used with kind = 'csv'")
    if net.inputs is not None and data.n_features != net.data.n_features:
        probs.add(f"{p}.data.kind", f"'{data.kind}' has {data.n_features} column(s); the"
                                    f" inputs are computed from {net.data.n_features}")
    elif net.inputs is None and data.n_features != net.model.layers[0]:
        probs.add(f"{p}.data.kind", f"'{data.kind}' has {data.n_features} feature(s); the"
                                    f" model takes {net.model.layers[0]}")
    regression = (data.kind in S.REGRESSION_DATASETS, want.kind in S.REGRESSION_DATASETS)
    if regression[0] != regression[1] and want.kind != "csv":
        probs.add(f"{p}.data.kind", f"'{data.kind}' is a different task from the scenario's"
                                    f" '{want.kind}' (regression vs classification)")
    elif want.n_classes is not None and data.n_classes != want.n_classes:
        probs.add(f"{p}.data", f"'{data.kind}' has {data.n_classes} classes; the scenario's"
                               f" data has {want.n_classes}")
    work = 6.0 * pre.steps * data.n * n_parameters(net.model.layers)
    if work > MAX_STEP_FLOPS:
        probs.add(f"{p}.steps", f"pretraining needs about {work:.1e} floating-point operations"
                                f" (limit {MAX_STEP_FLOPS:.0e}); fewer steps or samples")


def _check_cost(spec: S.Scenario, probs: Problems) -> None:
    if spec.cost is None:
        return
    if spec.network is None:
        probs.add("cost", "only used by network scenarios (multiply-adds are counted from"
                          " the layers)")
    if not math.isfinite(spec.cost.target):
        probs.add("cost.target", f"expected a finite number, got {spec.cost.target}")


# ------------------------------------------------------------------------ knobs

_KNOB_VALUES = {"optimizer": S.OPTIMIZERS, "init": S.INITS, "activation": S.ACTIVATIONS}
_KNOB_RANGES: dict[str, tuple[float, float, bool]] = {
    # name: (lowest allowed, highest allowed, integer?)
    "lr": (0.0, 1e6, False),
    "momentum": (0.0, 1.0, False),
    "beta1": (0.0, 1.0, False),
    "beta2": (0.0, 1.0, False),
    "weight_decay": (0.0, 1e6, False),
    "clip_norm": (0.0, 1e9, False),
    "batch_size": (0.0, 100_000, True),
    "steps": (1.0, 1_000_000, True),
}


def _check_choice_knob(name: str, knob: S.Knob, p: str, probs: Problems) -> None:
    if knob.min is not None or knob.max is not None or knob.log is not None:
        probs.add(p, "a choice knob takes 'choices', not min/max/log")
    if knob.choices is None:
        probs.add(p, "missing 'choices'")
        return
    valid = _KNOB_VALUES[name]
    for j, c in enumerate(knob.choices):
        if c not in valid:
            probs.add(f"{p}.choices[{j}]", f"unknown {name} {short(c)}{_unknown(c, valid)}")
    if len(set(knob.choices)) != len(knob.choices):
        probs.add(f"{p}.choices", "duplicate choices")


def _check_range_knob(name: str, knob: S.Knob, p: str, probs: Problems) -> None:
    if knob.choices is not None:
        probs.add(f"{p}.choices", "a numeric knob takes min and max, not choices")
    if knob.min is None or knob.max is None:
        probs.add(p, "needs both min and max")
        return
    lo_ok, hi_ok, integer = _KNOB_RANGES[name]
    for key, v in (("min", knob.min), ("max", knob.max)):
        if not math.isfinite(v) or v < lo_ok or v > hi_ok:
            probs.add(f"{p}.{key}", f"out of range (got {v}, expected {lo_ok:g}..{hi_ok:g})")
        elif integer and v != int(v):
            probs.add(f"{p}.{key}", f"expected a whole number, got {v}")
    if name == "lr" and knob.min <= 0:
        probs.add(f"{p}.min", f"lr must be > 0 (got {knob.min})")
    if name in ("momentum", "beta1", "beta2") and knob.max >= 1:
        probs.add(f"{p}.max", f"{name} must be < 1 (got {knob.max})")
    if knob.min >= knob.max:
        probs.add(p, f"min must be < max (got min = {knob.min}, max = {knob.max})")
    if knob.log and knob.min <= 0:
        probs.add(f"{p}.log", "a log-scale knob needs min > 0")


def _check_knobs(spec: S.Scenario, probs: Problems) -> None:
    for name, knob in spec.knobs.present().items():
        p = f"knobs.{name}"
        if spec.kind == "landscape" and name in S.NETWORK_ONLY_KNOBS:
            probs.add(p, "only used by network scenarios")
        if name in _KNOB_VALUES:
            _check_choice_knob(name, knob, p, probs)
        else:
            _check_range_knob(name, knob, p, probs)


# ------------------------------------------------------------------------- quiz

_RUN_METRICS = ("first_below", "lowest_final_loss", "largest_final_loss", "diverges")


def _check_concepts(spec: S.Scenario, probs: Problems) -> None:
    for i, q in enumerate(spec.quiz.concept):
        p = f"quiz.concept[{i}]"
        if q.answer >= len(q.choices):
            probs.add(f"{p}.answer", f"index {q.answer} out of range: there are"
                                     f" {len(q.choices)} choices (0..{len(q.choices) - 1})")
        if len(set(q.choices)) != len(q.choices):
            probs.add(f"{p}.choices", "duplicate choices")


def _check_answers(choices: list[str], allowed: list[str], what: str, p: str,
                   probs: Problems) -> None:
    """Each choice is one of ``allowed`` (``what`` says what they are)."""
    for j, c in enumerate(choices):
        if c not in allowed:
            probs.add(f"{p}.choices[{j}]", f"'{c}' is not a {what}{_unknown(c, allowed)}")


def _check_prediction(spec: S.Scenario, i: int, q: S.PredictionQuestion, probs: Problems) -> None:
    p = f"quiz.prediction[{i}]"
    labels = spec.run_labels
    if len(set(q.choices)) != len(q.choices):
        probs.add(f"{p}.choices", "duplicate choices")
    if q.metric == "first_below":
        if q.threshold is None:
            probs.add(p, "metric 'first_below' needs a threshold")
        elif not math.isfinite(q.threshold):
            probs.add(f"{p}.threshold", f"expected a finite number, got {q.threshold}")
    elif q.threshold is not None:
        probs.add(f"{p}.threshold", f"only used by metric 'first_below' (metric is '{q.metric}')")
    if q.metric in _RUN_METRICS:
        allowed = labels + (["none"] if q.metric in ("first_below", "diverges") else [])
        _check_answers(q.choices, allowed, "run label", p, probs)
        if q.run is not None:
            probs.add(f"{p}.run", "only used by metric 'smallest_grad_layer'")
        return
    if spec.kind != "network":  # smallest_grad_layer
        probs.add(f"{p}.metric", "'smallest_grad_layer' needs a network scenario")
        return
    _check_answers(q.choices, spec.layer_names, "layer name", p, probs)
    if q.run is not None and q.run not in labels:
        probs.add(f"{p}.run", f"'{q.run}' is not a run label{did_you_mean(q.run, labels)}")


def _check_sources(spec: S.Scenario, probs: Problems) -> None:
    """Each source is one reference on one line: not blank, no line breaks."""
    for i, src in enumerate(spec.sources):
        if not src.strip():
            probs.add(f"sources[{i}]", "a source cannot be blank")
        elif "\n" in src or "\r" in src:
            probs.add(f"sources[{i}]", "one reference per entry, on one line")


def _check_quiz(spec: S.Scenario, probs: Problems) -> None:
    _check_concepts(spec, probs)
    for i, q in enumerate(spec.quiz.prediction):
        _check_prediction(spec, i, q, probs)


# ------------------------------------------------------------------ watch for


def _check_watch_for(spec: S.Scenario, probs: Problems) -> None:
    """Each trigger parses and names a run of this scenario."""
    labels = spec.run_labels
    for i, item in enumerate(spec.watch_for):
        if not isinstance(item, S.WatchItem) or item.when is None:
            continue
        p = f"watch_for[{i}].when"
        try:
            trigger = parse_trigger(item.when)
        except ValueError as e:
            probs.add(p, str(e))
            continue
        if trigger.run is not None and trigger.run not in labels:
            probs.add(p, f"'{trigger.run}' is not a run label{_unknown(trigger.run, labels)}")
        if trigger.kind == "step" and trigger.value is not None and trigger.value > spec.steps:
            probs.add(p, f"step {int(trigger.value)} is after the last step ({spec.steps})")
