"""Lesson tests for the claims of batch-sizes, sentence by sentence.

One cached run of the mission (and one replay of it, update by update, that
reads each step's batch and the model's loss on every example), one cached run
of 1000 steps for the overfitting paragraph, and the theory of an average's
spread in NumPy.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from _lessons import after_updates, losses_after_updates, updates_to_reach

from descent_tui.engine import no_grad
from descent_tui.scenario import load_scenario
from descent_tui.scenario.overrides import apply
from descent_tui.sim import Simulation

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
MISSION = SCENARIOS / "batch-sizes.toml"
FULL, MINI, SINGLE = "full batch", "mini-batch 32", "single sample"


@functools.cache
def finished(**changes) -> Simulation:
    sim = Simulation(apply(load_scenario(MISSION), changes))
    sim.step(sim.total_steps)
    return sim


def run(label: str, **changes):
    return next(r for r in finished(**changes).runs if r.label == label)


def val(label: str, **changes) -> np.ndarray:
    return after_updates(run(label, **changes), "val_loss")


def bce(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Binary cross-entropy of logits ``z`` against 0/1 targets ``y``, per example."""
    z, y = z.reshape(-1), y.reshape(-1)
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))


@functools.cache
def replay():
    """Step a fresh simulation one update at a time; per run and step k (the state after
    k updates): the indices of the batch of update k + 1, the model's loss on each
    training example and its mean loss on the validation set, and the recorded row."""
    sim = Simulation(load_scenario(MISSION))
    data = sim.runs[0].problem.data
    X, y = data["X"], data["y"]
    out: dict[str, list] = {r.label: [] for r in sim.runs}
    for k in range(sim.total_steps + 1):
        for r in sim.runs:
            (xb, _), = r.next_batch()
            idx = [int(np.flatnonzero((row == X).all(axis=1))[0]) for row in xb]
            with no_grad():
                each = bce(r.forward(X).data, y)
                vloss = float(bce(r.forward(data["X_val"]).data, data["y_val"]).mean())
            rec = r.history.series("loss")[k], r.history.series("val_loss")[k]
            out[r.label].append((np.array(idx), each, vloss, rec))
        if k < sim.total_steps:
            sim.step(1)
    return out, len(X), len(data["X_val"])


# ---------------------------------------------------------------- the set-up


def test_data_split_and_network():
    """batch-sizes: "The debris classifier learns from sensor sweeps: 256 readings, two
    kinds of debris, shaped like two interlocking crescent moons"; "We hold back a quarter
    of them as a check set (the validation set) and train on the other 192"; "All three use
    the same 2 → 16 → 16 → 1 tanh network, the same starting weights and plain SGD with
    lr = 0.5, for 200 steps"."""
    spec = finished().spec
    net = spec.network
    assert (net.data.kind, net.data.n, net.val_split) == ("moons", 256, 0.25)
    d = finished().runs[0].problem.data
    assert (len(d["X"]), len(d["X_val"])) == (192, 64)
    assert set(np.unique(np.concatenate([d["y"].ravel(), d["y_val"].ravel()]))) == {0.0, 1.0}
    assert list(net.model.layers) == [2, 16, 16, 1] and net.model.activation == "tanh"
    assert finished().total_steps == 200
    for r in finished().runs:
        assert r.config.optimizer == "sgd" and r.config.lr == 0.5
        assert not r.config.momentum and r.config.weight_decay == 0 and r.config.schedule is None
    fresh = Simulation(load_scenario(MISSION))
    for a, b in zip(fresh.runs[0].params, fresh.runs[1].params, strict=True):
        np.testing.assert_array_equal(a.data, b.data)
    for a, b in zip(fresh.runs[0].params, fresh.runs[2].params, strict=True):
        np.testing.assert_array_equal(a.data, b.data)


def test_what_each_step_reads():
    """batch-sizes: "full batch (batch gradient descent): average over all 192 examples";
    "The exact gradient, but every step costs a pass over the whole training set";
    "mini-batch 32: average over 32 examples drawn from a shuffled order"; "The training
    loss is measured on that step's batch only"; "The validation loss is measured on the
    64 held-back readings every step, so it tells you how good the model really is";
    "Each reading is one example's loss, and easy examples read near 0"."""
    steps, n, n_val = replay()
    assert (n, n_val) == (192, 64)
    for label, size in ((FULL, 192), (MINI, 32), (SINGLE, 1)):
        for idx, each, vloss, (loss, v) in steps[label]:
            assert len(idx) == size and len(set(idx.tolist())) == size
            assert loss == pytest.approx(each[idx].mean(), rel=1e-9)
            assert v == pytest.approx(vloss, rel=1e-9)
    # mini-batch: each epoch of 6 batches is one shuffled pass over all 192 examples
    orders = [np.concatenate([s[0] for s in steps[MINI][e * 6:(e + 1) * 6]]) for e in range(3)]
    for order in orders:
        assert sorted(order.tolist()) == list(range(192))
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[0], np.sort(orders[0]))
    # single sample: a reading is one example's loss, and the easy ones read near 0
    readings = np.array([rec[0] for _, _, _, rec in steps[SINGLE]])
    assert np.sum(readings < 0.01) >= 10 and readings.max() > 1


