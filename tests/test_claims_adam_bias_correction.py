"""Lesson tests for the claims of adam-bias-correction, sentence by sentence.

Run claims are checked on the mission's own run (one cached simulation); the
theory of the uncorrected step on descent's Adam fed a steady gradient, or on
plain NumPy arithmetic.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import math
import re
from pathlib import Path

import numpy as np
import pytest
from _lessons import losses_after_updates, run_named, run_to_end, updates_to_reach

from descent_tui.engine import Tensor, optim
from descent_tui.scenario import load_scenario
from descent_tui.scenario.overrides import apply
from descent_tui.sim import Simulation

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
MISSION = SCENARIOS / "adam-bias-correction.toml"
B1, B2 = 0.9, 0.999


def finished() -> Simulation:
    return run_to_end(MISSION)


def run(label: str):
    return run_named(finished(), label)


def path(label: str) -> np.ndarray:
    return np.asarray(run(label).path, dtype=float)


def moves(label: str) -> np.ndarray:
    """|Δθ| of each update, per coordinate (row k-1 = update k)."""
    return np.abs(np.diff(path(label), axis=0))


def factor(t, b1=B1, b2=B2):
    """The uncorrected step over the corrected one, for the same m and v (ε aside)."""
    t = np.asarray(t, dtype=float)
    return (1 - b1 ** t) / np.sqrt(1 - b2 ** t)


@functools.cache
def steady(bias_correction: bool, betas=(B1, B2), steps: int = 1200, lr: float = 0.01):
    """descent's Adam fed the steady gradient g = (3, −0.5): per update, (|Δθ|, m, v)."""
    p = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = optim.Adam([p], lr=lr, betas=betas, bias_correction=bias_correction)
    out = []
    for _ in range(steps):
        before = p.data.copy()
        p.grad = np.array([3.0, -0.5])
        opt.step()
        st = opt.state[p]
        out.append((np.abs(p.data - before), st["exp_avg"].copy(), st["exp_avg_sq"].copy()))
    return out


G = np.array([3.0, -0.5])


def reference_path(lr: float, bias_correction: bool, steps: int) -> np.ndarray:
    """The briefing's update rule in NumPy on loss = 0.05·x² + 5·y² from (−9, 1.5)."""
    theta = np.array([-9.0, 1.5])
    m = np.zeros(2)
    v = np.zeros(2)
    out = [theta.copy()]
    for t in range(1, steps + 1):
        g = np.array([0.1 * theta[0], 10.0 * theta[1]])
        m = B1 * m + (1 - B1) * g
        v = B2 * v + (1 - B2) * g * g
        bc1, bc2 = (1 - B1 ** t, 1 - B2 ** t) if bias_correction else (1.0, 1.0)
        theta = theta - lr * (m / bc1) / (np.sqrt(v / bc2) + 1e-8)
        out.append(theta.copy())
    return np.array(out)


# ---------------------------------------------------------------- the set-up


def test_the_runs_follow_the_briefing_formulas():
    """adam-bias-correction: "loss(x, y) = 0.05·x² + 5·y², start (−9, 1.5)";
    "m ← β₁·m + (1 − β₁)·g (β₁ = 0.9)"; "v ← β₂·v + (1 − β₂)·g² (β₂ = 0.999)";
    "step = lr · m̂ / (√v̂ + ε)"; "with the bias correction m̂ = m / (1 − β₁ᵗ) and
    v̂ = v / (1 − β₂ᵗ) at step t". Every run's path is the briefing's rule written
    out in NumPy, with the mission's betas."""
    spec = finished().spec
    assert spec.landscape.start == pytest.approx([-9.0, 1.5])
    for r in finished().runs:
        xy = path(r.label)
        np.testing.assert_allclose(losses_after_updates(r), 0.05 * xy[:, 0] ** 2
                                   + 5 * xy[:, 1] ** 2, rtol=1e-9)
        assert r.config.betas == (B1, B2)
        ref = reference_path(r.config.lr, r.config.bias_correction, len(r.path) - 1)
        np.testing.assert_allclose(path(r.label), ref, rtol=1e-9, atol=1e-12)


