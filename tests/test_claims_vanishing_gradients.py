"""vanishing-gradients: every claim of the mission's text, checked on its own run or the theory.

One cached run of the mission (with its starting weights kept), one Adam variant
and a one-step lower-lr variant; the theory checks use the engine's autograd
(sigmoid, ReLU and tanh slopes, the chain rule), its initialisers, or NumPy.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import msgspec
import numpy as np
import pytest
from _lessons import after_updates, losses_after_updates

from descent_tui.engine import Tensor, no_grad
from descent_tui.engine.nn import init as nn_init
from descent_tui.scenario import load_scenario
from descent_tui.scenario import schema as S
from descent_tui.sim import Simulation

M = "vanishing-gradients"
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
PATH = SCENARIOS / f"{M}.toml"


@functools.cache
def started() -> tuple[Simulation, tuple]:
    """The mission run to the end, and each run's weights before the first update."""
    sim = Simulation(load_scenario(PATH))
    w0 = tuple(tuple(lin.weight.data.copy() for lin in rs.linears) for rs in sim.runs)
    sim.step(sim.total_steps)
    return sim, w0


def finished() -> Simulation:
    return started()[0]


def run(label: str):
    return next(r for r in finished().runs if r.label == label)


def first_grads(label: str) -> np.ndarray:
    return np.array([lay.grad_norm for lay in run(label).first_layers])


def slope(fn, z: np.ndarray) -> np.ndarray:
    """d fn(z) / dz, elementwise, by the engine's backward pass."""
    t = Tensor(z.copy(), requires_grad=True)
    fn(t).sum().backward()
    return np.asarray(t.grad)


