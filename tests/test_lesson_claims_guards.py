"""Lesson tests for the claims of the prediction explanations, sentence by sentence.

Each test's docstring names its mission (``mission-id:``) and quotes the
sentences it guards; ``tests/test_lesson_claims.py`` reads those quotes to check
that every claim of every mission has a guard.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pytest
from _lessons import after_updates, losses_after_updates, updates_to_reach

from descent_tui.scenario import load_scenario
from descent_tui.sim import Simulation

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@functools.cache
def finished(mission: str) -> Simulation:
    sim = Simulation(load_scenario(SCENARIOS / f"{mission}.toml"))
    sim.step(sim.total_steps)
    return sim


def run(mission: str, label: str):
    return next(r for r in finished(mission).runs if r.label == label)


def to_goal(mission: str, label: str, q: int = 0) -> int | None:
    sim = finished(mission)
    return updates_to_reach(run(mission, label), sim.spec.quiz.prediction[q].threshold)


def test_adam_bias_correction_prediction_counts():
    """adam-bias-correction: "Corrected Adam at lr 0.5 arrives after 22 updates; the
    uncorrected run at the same rate needs 48, the uncorrected lr 0.1 run 50 and
    corrected Adam at lr 0.1 needs 144." """
    m = "adam-bias-correction"
    assert to_goal(m, "Adam") == 22 and to_goal(m, "no correction") == 48
    assert to_goal(m, "no correction, lr 0.1") == 50 and to_goal(m, "Adam, lr 0.1") == 144


def test_compute_and_carbon_prediction_counts():
    """compute-and-carbon: "The pre-trained run starts near the answer and needs 62
    updates; the tuned run from scratch needs 181; the other two don't get there in 300." """
    m = "compute-and-carbon"
    assert finished(m).total_steps == 300
    assert to_goal(m, "pre-trained") == 62 and to_goal(m, "tuned") == 181
    assert to_goal(m, "lr too small") is None and to_goal(m, "plain SGD") is None


def test_double_applied_update_prediction():
    """double-applied-update: "Only the correct loop at 0.6 stays under the stability
    limit of about 1.0; the TF port effectively runs at 1.2 and diverges with the
    doubled-rate run." """
    good, tf, doubled = (run("double-applied-update", k) for k in
                         ("PyTorch loop", "TF port", "PyTorch at lr 1.2"))
    assert good.config.lr == pytest.approx(0.6) and doubled.config.lr == pytest.approx(1.2)
    assert not good.diverged and tf.diverged and doubled.diverged
    assert tf.diverged_at == doubled.diverged_at
    np.testing.assert_allclose(losses_after_updates(tf), losses_after_updates(doubled), rtol=1e-9)


def test_exploding_weights_prediction():
    """exploding-weights: "At the mission's lr of 0.01, 'big init' overflows within a handful
    of steps"; "Clipping
    caps each step for the second crew, and He init never has a big gradient to
    begin with."; "The clipped crew survives, but it spends its capped steps
    recovering from the bad start and ends hopping around the predict-the-mean loss
    of 0.46."; "The clipped crew started in the same bad spot and never took a
    catastrophic step, so it survived: its loss fell from the hundreds."; "By the end
    it hops between about 0.45 and 0.65 on alternate steps, while always answering
    the data's mean scores 0.461 (the variance of the targets): on average, 200
    clipped steps do worse than a constant." """
    m = "exploding-weights"
    big, clip, he = (run(m, k) for k in ("big init", "big init + clipping", "He init"))
    assert big.diverged and big.diverged_at <= 6
    assert not clip.diverged and clip.config.clip_norm is not None
    assert max(lay.grad_norm for lay in he.first_layers) < min(
        lay.grad_norm for lay in big.first_layers) / 100
    loss = losses_after_updates(clip)
    assert 100 <= loss[0] < 1000 and len(loss) == 201  # row 0 and 200 updates
    low, high = loss[-10::2], loss[-9::2]  # the last ten updates, alternately
    assert np.all(abs(low - 0.45) < 0.01) and np.all(abs(high - 0.65) < 0.01)
    mean_guess = float(np.var(clip.problem.data["y"]))
    assert mean_guess == pytest.approx(0.461, abs=5e-4)
    assert loss[-10:].mean() > mean_guess


def test_first_descent_prediction():
    """first-descent: "The bold crew shrinks the distance by 10x per step (factor 0.1)
    and is below 0.001 after two updates."; "Only a factor with |1 − 2η| > 1 grows." """
    bold = run("first-descent", "bold")
    x = after_updates(bold, "param.x")
    assert abs(1 - 2 * bold.config.lr) == pytest.approx(0.1)
    np.testing.assert_allclose(x[1:4] / x[:3], 0.1 * np.sign(x[1:4] / x[:3]), rtol=1e-9)
    assert updates_to_reach(bold, 1e-3) == 2
    for rs in finished("first-descent").runs:
        grows = abs(1 - 2 * rs.config.lr) > 1
        loss = losses_after_updates(rs)
        assert (loss[-1] > loss[0]) == grows


