"""Lesson tests for the claims of exploding-weights, sentence by sentence.

Each docstring names the mission and quotes the sentences it guards (see
``tests/_claims.py``). The mission is run once, one update at a time, keeping
the parameters and the gradient of each update of the clipped crew, so the
claims about a step can be checked on the steps themselves. Facts of the theory
(clipping, He init, float64 overflow) are recomputed with NumPy or the engine.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pytest
from _lessons import after_updates, losses_after_updates

from descent_tui.engine import Tensor
from descent_tui.engine.nn.utils import clip_grad_norm_
from descent_tui.scenario import load_scenario
from descent_tui.sim import Simulation
from descent_tui.sim.sharpness import sharpness

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
MISSION = SCENARIOS / "exploding-weights.toml"
BIG, CLIP, HE = "big init", "big init + clipping", "He init"


def flat(arrays) -> np.ndarray:
    return np.concatenate([np.asarray(a, float).reshape(-1) for a in arrays])


@functools.cache
def stepped():
    """The mission run update by update: (sim, initial weights per run, and for the
    clipped crew the parameters before each update and the gradient it measured)."""
    sim = Simulation(load_scenario(MISSION))
    init = {r.label: [(lin.weight.data.copy(), lin.bias.data.copy()) for lin in r.linears]
            for r in sim.runs}
    clip = run_of(sim, CLIP)
    thetas, grads = [], []
    for _ in range(sim.total_steps):
        thetas.append(flat(p.data for p in clip.params))
        grads.append(flat(p.grad for p in clip.params))
        sim.step(1)
    thetas.append(flat(p.data for p in clip.params))
    return sim, init, np.array(thetas), np.array(grads)


def run_of(sim, label):
    return next(r for r in sim.runs if r.label == label)


def run(label):
    return run_of(stepped()[0], label)


def data(rs):
    return np.asarray(rs.problem.data["X"], float), np.asarray(rs.problem.data["y"], float)


def rms_through(layers, X) -> np.ndarray:
    """The root-mean-square signal after the input and after each layer (ReLU on all
    but the last), computed with NumPy from (weight, bias) pairs."""
    h, out = X, [math.sqrt(np.mean(X ** 2))]
    for i, (w, b) in enumerate(layers):
        h = h @ w.T + b
        if i < len(layers) - 1:
            h = np.maximum(h, 0)
        out.append(math.sqrt(np.mean(h ** 2)))
    return np.array(out)


def middle_gains(layers, X) -> np.ndarray:
    """The factor by which each 16 → 16 layer (layers 2 to 6) multiplies the signal."""
    r = rms_through(layers, X)
    return r[2:7] / r[1:6]


def relu_layer_gain_sq(std: float, rng, draws: int = 400) -> float:
    """E[h_out²] / E[h_in²] for a 16 → 16 ReLU layer with weights N(0, std²), averaged
    over ``draws`` weight draws (Monte Carlo, NumPy only)."""
    h = np.maximum(rng.standard_normal((500, 16)), 0)
    w = std * rng.standard_normal((draws, 16, 16))
    out = np.maximum(np.einsum("nk,dok->dno", h, w), 0)
    return float(np.mean(out ** 2) / np.mean(h ** 2))


def test_the_network_and_its_training():
    """exploding-weights: "Network: `1 → 16 → 16 → 16 → 16 → 16 → 16 → 1`, ReLU,
    full-batch SGD `lr = 0.01`." """
    sim = Simulation(load_scenario(MISSION))
    for rs in sim.runs:
        shapes = [lin.weight.data.shape for lin in rs.linears]
        assert shapes == [(16, 1)] + [(16, 16)] * 5 + [(1, 16)]
        assert sum(type(m).__name__ == "ReLU" for m in rs.model) == 6
        assert rs.config.optimizer == "sgd" and rs.config.lr == 0.01
        (Xb, _yb), = rs.next_batch()  # one batch: all 128 examples
        assert rs.batch_size == 0 and len(Xb) == len(data(rs)[0]) == 128


