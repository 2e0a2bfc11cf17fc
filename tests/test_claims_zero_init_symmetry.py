"""zero-init-symmetry: every claim of the mission's text, checked on its own run or the theory.

One cached run of the mission, stepped one update at a time so that every
state's weights and gradients can be checked (not only the last); three short
perturbed runs for the "twins" rule; the XOR facts on the mission's own data.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pytest
from _lessons import after_updates, losses_after_updates

from descent_tui.engine import no_grad
from descent_tui.scenario import load_scenario
from descent_tui.sim import Simulation

M = "zero-init-symmetry"
PATH = Path(__file__).resolve().parents[1] / "scenarios" / f"{M}.toml"
LABELS = ("all zeros", "all 0.5", "random")


def _snapshot(rs) -> dict[str, np.ndarray]:
    first, second = rs.linears
    out = {"W1": first.weight.data.copy(), "b1": first.bias.data.copy(),
           "W2": second.weight.data.copy(), "b2": second.bias.data.copy()}
    for key, p in (("gW1", first.weight), ("gb1", first.bias), ("gW2", second.weight),
                   ("gb2", second.bias)):
        out[key] = None if p.grad is None else np.asarray(p.grad).copy()
    return out


@functools.cache
def traced() -> tuple[Simulation, dict[str, list[dict[str, np.ndarray]]]]:
    """The mission run update by update: ``states[label][k]`` after ``k`` updates
    (its gradients are the ones taken at that state, from update 1 on)."""
    sim = Simulation(load_scenario(PATH))
    states = {rs.label: [_snapshot(rs)] for rs in sim.runs}
    for _ in range(sim.total_steps):
        sim.step(1)
        for rs in sim.runs:
            states[rs.label].append(_snapshot(rs))
    return sim, states


def run(label: str):
    return next(r for r in traced()[0].runs if r.label == label)


def states(label: str) -> list[dict[str, np.ndarray]]:
    return traced()[1][label]


def twins(s: dict[str, np.ndarray]) -> bool:
    """Are all eight hidden units bitwise the same (in, bias, out)?"""
    return bool(np.all(s["W1"] == s["W1"][0]) and np.all(s["b1"] == s["b1"][0])
                and np.all(s["W2"] == s["W2"][0, 0]))


def xor_data():
    d = run("random").problem.data
    return d["X"], np.asarray(d["y"]).ravel()


def best_half_plane(X: np.ndarray, y: np.ndarray) -> float:
    """The best accuracy any single straight boundary reaches on (X, y)."""
    best = 0.0
    for th in np.linspace(0, np.pi, 361):
        z = X @ np.array([np.cos(th), np.sin(th)])
        order = np.argsort(z)
        ys = y[order]
        # boundary after the i-th point: class 1 on the high side
        ones_above = np.concatenate([[ys.sum()], ys.sum() - np.cumsum(ys)])
        zeros_below = np.concatenate([[0], np.cumsum(1 - ys)])
        acc = (ones_above + zeros_below) / len(y)
        best = max(best, acc.max(), 1 - acc.min())
    return float(best)


def test_zero_init_the_three_starts():
    """zero-init-symmetry: "all zeros: every weight and bias starts at 0"; "all 0.5:
    every weight starts at 0.5 (biases 0)"; "A new hire reset the hydroponics brain
    with every weight at zero." """
    z, c, r = (states(k)[0] for k in LABELS)
    for key in ("W1", "b1", "W2", "b2"):
        assert np.all(z[key] == 0)
    assert np.all(c["W1"] == 0.5) and np.all(c["W2"] == 0.5)
    assert np.all(c["b1"] == 0) and np.all(c["b2"] == 0)
    assert len({tuple(row) for row in r["W1"]}) == 8  # 'random' starts all different