def test_forgot_zero_grad_prediction():
    """forgot-zero-grad: "Momentum on top of summed gradients adds up the old gradients
    over and over, so the step grows until the model explodes: at the mission's lr
    of 0.01 in well under 100 steps"; "Only the correct loop uses each batch's own gradient, so only it
    settles into a good fit." """
    m = "forgot-zero-grad"
    forgot = run(m, "forgot zero_grad")
    assert forgot.config.momentum > 0 and forgot.diverged and forgot.diverged_at < 75
    finals = {rs.label: losses_after_updates(rs)[-1] for rs in finished(m).runs}
    good = finals.pop("correct loop")
    assert all(good < v / 4 for v in finals.values())


def test_gradient_accumulation_prediction():
    """gradient-accumulation: "'batch 8', within the first couple of dozen steps.";
    "Its readout is the loss on just 8 examples, which dips low by luck long before
    the model is good."; "'batch 32' and '4x8 accumulated' cross the line on exactly
    the same step, many dozens of steps later, because they are the same computation." """
    m = "gradient-accumulation"
    small, big, acc = to_goal(m, "batch 8"), to_goal(m, "batch 32"), to_goal(m, "4x8 accumulated")
    assert small <= 24 and big == acc and big - small > 48
    assert run(m, "batch 8").config.batch_size == 8


def test_learning_rate_schedules_prediction():
    """learning-rate-schedules: "At 0.02 per step per coordinate, 200 steps cover only
    4 of the 7.3 units in x, so it finishes near loss 3.4."; "Hopping around the pad
    (constant 0.5, loss about 0.5) is still much closer." """
    m = "learning-rate-schedules"
    slow = run(m, "constant 0.02")
    x = after_updates(slow, "param.x")
    assert abs(x[0] - x[-1]) == pytest.approx(4.0, abs=0.05)
    assert abs(x[0]) == pytest.approx(7.3, abs=0.05)
    assert losses_after_updates(slow)[-1] == pytest.approx(3.4, abs=0.1)
    hop = losses_after_updates(run(m, "constant 0.5"))[-4:].mean()
    assert hop == pytest.approx(0.5, abs=0.05)


def test_local_minima_prediction():
    """local-minima-and-saddles: "Only momentum crosses into the deep valley (loss
    −0.93)."; "The other three all settle in the shallow one (−0.28): the saddle
    runs roll off the ridge on the y > 0 side, where they started."; "Momentum from
    the ridge gets there first (about 10 updates), Adam from the saddle about 17, SGD
    from the ridge about 57."; "SGD at the saddle needs about 280." """
    m = "local-minima-and-saddles"
    finals = {rs.label: losses_after_updates(rs)[-1] for rs in finished(m).runs}
    assert finals.pop("momentum from the ridge") == pytest.approx(-0.93, abs=0.01)
    np.testing.assert_allclose(list(finals.values()), -0.28, atol=0.01)
    for label in ("SGD at the saddle", "Adam at the saddle"):
        y = after_updates(run(m, label), "param.y")
        assert y[0] > 0 and y[-1] > 0
    at = {rs.label: to_goal(m, rs.label, 1) for rs in finished(m).runs}
    assert 8 <= at["momentum from the ridge"] <= 12 and 15 <= at["Adam at the saddle"] <= 19
    assert 52 <= at["SGD from the ridge"] <= 62 and 260 <= at["SGD at the saddle"] <= 300


def test_batch_sizes_prediction():
    """batch-sizes: "The single-sample run, within the first few steps, and it ends as
    the worst model of the three." (worst on the validation set); "Its readout is
    one example's loss, and an easy example can score near 0 by luck." """
    m = "batch-sizes"
    assert to_goal(m, "single sample") <= 5
    val = {rs.label: after_updates(rs, "val_loss")[-1] for rs in finished(m).runs}
    assert max(val, key=val.get) == "single sample"
    single = run(m, "single sample")
    assert single.config.batch_size == 1 and losses_after_updates(single).min() < 0.01


def test_optimizer_zoo_prediction():
    """optimizer-zoo: "Nesterov gets there after about 30 updates, ahead of momentum
    (about 40) and Adam (about 100)."; "Raise SGD's lr to 0.03 with the knob and
    watch the steep walls throw it out." """
    m = "optimizer-zoo"
    at = {rs.label: to_goal(m, rs.label) for rs in finished(m).runs}
    assert at["Nesterov"] < at["momentum"] < at["Adam"]
    assert 27 <= at["Nesterov"] <= 33 and 37 <= at["momentum"] <= 44 and 90 <= at["Adam"] <= 110
    sim = Simulation(load_scenario(SCENARIOS / f"{m}.toml"), {"runs.SGD.lr": 0.03})
    sim.step(sim.total_steps)
    assert next(r for r in sim.runs if r.label == "SGD").diverged


