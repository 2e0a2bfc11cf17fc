"""The simulation runner: determinism, divergence, bounded history, accumulation, knobs."""

from __future__ import annotations

import json
import math
import re
import textwrap
import warnings

import numpy as np
import pytest

from descent_tui.engine import optim
from descent_tui.scenario import load_scenario
from descent_tui.sim import History, OverrideError, Simulation, StepRecord
from descent_tui.sim.landscape import LandscapeRun
from descent_tui.sim.network import NetworkRun

LANDSCAPE = """
id = "ravine"
title = "Ravine"
steps = 200
[landscape]
params = ["x", "y"]
loss = "0.05*x**2 + 5*y**2"
start = [-8.0, 1.5]
[[runs]]
label = "SGD"
lr = 0.05
[[runs]]
label = "Momentum"
optimizer = "momentum"
lr = 0.05
[[runs]]
label = "Adam"
optimizer = "adam"
lr = 0.5
"""

NETWORK = """
id = "moons"
title = "Moons"
steps = 40
seed = 3
[network]
loss = "cross_entropy"
batch_size = 16
val_split = 0.25
[network.data]
kind = "moons"
n = 80
[network.model]
layers = [2, 8, 8, 2]
activation = "relu"
init = "kaiming_normal"
[[runs]]
label = "SGD"
lr = 0.1
[[runs]]
label = "Adam"
optimizer = "adam"
lr = 0.01
[[runs]]
label = "Sig"
activation = "sigmoid"
init = "xavier_uniform"
optimizer = "rmsprop"
lr = 0.01
"""


