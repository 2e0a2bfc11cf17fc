"""The scenario file format, as msgspec Structs (the app calls a scenario a "mission").

A scenario is one TOML file.  ``descent_tui.scenario.loader.load_scenario`` reads
it with :mod:`tomllib`, checks it key by key against these structs (collecting
every problem it can find, :mod:`descent_tui.scenario.structure`) and finally
converts it with ``msgspec.convert(data, Scenario)``.

Every struct forbids unknown keys and is keyword-only.  Defaults are chosen so
that a teacher writes little: a landscape scenario needs ``id``, ``title``,
``[landscape]`` (``params``, ``loss``, ``start``) and one ``[[runs]]`` table with
a ``label``.  See docs/scenarios.md for the full annotated format.

Field constraints that msgspec can express (ranges, lengths) are expressed with
``Annotated[..., Meta(...)]``; cross-field rules (exactly one of landscape /
network, ``start`` length == ``params`` length, unique run labels, quiz answers
in range, ...) live in :mod:`descent_tui.scenario.rules`.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

__all__ = [
    "ACTIVATIONS",
    "BIAS_INITS",
    "CHOICE_KNOBS",
    "DATASET_KINDS",
    "INITS",
    "INPUT_FEATURES",
    "KNOB_NAMES",
    "LOSSES",
    "METRICS",
    "NUMERIC_KNOBS",
    "OPTIMIZERS",
    "SCHEDULE_KINDS",
    "ConceptQuestion",
    "Cost",
    "DataSpec",
    "Knob",
    "Knobs",
    "Landscape",
    "ModelSpec",
    "Network",
    "PredictionQuestion",
    "Pretrain",
    "Quiz",
    "Run",
    "Scenario",
    "Schedule",
    "WatchItem",
]

# --------------------------------------------------------------------------- names

Optimizer = Literal[
    "sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adam", "adamw", "newton"
]
Activation = Literal["relu", "leaky_relu", "sigmoid", "tanh", "identity"]
Init = Literal[
    "zeros",
    "constant",
    "normal",
    "uniform",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "pytorch",
]
BiasInit = Literal["zeros", "constant", "pytorch"]
Loss = Literal["mse", "bce", "cross_entropy"]
#: input features computed from the raw columns (see descent_tui.data.features)
InputFeature = Literal["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]
DatasetKind = Literal["xor", "circles", "moons", "spiral", "blobs", "sine", "linear", "csv"]
ScheduleKind = Literal["constant", "step", "multistep", "exponential", "cosine", "warmup"]
Metric = Literal[
    "first_below", "lowest_final_loss", "largest_final_loss", "diverges", "smallest_grad_layer"
]

OPTIMIZERS: tuple[str, ...] = Optimizer.__args__
ACTIVATIONS: tuple[str, ...] = Activation.__args__
INITS: tuple[str, ...] = Init.__args__
BIAS_INITS: tuple[str, ...] = BiasInit.__args__
LOSSES: tuple[str, ...] = Loss.__args__
DATASET_KINDS: tuple[str, ...] = DatasetKind.__args__
INPUT_FEATURES: tuple[str, ...] = InputFeature.__args__
SCHEDULE_KINDS: tuple[str, ...] = ScheduleKind.__args__
METRICS: tuple[str, ...] = Metric.__args__

#: datasets whose target is a real number (regression); the others are classification
REGRESSION_DATASETS: tuple[str, ...] = ("sine", "linear")
#: number of input features of each generated dataset (csv: len(features))
DATASET_FEATURES: dict[str, int] = {
    "xor": 2, "circles": 2, "moons": 2, "spiral": 2, "blobs": 2, "sine": 1, "linear": 1,
}

# ------------------------------------------------------------------ constrained types

Slug = Annotated[str, Meta(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", min_length=1, max_length=64)]
ParamName = Annotated[str, Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=32)]
NonEmptyStr = Annotated[str, Meta(min_length=1, max_length=2000)]
Text = Annotated[str, Meta(max_length=20_000)]
Positive = Annotated[float, Meta(gt=0)]
NonNegative = Annotated[float, Meta(ge=0)]
Unit = Annotated[float, Meta(ge=0, le=1)]
UnitOpen = Annotated[float, Meta(ge=0, lt=1)]
Steps = Annotated[int, Meta(ge=1, le=1_000_000)]
#: an initial weight or its spread: large enough to explode, small enough that
#: drawing it (``uniform(-a, a)``) cannot overflow
InitValue = Annotated[float, Meta(ge=-1e6, le=1e6)]
InitScale = Annotated[float, Meta(ge=0, le=1e6)]
Seed = Annotated[int, Meta(ge=0, le=2**32 - 1)]

# ----------------------------------------------------------------------- structs


class _Base(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Common options: reject unknown keys, keyword-only construction."""