def test_full_batch_step_is_the_mean_gradient():
    """batch-sizes: "full batch (batch gradient descent): average over all 192 examples".
    One full-batch update is −lr × the mean of the 192 per-example gradients."""
    probe = Simulation(load_scenario(MISSION)).runs[0]        # same weights, a spare copy
    grads = per_example_grads(probe, probe.problem.data["X"], probe.problem.data["y"])
    sim = Simulation(load_scenario(MISSION))
    r = next(x for x in sim.runs if x.label == FULL)
    before = [p.data.copy() for p in r.params]
    sim.step(1)
    step = np.concatenate([(p.data - b).ravel() for p, b in zip(r.params, before, strict=True)])
    np.testing.assert_allclose(step, -0.5 * grads.mean(axis=0), rtol=1e-7, atol=1e-12)


def per_example_grads(r, X, y) -> np.ndarray:
    out = []
    for i in range(len(X)):
        for p in r.params:
            p.grad = None
        r.criterion(r.forward(X[i:i + 1]), y[i:i + 1]).backward()
        out.append(np.concatenate([p.grad.ravel() for p in r.params]))
    for p in r.params:
        p.grad = None
    return np.array(out)


# ---------------------------------------------------------------- the curves


def test_full_batch_is_monotone_mini_wobbles_single_jumps():
    """batch-sizes: "The full-batch training loss goes down on every single step: a smooth,
    monotone curve."; "Mini-batch 32 wobbles around a downward trend, since each batch is a
    slightly different sample of the data."; "| full batch (192) | exact | 192 examples |
    smooth, steady descent"; "| single sample (1) | very noisy | 1 example | a wildly
    jumping readout; the model itself jitters around |"."""
    full, mini, single = (losses_after_updates(run(x)) for x in (FULL, MINI, SINGLE))
    assert np.all(np.diff(full) < 0)
    assert np.mean(np.diff(mini) > 0) > 0.2                     # wobbles
    assert mini[-50:].mean() < mini[:50].mean() / 3             # around a downward trend
    assert np.std(np.diff(single)) > 5 * np.std(np.diff(mini))  # wildly jumping
    assert single.max() > 1 and single.min() < 0.01
    # the model jitters: its validation loss (a fixed set) jumps step to step
    vs, vf = np.diff(val(SINGLE)), np.diff(val(FULL))
    assert np.all(vf < 0) and np.std(vs) > 20 * np.std(vf) and np.mean(vs > 0) > 0.4


