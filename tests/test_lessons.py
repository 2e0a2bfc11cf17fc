"""Every shipped mission must show, in the numbers of its own run, what it teaches.

A lesson whose run doesn't show its point is a bug in the lesson. These tests
run each scenario headless (``descent_tui.sim.Simulation``), check the
phenomenon from the recorded numbers, and check that the quiz's predictions
come out the way the briefings and explanations say they do.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np
import pytest

from descent_tui.engine import Tensor
from descent_tui.quiz import correct_answer, grade_prediction
from descent_tui.scenario import load_scenario
from descent_tui.sim import Simulation

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

MISSIONS = (
    "first-descent",
    "the-bowl",
    "the-ravine",
    "optimizer-zoo",
    "vanishing-gradients",
    "zero-init-symmetry",
    "exploding-weights",
    "forgot-zero-grad",
    "learning-rate-schedules",
    "batch-sizes",
    "gradient-accumulation",
    "newton-vs-gradient",
)

#: the answer each prediction question must have after a full run, as the
#: briefings, debriefs and explanations claim
EXPECTED_PREDICTIONS = {
    "first-descent": ["bold", "reckless"],
    "the-bowl": ["too large", "just right"],
    "the-ravine": ["Adam"],
    "optimizer-zoo": ["Nesterov", "none"],
    "vanishing-gradients": ["layer 1", "ReLU + He"],
    "zero-init-symmetry": ["random", "all zeros"],
    "exploding-weights": ["big init", "He init"],
    "forgot-zero-grad": ["forgot zero_grad", "correct loop"],
    "learning-rate-schedules": ["constant 0.02"],
    "batch-sizes": ["single sample"],
    "gradient-accumulation": ["batch 8"],
    "newton-vs-gradient": ["Newton"],
}


# ------------------------------------------------------------------ helpers


def _path(mission: str) -> Path:
    return SCENARIOS / f"{mission}.toml"


@functools.cache
def finished(mission: str) -> Simulation:
    """The mission's simulation, run to the end (cached: tests only read it)."""
    sim = Simulation(load_scenario(_path(mission)))
    sim.step(sim.total_steps)
    assert sim.done
    return sim


def run(sim: Simulation, label: str):
    matches = [r for r in sim.runs if r.label == label]
    assert matches, f"no run {label!r} in {sim.spec.id}"
    return matches[0]


def series(rs, name: str) -> np.ndarray:
    # every mission is far below the history capacity, so nothing is downsampled
    assert len(rs.history.steps) == rs.step + 1 or rs.diverged  # row 0 is the start
    return np.asarray(rs.history.series(name), dtype=float)


def sign_changes(values: np.ndarray) -> int:
    s = np.sign(values)
    s = s[s != 0]
    return int(np.count_nonzero(s[1:] != s[:-1]))


# ------------------------------------------------------- every mission, generic


def test_the_twelve_missions_are_shipped():
    assert {p.stem for p in SCENARIOS.glob("*.toml")} >= set(MISSIONS)


@pytest.mark.parametrize("mission", MISSIONS)
def test_mission_validates(mission):
    loaded = load_scenario(_path(mission))
    spec = loaded.spec
    assert spec.id == mission
    assert spec.briefing.strip() and spec.debrief.strip()
    assert spec.watch_for
    assert spec.knobs.present(), "every mission offers at least one knob"
    assert len(spec.quiz.concept) >= 4
    assert len(spec.quiz.prediction) >= 1
    for q in spec.quiz.concept:
        assert q.explanation.strip()
    for q in spec.quiz.prediction:
        assert q.explanation.strip()


def test_course_order_is_unique():
    keys = [(load_scenario(_path(m)).spec.chapter, load_scenario(_path(m)).spec.order)
            for m in MISSIONS]
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("mission", MISSIONS)
def test_predictions_are_gradable_and_as_taught(mission):
    sim = finished(mission)
    questions = sim.spec.quiz.prediction
    assert len(questions) == len(EXPECTED_PREDICTIONS[mission])
    for q, expected in zip(questions, EXPECTED_PREDICTIONS[mission], strict=True):
        idx = grade_prediction(q, sim)
        assert idx is not None, f"{mission}: {q.question!r} is not gradable after the run"
        assert correct_answer(q, sim) == expected, q.question
        assert q.choices[idx].lower() == expected.lower()


@pytest.mark.parametrize("mission", MISSIONS)
def test_cli_run_json(mission, capsys):
    from descent_tui.cli import main

    rc = main(["run", mission, "--steps", "50", "--format", "json"])
    out = capsys.readouterr().out
    assert rc == 0
    doc = json.loads(out)
    assert doc


# ----------------------------------------------------------- first-descent