class Landscape(_Base, kw_only=True):
    """A hand-written loss surface ``loss(params)``; optimizers walk on it."""

    #: parameter names, used in ``loss``; the first two are the plotted axes
    params: Annotated[list[ParamName], Meta(min_length=1, max_length=8)]
    #: the loss, in the safe expression language of :mod:`descent_tui.scenario.expr`
    loss: Annotated[str, Meta(min_length=1, max_length=500)]
    #: starting point, one value per param (each run may override it)
    start: Annotated[list[float], Meta(min_length=1, max_length=8)]
    #: plot bounds ``[lo, hi]`` per param; default ``[-10, 10]`` for every param
    bounds: Annotated[list[tuple[float, float]], Meta(max_length=8)] | None = None
    #: where the minimum is (drawn as a marker), optional, one value per param
    minimum: Annotated[list[float], Meta(max_length=8)] | None = None

    def plot_bounds(self) -> list[tuple[float, float]]:
        """Bounds per param, defaults filled in."""
        if self.bounds is None:
            return [(-10.0, 10.0) for _ in self.params]
        return [(float(lo), float(hi)) for lo, hi in self.bounds]


class DataSpec(_Base, kw_only=True):
    """Where the training data comes from (``[network.data]``)."""

    kind: DatasetKind
    #: number of samples (ignored for csv; xor with n = 4 gives the four corners)
    n: Annotated[int, Meta(ge=1, le=100_000)] = 200
    #: noise scale (gaussian std; for blobs: the cluster std)
    noise: Annotated[float, Meta(ge=0, le=100)] = 0.1
    seed: Seed = 1
    #: number of classes (spiral, blobs)
    classes: Annotated[int, Meta(ge=2, le=10)] = 3
    #: csv only: file path, relative to the scenario file
    path: Annotated[str, Meta(min_length=1, max_length=1000)] | None = None
    #: csv only: the feature columns
    features: Annotated[list[NonEmptyStr], Meta(min_length=1, max_length=64)] | None = None
    #: csv only: the label / target column
    label: NonEmptyStr | None = None

    @property
    def n_features(self) -> int:
        if self.kind == "csv":
            return len(self.features or ())
        return DATASET_FEATURES[self.kind]

    @property
    def n_classes(self) -> int | None:
        """Classes of a generated classification set (None: regression or csv)."""
        if self.kind in ("spiral", "blobs"):
            return self.classes
        if self.kind in ("xor", "circles", "moons"):
            return 2
        return None


class ModelSpec(_Base, kw_only=True):
    """A multilayer perceptron (``[network.model]``)."""

    #: layer sizes including input and output, e.g. ``[2, 8, 8, 1]``
    layers: Annotated[list[Annotated[int, Meta(ge=1, le=1024)]], Meta(min_length=2, max_length=12)]
    #: one activation for all hidden layers, or a list with one per hidden layer
    activation: Activation | list[Activation] = "tanh"
    #: weight initialisation; "pytorch" is torch.nn.Linear's default
    init: Init = "pytorch"
    #: value for ``init = "constant"`` (and ``bias_init = "constant"``)
    init_value: InitValue = 0.5
    #: std for ``init = "normal"``, half-width for ``init = "uniform"``
    init_std: InitScale = 1.0
    #: bias initialisation; default: "pytorch" when init is "pytorch", else "zeros"
    bias_init: BiasInit | None = None

    @property
    def hidden_activations(self) -> list[str]:
        """One activation name per hidden layer (the output layer has none)."""
        n_hidden = len(self.layers) - 2
        if isinstance(self.activation, str):
            return [self.activation] * n_hidden
        return list(self.activation)

    @property
    def effective_bias_init(self) -> str:
        if self.bias_init is not None:
            return self.bias_init
        return "pytorch" if self.init == "pytorch" else "zeros"