def test_the_three_inits():
    """exploding-weights: "**big init**: weights drawn with std 0.7."; "**He init**:
    weights drawn for ReLU with variance `2 / fan_in`, no clipping"; "**big init +
    clipping**: the same boosted weights, but the gradient is clipped to a global
    norm of 1 before every step (PyTorch's `clip_grad_norm_`)" """
    sim, init, _, _ = stepped()
    big = flat(w for w, _ in init[BIG])
    assert sim.spec.network.model.init_std == 0.7
    assert np.std(big) == pytest.approx(0.7, abs=0.04)  # 1312 weights drawn
    for (w1, b1), (w2, b2) in zip(init[BIG], init[CLIP], strict=True):
        np.testing.assert_array_equal(w1, w2)
        np.testing.assert_array_equal(b1, b2)
    assert run(CLIP).config.clip_norm == 1.0
    he = run(HE)
    assert he.config.clip_norm is None and he.config.init == "kaiming_normal"
    scaled = flat(w / math.sqrt(2 / w.shape[1]) for w, _ in init[HE])
    assert np.var(scaled) == pytest.approx(1.0, abs=0.12)  # var(w) = 2 / fan_in


def test_big_weights_double_the_signal_in_each_middle_layer():
    """exploding-weights: "If the weights are big enough that a layer **doubles** the
    signal, then the five `16 → 16` layers of this network give `2⁵ = 32` times the
    size, forwards (the run's own signal grows about 28-fold across them)."; "so this
    is twice the He scale, and each `16 → 16` layer roughly doubles the signal." """
    _, init, _, _ = stepped()
    X, _ = data(run(BIG))
    gains = middle_gains(init[BIG], X)
    assert 2 ** 5 == 32
    assert np.prod(gains) == pytest.approx(28, abs=3)
    assert np.exp(np.mean(np.log(gains))) == pytest.approx(2.0, abs=0.2)  # on average
    # the theory: a ReLU layer of 16 inputs, std 0.7, multiplies the rms by 0.7·√(16/2)
    assert 0.7 * math.sqrt(16 / 2) == pytest.approx(2.0, abs=0.05)
    rng = np.random.default_rng(0)
    assert math.sqrt(relu_layer_gain_sq(0.7, rng)) == pytest.approx(1.98, abs=0.05)


def test_the_quiz_factors_and_growing_weights():
    """exploding-weights: "Factors around 2 over the five 16 → 16 layers give about
    2⁵ = 32x, and each update too long for the curvature makes the weights, and so
    the factors, bigger still." (backwards too: the error signal grows about as
    much on its way back through the same layers)"""
    _, init, _, _ = stepped()
    big = run(BIG)
    X, y = data(big)
    assert 20 < np.prod(middle_gains(init[BIG], X)) < 40 and 2 ** 5 == 32
    # backwards, by hand: dL/dh of each hidden layer at the start
    hs, h = [], X
    for i, (w, b) in enumerate(init[BIG]):
        z = h @ w.T + b
        h = np.maximum(z, 0) if i < 6 else z
        hs.append(z)
    delta = 2 * (h - y.reshape(h.shape)) / len(X)
    back = []
    for i in range(6, 0, -1):
        delta = delta @ init[BIG][i][0]  # dL/d(output of layer i)
        back.append(math.sqrt(np.mean(delta ** 2)))
        delta = delta * (hs[i - 1] > 0)
    back = np.array(back[::-1])  # dL/dh after layers 1..6
    assert 20 < back[0] / back[5] < 60  # grows going back across the five layers
    # every update of the big init made every layer's weights bigger
    norms = np.array([after_updates(big, f"layer {k}.weight_norm")[1:] for k in range(1, 8)])
    first = np.array([np.linalg.norm(w) for w, _ in init[BIG]])
    assert np.all(norms[:, 0] > first) and np.all(np.diff(norms, axis=1) > 0)
    # and so the factors: the forward gains of the second forward pass are larger
    std = np.array([after_updates(big, f"layer {k}.act_std")[1:3] for k in range(1, 7)])
    assert np.prod(std[1:, 1] / std[:-1, 1]) > 10 * np.prod(std[1:, 0] / std[:-1, 0])


def test_big_init_starts_large_everywhere():
    """exploding-weights: "It started with a large output, a large error, and a
    gradient norm in the thousands in every layer." """
    _, init, _, _ = stepped()
    big = run(BIG)
    X, y = data(big)
    out = rms_through(init[BIG], X)[-1]
    assert out > 20 * math.sqrt(np.mean(y ** 2))  # outputs about 19 for targets below 1
    assert losses_after_updates(big)[0] > 500 * np.var(y)
    norms = [lay.grad_norm for lay in big.first_layers]
    assert len(norms) == 7 and all(1000 <= n < 10000 for n in norms)