@pytest.mark.parametrize("x0", [-2.5, 0.0, 1.0, 3.0])
def test_first_descent_autograd_gradient_of_square_is_2x(x0):
    x = Tensor(x0, requires_grad=True)
    (x ** 2).backward()
    assert float(x.grad) == pytest.approx(2 * x0, abs=1e-15)


def test_first_descent_chain_rule_walk_backwards():
    x = Tensor(1.0, requires_grad=True)
    y = x * 2
    z = y ** 2
    assert float(z.data) == 4.0
    z.backward()
    assert float(x.grad) == pytest.approx(8.0, abs=1e-15)


def test_first_descent_runs():
    sim = finished("first-descent")
    for rs in sim.runs:
        # the first gradient is 2x at the start x = 3
        assert series(rs, "grad.x")[0] == pytest.approx(6.0)
    for label in ("careful", "bold"):
        rs = run(sim, label)
        lr = rs.config.lr
        xs = series(rs, "param.x")
        expect = 3.0 * (1 - 2 * lr) ** np.arange(len(xs))
        np.testing.assert_allclose(xs, expect, rtol=1e-12, atol=1e-300)
        assert not rs.diverged and abs(rs.point[0]) < 1e-8
    reckless = run(sim, "reckless")
    assert reckless.diverged
    xs = series(reckless, "param.x")
    assert sign_changes(xs) == len(xs) - 1  # flips every step
    assert np.all(np.abs(xs[1:]) > np.abs(xs[:-1]))  # and grows
    assert run(sim, "bold").first_step_below(1e-3) < run(sim, "careful").first_step_below(1e-3) / 3


# ----------------------------------------------------------------- the-bowl


def test_bowl_learning_rates():
    sim = finished("the-bowl")
    small = run(sim, "too small")
    assert not small.diverged
    assert np.linalg.norm(small.point) > 0.5  # still far from the minimum
    assert small.last.loss > 0.5
    right = run(sim, "just right")
    assert not right.diverged and right.last.loss < 1e-12
    assert np.linalg.norm(right.point) < 1e-6
    edge = run(sim, "on the edge")
    ys = series(edge, "param.y")
    assert not edge.diverged
    np.testing.assert_allclose(np.abs(ys), 8.0)  # never settles
    assert sign_changes(ys) == len(ys) - 1
    large = run(sim, "too large")
    assert large.diverged and large.diverged_at < sim.total_steps
    ys = series(large, "param.y")
    assert sign_changes(ys) == len(ys) - 1  # oscillating
    assert np.all(np.abs(ys[1:]) > np.abs(ys[:-1]))  # with growing |y|


# --------------------------------------------------------------- the-ravine


def test_ravine_sgd_bounces_momentum_and_adam_run_along_the_floor():
    sim = finished("the-ravine")
    sgd = run(sim, "SGD")
    ys = series(sgd, "param.y")
    assert sign_changes(ys) >= 100  # wall to wall, step after step
    xs = series(sgd, "param.x")
    assert np.all(np.diff(np.abs(xs)) < 0)  # ...while crawling along the floor
    sgd_at = sgd.first_step_below(0.01)
    assert sgd_at is not None
    for label in ("momentum", "Adam"):
        rs = run(sim, label)
        at = rs.first_step_below(0.01)
        assert at is not None and at <= sgd_at / 3, (label, at, sgd_at)
        assert rs.last.loss < 1e-6
        # momentum damps the bouncing: far fewer crossings of the valley floor
        assert sign_changes(series(rs, "param.y")) < sign_changes(ys) / 2
    assert not any(rs.diverged for rs in sim.runs)


# ------------------------------------------------------------ optimizer-zoo


def test_optimizer_zoo_standings_as_claimed():
    sim = finished("optimizer-zoo")
    at = {rs.label: rs.first_step_below(0.01) for rs in sim.runs}
    # briefing: Nesterov first, then momentum, then Adam, RMSProp well behind;
    # SGD and Adagrad do not finish in 300 steps
    assert at["Nesterov"] < at["momentum"] < at["Adam"] < at["RMSProp"]
    assert at["Adam"] < at["RMSProp"] / 2
    assert at["SGD"] is None and at["Adagrad"] is None
    assert not any(rs.diverged for rs in sim.runs)
    for label in ("momentum", "Nesterov", "Adam"):
        assert np.allclose(run(sim, label).point, [1.0, 1.0], atol=1e-3)
    # Adagrad's effective step keeps shrinking
    ada = run(sim, "Adagrad")
    assert ada.step_size is not None and np.all(ada.step_size < 0.5 * ada.config.lr)