def test_the_bowl_prediction():
    """the-bowl: "Only 'too large' has a factor bigger than 1 in size: |1 − 4·0.55| =
    1.2."; "Its y swing grows by 20% per step until the loss passes the alarm
    level."; "'best fixed' shrinks both x and y by 3x per step and gets there after 5
    updates; 'just right' (factors 0.8 and 0.6) needs 20." """
    m = "the-bowl"
    for rs in finished(m).runs:
        worst = max(abs(1 - 2 * rs.config.lr), abs(1 - 4 * rs.config.lr))
        assert (worst > 1 + 1e-12) == (rs.label == "too large") == rs.diverged
    y = after_updates(run(m, "too large"), "param.y")
    np.testing.assert_allclose(y[1:] / y[:-1], -1.2, rtol=1e-9)
    for label, want in (("best fixed", (1 / 3, -1 / 3)), ("just right", (0.8, 0.6))):
        xs, ys = after_updates(run(m, label), "param.x"), after_updates(run(m, label), "param.y")
        np.testing.assert_allclose((xs[1] / xs[0], ys[1] / ys[0]), want, rtol=1e-9)
    assert to_goal(m, "best fixed", 1) == 5 and to_goal(m, "just right", 1) == 20


def test_the_ravine_prediction():
    """the-ravine: "SGD needs over 150 updates of wall bouncing." """
    y = after_updates(run("the-ravine", "SGD"), "param.y")
    assert to_goal("the-ravine", "SGD") > 150
    assert np.count_nonzero(np.sign(y[1:]) != np.sign(y[:-1])) > 50


def test_vanishing_gradients_prediction():
    """vanishing-gradients: "Its gradient passed through nine sigmoid derivatives on
    the way back, each one at most 0.25."; "With plain SGD the sigmoid stack can't get
    a signal to its early layers and stays at the coin-flip loss ln 2 ≈ 0.69." """
    rs = run("vanishing-gradients", "sigmoid")
    assert len(rs.linears) == 10  # nine hidden sigmoids sit between layer 1 and layer 10
    s = np.linspace(-20, 20, 40001)
    sig = 1 / (1 + np.exp(-s))
    assert (sig * (1 - sig)).max() == pytest.approx(0.25)
    assert rs.config.optimizer == "sgd"
    assert losses_after_updates(rs)[-1] == pytest.approx(math.log(2), abs=5e-3)


def test_zero_init_symmetry_prediction():
    """zero-init-symmetry: "Only 'random' has eight different hidden units."; "'all
    zeros' never moves anything but the output bias, so it stays at the coin-flip
    loss ln 2 ≈ 0.69."; "'all 0.5' at least trains one effective unit." """
    m = "zero-init-symmetry"
    for rs in finished(m).runs:
        w = rs.linears[0].weight.data
        distinct = len({tuple(np.round(row, 9)) for row in np.asarray(w).reshape(8, -1)})
        assert (distinct == 8) == (rs.label == "random")
    zeros = run(m, "all zeros")
    assert np.all(zeros.linears[0].weight.data == 0) and np.all(zeros.linears[1].weight.data == 0)
    assert losses_after_updates(zeros)[-1] == pytest.approx(math.log(2), abs=1e-3)
    assert losses_after_updates(run(m, "all 0.5"))[-1] < math.log(2) - 0.1


def test_the_bowl_factors_table_and_watch_for():
    """the-bowl: "Every gradient step multiplies `x` by `(1 − 2·lr)` and `y` by `(1 −
    4·lr)`."; "'on the edge' has a y factor of exactly -1: y flips between +8 and -8
    and never settles, while x drops straight to 0."; "'too large' zig-zags across
    the y axis and every swing is wider than the last, until the alarm trips.";
    "| just right (0.1) | 0.8 | 0.6 | both shrink; loss below 0.01 after 20 updates |";
    "| best fixed (1/3) | 1/3 | −1/3 | both shrink by 3x per step; loss below 0.01 after 5 updates |";
    "| on the edge (0.5) | 0 | −1 | x done in one step, y bounces between ±8 forever |";
    "| too large (0.55) | −0.1 | −1.2 | y swings wider every step: divergence |";
    "The 'too small' crew ends with x around 1, having covered only seven of its
    eight units of distance in 100 steps." """
    m = "the-bowl"
    for rs in finished(m).runs:
        x, y = after_updates(rs, "param.x"), after_updates(rs, "param.y")
        lr = rs.config.lr
        np.testing.assert_allclose(x[1:], (1 - 2 * lr) * x[:-1], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(y[1:], (1 - 4 * lr) * y[:-1], rtol=1e-9, atol=1e-12)
    edge = run(m, "on the edge")
    x, y = after_updates(edge, "param.x"), after_updates(edge, "param.y")
    assert np.all(x[1:] == 0) and np.all(np.abs(y) == 8)
    big = run(m, "too large")
    swing = np.abs(after_updates(big, "param.y"))
    assert big.diverged and np.all(swing[1:] > swing[:-1])
    assert updates_to_reach(run(m, "just right"), 0.01) == 20
    assert updates_to_reach(run(m, "best fixed"), 0.01) == 5
    small = run(m, "too small")
    assert finished(m).total_steps == 100 and 0.9 < small.point[0] < 1.2