class Network(_Base, kw_only=True):
    """A small network trained on a dataset (``[network]``)."""

    loss: Loss
    data: DataSpec
    model: ModelSpec
    #: 0 = full batch, otherwise the mini-batch size (1 = single-sample SGD)
    batch_size: Annotated[int, Meta(ge=0, le=100_000)] = 0
    #: fraction of the data held out for validation
    val_split: Annotated[float, Meta(ge=0, lt=0.9)] = 0.0
    #: what the model reads: features of the raw columns x1, x2 (default: the columns
    #: themselves), e.g. ``["x1", "x2", "x1^2", "x2^2"]``; layers[0] = their number
    inputs: Annotated[list[InputFeature], Meta(min_length=1, max_length=7)] | None = None

    @property
    def n_inputs(self) -> int:
        """The model's input size: the number of ``inputs``, else the data's features."""
        return len(self.inputs) if self.inputs is not None else self.data.n_features


class Schedule(_Base, kw_only=True):
    """Learning-rate schedule of one run (``[runs.schedule]``), torch semantics."""

    kind: ScheduleKind = "constant"
    #: step: multiply by gamma every step_size steps
    step_size: Annotated[int, Meta(ge=1)] = 10
    #: step / multistep / exponential factor
    gamma: Annotated[float, Meta(gt=0, le=10)] = 0.1
    #: multistep: steps at which lr is multiplied by gamma
    milestones: list[Annotated[int, Meta(ge=1)]] = []
    #: cosine: period in steps (default: the scenario's steps)
    t_max: Annotated[int, Meta(ge=1)] | None = None
    #: cosine: the lowest lr
    eta_min: NonNegative = 0.0
    #: warmup: linear warmup length (torch LinearLR total_iters)
    warmup_steps: Annotated[int, Meta(ge=0)] = 0
    #: warmup: the lr factor at step 0 (torch LinearLR start_factor)
    start_factor: Annotated[float, Meta(gt=0, le=1)] = 0.1
    #: warmup: what follows the warmup
    after: Literal["constant", "cosine"] = "constant"


class Pretrain(_Base, kw_only=True):
    """``[runs.pretrain]``: train this run's network on a related data set first (transfer).

    Before step 1 the run's freshly initialised model takes ``steps`` full-batch
    updates on ``data`` (the run's own optimizer settings, ``lr`` if given); the
    run then starts from those weights with a fresh optimizer. Network only.
    """

    #: the related data set (same number of features and classes as ``[network.data]``)
    data: DataSpec
    #: full-batch updates on it
    steps: Annotated[int, Meta(ge=1, le=100_000)]
    #: learning rate of the pretraining (default: the run's lr)
    lr: Annotated[float, Meta(gt=0, le=1e6)] | None = None