def test_big_init_overshoots_and_overflows():
    """exploding-weights: "The 'big init' crew went from a loss of a few hundred to
    `NaN` within a handful of updates."; "A step that long overshoots, the next
    gradient is larger, and the growth compounds until the numbers overflow."; "Each
    step lands somewhere worse, the next gradient is bigger still, and a few steps
    later the numbers no longer fit in a float64: `inf`, then `NaN`." """
    big = run(BIG)
    loss, gn = losses_after_updates(big), after_updates(big, "grad_norm")
    assert 100 < loss[0] < 1000 and big.diverged and big.diverged_at <= 5
    assert "nan" in big.reason.lower()
    assert np.all(np.diff(loss) > 0) and np.all(np.diff(gn) > 0)  # worse, and bigger
    growth = gn[1:] / gn[:-1]
    assert np.all(np.diff(growth) > 0)  # it compounds: each factor bigger than the last
    # at the last weights, still finite, the forward pass overflows to inf, then NaN
    X, _ = data(big)
    layers = [(lin.weight.data, lin.bias.data) for lin in big.linears]
    assert all(np.all(np.isfinite(w)) for w, _ in layers)
    h, first_inf, first_nan = X, None, None
    with np.errstate(all="ignore"):
        for i, (w, b) in enumerate(layers):
            h = h @ w.T + b
            h = np.maximum(h, 0) if i < 6 else h
            if first_inf is None and np.isinf(h).any():
                first_inf = i
            if first_nan is None and np.isnan(h).any():
                first_nan = i
    assert first_inf is not None and first_nan is not None and first_inf < first_nan


def test_nan_arrives_via_inf():
    """exploding-weights: "NaN usually arrives via inf: some number overflowed, and
    then inf − inf or 0 · inf produced NaN." """
    big = np.finfo(np.float64).max
    with np.errstate(all="ignore"):
        inf = np.float64(big) * 2
        assert np.isinf(inf)
        assert np.isnan(inf - inf) and np.isnan(np.float64(0.0) * inf)


def test_clipped_crew_same_gradient_but_short_steps():
    """exploding-weights: "The clipped crew starts with the same huge gradient (norm
    in the thousands), but each step moves the weights by at most lr × 1."; "The
    direction is kept; only the step size is capped." """
    _, _, thetas, grads = stepped()
    clip, big = run(CLIP), run(BIG)
    gn = after_updates(clip, "grad_norm")
    assert gn[0] == after_updates(big, "grad_norm")[0] and 1000 < gn[0] < 10000
    lr = clip.config.lr
    moves = np.diff(thetas, axis=0)
    sizes = np.linalg.norm(moves, axis=1)
    assert len(sizes) == 200 and np.all(sizes <= lr * 1 * (1 + 1e-9))
    raw = np.linalg.norm(grads, axis=1)
    np.testing.assert_allclose(raw, gn[:200], rtol=1e-9)
    # each step is -lr times the gradient, scaled down: the same direction
    cos = -np.sum(moves * grads, axis=1) / (sizes * raw)
    np.testing.assert_allclose(cos, 1.0, atol=1e-9)
    np.testing.assert_allclose(sizes, lr * np.minimum(raw, raw / (raw + 1e-6)), rtol=1e-6)


def test_clip_grad_norm_of_the_engine():
    """exploding-weights: "Clipping keeps the direction of the gradient and only limits
    its length."; "clip_grad_norm_ computes the global L2 norm over all
    parameters."; "If it is above max_norm, every component is multiplied by
    max_norm / norm." """
    a, b = Tensor(np.zeros(3), requires_grad=True), Tensor(np.zeros((2, 2)), requires_grad=True)
    ga, gb = np.array([3.0, -4.0, 12.0]), np.array([[1.0, -2.0], [0.5, 6.0]])
    a.grad, b.grad = ga.copy(), gb.copy()
    norm = float(clip_grad_norm_([a, b], max_norm=1.0))
    total = math.sqrt(np.sum(ga ** 2) + np.sum(gb ** 2))  # one vector of all entries
    assert norm == pytest.approx(total, rel=1e-12) and total > 1
    np.testing.assert_allclose(a.grad, ga * 1.0 / total, rtol=1e-5)
    np.testing.assert_allclose(b.grad, gb * 1.0 / total, rtol=1e-5)
    after = math.sqrt(np.sum(a.grad ** 2) + np.sum(b.grad ** 2))
    assert after == pytest.approx(1.0, rel=1e-5)
    a.grad, b.grad = ga / 100, gb / 100  # below max_norm: untouched
    clip_grad_norm_([a, b], max_norm=1.0)
    np.testing.assert_array_equal(a.grad, ga / 100)