def test_zero_init_network_and_task():
    """zero-init-symmetry: "Network: `2 → 8 → 1` with tanh hidden units, trained
    full-batch with Adam (`lr = 0.05`)."; "The task is the XOR pattern: points are
    class 1 when their two coordinates have different signs (a little noise puts 4 of
    the 200 points across an axis)." """
    sim = traced()[0]
    net = sim.spec.network
    assert net.model.layers == [2, 8, 1] and net.model.activation == "tanh"
    assert net.batch_size == 0 and net.data.kind == "xor"
    assert all(rs.config.optimizer == "adam" and rs.config.lr == 0.05 for rs in sim.runs)
    assert [type(a).__name__ for a in run("random").act_modules if a is not None] == ["Tanh"]
    X, y = xor_data()
    rule = (X[:, 0] > 0) != (X[:, 1] > 0)
    assert len(y) == 200 and int(np.count_nonzero(rule != y)) == 4


def test_zero_init_all_zeros_gradients():
    """zero-init-symmetry: "With tanh units, 'all zeros' gets a hidden-layer gradient
    of exactly 0 at every step."; "Only the output bias moves."; "Hidden outputs are tanh(0) = 0, so
    the output weights' gradient (blame × hidden output) is 0."; "The hidden weights'
    gradient passes through the zero output weights, so it is 0 too."; "Only the
    output bias sees the error directly." (every state's gradients; at the start the
    output bias's gradient is the mean error σ(0) − y itself; with the activation knob
    at sigmoid, whose σ(0) = 0.5 is not 0, the hidden layer does get a gradient)"""
    trace = states("all zeros")
    for s in trace[1:]:
        for key in ("gW1", "gb1", "gW2"):
            assert np.all(s[key] == 0)
        for key in ("W1", "b1", "W2"):
            assert np.all(s[key] == 0)
    assert abs(trace[-1]["b2"][0]) > 0.01  # the output bias did move
    assert np.all(after_updates(run("all zeros"), "layer 1.grad_norm")[1:] == 0)
    rs = next(r for r in Simulation(load_scenario(PATH)).runs if r.label == "all zeros")
    X, y = rs.problem.data["X"], rs.problem.data["y"]
    stats: list = []
    with no_grad():
        rs.forward(X, stats)
    assert np.all(stats[0][1] == 0)  # tanh(0) = 0 for every point
    for param in rs.params:
        param.grad = None  # the start's record already took one backward pass
    rs.criterion(rs.forward(X), y).backward()
    first, second = rs.linears
    assert np.all(first.weight.grad == 0) and np.all(first.bias.grad == 0)
    assert np.all(second.weight.grad == 0)
    assert float(np.ravel(second.bias.grad)[0]) == pytest.approx(np.mean(0.5 - np.ravel(y)))
    sig = Simulation(load_scenario(PATH), {"activation": "sigmoid"})
    sig.step(3)
    zeros = next(r for r in sig.runs if r.label == "all zeros")
    assert np.abs(zeros.linears[0].weight.grad).max() > 0


def test_zero_init_constant_start_moves_in_lockstep():
    """zero-init-symmetry: "In 'all 0.5' the eight hidden units learn, but in
    lockstep: all eight rows of layer 1 stay identical."; "Its hidden rows stayed
    identical for all 200 steps, even under Adam."; "In the 'all 0.5' run, all eight
    rows of layer 1 end the run equal to the last digit."; "The 'all 0.5' crew learned
    something, but all eight hidden units learned the SAME thing." (bitwise, at every
    state, and the units' gradients too)"""
    trace = states("all 0.5")
    assert len(trace) == 201 and run("all 0.5").config.optimizer == "adam"
    for s in trace:
        assert twins(s)
    for s in trace[1:]:
        assert np.all(s["gW1"] == s["gW1"][0]) and np.all(s["gb1"] == s["gb1"][0])
    assert np.abs(trace[-1]["W1"] - 0.5).max() > 1  # they did learn
    assert losses_after_updates(run("all 0.5"))[-1] < math.log(2) - 0.1