class Run(_Base, kw_only=True):
    """One optimizer configuration; all runs of a scenario train side by side."""

    label: Annotated[str, Meta(min_length=1, max_length=40)]
    optimizer: Optimizer = "sgd"
    lr: Annotated[float, Meta(gt=0, le=1e6)] = 0.01
    #: default: 0.9 for optimizer "momentum"/"nesterov", else 0
    momentum: Annotated[float, Meta(ge=0, lt=1)] | None = None
    dampening: Unit = 0.0
    #: sgd only: use Nesterov momentum (optimizer "nesterov" implies it)
    nesterov: bool = False
    weight_decay: NonNegative = 0.0
    #: network only: L1 penalty l1 * sum|w| over the weights (not biases), added to
    #: the gradient as l1 * sign(w) before clipping
    l1: Annotated[float, Meta(ge=0, le=1e3)] = 0.0
    betas: tuple[UnitOpen, UnitOpen] = (0.9, 0.999)
    eps: Annotated[float, Meta(gt=0, le=1)] = 1e-8
    #: rmsprop smoothing constant
    alpha: UnitOpen = 0.99
    centered: bool = False
    amsgrad: bool = False
    #: adagrad lr decay
    lr_decay: NonNegative = 0.0
    #: newton: added to the Hessian diagonal
    damping: NonNegative = 0.0
    #: clip the global gradient norm to this value (optional)
    clip_norm: Positive | None = None
    #: clamp each gradient component to [-clip_value, clip_value] (optional)
    clip_value: Positive | None = None
    #: gradient-accumulation micro-batches per step
    accumulate: Annotated[int, Meta(ge=1, le=1024)] = 1
    #: the classic bug: never call zero_grad, gradients pile up
    forget_zero_grad: bool = False
    #: the double-applied update bug: optimizer.step() twice on each batch's gradient
    apply_twice: bool = False
    #: adam / adamw: divide the moments by 1 - beta^t (descent's switch; PyTorch always does)
    bias_correction: bool = True
    schedule: Schedule | None = None
    #: network only: start from weights pretrained on a related data set
    pretrain: Pretrain | None = None
    #: landscape only: start point override (one per param)
    start: Annotated[list[float], Meta(min_length=1, max_length=8)] | None = None
    # network only: overrides of [network] / [network.model]
    init: Init | None = None
    init_value: InitValue | None = None
    init_std: InitScale | None = None
    bias_init: BiasInit | None = None
    activation: Activation | list[Activation] | None = None
    batch_size: Annotated[int, Meta(ge=0, le=100_000)] | None = None
    #: seed override (network init / batch order); default: the scenario seed
    seed: Seed | None = None

    @property
    def effective_momentum(self) -> float:
        if self.momentum is not None:
            return self.momentum
        return 0.9 if self.optimizer in ("momentum", "nesterov") else 0.0

    @property
    def uses_nesterov(self) -> bool:
        return self.nesterov or self.optimizer == "nesterov"


class Cost(_Base, kw_only=True):
    """``[cost]``: what reaching ``target`` costs each run (network scenarios).

    See :mod:`descent_tui.sim.cost`: multiply-adds counted from the layer shapes
    (training ≈ 3 × the forward pass) and energy at ``joules_per_mac``.
    """

    #: the training loss a run must get below
    target: float
    #: energy of one multiply-add on the assumed accelerator (default 1e-11 J = 10 pJ)
    joules_per_mac: Annotated[float, Meta(gt=0, le=1e-6)] = 1e-11


class Knob(_Base, kw_only=True):
    """What the app may change: a numeric range (min, max) or a list of choices."""

    min: float | None = None
    max: float | None = None
    #: draw the slider on a log scale (default: true for lr)
    log: bool | None = None
    choices: Annotated[list[NonEmptyStr], Meta(min_length=1, max_length=16)] | None = None


NUMERIC_KNOBS: tuple[str, ...] = (
    "lr", "momentum", "beta1", "beta2", "weight_decay", "clip_norm", "batch_size", "steps",
)
CHOICE_KNOBS: tuple[str, ...] = ("optimizer", "init", "activation")
KNOB_NAMES: tuple[str, ...] = NUMERIC_KNOBS + CHOICE_KNOBS
#: knobs that only make sense for network scenarios
NETWORK_ONLY_KNOBS: tuple[str, ...] = ("init", "activation", "batch_size")


class Knobs(_Base, kw_only=True):
    """``[knobs]``: each present key is a control the app shows (absent: fixed)."""

    lr: Knob | None = None
    momentum: Knob | None = None
    beta1: Knob | None = None
    beta2: Knob | None = None
    weight_decay: Knob | None = None
    clip_norm: Knob | None = None
    batch_size: Knob | None = None
    steps: Knob | None = None
    optimizer: Knob | None = None
    init: Knob | None = None
    activation: Knob | None = None
    #: true: the mission's settings are fixed -- the app shows no knobs (a class can
    #: lock every mission, see :func:`descent_tui.classroom.locked`)
    locked: bool = False

    def present(self) -> dict[str, Knob]:
        """The knobs that are set, by name, in declaration order."""
        out = {}
        for name in KNOB_NAMES:
            knob = getattr(self, name)
            if knob is not None:
                out[name] = knob
        return out


