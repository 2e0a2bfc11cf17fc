"""The Lab's setup: a network experiment described by a few plain fields, turned into a scenario.

The Lab (TensorFlow Playground's free play) edits a :class:`LabConfig`; nothing
here knows about the screen.  :func:`to_toml` writes the config as scenario TOML
that the ordinary loader checks, :func:`to_loaded` loads that text, and
:func:`save_mission` writes it, with a briefing stub, to the user's scenario
directory (:func:`descent_tui.scenario.catalog.user_dir`) where the board lists
it.  :func:`from_scenario` goes the other way: any network mission becomes a Lab
config (keys the Lab has no control for, such as a schedule or a quiz, are
left behind; :func:`left_behind` names them).

The round trip holds exactly: ``to_loaded(from_scenario(to_loaded(cfg).spec))``
builds the same runs as ``to_loaded(cfg)``, bit for bit, because every number
is written with ``repr`` (the shortest text that reads back as the same float).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from descent_tui.scenario import schema as S
from descent_tui.scenario.loader import LoadedScenario, load_scenario, loads_scenario

__all__ = [
    "LabConfig",
    "LabRun",
    "default_loss",
    "from_scenario",
    "left_behind",
    "output_size",
    "save_mission",
    "slug",
    "to_loaded",
    "to_toml",
]

#: the data sets the Lab offers (csv needs a path, feature columns and a label)
DATASETS: tuple[str, ...] = S.DATASET_KINDS


@dataclass
class LabRun:
    """One optimizer configuration trained on the Lab's data (one ``[[runs]]`` table)."""

    label: str = "run"
    optimizer: str = "sgd"
    lr: float = 0.03
    #: None: the optimizer's default (0.9 for momentum / nesterov, else 0)
    momentum: float | None = None
    betas: tuple[float, float] = (0.9, 0.999)
    #: L2 regularisation (the optimizer's weight_decay)
    l2: float = 0.0
    #: L1 regularisation (``dW += l1 * sign(W)``)
    l1: float = 0.0
    clip_norm: float | None = None
    #: None: the Lab's batch size
    batch_size: int | None = None


@dataclass
class LabConfig:
    """Everything the Lab's controls set; the defaults are TensorFlow Playground's."""

    dataset: str = "circles"
    samples: int = 200
    noise: float = 0.1
    #: spiral and blobs only
    classes: int = 2
    data_seed: int = 1
    #: csv only
    csv_path: str | None = None
    csv_features: list[str] = field(default_factory=list)
    csv_label: str | None = None
    val_split: float = 0.5
    #: the model's inputs (descent_tui.data.features); None: the raw columns
    inputs: list[str] | None = field(default_factory=lambda: ["x1", "x2"])
    hidden: list[int] = field(default_factory=lambda: [4, 2])
    activations: list[str] = field(default_factory=lambda: ["tanh", "tanh"])
    init: str = "xavier_uniform"
    loss: str = "bce"
    batch_size: int = 10
    steps: int = 500
    seed: int = 0
    runs: list[LabRun] = field(default_factory=lambda: [LabRun(label="sgd")])

    @property
    def n_columns(self) -> int:
        """The data's raw columns (x1 only for sine / linear)."""
        if self.dataset == "csv":
            return len(self.csv_features)
        return S.DATASET_FEATURES[self.dataset]

    @property
    def layers(self) -> list[int]:
        """Layer sizes, input and output included, e.g. ``[2, 4, 2, 1]``."""
        n_in = len(self.inputs) if self.inputs is not None else self.n_columns
        return [n_in, *self.hidden, output_size(self)]


def default_loss(dataset: str, classes: int = 2) -> str:
    """The natural loss of a data set: mse for regression, bce for 2 classes, else cross-entropy."""
    if dataset in S.REGRESSION_DATASETS:
        return "mse"
    if dataset in ("spiral", "blobs") and classes > 2:
        return "cross_entropy"
    return "bce"


def output_size(cfg: LabConfig) -> int:
    """Units of the output layer: one per class for cross-entropy, else one."""
    if cfg.loss != "cross_entropy":
        return 1
    return cfg.classes if cfg.dataset in ("spiral", "blobs") else 2


def slug(text: str) -> str:
    """A scenario id from free text: lower case, runs of other characters become one '-'."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return (s or "lab")[:64].strip("-") or "lab"


# ------------------------------------------------------------------ writing TOML


def _v(value: object) -> str:
    """One TOML value: repr for numbers (exact round trip), JSON quoting for strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_v(x) for x in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _data_lines(cfg: LabConfig) -> list[str]:
    lines = ["[network.data]", f"kind = {_v(cfg.dataset)}"]
    if cfg.dataset == "csv":
        lines += [f"path = {_v(cfg.csv_path or '')}", f"features = {_v(cfg.csv_features)}",
                  f"label = {_v(cfg.csv_label or '')}"]
    else:
        lines += [f"n = {_v(cfg.samples)}", f"noise = {_v(float(cfg.noise))}",
                  f"seed = {_v(cfg.data_seed)}"]
        if cfg.dataset in ("spiral", "blobs"):
            lines.append(f"classes = {_v(cfg.classes)}")
    return lines


def _run_lines(run: LabRun) -> list[str]:
    lines = ["[[runs]]", f"label = {_v(run.label)}", f"optimizer = {_v(run.optimizer)}",
             f"lr = {_v(float(run.lr))}"]
    if run.momentum is not None:
        lines.append(f"momentum = {_v(float(run.momentum))}")
    if run.optimizer in ("adam", "adamw"):
        lines.append(f"betas = {_v([float(b) for b in run.betas])}")
    if run.l2:
        lines.append(f"weight_decay = {_v(float(run.l2))}")
    if run.l1:
        lines.append(f"l1 = {_v(float(run.l1))}")
    if run.clip_norm is not None:
        lines.append(f"clip_norm = {_v(float(run.clip_norm))}")
    if run.batch_size is not None:
        lines.append(f"batch_size = {_v(run.batch_size)}")
    return lines