def test_the_runs_are_two_pairs_and_lr_05_is_the_ravines_adam():
    """adam-bias-correction: "Adam and no correction at lr = 0.5 (the rate the ravine
    mission used)"; "Adam, lr 0.1 and no correction, lr 0.1: the same pair at a
    cautious rate". The ravine's Adam runs at 0.5 on the same trench from the same start."""
    cfg = {r.label: r.config for r in finished().runs}
    assert (cfg["Adam"].lr, cfg["no correction"].lr) == (0.5, 0.5)
    assert (cfg["Adam, lr 0.1"].lr, cfg["no correction, lr 0.1"].lr) == (0.1, 0.1)
    assert cfg["Adam"].bias_correction and cfg["Adam, lr 0.1"].bias_correction
    assert not cfg["no correction"].bias_correction
    assert not cfg["no correction, lr 0.1"].bias_correction
    ravine = load_scenario(SCENARIOS / "the-ravine.toml").spec
    assert [r.lr for r in ravine.runs if r.optimizer == "adam"] == [0.5]
    mine = finished().spec.landscape
    assert (ravine.landscape.loss, ravine.landscape.start) == (mine.loss, mine.start)


def test_the_goal_is_a_loss_below_001():
    """adam-bias-correction: "The goal is a loss below 0.01"."""
    assert [q.threshold for q in finished().spec.quiz.prediction] == [0.01]


# ---------------------------------------------------------------- the runs


def test_first_step_is_lr_corrected_and_316_lr_uncorrected():
    """adam-bias-correction: "The first step: corrected Adam moves each coordinate by lr;
    the uncorrected run moves it by about 3.2 × lr."; "Without the correction, Adam's
    first step is not lr"."""
    for label in ("Adam", "Adam, lr 0.1"):
        np.testing.assert_allclose(moves(label)[0] / run(label).config.lr, 1.0, rtol=1e-6)
    for label in ("no correction", "no correction, lr 0.1"):
        first = moves(label)[0] / run(label).config.lr
        np.testing.assert_allclose(first, 3.2, rtol=0.02)
        assert np.all(np.abs(first - 1) > 2)


def test_lr_05_counts_and_about_twice_as_long():
    """adam-bias-correction: "At lr = 0.5 corrected Adam reached 0.01 in 22 updates, the
    uncorrected one in 48, about twice as long"."""
    a, b = updates_to_reach(run("Adam"), 0.01), updates_to_reach(run("no correction"), 0.01)
    assert (a, b) == (22, 48)
    assert 1.8 <= b / a <= 2.2


def test_lr_05_uncorrected_overshoots_early():
    """adam-bias-correction: "At lr 0.5 the uncorrected run overshoots early: its first
    step already crosses the trench floor, by update 8 it is more than 5 units past the
    minimum, and it takes about twice as many updates to reach 0.01."; "Its first steps,
    1.6 to 2.4 units along x, carry it more than 5 units past the minimum by update 8;
    corrected Adam at the same rate never passes it by more than 1.4." The floor is
    y = 0, the minimum (0, 0); the run starts at x = −9."""
    p, c = path("no correction"), path("Adam")
    assert p[0, 1] > 0 > p[1, 1]                        # across the floor in one update
    assert c[1, 1] > 0                                  # corrected Adam is not
    assert np.all(p[:8, 0] < 5) and p[8, 0] > 5         # 5 units past x = 0 at update 8
    first = moves("no correction")[:5, 0]
    assert round(first.min(), 1) == 1.6 and round(first.max(), 1) == 2.4
    assert 1.3 < c[:, 0].max() <= 1.4
    b, a = updates_to_reach(run("no correction"), 0.01), updates_to_reach(run("Adam"), 0.01)
    assert 1.8 <= b / a <= 2.2


def test_lr_01_ranking_flips():
    """adam-bias-correction: "At lr 0.1 the ranking flips: the uncorrected run's oversized
    steps act like a larger learning rate and it arrives first of the pair.";
    "At lr = 0.1 it was the other way round: 144 updates corrected, 50 uncorrected";
    "So dropping the correction is not always slower"."""
    fast, slow = run("no correction, lr 0.1"), run("Adam, lr 0.1")
    assert (updates_to_reach(slow, 0.01), updates_to_reach(fast, 0.01)) == (144, 50)
    assert updates_to_reach(run("Adam"), 0.01) < updates_to_reach(run("no correction"), 0.01)
    # oversized: each of its first 10 x-steps is more than 3 times corrected Adam's
    assert np.all(moves(fast.label)[:10, 0] > 3 * moves(slow.label)[:10, 0])
    assert losses_after_updates(fast)[50] < 0.01 < losses_after_updates(slow)[50]