def test_optimizer_zoo_sgd_with_a_larger_lr_is_thrown_out():
    # the second prediction's explanation: lr 0.03 makes plain SGD diverge
    sim = Simulation(load_scenario(_path("optimizer-zoo")), {"runs.SGD.lr": 0.03})
    sim.step(sim.total_steps)
    assert run(sim, "SGD").diverged


# -------------------------------------------------------- vanishing-gradients


def test_vanishing_gradients_per_layer_norms():
    sim = finished("vanishing-gradients")
    sig = [lay.grad_norm for lay in run(sim, "sigmoid").first_layers]
    relu = [lay.grad_norm for lay in run(sim, "ReLU + He").first_layers]
    assert len(sig) == len(relu) == 10
    # the sigmoid stack: first layer orders of magnitude below the last
    assert sig[0] * 100 <= sig[-1]
    assert sig[0] * 1e4 <= sig[-1]  # in fact by far more than 100x
    assert int(np.argmin(sig)) == 0
    # ReLU + He: every layer within one order of magnitude of every other
    assert max(relu) <= 10 * min(relu)
    # and only ReLU + He learns
    assert run(sim, "sigmoid").last.loss > 0.69
    assert run(sim, "ReLU + He").last.loss < 0.4


# --------------------------------------------------------- zero-init-symmetry


def _hidden_spread(rs) -> tuple[float, float, float]:
    first, second = rs.linears[0], rs.linears[1]
    W1, b1, W2 = first.weight.data, first.bias.data, second.weight.data
    return (float(np.abs(W1 - W1[0]).max()), float(np.abs(b1 - b1[0]).max()),
            float(np.abs(W2 - W2[:, :1]).max()))


def test_zero_init_symmetry_never_breaks():
    sim = finished("zero-init-symmetry")
    for label in ("all zeros", "all 0.5"):
        rs = run(sim, label)
        assert rs.step == sim.total_steps
        assert max(_hidden_spread(rs)) <= 1e-12, label
    zeros = run(sim, "all zeros")
    assert np.all(zeros.linears[0].weight.data == 0.0)  # never got a gradient
    assert np.all(zeros.linears[1].weight.data == 0.0)
    const = run(sim, "all 0.5")
    assert np.abs(const.linears[0].weight.data - 0.5).max() > 0.1  # it did learn, in lockstep
    rnd = run(sim, "random")
    assert min(_hidden_spread(rnd)[0], _hidden_spread(rnd)[2]) > 0.1
    assert rnd.last.loss < 0.3 * const.last.loss
    assert rnd.last.accuracy > 0.9 > const.last.accuracy


# --------------------------------------------------------- exploding-weights


def test_exploding_weights_unclipped_goes_nan_clipped_and_he_survive():
    sim = finished("exploding-weights")
    big = run(sim, "big init")
    assert big.diverged and big.diverged_at <= 10
    assert "nan" in big.reason.lower() or "inf" in big.reason.lower()
    last = big.last
    assert not (math.isfinite(last.loss) and math.isfinite(last.grad_norm))
    losses = series(big, "loss")
    assert np.all(losses[1:] > 1e3 * losses[:-1])  # each step far worse than the last
    clipped = run(sim, "big init + clipping")
    assert not clipped.diverged and clipped.step == sim.total_steps
    first = series(clipped, "loss")[0]
    assert first == pytest.approx(losses[0])  # same bad start
    assert clipped.last.loss < first / 100
    assert series(clipped, "grad_norm")[0] > 100 * clipped.config.clip_norm
    he = run(sim, "He init")
    assert not he.diverged and he.last.loss < 0.2


# ---------------------------------------------------------- forgot-zero-grad


def test_forgot_zero_grad_piles_up_and_explodes():
    sim = finished("forgot-zero-grad")
    good = run(sim, "correct loop")
    bad = run(sim, "forgot zero_grad")
    lazy = run(sim, "forgot, no momentum")
    g_good = series(good, "grad_norm")
    l_good = series(good, "loss")
    assert not good.diverged
    assert l_good[-20:].mean() < 0.05 and l_good[-20:].mean() < l_good[0] / 10
    assert g_good[-20:].mean() < g_good[0] / 5  # near the minimum the gradient is small
    assert bad.diverged and bad.diverged_at < 100
    g_bad = series(bad, "grad_norm")
    assert g_bad.max() > 100 * g_bad[0]
    assert not lazy.diverged
    g_lazy = series(lazy, "grad_norm")
    l_lazy = series(lazy, "loss")
    assert g_lazy[-20:].mean() > 5 * g_good[-20:].mean()
    assert l_lazy[-20:].mean() > 5 * l_good[-20:].mean()


# --------------------------------------------------- learning-rate-schedules