class ConceptQuestion(_Base, kw_only=True):
    """A multiple-choice question with a fixed answer."""

    question: NonEmptyStr
    choices: Annotated[list[NonEmptyStr], Meta(min_length=2, max_length=6)]
    #: 0-based index into choices
    answer: Annotated[int, Meta(ge=0)]
    explanation: Text = ""


class PredictionQuestion(_Base, kw_only=True):
    """Asked before the run; graded from what the runs actually did.

    metric:
      first_below          which run first has loss < threshold ("none": no run does)
      lowest_final_loss    which run ends with the lowest loss
      largest_final_loss   which run ends with the largest loss
      diverges             which run diverges first ("none": none does)
      smallest_grad_layer  which layer ("layer 1" = first Linear) has the smallest
                           gradient norm at the first step of run ``run``
    """

    question: NonEmptyStr
    metric: Metric
    threshold: float | None = None
    choices: Annotated[list[NonEmptyStr], Meta(min_length=2, max_length=8)]
    #: smallest_grad_layer: the run whose gradients are measured (default: first run)
    run: str | None = None
    explanation: Text = ""


class WatchItem(_Base, kw_only=True):
    """A watch-for note with the event that shows it (``when``: see
    :mod:`descent_tui.scenario.triggers`); the app ticks it off when the run shows it."""

    text: NonEmptyStr
    when: Annotated[str, Meta(min_length=1, max_length=200)] | None = None


class Quiz(_Base, kw_only=True):
    concept: Annotated[list[ConceptQuestion], Meta(max_length=20)] = []
    prediction: Annotated[list[PredictionQuestion], Meta(max_length=20)] = []


class Scenario(_Base, kw_only=True):
    """One scenario file."""

    id: Slug
    title: Annotated[str, Meta(min_length=1, max_length=120)]
    chapter: Annotated[int, Meta(ge=1, le=99)] = 1
    order: Annotated[int, Meta(ge=0, le=999)] = 0
    briefing: Text = ""
    debrief: Text = ""
    #: notes: plain strings, or ``{ text = "...", when = "<trigger>" }`` tables
    watch_for: Annotated[list[NonEmptyStr | WatchItem], Meta(max_length=20)] = []
    #: where the lesson comes from: one reference per entry (shown under the debrief)
    sources: Annotated[list[Annotated[str, Meta(min_length=1, max_length=300)]],
                       Meta(max_length=12)] = []
    steps: Steps = 200
    #: the app's default speed in steps per second (None: from ``steps``, a run of ~10-25 s)
    pace: Annotated[int, Meta(ge=1, le=1_000_000)] | None = None
    #: the loss plot opens on a log scale (``l`` still toggles it): for losses that
    #: span many decades, where a linear axis shows only the first few steps
    log_scale: bool = False
    seed: Seed = 0
    #: a run diverges when its loss is not finite or exceeds this
    diverge_above: Positive = 1e6
    landscape: Landscape | None = None
    network: Network | None = None
    runs: Annotated[list[Run], Meta(min_length=1, max_length=8)]
    knobs: Knobs = msgspec.field(default_factory=Knobs)
    quiz: Quiz = msgspec.field(default_factory=Quiz)
    #: optional: each run's cost to reach a target loss (network scenarios)
    cost: Cost | None = None

    @property
    def kind(self) -> Literal["landscape", "network"]:
        return "landscape" if self.landscape is not None else "network"

    @property
    def watch_items(self) -> list[WatchItem]:
        """Every watch-for note as a :class:`WatchItem` (a plain note has no trigger)."""
        return [w if isinstance(w, WatchItem) else WatchItem(text=w) for w in self.watch_for]

    @property
    def watch_notes(self) -> list[str]:
        """The text of every watch-for note."""
        return [w.text for w in self.watch_items]

    @property
    def run_labels(self) -> list[str]:
        return [r.label for r in self.runs]

    @property
    def layer_names(self) -> list[str]:
        """Names used by ``smallest_grad_layer``: "layer 1" .. "layer N" (N Linear layers)."""
        if self.network is None:
            return []
        return [f"layer {i}" for i in range(1, len(self.network.model.layers))]