def test_hidden_factor_on_the_cautious_rate():
    """adam-bias-correction: "A hidden factor of 3.2 to 6.6 on a cautious rate speeds it
    up." Over the 50 updates the uncorrected lr 0.1 run takes to arrive, its step is the
    corrected rule's times (1 − β₁ᵗ)/√(1 − β₂ᵗ), which stays within 3.16 and 6.57."""
    n = updates_to_reach(run("no correction, lr 0.1"), 0.01)
    f = factor(np.arange(1, n + 1))
    assert round(f.min(), 1) == 3.2 and round(f.max(), 1) == 6.6
    # the run: the uncorrected step is the corrected step for the same m, v times f
    p = path("no correction, lr 0.1")[: n + 1]
    g = np.column_stack([0.1 * p[:-1, 0], 10.0 * p[:-1, 1]])
    m = np.zeros(2)
    v = np.zeros(2)
    for t in range(1, n + 1):
        m = B1 * m + (1 - B1) * g[t - 1]
        v = B2 * v + (1 - B2) * g[t - 1] ** 2
        corrected = 0.1 * (m / (1 - B1**t)) / np.sqrt(v / (1 - B2**t))
        np.testing.assert_allclose(p[t - 1] - p[t], f[t - 1] * corrected, rtol=1e-6)


# ---------------------------------------------------------------- the theory


def test_after_one_step_m_and_v_and_the_316_step():
    """adam-bias-correction: "After one step m = (1 − β₁)·g = 0.1·g and v = (1 − β₂)·g² =
    0.001·g², so the step is"; "lr · 0.1·|g| / √(0.001·g²) = lr · 0.1 / 0.0316 ≈ 3.16 ·
    lr"; "m = 0.1·g and √v = √0.001·|g| ≈ 0.0316·|g|, so the step is lr·0.1/0.0316 ≈
    3.16·lr"."""
    move, m, v = steady(False)[0]
    np.testing.assert_allclose(m, 0.1 * G, rtol=1e-12)
    np.testing.assert_allclose(v, 0.001 * G**2, rtol=1e-12)
    assert math.sqrt(0.001) == pytest.approx(0.0316, abs=5e-5)
    assert 0.1 / math.sqrt(0.001) == pytest.approx(3.16, abs=5e-3)
    np.testing.assert_allclose(move, 0.01 * 3.16, rtol=2e-3)


def test_steady_gradient_moments_and_the_correction():
    """adam-bias-correction: "After t steps with a steady gradient g, m = (1 − β₁ᵗ)·g and
    v = (1 − β₂ᵗ)·g²"; "The factors 1 − βᵗ are the weight the zero start still takes away;
    dividing by them removes it"; "The correction makes the step mean what lr says from
    the first update on". With the correction every step of a steady gradient is lr."""
    for t, (_, m, v) in enumerate(steady(False)[:300], 1):
        np.testing.assert_allclose(m, (1 - B1**t) * G, rtol=1e-9)
        np.testing.assert_allclose(v, (1 - B2**t) * G**2, rtol=1e-9)
        np.testing.assert_allclose(m / (1 - B1**t), G, rtol=1e-9)
        np.testing.assert_allclose(v / (1 - B2**t), G**2, rtol=1e-9)
    on = np.array([mv for mv, _, _ in steady(True)])
    np.testing.assert_allclose(on, 0.01, rtol=1e-6)