def test_learning_rate_schedule_shapes():
    sim = finished("learning-rate-schedules")
    steps = np.arange(sim.total_steps + 1)  # rows 0..T: the lr the next update uses
    np.testing.assert_allclose(series(run(sim, "constant 0.5"), "lr"), 0.5)
    np.testing.assert_allclose(series(run(sim, "constant 0.02"), "lr"), 0.02)
    np.testing.assert_allclose(series(run(sim, "step decay"), "lr"),
                               0.5 * 0.5 ** (steps // 40), rtol=1e-12)
    cos = series(run(sim, "cosine"), "lr")
    assert cos[0] == pytest.approx(0.5)
    assert np.all(np.diff(cos) <= 1e-15) and cos[-1] < 1e-3
    np.testing.assert_allclose(cos, 0.25 * (1 + np.cos(np.pi * steps / sim.total_steps)),
                               atol=1e-12)
    warm = series(run(sim, "warm-up + cosine"), "lr")
    assert warm[0] == pytest.approx(0.05)
    assert np.all(np.diff(warm[:21]) > 0) and warm[20] == pytest.approx(0.5)
    assert np.all(np.diff(warm[20:]) <= 1e-15) and warm[-1] < 1e-3


def test_learning_rate_schedules_land_while_constant_lr_hops():
    sim = finished("learning-rate-schedules")
    final = {rs.label: rs.last.loss for rs in sim.runs}
    hopper = series(run(sim, "constant 0.5"), "loss")
    assert hopper[-50:].min() >= 0.3  # arrived early, never settled
    assert hopper[:20].min() < 1.0
    assert final["step decay"] < final["constant 0.5"] / 5
    assert final["cosine"] < final["step decay"] / 10
    assert final["warm-up + cosine"] < final["step decay"] / 10
    assert final["constant 0.02"] > 2 * final["constant 0.5"]  # too timid to arrive


# ---------------------------------------------------------------- batch-sizes


def test_batch_sizes_smooth_full_batch_noisy_single_sample():
    sim = finished("batch-sizes")
    full = series(run(sim, "full batch"), "loss")
    mini = series(run(sim, "mini-batch 32"), "loss")
    single = series(run(sim, "single sample"), "loss")
    assert np.all(np.diff(full) <= 1e-12)  # monotone
    up_mini = np.mean(np.diff(mini) > 0)
    up_single = np.mean(np.diff(single) > 0)
    assert up_mini > 0.2 and up_single > 0.3
    assert np.std(np.diff(single)) > 5 * np.std(np.diff(mini)) > 5 * np.std(np.diff(full))
    val = {rs.label: rs.last.val_loss for rs in sim.runs}
    assert val["full batch"] < val["single sample"] / 3
    assert val["mini-batch 32"] < val["single sample"] / 3


# ---------------------------------------------------- gradient-accumulation


def test_gradient_accumulation_equals_the_big_batch():
    sim = finished("gradient-accumulation")
    big, acc, small = (run(sim, lbl) for lbl in ("batch 32", "4x8 accumulated", "batch 8"))
    assert big.batch_size == 32 and acc.batch_size == 8 and acc.config.accumulate == 4
    for name in ("loss", "grad_norm", "accuracy"):
        np.testing.assert_allclose(series(acc, name), series(big, name), rtol=0, atol=1e-12)
    for pa, pb in zip(acc.params, big.params, strict=True):
        np.testing.assert_allclose(pa.data, pb.data, rtol=0, atol=1e-12)
    # without accumulation the small batch takes a genuinely different path
    assert max(float(np.abs(ps.data - pb.data).max())
               for ps, pb in zip(small.params, big.params, strict=True)) > 1e-2
    assert big.last.loss < 0.2


# ------------------------------------------------------- newton-vs-gradient


def test_newton_lands_on_the_minimum_in_one_step():
    sim = finished("newton-vs-gradient")
    minimum = np.array(sim.spec.landscape.minimum)
    start = np.array(sim.spec.landscape.start)
    newton = run(sim, "Newton")
    path = newton.path
    np.testing.assert_allclose(path[0], start)
    np.testing.assert_allclose(path[1], minimum, rtol=0, atol=1e-9)
    assert sim.loss_at(path[1]) < 1e-12
    assert newton.first_step_below(1e-9) == 1  # the reading after the jump
    damped = run(sim, "damped Newton")
    np.testing.assert_allclose(damped.path[1], (start + minimum) / 2, atol=1e-9)
    gd = run(sim, "gradient descent")
    assert np.linalg.norm(gd.path[1] - minimum) > 1.0
    assert gd.first_step_below(1e-6) > 10 * newton.first_step_below(1e-6)
    adam = run(sim, "Adam")
    assert adam.first_step_below(1e-6) is None or adam.first_step_below(1e-6) > 20