def fresh_forward(label: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """(pre, post) activations of every layer at the start, on the whole data set."""
    rs = next(r for r in Simulation(load_scenario(PATH)).runs if r.label == label)
    stats: list = []
    with no_grad():
        rs.forward(rs.problem.data["X"], stats)
    return stats


def test_vanishing_sigmoid_slope_theory():
    """vanishing-gradients: "σ'(z) = σ(z)·(1 − σ(z)) ≤ 0.25 (largest at z = 0,
    almost 0 when |z| is big)"; "σ'(z) = σ(z)(1 − σ(z)) peaks at z = 0, where σ =
    0.5, giving 0.5 · 0.5 = 0.25."; "Away from 0 it falls towards zero."; "Every
    sigmoid layer contributes a factor `σ'(z)`, and" (the engine's own slope)"""
    z = np.linspace(-30, 30, 6001)
    d = slope(lambda t: t.sigmoid(), z)
    s = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(d, s * (1 - s), rtol=1e-9, atol=1e-300)
    assert d.max() == pytest.approx(0.25) and z[np.argmax(d)] == pytest.approx(0.0)
    assert s[np.argmax(d)] == pytest.approx(0.5)
    right = d[z >= 0]
    assert np.all(np.diff(right) < 0) and np.allclose(d, d[::-1])  # falls on both sides
    assert d[np.abs(z) >= 20].max() < 1e-8


def test_vanishing_chain_rule_multiplies_local_slopes():
    """vanishing-gradients: "The chain rule multiplies the local slopes of every layer
    between the loss and the weight." (a three-sigmoid chain: the engine's gradient
    of the first weight is the product of the local slopes)"""
    w = Tensor(np.array(0.7), requires_grad=True)
    x, a, b = 1.3, -0.9, 1.6
    z1 = w * x
    h1 = z1.sigmoid()
    z2 = h1 * a
    h2 = z2.sigmoid()
    out = (h2 * b).sigmoid()
    out.backward()

    def ds(v):
        s = 1 / (1 + math.exp(-v))
        return s * (1 - s)

    v1 = 0.7 * x
    v2 = a / (1 + math.exp(-v1))
    v3 = b / (1 + math.exp(-v2))
    assert float(w.grad) == pytest.approx(ds(v3) * b * ds(v2) * a * ds(v1) * x, rel=1e-12)


def test_vanishing_nine_sigmoids_between_layer_one_and_the_output():
    """vanishing-gradients: "Between layer 1's weights and the output lie nine
    sigmoids, so the gradient reaching layer 1 carries nine such factors: at most
    `0.25⁹ ≈ 4·10⁻⁶`."; "Every sigmoid on the way back multiplied by at most 0.25,
    and nine of them lie between layer 1 and the output." """
    rs = run("sigmoid")
    acts = [type(a).__name__ if a is not None else None for a in rs.act_modules]
    assert acts == ["Sigmoid"] * 9 + [None]  # the output is the loss's logit
    top = slope(lambda t: t.sigmoid(), np.zeros(1))[0]  # σ' at its peak
    bound = top ** acts.count("Sigmoid")
    assert top == pytest.approx(0.25) and f"{bound:.0e}" == "4e-06"


def test_vanishing_layers_are_numbered_from_the_input():
    """vanishing-gradients: "Layer 1 is the input end, layer 10 the output end.";
    "Layer 1, the input end." """
    rs = run("sigmoid")
    assert [lay.name for lay in rs.first_layers] == [f"layer {i}" for i in range(1, 11)]
    assert rs.linears[0].weight.data.shape == (16, 2)  # takes the two inputs
    assert rs.linears[-1].weight.data.shape == (1, 16)  # gives the output


def test_vanishing_the_two_stacks():
    """vanishing-gradients: "Two ten-layer stacks of the same shape (`2 → 16 → … →
    16 → 1`, nine hidden layers), full-batch SGD:"; "sigmoid: sigmoid activations
    with Xavier (Glorot) init, `lr = 0.5`."; "This run also changes three things at
    once (activation, init and learning rate), so it shows that the pair ReLU + He
    works here, not which of the three matters most."; "I stacked ten layers and
    trained it on the two-moons sorting task" """
    sim = finished()
    net = sim.spec.network
    assert net.model.layers == [2] + [16] * 9 + [1] and net.batch_size == 0
    assert net.data.kind == "moons"
    sig, relu = run("sigmoid"), run("ReLU + He")
    assert sig.config.optimizer == relu.config.optimizer == "sgd"
    assert (net.model.activation, net.model.init, sig.config.lr) == ("sigmoid", "xavier_normal", 0.5)
    assert sig.config.activation is None and sig.config.init is None
    assert (relu.config.activation, relu.config.init, relu.config.lr) == ("relu", "kaiming_normal", 0.05)
    strip = {f: None for f in ("activation", "init")}
    a = msgspec.structs.replace(sig.config, label="-", lr=0, **strip)
    b = msgspec.structs.replace(relu.config, label="-", lr=0, **strip)
    assert a == b  # nothing else differs
    assert len(sig.linears) == len(relu.linears) == 10


def test_vanishing_init_variances():
    """vanishing-gradients: "He init draws weights with variance `2 / fan_in`.";
    "Xavier/Glorot init (variance 2/(fan_in + fan_out)) is the corresponding rule for
    tanh, whose slope near 0 is 1" (the engine's initialisers on a large matrix, and
    the runs' own hidden layers pooled; tanh's slope by autograd)"""
    big = Tensor(np.empty((400, 300)))
    nn_init.kaiming_normal_(big, nonlinearity="relu", rng=np.random.default_rng(0))
    assert np.var(big.data) == pytest.approx(2 / 300, rel=0.02)
    nn_init.xavier_normal_(big, rng=np.random.default_rng(0))
    assert np.var(big.data) == pytest.approx(2 / (300 + 400), rel=0.02)
    w_sig, w_relu = started()[1]
    hidden_relu = np.concatenate([w.ravel() for w in w_relu[1:9]])  # 16 → 16 layers
    hidden_sig = np.concatenate([w.ravel() for w in w_sig[1:9]])
    assert np.var(hidden_relu) == pytest.approx(2 / 16, rel=0.1)
    assert np.var(hidden_sig) == pytest.approx(2 / 32, rel=0.1)
    z = np.linspace(-0.01, 0.01, 21)
    np.testing.assert_allclose(slope(lambda t: t.tanh(), z), 1.0, atol=1e-3)


def test_vanishing_relu_slope_and_half_switched_off():
    """vanishing-gradients: "ReLU's slope is 1 wherever a unit is active, so the
    activation doesn't shrink the signal."; "ReLU's slope is 1 for active units, and
    He init (variance 2/fan_in) keeps the signal the same size from layer to layer.";
    "Each ReLU zeroes about half of its inputs, so the variance is doubled to
    compensate."; "The factor 2 makes up for ReLU switching off about half its units,
    so each layer passes the signal on at roughly the same size, forwards and
    backwards."; "ReLU + He: ReLU activations (slope exactly 1 wherever the unit is
    on) with He (Kaiming) init, which scales each layer so the signal keeps its size
    on the way through, `lr = 0.05`" (autograd; the run's first forward pass and
    first-step gradients; a wide NumPy stack with and without the factor 2)"""
    z = np.linspace(-3, 3, 601)
    d = slope(lambda t: t.relu(), z)
    np.testing.assert_array_equal(d[z > 0], 1.0)
    np.testing.assert_array_equal(d[z < 0], 0.0)
    stats = fresh_forward("ReLU + He")
    hidden = stats[:9]
    off = [float(np.mean(post == 0)) for _, post in hidden]
    assert 0.35 < np.mean(off) < 0.65 and all(0.2 < f < 0.8 for f in off)
    rms = [float(np.sqrt(np.mean(post ** 2))) for _, post in hidden]
    assert max(rms) / min(rms) < 2.5  # forwards: the same size within a factor 2.5
    grads = first_grads("ReLU + He")
    assert grads.max() / grads.min() < 6  # backwards: within the debrief's "about 5x"
    rng = np.random.default_rng(0)
    h0 = rng.standard_normal((200, 256))
    for gain, want in ((2.0, 1.0), (1.0, 0.5 ** 9)):
        h = h0
        for _ in range(9):
            w = rng.normal(0, math.sqrt(gain / 256), (256, 256))
            h = np.maximum(h @ w, 0)
        ratio = np.mean(h ** 2) / np.mean(h0 ** 2)  # (gain/2) per layer
        assert ratio == pytest.approx(want, rel=0.35)
    x = rng.standard_normal(1_000_000)
    assert np.mean(np.maximum(x, 0) ** 2) == pytest.approx(0.5, rel=0.01)  # half the variance


def test_vanishing_step_one_gradient_norms():
    """vanishing-gradients: "At step 1, the sigmoid stack's gradient norm drops by
    roughly 2 to 5x at every layer going from layer 10 back to layer 1."; "The first
    layer is the furthest away, so its product has the most shrinking factors.";
    "sigmoid's slope is at most 0.25, so with that init each sigmoid layer still
    shrinks the gradient on its way back (here by roughly 3 to 5x a layer)" """
    g = first_grads("sigmoid")
    drop = g[1:] / g[:-1]
    assert np.all((drop > 2.5) & (drop < 5))
    assert np.all(drop > 2.9)
    assert int(np.argmin(g)) == 0


def test_vanishing_sigmoid_stack_sits_at_ln2():
    """vanishing-gradients: "The sigmoid stack's loss sits at ln 2 ≈ 0.693, the loss
    of answering 50/50 for every point."; "With this optimizer and lr it does not learn
    in 200 steps."; "With SGD at `lr = 0.5` the network sat at the coin-flip loss `ln
    2`."; "it does not rescue a deep sigmoid stack, as you are about to see" """
    loss = losses_after_updates(run("sigmoid"))
    assert len(loss) == 201 and run("sigmoid").config.lr == 0.5
    assert np.all(np.abs(loss[3:] - math.log(2)) < 1e-3)  # from the third update on
    assert math.log(2) == pytest.approx(0.693, abs=5e-4)
    y = run("sigmoid").problem.data["y"]
    p = np.full_like(y, 0.5, dtype=float)
    bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert bce == pytest.approx(math.log(2))


def test_vanishing_first_layers_never_budged():
    """vanishing-gradients: "and the first layers never budged" (over 200 updates
    layer 1's weights move by about 0.01 % of their size, layer 10's by 16 %)"""
    w_sig = started()[1][0]
    now = [lin.weight.data for lin in run("sigmoid").linears]
    moved = [np.linalg.norm(b - a) / np.linalg.norm(a) for a, b in zip(w_sig, now, strict=True)]
    assert moved[0] < 1e-3 and moved[1] < 1e-3
    assert moved[-1] > 0.1


def test_vanishing_forward_signal_collapses_start_and_end():
    """vanishing-gradients: "The backward pass is only half of it."; "The forward
    signal collapses too: the sigmoid stack's
    last hidden layer gives nearly the same output for every input." (at the start
    and after 200 updates: its outputs span less than 10⁻⁵ across the data set)"""
    last_hidden = fresh_forward("sigmoid")[-2][1]
    assert float(np.ptp(last_hidden, axis=0).max()) < 1e-5
    rs = run("sigmoid")
    stats: list = []
    with no_grad():
        rs.forward(rs.problem.data["X"], stats)
    assert float(np.ptp(stats[-2][1], axis=0).max()) < 1e-5


def test_vanishing_relu_he_keeps_layers_within_ten_x():
    """vanishing-gradients: "ReLU + He keeps every layer's gradient within one order
    of magnitude of the others, and its loss falls." (at every one of the 200 steps)"""
    rs = run("ReLU + He")
    norms = np.array([after_updates(rs, f"layer {i}.grad_norm")[1:] for i in range(1, 11)])
    assert norms.shape == (10, 200)
    assert np.all(norms.max(axis=0) / norms.min(axis=0) < 10)
    loss = losses_after_updates(rs)
    assert loss[-1] < loss[0] / 3


def test_vanishing_lower_lr_is_even_less_effective():
    """vanishing-gradients: "A lower learning rate makes a vanishing gradient even less
    effective." (at a tenth of the lr, layer 1's first update is a tenth as large)"""
    sim = Simulation(load_scenario(PATH), {"runs.sigmoid.lr": 0.05})
    sim.step(1)
    low = after_updates(sim.runs[0], "layer 1.update_ratio")[1]
    high = after_updates(run("sigmoid"), "layer 1.update_ratio")[1]
    assert low == pytest.approx(high / 10, rel=1e-6)


@functools.cache
def adam_variant():
    """The sigmoid run with Adam at lr 0.01, 200 updates (only that run is stepped)."""
    sim = Simulation(load_scenario(PATH), {"runs.sigmoid.optimizer": "adam", "runs.sigmoid.lr": 0.01})
    rs = sim.runs[0]
    with np.errstate(all="ignore"):
        for _ in range(sim.total_steps):
            rs.advance()
    return rs


def test_vanishing_never_learns_is_about_the_recipe():
    """vanishing-gradients: "Never learns is a claim about this recipe, not about
    sigmoid stacks." (the same stack and init with Adam at lr 0.01 leaves ln 2 far
    behind)"""
    adam = adam_variant()
    assert adam.step == 200
    assert adam.config.optimizer == "adam" and adam.config.activation is None
    assert losses_after_updates(adam)[-1] < math.log(2) - 0.3
    assert losses_after_updates(run("sigmoid"))[-1] > math.log(2) - 1e-3


def test_vanishing_other_remedies_are_not_in_the_course():
    """vanishing-gradients: "Other remedies, beyond this course: residual connections";
    "Careful initialisation is the other half of the story: the next mission,
    exploding-weights, picks it up." (no other mission mentions residual
    connections, and a model has no normalisation or skip layers)"""
    others = [p for p in SCENARIOS.glob("*.toml") if p.stem != M]
    for p in others:
        assert "residual" not in p.read_text(encoding="utf-8").lower()
    fields = " ".join(f.encode_name for f in msgspec.structs.fields(S.ModelSpec))
    assert "norm" not in fields and "residual" not in fields and "skip" not in fields
    specs = {p.stem: load_scenario(p).spec for p in SCENARIOS.glob("*.toml")}
    here = (specs[M].chapter, specs[M].order)
    after = sorted((s.chapter, s.order, k) for k, s in specs.items() if (s.chapter, s.order) > here)
    assert after[0][2] == "exploding-weights"
    assert "init" in specs["exploding-weights"].briefing.lower()


def test_vanishing_sigmoid_accuracy_below_chance_is_a_millionth_ripple():
    """vanishing-gradients: "One number on the screen looks like a mistake and is not
    one: from step 12 on, the sigmoid stack's accuracy reads about 15%, worse than
    guessing."; "By the end, every one of its outputs lies within 5·10⁻⁷ of 50/50 (as
    logits, between −2·10⁻⁶ and +2·10⁻⁶), so which side of 50/50 a point falls on is
    settled by differences of a millionth."; "Here they point the wrong way for 170 of
    the 200 points."; "Accuracy counts only the side; the loss, ln 2 + 4·10⁻⁷, barely
    notices, and a gradient norm of about 4·10⁻⁶ is far too small to turn them round."
    """
    rs = run("sigmoid")
    acc = after_updates(rs, "accuracy")
    assert acc[11] > 0.3  # before step 12: not yet
    assert np.all(np.abs(acc[12:] - 0.15) <= 0.01) and acc[-1] < 0.5
    X, y = rs.problem.data["X"], rs.problem.data["y"]
    with no_grad():
        logits = np.asarray(rs.forward(X).data, dtype=float).ravel()
    assert len(y) == 200 and np.all(np.abs(logits) < 2e-6) and np.ptp(logits) > 1e-6
    p = 1.0 / (1.0 + np.exp(-logits))
    assert np.all(np.abs(p - 0.5) < 5e-7)
    wrong = np.count_nonzero((logits > 0) != (np.asarray(y).ravel() > 0.5))
    assert wrong == 170
    excess = losses_after_updates(rs)[-1] - math.log(2)
    assert 3.5e-7 < excess < 4.5e-7
    grad = after_updates(rs, "grad_norm")
    assert 3.5e-6 < grad[-1] < 4.5e-6
    assert np.all(acc[20:] == acc[-1])  # 180 updates of that gradient: not one point turned
