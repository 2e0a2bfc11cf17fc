"""Claims of learning-rate-schedules, sentence by sentence (issue 15's Bar).

Each test's docstring names the mission and quotes the sentences it guards; the
numbers come from the mission's own run (one cached simulation) or, for a fact of
the theory, from an independent NumPy computation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _lessons import after_updates, losses_after_updates, run_named, run_to_end, updates_to_reach

from descent_tui.sim import Simulation

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
M = "learning-rate-schedules"


def finished(mission: str = M) -> Simulation:
    return run_to_end(SCENARIOS / f"{mission}.toml")


def run(label: str, mission: str = M):
    return run_named(finished(mission), label)


def xy(label: str, mission: str = M) -> tuple[np.ndarray, np.ndarray]:
    rs = run(label, mission)
    return after_updates(rs, "param.x"), after_updates(rs, "param.y")


def used_lr(label: str) -> np.ndarray:
    """``a[k]`` = the lr update k+1 used (row k of the lr series: the next update's lr)."""
    return after_updates(run(label), "lr")[:-1]


def test_start_optimizer_and_length():
    """learning-rate-schedules: "All five pods start at `(7.3, −4.1)` and fly plain SGD
    for 200 steps:" """
    sim = finished()
    assert len(sim.runs) == 5 and sim.total_steps == 200
    for rs in sim.runs:
        x, y = xy(rs.label)
        assert rs.config.optimizer == "sgd" and not rs.config.momentum
        assert (x[0], y[0]) == (7.3, -4.1) and len(x) == 201


def test_the_walls_never_flatten_and_every_step_is_the_lr():
    """learning-rate-schedules: "Its walls never flatten out."; "The gradient is `(±1,
    ±1)` everywhere off the axes, so an SGD step always moves each coordinate by
    exactly the learning rate, however close to the pad you are."; "The
    sharp-bottomed crater shows a similar bounce without any noise, because its
    gradient never shrinks." """
    sim = finished()
    rng = np.random.default_rng(0)
    h = 1e-6
    for p in rng.uniform(-8, 8, size=(50, 2)):
        p = p + np.sign(p) * 10 * h  # off the axes
        g = [(sim.loss_at(p + h * e) - sim.loss_at(p - h * e)) / (2 * h) for e in np.eye(2)]
        np.testing.assert_allclose(np.abs(g), 1.0, rtol=1e-6)
    for rs in sim.runs:
        x, y = xy(rs.label)
        assert np.all(x != 0) and np.all(y != 0)  # no run ever sits on an axis
        lr = used_lr(rs.label)
        np.testing.assert_allclose(np.abs(np.diff(x)), lr, rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(np.abs(np.diff(y)), lr, rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(after_updates(rs, "grad_norm"), np.sqrt(2), rtol=1e-12)
    # the bounce: constant 0.5 keeps crossing the pad, its gradient as big as ever
    x, y = xy("constant 0.5")
    assert np.all(np.sign(x[15:]) != np.sign(x[14:-1]))


def test_a_smooth_bowl_shrinks_its_step_the_crater_does_not():
    """learning-rate-schedules: "On a smooth bowl the gradient shrinks near the bottom
    and so does the step (the bowl of mission 1.2 lands at a constant rate); here it
    never does." """
    bowl = finished("the-bowl")
    assert (bowl.spec.chapter, bowl.spec.order) == (1, 2)
    x, y = xy("just right", "the-bowl")
    steps = np.hypot(np.diff(x), np.diff(y))
    dist = np.hypot(x, y)
    assert np.all(steps[1:] < steps[:-1])  # the step shrinks ...
    np.testing.assert_allclose(x[1:] / x[:-1], 0.8, rtol=1e-9)  # ... at a constant rate
    np.testing.assert_allclose(y[1:] / y[:-1], 0.6, rtol=1e-9)
    assert dist[-1] < 1e-6
    cx, cy = xy("constant 0.5")  # the crater: the same step, however close
    np.testing.assert_allclose(np.hypot(np.diff(cx), np.diff(cy)), 0.5 * np.sqrt(2), rtol=1e-9)


def test_schedule_table():
    """learning-rate-schedules: "| constant 0.5 | 0.5 the whole way |"; "| constant
    0.02 | 0.02 the whole way, playing it safe |"; "| step decay | 0.5, halved every
    40 steps |"; "| cosine | 0.5 easing down a half cosine to 0 at step 200 |"; "|
    warm-up + cosine | ramps from 0.05 to 0.5 over the first 20 steps, then cosine to
    0 |"; "Step decay is a staircase: the lr holds for 40 steps, then halves.";
    "Starting at 0.5 it goes 0.5, 0.25, 0.125, 0.0625, 0.03125." """
    k = np.arange(201)
    np.testing.assert_allclose(after_updates(run("constant 0.5"), "lr"), 0.5)
    np.testing.assert_allclose(after_updates(run("constant 0.02"), "lr"), 0.02)
    step = used_lr("step decay")
    np.testing.assert_allclose(step, 0.5 * 0.5 ** (k[:-1] // 40), rtol=1e-12)
    values = sorted(set(step.round(12)), reverse=True)
    assert values == [0.5, 0.25, 0.125, 0.0625, 0.03125]
    assert all(np.count_nonzero(step.round(12) == v) == 40 for v in values)
    cos = after_updates(run("cosine"), "lr")
    np.testing.assert_allclose(cos, 0.25 * (1 + np.cos(np.pi * k / 200)), atol=1e-12)
    assert cos[0] == 0.5 and cos[200] == pytest.approx(0, abs=1e-12)
    warm = after_updates(run("warm-up + cosine"), "lr")
    assert warm[0] == pytest.approx(0.05) and warm[20] == pytest.approx(0.5)
    assert np.all(np.diff(warm[:21]) > 0) and np.all(np.diff(warm[20:]) <= 1e-15)
    np.testing.assert_allclose(warm[20:], 0.25 * (1 + np.cos(np.pi * (k[20:] - 20) / 180)),
                               atol=1e-12)


def test_constant_half_arrives_by_15_and_hops_across_the_pad():
    """learning-rate-schedules: "'constant 0.5' arrives within about 15 steps and then
    hops back and forth across the pad for the rest of the flight."; "The constant 0.5
    pod got close fast and then hopped over the pad forever; the decaying schedules
    kept the fast start and still landed." """
    hop = run("constant 0.5")
    arrive = updates_to_reach(hop, 0.5)  # the watch-for's trigger: below:0.5
    assert arrive == 14
    x, y = xy("constant 0.5")
    for c in (x, y):  # every coordinate keeps changing sign to the end
        late = c[arrive:]
        assert np.all(np.sign(late[1:]) != np.sign(late[:-1]))
    loss = losses_after_updates(hop)
    assert loss[arrive:].min() >= 0.4 - 1e-9
    for label in ("step decay", "cosine", "warm-up + cosine"):
        assert updates_to_reach(run(label), 0.5) <= 24  # the fast start ...
        assert losses_after_updates(run(label))[-1] < 0.1 * loss[arrive:].min()  # ... landed


def test_constant_002_never_hops_and_falls_short():
    """learning-rate-schedules: "'constant 0.02' never hops, but at step 200 it is still
    more than 3 units short of the pad along x."; "| constant 0.02 | ≈ 3.4 | never
    arrived: steps too small to cover the distance |" """
    x, y = xy("constant 0.02")
    assert np.all(np.diff(x) < 0) and np.all(x > 0)  # straight in, never across
    assert np.all(np.diff(y) > 0) and np.all(y < 0)
    assert x[-1] > 3
    loss = losses_after_updates(run("constant 0.02"))
    assert loss[-1] == pytest.approx(3.4, abs=0.05)
    assert (abs(x[0]) + abs(y[0])) / 0.02 > 200  # the distance needs more steps than it has


def test_step_decay_final_loss_and_halving_hops():
    """learning-rate-schedules: "| step decay | ≈ 0.03 | each halving shrank the hops;
    ended with lr ≈ 0.03 |"; "Each time the step schedule halves the lr, the hopping
    halves too." """
    loss = losses_after_updates(run("step decay"))
    assert loss[-1] == pytest.approx(0.03, abs=0.01)
    assert used_lr("step decay")[-1] == pytest.approx(0.03, abs=0.002)
    swing = [np.ptp(loss[40 * s + 31:40 * s + 41]) for s in range(5)]  # each stage's hops
    np.testing.assert_allclose(np.array(swing[1:]) / swing[:-1], 0.5, rtol=1e-6)


def test_a_fixed_step_bounces_at_a_level_set_by_the_step():
    """learning-rate-schedules: "This crater is a noiseless case where a fixed step
    cannot land either, because its gradient never shrinks: the loss keeps bouncing at
    a level set by the step size."; "With noisy gradients (or a crater whose slope
    never flattens) a fixed step keeps overshooting." """
    loss = losses_after_updates(run("step decay"))
    for s in range(5):  # each 40-step stage holds one fixed lr; late in it the loss ...
        late = loss[40 * s + 31:40 * s + 41]
        lr = 0.5 * 0.5 ** s
        assert np.ptp(late) > 0.3 * lr  # ... still bounces, and averages the lr itself
        assert late.mean() == pytest.approx(lr, rel=0.03)
    hop = losses_after_updates(run("constant 0.5"))[-50:]
    assert hop.mean() == pytest.approx(0.5, rel=1e-9) and np.ptp(hop) == pytest.approx(0.2)


def test_cosine_and_warmup_land():
    """learning-rate-schedules: "| cosine | ≈ 0.0001 | the lr went smoothly to zero, and
    so did the hops |"; "| warm-up + cosine | ≈ 0.0002 | same landing, about 10 steps
    slower off the pad |"; "On our simple crater it cost about 10 steps: that pod
    first got within 0.5 of the pad after 24 updates instead of 14." """
    cos, warm = run("cosine"), run("warm-up + cosine")
    assert losses_after_updates(cos)[-1] == pytest.approx(1e-4, rel=0.3)
    assert losses_after_updates(warm)[-1] == pytest.approx(2e-4, rel=0.3)
    x, _ = xy("cosine")
    assert abs(x[-1] - x[-2]) < 1e-4 and used_lr("cosine")[-1] < 1e-4  # the hops went too
    assert updates_to_reach(cos, 0.5) == 14 and updates_to_reach(warm, 0.5) == 24
    assert 8 <= updates_to_reach(warm, 1.0) - updates_to_reach(cos, 1.0) <= 12


def _noisy_sgd(lrs: np.ndarray, chains: int = 2000, seed: int = 0) -> np.ndarray:
    """SGD on ½x² with unit-variance gradient noise, from the minimum: x per step."""
    rng = np.random.default_rng(seed)
    x = np.zeros(chains)
    out = np.empty((len(lrs), chains))
    for t, lr in enumerate(lrs):
        x = x - lr * (x + rng.standard_normal(chains))
        out[t] = x
    return out


def test_noise_spread_grows_like_sqrt_lr_and_loss_like_lr():
    """learning-rate-schedules: "Near a smooth minimum the spread of the weights grows
    like √lr and the extra loss like lr; decaying the lr shrinks both."; "Noisy
    gradients never quite agree, so each step overshoots a little in some direction.";
    "the loss sits above the minimum by an amount that grows like `lr`" (NumPy: SGD on
    ½x² with unit gradient noise; the stationary variance is lr/(2 − lr), so the
    spread ∝ √lr and the extra loss ½·var ∝ lr.)"""
    T = 2500
    spread, extra = {}, {}
    for lr in (0.01, 0.04):
        xs = _noisy_sgd(np.full(T, lr))
        spread[lr] = xs[-1].std()
        extra[lr] = 0.5 * np.mean(xs[-1] ** 2)
        assert xs[-1].var() == pytest.approx(lr / (2 - lr), rel=0.1)
        # started at the minimum, it never stays there: every step still moves it
        assert np.mean(np.abs(xs[-1] - xs[-2])) > 0.5 * lr
    assert spread[0.04] / spread[0.01] == pytest.approx(2.0, rel=0.1)
    assert extra[0.04] / extra[0.01] == pytest.approx(4.0, rel=0.15)
    decayed = _noisy_sgd(0.04 / (1 + np.arange(T) / 25))
    assert decayed[-1].std() < spread[0.01] / 2


def test_only_a_shrinking_step_lets_a_noisy_run_land():
    """learning-rate-schedules: "Only a shrinking step lets a noisy run land."; "So
    **why lower the learning rate over time?** The main reason in real training is
    **noise**." (NumPy: with a fixed lr the spread stops shrinking at its floor; with
    lr ∝ 1/t it keeps shrinking like 1/√t, towards 0.)"""
    T = 2400
    fixed = _noisy_sgd(np.full(T, 0.02))
    assert fixed[-1].std() == pytest.approx(fixed[T // 4].std(), rel=0.1)  # stuck at a floor
    decay = _noisy_sgd(1.0 / (1 + np.arange(T)))
    assert decay[-1].std() == pytest.approx(decay[T // 4 - 1].std() / 2, rel=0.1)
    assert decay[-1].std() < fixed[-1].std() / 4