def test_mini_batch_tracks_full_batch_and_wins_per_example():
    """batch-sizes: "| mini-batch (32) | good estimate | 32 examples | a noisy curve that
    tracks the full-batch one; best validation loss per example seen (from about 400
    examples on) |"; "| full batch (192) | exact | 192 examples | smooth, steady descent;
    best validation loss per step (at four steps in five) |"; "Count examples, not steps.
    Per step, full batch looks best, but each of its steps reads six times as many
    examples"."""
    mini, full = losses_after_updates(run(MINI)), losses_after_updates(run(FULL))
    mean10 = np.convolve(mini, np.ones(10) / 10, mode="valid")
    assert np.all(np.abs(mean10 - full[9:]) < 0.1)             # tracks the full-batch curve
    vf, vm, vs = val(FULL), val(MINI), val(SINGLE)
    best = np.mean((vf <= vm) & (vf <= vs))
    assert 0.75 <= best <= 0.85                                # four steps in five
    assert 192 / 32 == 6
    # equal examples: mini step k has read 32·k, full step k/6 as many
    k = np.arange(6, 201, 6)
    worse = 32 * k[vm[k] >= vf[k // 6]]
    assert worse.max() < 400 and np.all(vm[k[32 * k >= 400]] < vf[k[32 * k >= 400] // 6])


def test_single_sample_reports_first_and_is_worst():
    """batch-sizes: "Don't trust a single-batch readout. The single-sample run was the first
    to report a loss below 0.05, and it is the worst model"."""
    at = {x: updates_to_reach(run(x), 0.05) for x in (FULL, MINI, SINGLE)}
    assert at[SINGLE] < at[MINI] and at[SINGLE] < at[FULL]
    last = {x: val(x)[-1] for x in (FULL, MINI, SINGLE)}
    assert max(last, key=last.get) == SINGLE
    acc = {x: after_updates(run(x), "val_accuracy")[-1] for x in (FULL, MINI, SINGLE)}
    assert min(acc, key=acc.get) == SINGLE


def test_single_sample_settles_with_smaller_lr_or_decay():
    """batch-sizes: "It would need a much smaller lr, or a decaying schedule (mission 2.3)".
    At lr 0.5 its validation loss still swings by more than 1 over the last 50 steps; at
    lr 0.05, or with a cosine decay, its step-to-step jumps are a fifth or less."""
    assert load_scenario(SCENARIOS / "learning-rate-schedules.toml").spec.chapter == 2
    assert load_scenario(SCENARIOS / "learning-rate-schedules.toml").spec.order == 3
    jitter = np.std(np.diff(val(SINGLE)[-100:]))
    assert np.ptp(val(SINGLE)[-50:]) > 1
    for changes in ({"runs.single sample.lr": 0.05},
                    {"runs.single sample.schedule": {"kind": "cosine"}}):
        calm = Simulation(apply(load_scenario(MISSION), changes))
        calm.step(calm.total_steps)
        v = after_updates(calm.runs[2], "val_loss")
        assert np.std(np.diff(v[-100:])) < jitter / 5 and np.ptp(v[-50:]) < 0.25


# ---------------------------------------------------------------- the noise


def test_spread_of_an_average():
    """batch-sizes: "An average of B independent samples has a standard deviation about
    1/√B times a single sample's"; "Going from 1 to 32 examples cuts the noise by about
    5.7x"."""
    rng = np.random.default_rng(0)
    draws = rng.exponential(size=(20000, 32))
    for b in (4, 32):
        ratio = draws[:, :b].mean(axis=1).std() / draws[:, 0].std()
        assert ratio == pytest.approx(1 / np.sqrt(b), rel=0.03)
    assert np.sqrt(32) == pytest.approx(5.7, abs=0.05)


def test_mini_batches_cut_the_gradient_noise_on_the_mission():
    """batch-sizes: "Mini-batches are the balance. Averaging 32 examples cuts the noise a
    lot (the spread of an average shrinks like 1/√batch) while keeping steps cheap". On
    the mission's 192 examples at the starting weights: a batch of 32 drawn from a
    shuffled order scatters about a sixth as far from the full gradient as one example,
    at a sixth of the full batch's cost."""
    sim = Simulation(load_scenario(MISSION))
    r = sim.runs[1]
    X, y = r.problem.data["X"], r.problem.data["y"]
    g = per_example_grads(r, X, y)
    full = g.mean(axis=0)
    one = np.sqrt(np.mean(np.sum((g - full) ** 2, axis=1)))
    rng = np.random.default_rng(1)
    batches = np.concatenate([rng.permutation(192).reshape(6, 32) for _ in range(100)])
    b32 = np.sqrt(np.mean([np.sum((g[i].mean(axis=0) - full) ** 2) for i in batches]))
    assert b32 / one < 0.2
    # without replacement from 192: exactly √((192 − 32)/(191·32)), within 10 % of 1/√32
    assert b32 / one == pytest.approx(np.sqrt((192 - 32) / (191 * 32)), rel=0.05)
    assert np.sqrt((192 - 32) / (191 * 32)) == pytest.approx(1 / np.sqrt(32), rel=0.1)


# ---------------------------------------------------------------- longer


def test_a_longer_run_overfits():
    """batch-sizes: "That is overfitting: the model starts learning the 192 training points'
    noise instead of the two moons". At 1000 steps the validation loss of the full-batch
    and mini-batch runs turns up and more than doubles while the loss on the 192
    training points keeps falling."""
    for label in (FULL, MINI):
        rs = run(label, steps=1000)
        v = after_updates(rs, "val_loss")
        best = int(np.argmin(v))
        assert 250 <= best <= 400 and v[-1] > 2 * v[best]
    full = losses_after_updates(run(FULL, steps=1000))      # the 192 training points
    assert np.all(np.diff(full[250:]) < 0) and full[-1] < full[252] / 3