def test_the_mean_guess_scores_0461():
    """exploding-weights: "Keep an eye on the clipped crew's final loss against 0.461,
    the loss of always predicting the mean of the data." """
    clip = run(CLIP)
    _, y = data(clip)
    guess = Tensor(np.full((len(y), 1), y.mean()))
    loss = float(clip.criterion(guess, clip.problem.data["y"]).data)
    assert loss == pytest.approx(0.461, abs=5e-4)
    assert loss <= float(clip.criterion(Tensor(np.full((len(y), 1), y.mean() + 0.05)),
                                        clip.problem.data["y"]).data)


def test_he_init_starts_sensible_with_nothing_to_explode():
    """exploding-weights: "He init starts with a sensible loss (below 1) and sensible
    gradients."; "There is nothing to explode in the first place." """
    he, big = run(HE), run(BIG)
    loss, gn = losses_after_updates(he), after_updates(he, "grad_norm")
    assert loss[0] < 1 and gn[0] < 10 and gn[0] < after_updates(big, "grad_norm")[0] / 1000
    assert not he.diverged and len(loss) == 201
    assert loss.max() == loss[0] and gn.max() < 10  # it never climbs, never blows up


def test_he_factor_is_about_one():
    """exploding-weights: "With He init, each layer's factor is about 1 on average.";
    "Deep products of factors near 1 neither explode nor vanish." """
    _, init, _, _ = stepped()
    X, _ = data(run(HE))
    gains = middle_gains(init[HE], X)
    assert np.all((gains > 0.6) & (gains < 1.5))
    assert np.exp(np.mean(np.log(gains))) == pytest.approx(1.0, abs=0.15)
    r = rms_through(init[HE], X)
    assert 0.5 < r[6] / r[1] < 2  # across the five layers: no explosion, no vanishing
    rng = np.random.default_rng(1)  # the theory: var 2/fan_in keeps E[h²] for ReLU
    assert relu_layer_gain_sq(math.sqrt(2 / 16), rng) == pytest.approx(1.0, abs=0.03)
    assert 0.9 ** 7 > 0.4 and 1.1 ** 7 < 2.0  # seven factors within 10% of 1


def test_products_of_factors_grow_or_vanish_geometrically():
    """exploding-weights: "This is the **exploding gradient** failure: deep products
    of factors bigger than 1 grow geometrically, just as products of factors smaller
    than 1 vanish (the previous mission)." """
    depth = np.arange(1, 31)
    np.testing.assert_allclose(np.cumprod(np.full(30, 2.0)), 2.0 ** depth)
    assert 2.0 ** 30 > 1e9 and 0.5 ** 30 < 1e-9
    _, init, _, _ = stepped()
    X, _ = data(run(BIG))
    r = rms_through(init[BIG], X)[1:7]
    assert np.all(np.diff(r) > 0)  # the big init's signal grows layer after layer
    ours = load_scenario(MISSION).spec
    prev = load_scenario(SCENARIOS / "vanishing-gradients.toml").spec
    assert (prev.chapter, prev.order + 1) == (ours.chapter, ours.order)


@functools.cache
def small_lr(steps: int) -> Simulation:
    sim = Simulation(load_scenario(MISSION), {"lr": 1e-4})
    sim.step(steps)
    return sim


def test_a_smaller_rate_moves_the_limit():
    """exploding-weights: "A smaller learning rate is a third fix, because it moves the
    limit `2/lr`."; "At `lr = 1e-4` (inside the knob's range) the limit is `2·10⁴`,
    still below the starting sharpness, so the first step overshoots and the loss
    jumps about fivefold."; "the overshoot lands on flatter ground (two updates in,
    the sharpness is below `2·10⁴`), the loss is back below its start after two
    updates"; "'big init' overflows within a handful of steps (at the knob's smallest
    rates it survives)" """
    spec = load_scenario(MISSION).spec
    assert spec.knobs.lr.min <= 1e-4
    limit = 2 / 1e-4
    assert limit == pytest.approx(2e4) and limit == pytest.approx(100 * 2 / 0.01)
    start = sharpness(run_of(Simulation(load_scenario(MISSION), {"lr": 1e-4}), BIG))
    assert start > limit
    big = run_of(small_lr(200), BIG)
    loss = losses_after_updates(big)
    assert not big.diverged and len(loss) == 201
    assert 4.5 < loss[1] / loss[0] < 6  # the overshoot
    assert loss[2] < loss[0]
    assert sharpness(run_of(small_lr(2), BIG)) < limit