def to_toml(cfg: LabConfig, *, id: str = "lab", title: str = "Lab", briefing: str = "") -> str:
    """The scenario TOML of ``cfg`` (a ``[network]`` scenario, one ``[[runs]]`` per run)."""
    head = [f"id = {_v(id)}", f"title = {_v(title)}", "chapter = 99", "order = 0",
            f"steps = {_v(cfg.steps)}", f"seed = {_v(cfg.seed)}"]
    if briefing:
        head.append(f"briefing = {_v(briefing)}")
    net = ["", "[network]", f"loss = {_v(cfg.loss)}", f"batch_size = {_v(cfg.batch_size)}",
           f"val_split = {_v(float(cfg.val_split))}"]
    if cfg.inputs is not None:
        net.append(f"inputs = {_v(cfg.inputs)}")
    model = ["", "[network.model]", f"layers = {_v(cfg.layers)}",
             f"activation = {_v(cfg.activations)}", f"init = {_v(cfg.init)}"]
    lines = head + net + [""] + _data_lines(cfg) + model
    for run in cfg.runs:
        lines += [""] + _run_lines(run)
    lines += ["", "[knobs]", "lr = { min = 1e-05, max = 10.0, log = true }",
              "steps = { min = 10, max = 100000 }"]
    return "\n".join(lines) + "\n"


def to_loaded(cfg: LabConfig, *, base_dir: Path | None = None, id: str = "lab",
              title: str = "Lab") -> LoadedScenario:
    """``cfg`` checked by the ordinary loader (raises ScenarioError naming the bad key).

    ``base_dir``: where a relative CSV path is looked up (default: the working directory).
    """
    return loads_scenario(to_toml(cfg, id=id, title=title), name="<lab>", base_dir=base_dir)


def briefing_stub(cfg: LabConfig) -> str:
    """The briefing a saved Lab mission starts with (the author fills it in)."""
    arch = " → ".join(str(n) for n in cfg.layers)
    runs = ", ".join(f"{r.label} ({r.optimizer}, lr {r.lr:g})" for r in cfg.runs)
    return (f"## Made in the Lab\n\nA `{arch}` network ({', '.join(cfg.activations) or 'linear'})"
            f" on the **{cfg.dataset}** data set, batch {cfg.batch_size}: {runs}.\n\n"
            "*Write here what the learner should try and watch for.*\n")


def save_mission(cfg: LabConfig, title: str, directory: Path | None = None) -> Path:
    """Write ``cfg`` as a mission ``<slug(title)>.toml`` (default: the user directory).

    The text is loaded back from the written file before this returns, so a saved
    mission always validates; a bad one is removed and its ScenarioError raised.
    """
    from descent_tui.scenario.catalog import user_dir

    folder = Path(directory) if directory is not None else user_dir()
    folder.mkdir(parents=True, exist_ok=True)
    sid = slug(title)
    path = folder / f"{sid}.toml"
    if cfg.dataset == "csv" and cfg.csv_path and not Path(cfg.csv_path).is_absolute():
        cfg = replace(cfg, csv_path=str(Path(cfg.csv_path).resolve()))
    path.write_text(to_toml(cfg, id=sid, title=title, briefing=briefing_stub(cfg)),
                    encoding="utf-8")
    try:
        load_scenario(path, source="user")
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return path


# ------------------------------------------------------------------ reading a mission


def _lab_run(run: S.Run) -> LabRun:
    return LabRun(label=run.label, optimizer=run.optimizer, lr=run.lr, momentum=run.momentum,
                  betas=tuple(run.betas), l2=run.weight_decay, l1=run.l1,
                  clip_norm=run.clip_norm, batch_size=run.batch_size)


def from_scenario(spec: S.Scenario) -> LabConfig:
    """The Lab config of a network mission (raises ValueError for a landscape)."""
    net = spec.network
    if net is None:
        raise ValueError(f"mission '{spec.id}' is a landscape; the Lab builds networks")
    data = net.data
    return LabConfig(
        dataset=data.kind, samples=data.n, noise=data.noise,
        classes=data.classes if data.kind in ("spiral", "blobs") else 2,
        data_seed=data.seed, csv_path=data.path, csv_features=list(data.features or ()),
        csv_label=data.label, val_split=net.val_split,
        inputs=list(net.inputs) if net.inputs is not None else None,
        hidden=list(net.model.layers[1:-1]), activations=net.model.hidden_activations,
        init=net.model.init, loss=net.loss, batch_size=net.batch_size, steps=spec.steps,
        seed=spec.seed, runs=[_lab_run(r) for r in spec.runs])


#: run keys the Lab keeps (the others are left behind by from_scenario)
_RUN_KEYS = ("label", "optimizer", "lr", "momentum", "betas", "weight_decay", "l1",
             "clip_norm", "batch_size")


def left_behind(spec: S.Scenario) -> list[str]:
    """The keys of ``spec`` that :func:`from_scenario` cannot carry into the Lab."""
    out = []
    if spec.network is not None:
        model = spec.network.model
        if model.init_value != 0.5 or model.init_std != 1.0 or model.bias_init is not None:
            out.append("network.model init options")
    default = S.Run(label="x")
    for i, run in enumerate(spec.runs):
        for name in run.__struct_fields__:
            if name not in _RUN_KEYS and getattr(run, name) != getattr(default, name):
                out.append(f"runs[{i}].{name}")
    if spec.quiz.concept or spec.quiz.prediction:
        out.append("quiz")
    if spec.cost is not None:
        out.append("cost")
    return out