def test_zero_init_interview_answer():
    """zero-init-symmetry: "Zero init makes every neuron in a layer compute the same
    thing and get the same gradient, so they never differ."; "Never initialise all
    the weights to the same value, and zero is just the most tempting one."; "Also
    wrong, and it's the question I ask at every job interview, so pay attention."
    (both same-value starts keep their units identical at every state, and both end
    far behind 'random')"""
    for label in ("all zeros", "all 0.5"):
        for s in states(label):
            assert twins(s)
    final = {k: losses_after_updates(run(k))[-1] for k in LABELS}
    assert final["all zeros"] == pytest.approx(math.log(2), abs=1e-3)
    assert final["random"] < final["all 0.5"] / 5


def test_zero_init_all_zeros_is_worse_still():
    """zero-init-symmetry: "All-zeros is worse still." """
    final = {k: losses_after_updates(run(k))[-1] for k in LABELS}
    acc = {k: after_updates(run(k), "accuracy")[-1] for k in LABELS}
    assert final["all zeros"] > final["all 0.5"] > final["random"]
    assert acc["all zeros"] < acc["all 0.5"] < acc["random"]


def test_zero_init_only_random_climbs_above_75():
    """zero-init-symmetry: "'random' is the only crew whose accuracy climbs well above
    75%." (at every step the others stay at or below 75%)"""
    for label in ("all zeros", "all 0.5"):
        assert after_updates(run(label), "accuracy").max() <= 0.75
    assert after_updates(run("random"), "accuracy")[-1] > 0.9


def test_zero_init_xor_needs_two_boundaries():
    """zero-init-symmetry: "XOR needs at least two different boundaries."; "XOR needs
    at least two different boundaries combined, and the symmetric crews effectively
    have one unit (all 0.5) or none (all zeros)." (on the mission's data no single
    straight boundary beats 72.5 %, the two axes together score 98 %)"""
    X, y = xor_data()
    assert best_half_plane(X, y) <= 0.73
    assert np.mean(((X[:, 0] > 0) != (X[:, 1] > 0)) == y) >= 0.98
    assert twins(states("all 0.5")[-1])  # one unit, eight times
    last = states("all zeros")[-1]
    assert np.all(last["W1"] == 0) and np.all(last["W2"] == 0)  # no unit at all


def test_zero_init_constant_boundary_is_one_units():
    """zero-init-symmetry: "The decision-boundary plot for 'all 0.5' can only ever show
    what a single hidden unit can draw." (its plotted probabilities are those of one
    tanh unit with the summed output weight, so its boundary is one straight line)"""
    rs = run("all 0.5")
    xs, ys, P = rs.decision_grid(40)
    s = states("all 0.5")[-1]
    gx, gy = np.meshgrid(xs, ys)
    z = s["W1"][0, 0] * gx + s["W1"][0, 1] * gy + s["b1"][0]
    one_unit = 1 / (1 + np.exp(-(s["W2"].sum() * np.tanh(z) + s["b2"][0])))
    np.testing.assert_allclose(P, one_unit, rtol=1e-9, atol=1e-12)
    inside = P > 0.5
    assert inside.any() and (~inside).any()
    assert z[inside].min() > z[~inside].max() or z[inside].max() < z[~inside].min()


@pytest.mark.parametrize("where", ["bias", "outgoing", "incoming"])
def test_zero_init_twins_must_agree_on_everything(where):
    """zero-init-symmetry: "Two units stay twins only if they agree on everything:
    equal incoming weights and equal biases (and equal outgoing weights)." (nudge one
    unit of 'all 0.5' in one place only: it leaves its twins, the other seven stay
    identical)"""
    sim = Simulation(load_scenario(PATH))
    rs = next(r for r in sim.runs if r.label == "all 0.5")
    first, second = rs.linears
    target = {"bias": first.bias.data, "outgoing": second.weight.data[0],
              "incoming": first.weight.data[0]}[where]
    target[0] += 0.1
    sim.step(30)
    W1 = first.weight.data
    assert np.abs(W1[0] - W1[1]).max() > 1e-3
    assert np.all(W1[1:] == W1[1]) and np.all(first.bias.data[1:] == first.bias.data[1])