def test_uncorrected_step_over_time():
    """adam-bias-correction: "With a steady gradient the uncorrected step is lr·(1 −
    β₁ᵗ)/√(1 − β₂ᵗ): 3.2 × lr at step 1, about 6.6 × lr around step 12, still 3.2 × lr
    at step 100, and within 26% of lr only after about a thousand steps"; "The
    uncorrected factor (1 − β₁ᵗ)/√(1 − β₂ᵗ) is 3 to 6.6 during the first hundred steps";
    "Dividing by √v therefore inflates the step for a long time"."""
    off = np.array([mv[0] for mv, _, _ in steady(False)]) / 0.01
    t = np.arange(1, len(off) + 1)
    np.testing.assert_allclose(off, factor(t), rtol=1e-6)
    assert off[0] == pytest.approx(3.2, abs=0.05)
    assert int(np.argmax(off)) + 1 == 12 and off[11] == pytest.approx(6.6, abs=0.05)
    assert off[99] == pytest.approx(3.2, abs=0.05)
    first_within = int(np.argmax(off <= 1.26)) + 1
    assert 950 <= first_within <= 1050 and np.all(off[first_within - 1:] <= 1.26)
    assert off[:100].min() >= 3 and off[:100].max() <= 6.6
    # √v's share: 1/√(1 − β₂ᵗ) still inflates the step by more than 10 % after 1000 steps
    assert np.all(1 / np.sqrt(1 - B2 ** t[:1000]) > 1.1)


def test_bias_of_m_and_v_after_20_and_100_steps():
    """adam-bias-correction: "0.9²⁰ ≈ 0.12, so m's bias is gone within a few dozen steps.
    0.999¹⁰⁰ ≈ 0.90, so after 100 steps v is still only a tenth of its true size"."""
    assert pytest.approx(0.12, abs=0.005) == 0.9**20
    assert 0.9**36 < 0.03                        # three dozen steps: m within 3 %
    assert pytest.approx(0.90, abs=0.005) == 0.999**100
    _, _, v = steady(False)[99]
    np.testing.assert_allclose(v / G**2, 0.1, rtol=0.06)   # 0.095 of g²


def test_factor_depends_on_step_and_both_betas():
    """adam-bias-correction: "It changes the learning rate behind your back, by the factor
    (1 − β₁ᵗ)/√(1 − β₂ᵗ), which depends on the step number and on both betas"; "Kingma &
    Ba (2015, ... section 3) derive the correction to prevent such steps, and point out
    that it matters most when β₂ is close to 1". On descent's Adam fed a steady gradient."""
    def first_moves(betas):
        return np.array([mv[0] for mv, _, _ in steady(False, betas, steps=20)]) / 0.01

    base = first_moves((B1, B2))
    np.testing.assert_allclose(base, factor(np.arange(1, 21)), rtol=1e-6)
    assert base[0] != pytest.approx(base[10], rel=0.1)                      # the step number
    assert first_moves((0.5, B2))[0] == pytest.approx(0.5 / math.sqrt(0.001), rel=1e-6)  # β₁
    firsts = [first_moves((B1, b2))[0] for b2 in (0.9, 0.99, 0.999, 0.9999)]
    assert firsts == sorted(firsts) and firsts[-1] / firsts[1] == pytest.approx(10, rel=1e-3)


def test_beta2_099_makes_the_first_uncorrected_step_lr():
    """adam-bias-correction: "Turn the beta2 knob down to 0.99: the first uncorrected step
    is then about lr, because (1 − β₁)/√(1 − β₂) = 0.1/0.1 = 1"."""
    spec = load_scenario(MISSION).spec
    assert spec.knobs.beta2.min <= 0.99 <= spec.knobs.beta2.max
    assert (1 - 0.9) / math.sqrt(1 - 0.99) == pytest.approx(1.0)
    sim = Simulation(apply(load_scenario(MISSION), {"beta2": 0.99}))
    sim.step(1)
    for r in sim.runs:
        first = np.abs(np.asarray(r.path)[1] - np.asarray(r.path)[0]) / r.config.lr
        np.testing.assert_allclose(first, 1.0, rtol=1e-6)


def test_pytorch_adam_has_no_bias_correction_switch():
    """adam-bias-correction: "PyTorch has no such option; its Adam always corrects".
    Read from torch's own source (importing torch takes seconds): Adam's constructor
    has no such argument, and its step divides by both corrections unconditionally."""
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("torch is not installed")
    src = Path(spec.submodule_search_locations[0], "optim", "adam.py").read_text()
    init = next(n for n in ast.walk(ast.parse(src))
                if isinstance(n, ast.ClassDef) and n.name == "Adam")
    init = next(n for n in init.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    args = [a.arg for a in init.args.args + init.args.kwonlyargs]
    assert "betas" in args and "amsgrad" in args
    assert not any("bias" in a or "correct" in a for a in args)
    for i in (1, 2):
        assert re.search(rf"bias_correction{i} = 1 - beta{i} ?\*\* ?step", src)