def write(tmp_path, text: str, name: str = "s.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return load_scenario(p)


def all_series(sim: Simulation) -> dict:
    out = {}
    for rs in sim.runs:
        out[(rs.label, "steps")] = rs.history.steps.tobytes()
        for name in rs.history.names:
            out[(rs.label, name)] = rs.history.series(name).tobytes()
    return out


# ----------------------------------------------------------------- determinism


@pytest.mark.parametrize("text", [LANDSCAPE, NETWORK])
def test_same_seed_gives_bitwise_identical_histories(tmp_path, text):
    loaded = write(tmp_path, text)
    a, b = Simulation(loaded), Simulation(loaded)
    a.step(25)
    b.step(10)
    b.step(15)
    assert all_series(a) == all_series(b)
    for ra, rb in zip(a.runs, b.runs, strict=True):
        for pa, pb in zip(ra.params, rb.params, strict=True):
            assert pa.data.tobytes() == pb.data.tobytes()


def test_reset_is_deterministic_and_seed_changes_network(tmp_path):
    loaded = write(tmp_path, NETWORK)
    sim = Simulation(loaded)
    sim.step(10)
    first = all_series(sim)
    sim.reset()
    assert sim.step_count == 0 and len(sim.runs[0].history) == 1  # row 0: the start
    sim.step(10)
    assert all_series(sim) == first
    sim.reset({"seed": 4})
    sim.step(10)
    assert all_series(sim) != first


def test_runs_with_the_same_seed_start_from_the_same_weights(tmp_path):
    sim = Simulation(write(tmp_path, NETWORK))
    w0 = sim.runs[0].model.parameters()[0].data
    w1 = sim.runs[1].model.parameters()[0].data
    assert np.array_equal(w0, w1)


# ------------------------------------------------------------------ divergence


DIVERGE = """
id = "bowl"
title = "Bowl"
steps = 100
diverge_above = 1e300
[landscape]
params = ["x", "y"]
loss = "x**2 + y**2"
start = [3.0, -2.0]
[[runs]]
label = "Good"
lr = 0.1
[[runs]]
label = "Boom"
lr = 50.0
[[runs]]
label = "Adam"
optimizer = "adam"
lr = 0.1
"""


def test_divergence_is_marked_with_a_reason_and_others_go_on(tmp_path):
    sim = Simulation(write(tmp_path, DIVERGE))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            sim.step(100)
    good, boom, adam = sim.runs
    assert boom.diverged and boom.finished
    assert boom.diverged_at is not None and boom.diverged_at < 100
    assert f"at step {boom.diverged_at}" in boom.reason
    assert "gradient norm" in boom.reason or "loss" in boom.reason
    assert not good.diverged and good.step == 100 and good.last.loss < 1e-6
    assert not adam.diverged and adam.step == 100
    assert sim.done
    # history stays finite-plottable and stops where the run did
    assert boom.history.steps[-1] < boom.diverged_at
    assert np.all(np.isfinite(boom.history.series("loss")))
    assert boom.last.step == boom.diverged_at


def test_loss_above_diverge_above_counts(tmp_path):
    text = DIVERGE.replace("diverge_above = 1e300", "diverge_above = 1000")
    sim = Simulation(write(tmp_path, text))
    sim.step(100)
    boom = sim.runs[1]
    assert boom.diverged and "exceeded" in boom.reason


def test_non_finite_loss_reason(tmp_path):
    text = DIVERGE.replace('loss = "x**2 + y**2"', 'loss = "exp(x**2) + y**2"')
    text = text.replace("lr = 50.0", "lr = 1000.0")
    sim = Simulation(write(tmp_path, text))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sim.step(100)
    boom = sim.runs[1]
    assert boom.diverged
    assert re.search(r"(loss is (inf|NaN)|gradient norm is|parameters became)", boom.reason)



def test_network_divergence_does_not_raise(tmp_path):
    text = NETWORK.replace('label = "SGD"\nlr = 0.1', 'label = "SGD"\nlr = 1e5')
    sim = Simulation(write(tmp_path, text))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sim.step(40)
    assert sim.runs[0].diverged
    assert not sim.runs[1].diverged and sim.runs[1].step == 40


@pytest.fixture
def numpy_warns():
    """NumPy's default error state (warn), whatever the engine sets on import."""
    old = np.seterr(all="warn")
    try:
        yield
    finally:
        np.seterr(**old)


@pytest.mark.parametrize("mission", ["exploding-weights", "the-bowl"])
def test_a_diverging_mission_prints_no_numpy_warning(numpy_warns, mission):
    from descent_tui.scenario.catalog import find

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sim = Simulation(find(mission))
        sim.step(sim.total_steps)
        # a warning turned error inside a step would mark the run diverged with its name
        diverged = [rs.reason for rs in sim.runs if rs.diverged]
        if sim.kind == "landscape":
            sim.loss_grid(40, 20)
            sim.loss_at([1e200, 1e200])
        for i in range(len(sim.runs)):
            sim.decision_grid(i, 12)
        sim.reset()
        sim.step(5)
    assert diverged  # the mission's point: one run blows up
    assert not any("Warning" in reason or "Error" in reason for reason in diverged), diverged
    assert np.geterr()["over"] == "warn"  # the sim restored the error state it found


# ------------------------------------------------------------- bounded history


def test_history_is_bounded_with_a_million_appends():
    h = History(2000)
    for s in range(1, 1_000_001):
        h.append(s, {"loss": 1.0 / s})
    assert 1000 <= len(h) <= 2000
    steps = h.steps
    assert steps[0] == 1
    assert steps[-1] > 990_000
    assert np.all(np.diff(steps) == h.stride)  # evenly spread
    assert h.latest_step == 1_000_000 and h.latest["loss"] == 1e-6
    assert np.allclose(h.series("loss"), 1.0 / steps)


def test_history_late_series_are_nan_filled():
    h = History(8)
    h.append(1, {"a": 1.0})
    h.append(2, {"a": 2.0, "b": 5.0})
    assert np.isnan(h.series("b")[0]) and h.series("b")[1] == 5.0
    assert np.all(np.isnan(h.series("missing")))
    for s in range(3, 40):
        h.append(s, {"a": float(s)})
    assert len(h) <= 8 and h.stride > 1
    assert np.array_equal(h.series("a"), h.steps.astype(float))


def test_long_landscape_run_stays_bounded(tmp_path):
    text = LANDSCAPE.replace("steps = 200", "steps = 5000")
    sim = Simulation(write(tmp_path, text))
    sim.step(5000)
    for rs in sim.runs:
        assert len(rs.history) <= 2000
        assert rs.last.step == 5000
        assert rs.path.shape[1] == 2 and len(rs.path) <= 2001


# ------------------------------------------------------- gradient accumulation


ACCUM = """
id = "accum"
title = "Accumulate"
steps = 6
seed = 7
[network]
loss = "mse"
[network.data]
kind = "sine"
n = 64
[network.model]
layers = [1, 6, 1]
activation = "tanh"
[[runs]]
label = "big"
batch_size = 32
lr = 0.1
[[runs]]
label = "micro"
batch_size = 8
accumulate = 4
lr = 0.1
[[runs]]
label = "full"
batch_size = 0
lr = 0.1
[[runs]]
label = "full4"
batch_size = 0
accumulate = 4
lr = 0.1
"""


def test_accumulated_micro_batches_equal_the_big_batch(tmp_path):
    sim = Simulation(write(tmp_path, ACCUM))
    sim.step(6)
    big, micro, full, full4 = sim.runs
    for a, b in ((big, micro), (full, full4)):
        for pa, pb in zip(a.params, b.params, strict=True):
            np.testing.assert_allclose(pa.data, pb.data, rtol=0, atol=1e-12)
        np.testing.assert_allclose(a.history.series("loss"), b.history.series("loss"),
                                   rtol=0, atol=1e-12)
        np.testing.assert_allclose(a.history.series("grad_norm"),
                                   b.history.series("grad_norm"), rtol=0, atol=1e-12)
    # and mini-batches really are different from the full batch
    assert not np.allclose(big.params[0].data, full.params[0].data)


def test_forget_zero_grad_accumulates_gradients(tmp_path):
    text = LANDSCAPE + '\n[[runs]]\nlabel = "Forgot"\nlr = 0.05\nforget_zero_grad = true\n'
    sim = Simulation(write(tmp_path, text))
    sim.step(3)
    sgd, forgot = sim.runs[0], sim.runs[3]
    grads = np.column_stack([forgot.history.series("grad.x"), forgot.history.series("grad.y")])
    # rows 0..2 hold the gradients updates 1..3 used; row 3's is for the next update
    np.testing.assert_allclose(forgot.theta.grad, grads[:3].sum(axis=0))
    assert not np.allclose(sgd.point, forgot.point)


# ---------------------------------------------------------------- live knobs


def test_set_lr_changes_the_optimizer_live(tmp_path):
    sim = Simulation(write(tmp_path, LANDSCAPE))
    sim.step(5)
    sim.set_lr(0.01)
    for rs in sim.runs:
        assert rs.optimizer.param_groups[0]["lr"] == 0.01
        assert rs.lr == 0.01
    sim.step(1)
    assert sim.runs[0].history.series("lr")[-1] == 0.01
    sim.set_lr(0.02, run=1)
    assert sim.runs[1].lr == 0.02 and sim.runs[0].lr == 0.01
    with pytest.raises(ValueError):
        sim.set_lr(-1)


def test_set_lr_updates_scheduler_base_lrs(tmp_path):
    text = LANDSCAPE + textwrap.dedent("""
        [[runs]]
        label = "Cos"
        lr = 0.1
        [runs.schedule]
        kind = "cosine"
        """)
    sim = Simulation(write(tmp_path, text))
    cos = sim.runs[3]
    assert isinstance(cos.scheduler, optim.lr_scheduler.CosineAnnealingLR)
    sim.step(10)
    lrs = cos.history.series("lr")
    assert lrs[0] == pytest.approx(0.1) and np.all(np.diff(lrs) < 0)
    sim.set_lr(0.5, run=3)
    assert cos.scheduler.base_lrs == [0.5]
    assert cos.optimizer.param_groups[0]["lr"] == 0.5


def test_schedules_build(tmp_path):
    kinds = {
        "step": "step_size = 5\ngamma = 0.5",
        "multistep": "milestones = [3, 6]",
        "exponential": "gamma = 0.9",
        "warmup": "warmup_steps = 5\nstart_factor = 0.2",
        "constant": "",
    }
    text = LANDSCAPE.split("[[runs]]")[0]
    for k, extra in kinds.items():
        text += f'\n[[runs]]\nlabel = "{k}"\nlr = 0.1\n[runs.schedule]\nkind = "{k}"\n{extra}\n'
    text += ('\n[[runs]]\nlabel = "warmcos"\nlr = 0.1\n[runs.schedule]\nkind = "warmup"\n'
             'warmup_steps = 5\nafter = "cosine"\n')
    sim = Simulation(write(tmp_path, text))
    sim.step(10)
    by = {rs.label: rs.history.series("lr") for rs in sim.runs}
    assert by["step"][5] == pytest.approx(0.05)
    assert by["exponential"][1] == pytest.approx(0.09)
    assert by["warmup"][0] == pytest.approx(0.02) and by["warmup"][6] == pytest.approx(0.1)
    assert by["warmcos"][0] == pytest.approx(0.01) and by["warmcos"][9] < 0.1
    assert np.all(by["constant"] == 0.1)


def test_reset_applies_overrides(tmp_path):
    sim = Simulation(write(tmp_path, LANDSCAPE))
    sim.step(5)
    sim.reset({"optimizer": "adam", "lr": 0.3, "beta1": 0.8, "steps": 50,
               "runs.SGD.lr": 0.05})
    assert sim.step_count == 0 and sim.total_steps == 50
    assert all(isinstance(rs.optimizer, optim.Adam) for rs in sim.runs)
    assert sim.runs[0].config.lr == 0.05 and sim.runs[1].config.lr == 0.3
    assert sim.runs[1].optimizer.param_groups[0]["betas"] == (0.8, 0.999)
    sim.step(100)
    assert sim.step_count == 50 and sim.done


@pytest.mark.parametrize("overrides, key", [
    ({"momentom": 0.5}, "momentom"),
    ({"lr": -1}, "lr"),
    ({"optimizer": "lbfgs"}, "optimizer"),
    ({"runs.Nope.lr": 0.1}, "runs.Nope.lr"),
    ({"steps": 0}, "steps"),
])
def test_bad_overrides_raise_override_error(tmp_path, overrides, key):
    loaded = write(tmp_path, LANDSCAPE)
    with pytest.raises(OverrideError) as e:
        Simulation(loaded, overrides)
    assert e.value.key == key


# ------------------------------------------------------------------ optimizers


def test_every_optimizer_runs_on_a_landscape(tmp_path):
    names = ["sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adam", "adamw", "newton"]
    text = LANDSCAPE.split("[[runs]]")[0]
    for n in names:
        text += f'\n[[runs]]\nlabel = "{n}"\noptimizer = "{n}"\nlr = {1.0 if n == "newton" else 0.05}\n'
    sim = Simulation(write(tmp_path, text))
    sim.step(50)
    by = {rs.label: rs for rs in sim.runs}
    for n, rs in by.items():
        assert not rs.diverged, (n, rs.reason)
        assert rs.last.loss < 14.45, n
    # Newton lands on the minimum of a quadratic in one step
    assert by["newton"].history.series("loss")[1] < 1e-12
    assert by["momentum"].velocity is not None and by["sgd"].velocity is None
    assert by["adam"].step_size.shape == (2,)


def test_clipping_limits_the_step(tmp_path):
    text = DIVERGE.replace('label = "Boom"\nlr = 50.0', 'label = "Boom"\nlr = 50.0\nclip_norm = 0.01')
    sim = Simulation(write(tmp_path, text))
    sim.step(3)
    boom = sim.runs[1]
    path = boom.path
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    assert np.all(steps <= 50.0 * 0.01 + 1e-9)
    text = DIVERGE.replace('label = "Boom"\nlr = 50.0', 'label = "Boom"\nlr = 1.0\nclip_value = 0.1')
    sim = Simulation(write(tmp_path, text, "v.toml"))
    sim.step(1)
    assert np.allclose(np.abs(np.diff(sim.runs[1].path, axis=0)), 0.1)


def test_landscape_state_and_grid(tmp_path):
    sim = Simulation(write(tmp_path, LANDSCAPE))
    rs = sim.runs[0]
    assert isinstance(rs, LandscapeRun)
    assert rs.last.loss == pytest.approx(0.05 * 64 + 5 * 2.25)
    np.testing.assert_array_equal(rs.point, [-8.0, 1.5])
    np.testing.assert_allclose(rs.grad, [0.1 * -8.0, 10 * 1.5])  # at the point drawn
    sim.step(1)
    np.testing.assert_allclose(rs.point, [-8.0 + 0.05 * 0.8, 1.5 - 0.05 * 15])
    np.testing.assert_allclose(rs.grad, [0.1 * rs.point[0], 10 * rs.point[1]])
    assert rs.last.loss == pytest.approx(0.05 * rs.point[0] ** 2 + 5 * rs.point[1] ** 2)
    assert rs.path.shape == (2, 2)
    xs, ys, Z = sim.loss_grid(60, 30)
    assert xs.shape == (60,) and ys.shape == (30,) and Z.shape == (30, 60)
    assert Z[15, 30] == pytest.approx(sim.loss_at([xs[30], ys[15]]))
    assert sim.layer_names == [] and sim.kind == "landscape"
    assert sim.decision_grid(0) is None


# ------------------------------------------------------------------- networks


def test_network_metrics(tmp_path):
    sim = Simulation(write(tmp_path, NETWORK))
    sim.step(5)
    assert sim.layer_names == ["layer 1", "layer 2", "layer 3"]
    relu, _adam, sig = sim.runs
    for rs in sim.runs:
        assert isinstance(rs, NetworkRun) and isinstance(rs.last, StepRecord)
        assert rs.last.step == 5 and None not in (rs.last.val_accuracy, rs.last.lr,
                                                  rs.last.grad_norm)
        assert 0 <= rs.last.accuracy <= 1 and rs.last.val_loss > 0
        assert len(rs.layers) == 3
        for lay in rs.layers:
            assert lay.grad_norm >= 0 and lay.weight_norm > 0
            assert lay.update_ratio > 0 and lay.act_std >= 0
        for name in ("loss", "val_loss", "accuracy", "layer 2.update_ratio", "layer 1.act_mean"):
            assert len(rs.history.series(name)) == 6  # rows 0..5
        assert np.isnan(rs.history.series("layer 1.grad_norm")[0])  # no update before row 0
    assert relu.layers[0].dead_frac is not None and relu.layers[0].saturated_frac is None
    assert sig.layers[0].saturated_frac is not None and sig.layers[0].dead_frac is None
    assert relu.layers[2].dead_frac is None  # output layer: identity
    assert relu.first_layers is not None
    _xs, _ys, P = sim.decision_grid(0, n=20)
    assert P.shape == (20, 20) and np.all((P >= 0) & (P <= 1))


@pytest.mark.parametrize("init", ["zeros", "constant", "normal", "uniform", "xavier_uniform",
                                  "xavier_normal", "kaiming_uniform", "kaiming_normal",
                                  "pytorch"])
@pytest.mark.parametrize("act", ["relu", "leaky_relu", "tanh", "sigmoid", "identity"])
def test_every_init_and_activation_builds(tmp_path, init, act):
    text = NETWORK.replace('init = "kaiming_normal"', f'init = "{init}"').replace(
        'activation = "relu"', f'activation = "{act}"')
    sim = Simulation(write(tmp_path, text))
    sim.step(2)
    w = sim.runs[0].model.parameters()[0].data
    if init == "zeros":
        assert np.all(w == 0) or sim.runs[0].step == 2
    assert all(not rs.diverged for rs in sim.runs)


def test_kaiming_relu_scale(tmp_path):
    text = NETWORK.replace("layers = [2, 8, 8, 2]", "layers = [2, 400, 400, 2]")
    sim = Simulation(write(tmp_path, text))
    w = sim.runs[0].model.parameters()[2].data  # second Linear weight, fan_in 400
    assert w.std() == pytest.approx(math.sqrt(2 / 400), rel=0.05)


def test_regression_and_bce(tmp_path):
    sine = ACCUM.replace("steps = 6", "steps = 20")
    sim = Simulation(write(tmp_path, sine))
    sim.step(20)
    assert sim.runs[0].last.accuracy is None
    assert "accuracy" not in sim.runs[0].history.names
    bce = NETWORK.replace('loss = "cross_entropy"', 'loss = "bce"').replace(
        "layers = [2, 8, 8, 2]", "layers = [2, 8, 8, 1]")
    sim = Simulation(write(tmp_path, bce, "b.toml"))
    sim.step(20)
    assert 0 <= sim.runs[1].last.accuracy <= 1
    json.dumps(sim.summary())


def test_summary_and_first_below(tmp_path):
    text = LANDSCAPE + textwrap.dedent("""
        [[quiz.prediction]]
        question = "Which run first gets below 1?"
        metric = "first_below"
        threshold = 1.0
        choices = ["SGD", "Momentum", "Adam", "none"]
        """)
    sim = Simulation(write(tmp_path, text))
    sim.step(200)
    s = sim.summary()
    assert s["scenario"] == "ravine" and s["steps"] == 200
    adam = s["runs"][2]
    loss = sim.runs[2].history.series("loss")
    assert adam["first_below"]["1"] == int(sim.runs[2].history.steps[np.argmax(loss < 1)])
    json.dumps(s)


@pytest.mark.parametrize("steps, which", [(0, 0), (3, 2)])  # big init at the start, He later
def test_measuring_sharpness_leaves_the_run_as_it_was(steps, which):
    """sharpness() evaluates gradients at other points; the run's pending gradient (the
    one its next update uses), its weights and so its whole future are untouched."""
    from pathlib import Path

    from descent_tui.sim.sharpness import sharpness

    path = Path(__file__).resolve().parents[1] / "scenarios" / "exploding-weights.toml"
    plain, measured = Simulation(load_scenario(path)), Simulation(load_scenario(path))
    plain.step(steps)
    measured.step(steps)
    lam = sharpness(measured.runs[which], iters=5)
    assert lam > 0
    plain.step(5)
    measured.step(5)
    for a, b in zip(plain.runs, measured.runs, strict=True):
        assert np.array_equal(a.history.series("loss"), b.history.series("loss"), equal_nan=True)
