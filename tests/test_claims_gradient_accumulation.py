"""Lesson tests for the claims of gradient-accumulation, sentence by sentence.

Each docstring names the mission and quotes the sentences it guards (see
``tests/_claims.py``). The mission is run once, update by update, keeping the
batches each crew trains on and the gradient each update uses; the identities
of accumulation (means of means, ``backward`` adding up, the 4x learning rate)
are recomputed with NumPy and the engine.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import numpy as np
import pytest
from _lessons import after_updates, losses_after_updates

from descent_tui.engine import Tensor, nn, optim
from descent_tui.scenario import load_scenario
from descent_tui.sim import Simulation

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
MISSION = SCENARIOS / "gradient-accumulation.toml"
BIG, ACC, SMALL = "batch 32", "4x8 accumulated", "batch 8"


def flat(arrays) -> np.ndarray:
    return np.concatenate([np.asarray(a, float).reshape(-1) for a in arrays])


def run_of(sim, label):
    return next(r for r in sim.runs if r.label == label)


@functools.cache
def stepped():
    """The mission run update by update: per update, each crew's micro-batches and the
    gradient it is about to apply."""
    sim = Simulation(load_scenario(MISSION))
    batches = {r.label: [] for r in sim.runs}
    grads = {r.label: [] for r in sim.runs}
    for _ in range(sim.total_steps):
        for rs in sim.runs:
            batches[rs.label].append(rs.next_batch())
            grads[rs.label].append(flat(p.grad for p in rs.params))
        sim.step(1)
    return sim, batches, {k: np.array(v) for k, v in grads.items()}


def run(label):
    return run_of(stepped()[0], label)


@functools.cache
def at_lr(lr: float) -> Simulation:
    sim = Simulation(load_scenario(MISSION), {"lr": lr})
    sim.step(sim.total_steps)
    return sim


def test_the_task_and_the_crews():
    """gradient-accumulation: "The task is sorting the two-moons debris again (256
    readings), with a `2 → 16 → 16 → 1` tanh network and SGD with momentum `lr =
    0.1`:"; "**batch 32**: the main computer's recipe, 32 examples per update";
    "**batch 8**: for comparison, just use batches of 8 with no accumulation" """
    spec = load_scenario(MISSION).spec
    assert spec.network.data.kind == "moons" and spec.network.data.n == 256
    assert spec.network.model.activation == "tanh"
    prev = load_scenario(SCENARIOS / "batch-sizes.toml").spec  # "again": the mission before
    assert prev.network.data.kind == "moons" and (prev.chapter, prev.order + 1) == (
        spec.chapter, spec.order)
    for rs in stepped()[0].runs:
        assert [lin.weight.data.shape for lin in rs.linears] == [(16, 2), (16, 16), (1, 16)]
        assert rs.config.optimizer == "momentum" and rs.config.lr == 0.1
        assert rs.config.momentum > 0
    big, small = run(BIG), run(SMALL)
    assert big.batch_size == 32 and big.config.accumulate == 1
    assert small.batch_size == 8 and small.config.accumulate == 1
    assert all(len(b) == 1 and len(b[0][0]) == 32 for b in stepped()[1][BIG])
    assert all(len(b) == 1 and len(b[0][0]) == 8 for b in stepped()[1][SMALL])


def test_accumulated_crew_sees_the_same_32_in_the_same_order():
    """gradient-accumulation: "**4x8 accumulated**: micro-batches of 8, four
    accumulated per update, so each update sees the same 32 examples in the same
    order"; "Its memory holds only **8** examples at a time, and the recipe we trust
    was tuned for batches of **32**."; "```python optimizer.zero_grad() # once per
    UPDATE for micro_x, micro_y in split(batch_of_32, 4): # 4 micro-batches of 8" """
    _, batches, _ = stepped()
    assert len(batches[ACC]) == 150
    for acc, big in zip(batches[ACC], batches[BIG], strict=True):
        assert len(acc) == 4 and all(len(x) == 8 for x, _ in acc)  # 8 at a time
        np.testing.assert_array_equal(np.concatenate([x for x, _ in acc]), big[0][0])
        np.testing.assert_array_equal(np.concatenate([y for _, y in acc]), big[0][1])


def test_four_passes_per_update():
    """gradient-accumulation: "It does 4 forward/backward passes per update." """
    sim = Simulation(load_scenario(MISSION))
    calls = {}
    for rs in sim.runs:
        def counting(X, stats=None, rs=rs, inner=rs.forward):
            calls[rs.label] = calls.get(rs.label, 0) + 1
            return inner(X, stats)
        rs.forward = counting
    sim.step(3)
    assert calls[ACC] == 4 * calls[BIG] and calls[BIG] == calls[SMALL] == 3


def test_the_same_line_down_to_rounding():
    """gradient-accumulation: "'batch 32' and '4x8 accumulated' draw the same line.";
    "At this lr every loss, gradient norm and weight agrees down to rounding error
    (about 15 digits)"; "At the mission's lr, 'batch 32' and '4x8 accumulated'
    produced the same numbers, down to floating-point rounding."; "Divide each
    micro-batch loss by 4, let the gradients add up, and the summed gradient is
    *exactly* the big batch's gradient." """
    _, _, grads = stepped()
    big, acc = run(BIG), run(ACC)
    assert big.config.lr == 0.1
    for name in ("loss", "grad_norm"):
        a, b = after_updates(acc, name), after_updates(big, name)
        assert len(a) == 151
        np.testing.assert_allclose(a, b, rtol=1e-14)
    np.testing.assert_array_equal(after_updates(acc, "accuracy"), after_updates(big, "accuracy"))
    wa, wb = flat(p.data for p in acc.params), flat(p.data for p in big.params)
    assert np.max(np.abs(wa - wb)) < 1e-14 * np.max(np.abs(wb))
    scale = np.max(np.abs(grads[BIG]), axis=1, keepdims=True)
    assert np.max(np.abs(grads[ACC] - grads[BIG]) / scale) < 1e-13  # every update's gradient


def test_near_the_top_of_the_lr_knob_the_lines_part():
    """gradient-accumulation: "near the top of the lr knob (1.0) training turns
    chaotic, those last-digit differences grow, and the lines part."; "And near the
    top of the lr knob the training is chaotic: the two runs' last-digit differences
    grow until their lines part." """
    sim = at_lr(1.0)
    assert load_scenario(MISSION).spec.knobs.lr.max == 1.0
    a, b = (losses_after_updates(run_of(sim, k)) for k in (ACC, BIG))
    gap = np.abs(a - b) / np.abs(b)
    assert gap[:10].max() < 1e-13  # the same at first, down to the last digits
    assert gap.max() > 0.1  # parted by the end
    assert np.max(np.abs(np.diff(np.log10(gap[gap > 0][:60])))) < 6  # grown, not a jump


def test_batch_8_is_noisier():
    """gradient-accumulation: "'batch 8' follows a different, noisier path: it updates
    after every 8 examples, with a gradient estimate about four times noisier in
    variance." (the batches are drawn without replacement from 256 examples, so the
    ratio is 4·(256 − 8)/(256 − 32) ≈ 4.4)"""
    small, big = run(SMALL), run(BIG)
    assert small.batch_size == 8 and small.config.accumulate == 1
    jumps = np.std(np.diff(losses_after_updates(small))), np.std(np.diff(
        losses_after_updates(big)))
    assert jumps[0] > 2 * jumps[1]  # a noisier readout
    # per-example gradients at the start, with the engine
    sim = Simulation(load_scenario(MISSION))
    rs = run_of(sim, BIG)
    X, y = rs.problem.data["X"], rs.problem.data["y"]
    per = []
    for i in range(len(X)):
        for p in rs.params:
            p.grad = None
        rs.criterion(rs.forward(X[i:i + 1]), y[i:i + 1]).backward()
        per.append(flat(p.grad for p in rs.params))
    per = np.array(per)
    n = len(per)
    sigma2 = np.sum(np.var(per, axis=0))

    def var_of_mean(b):  # without replacement, as an epoch's shuffle draws them
        return sigma2 / b * (n - b) / (n - 1)

    ratio = var_of_mean(8) / var_of_mean(32)
    assert ratio == pytest.approx(4 * (n - 8) / (n - 32)) and 3.9 < ratio < 4.6
    rng = np.random.default_rng(0)  # and drawn: 400 batches of each size
    spread = [np.sum(np.var([per[rng.permutation(n)[:b]].mean(0) for _ in range(400)], axis=0))
              for b in (8, 32)]
    assert spread[0] / spread[1] == pytest.approx(ratio, rel=0.2)


def test_batch_size_sets_the_noise_and_the_updates_per_epoch():
    """gradient-accumulation: "And the 'batch 8' run reminds you that the batch size is
    part of the recipe: change it and you change the noise, the number of updates per
    epoch, and often the best learning rate (Goyal et al. 2017; Shallue et al.
    2019)." """
    small, big = run(SMALL), run(BIG)
    assert 256 // small.batch_size == 32 and 256 // big.batch_size == 8
    assert big.epoch == 150 * 32 // 256 and small.epoch == 150 * 8 // 256
    assert np.std(np.diff(losses_after_updates(small))) > 2 * np.std(
        np.diff(losses_after_updates(big)))
    sources = " ".join(load_scenario(MISSION).spec.sources)
    assert "Goyal" in sources and "Shallue" in sources


def _mlp():
    rng = np.random.default_rng(5)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    for p in model.parameters():
        p.data[...] = rng.normal(scale=0.5, size=p.data.shape)
    return model


RNG = np.random.default_rng(11)
X32, Y32 = RNG.normal(size=(32, 2)), (RNG.random((32, 1)) > 0.5).astype(float)


def _g(model):
    return flat(p.grad for p in model.parameters())


def _mse(model, x, y):
    return ((model(Tensor(x)) - Tensor(y)) ** 2).mean()


def _accumulated(scale: float, clear_each: bool = False) -> np.ndarray:
    model = _mlp()
    for i in range(4):
        if clear_each:
            for p in model.parameters():
                p.grad = None
        (_mse(model, X32[8 * i:8 * i + 8], Y32[8 * i:8 * i + 8]) * scale).backward()
    return _g(model)


def _whole() -> np.ndarray:
    model = _mlp()
    _mse(model, X32, Y32).backward()
    return _g(model)


def _micro(i: int) -> np.ndarray:
    model = _mlp()
    _mse(model, X32[8 * i:8 * i + 8], Y32[8 * i:8 * i + 8]).backward()
    return _g(model)


def test_the_mean_of_four_means():
    """gradient-accumulation: "The mean over 32 examples is the average of four means
    over 8 examples each (this needs the four micro-batches to be the same size)."; "∇
    mean(32 examples) = ¼ · (∇ mean(8) + ∇ mean(8) + ∇ mean(8) + ∇ mean(8))" """
    v = np.random.default_rng(2).normal(size=32)
    assert np.mean([p.mean() for p in np.split(v, 4)]) == pytest.approx(v.mean(), abs=1e-15)
    u = np.random.default_rng(3).normal(size=30)  # 8, 8, 8 and 6: not the same size
    assert abs(np.mean([p.mean() for p in np.split(u, [8, 16, 24])]) - u.mean()) > 1e-3
    np.testing.assert_allclose(_whole(), 0.25 * sum(_micro(i) for i in range(4)), rtol=1e-12)


def test_backward_adds_up_the_scaled_micro_batches():
    """gradient-accumulation: "loss = loss_fn(model(micro_x), micro_y) / 4 # scale so
    the sum is the mean"; "loss.backward()                   # adds 1/4 of the mean
    gradient of 8"; "optimizer.step()                      # one update with the
    gradient of all 32"; "Because backward() adds into .grad, four scaled backward
    passes leave exactly the gradient of the mean over all 32 examples." """
    model = _mlp()
    seen = np.zeros_like(_whole())
    for i in range(4):
        (_mse(model, X32[8 * i:8 * i + 8], Y32[8 * i:8 * i + 8]) / 4).backward()
        np.testing.assert_allclose(_g(model) - seen, _micro(i) / 4, rtol=1e-10, atol=1e-15)
        seen = _g(model).copy()
    np.testing.assert_allclose(seen, _whole(), rtol=1e-12)
    one, big = _mlp(), _mlp()
    optim.SGD(one.parameters(), lr=0.1)
    for i in range(4):
        (_mse(one, X32[8 * i:8 * i + 8], Y32[8 * i:8 * i + 8]) / 4).backward()
    optim.SGD(one.parameters(), lr=0.1).step()
    _mse(big, X32, Y32).backward()
    optim.SGD(big.parameters(), lr=0.1).step()
    np.testing.assert_allclose(flat(p.data for p in one.parameters()),
                               flat(p.data for p in big.parameters()), rtol=1e-12)


def test_forgetting_the_quarter_is_four_times_too_big():
    """gradient-accumulation: "If you forgot the '/ 4', the summed gradient would be 4
    times too large."; "Without the 1/4 the accumulated gradient is four times too
    big."; "**Scale each micro-batch loss by 1/4** (1/number of micro-batches), or the
    sum is four times the mean gradient." """
    np.testing.assert_allclose(_accumulated(1.0), 4 * _whole(), rtol=1e-12)
    np.testing.assert_allclose(_accumulated(0.25), _whole(), rtol=1e-12)


def test_clearing_each_micro_batch_keeps_a_quarter():
    """gradient-accumulation: "Clearing before every micro-batch would throw away three
    quarters of the gradient."; "Never clearing is the forgotten-zero_grad bug." """
    kept = _accumulated(0.25, clear_each=True)
    np.testing.assert_allclose(kept, _micro(3) / 4, rtol=1e-12)  # the last quarter only
    thrown = _whole() - kept
    np.testing.assert_allclose(thrown, sum(_micro(i) for i in range(3)) / 4, rtol=1e-9,
                               atol=1e-15)
    # never clearing: the next update's gradient still holds this one's
    model = _mlp()
    for _ in range(2):
        for i in range(4):
            (_mse(model, X32[8 * i:8 * i + 8], Y32[8 * i:8 * i + 8]) / 4).backward()
    np.testing.assert_allclose(_g(model), 2 * _whole(), rtol=1e-12)
    forgot = load_scenario(SCENARIOS / "forgot-zero-grad.toml").spec
    assert any(r.forget_zero_grad for r in forgot.runs)


def _path(make, scale, steps=20):
    g = np.array([0.3, -1.2, 0.05])
    p = Tensor(np.array([1.0, 2.0, -0.5]), requires_grad=True)
    opt = make([p])
    for t in range(steps):
        p.grad = scale * g * (1 + 0.1 * t)
        opt.step()
    return p.data.copy()


def test_a_4x_gradient_is_a_4x_learning_rate_for_sgd_not_for_adam():
    """gradient-accumulation: "SGD's step is `lr × gradient` (momentum's velocity is a
    weighted sum of gradients), so a 4x gradient is exactly a 4x learning rate."; "For
    SGD (with or without momentum) that is exactly a secret 4x learning rate; Adam,
    which divides by the gradient's own scale, is almost unaffected."; "Adam divides
    the step by the root of the gradient's own running square, so a 4x gradient
    changes its steps only through the tiny `eps`: it barely notices." """
    for mom in (0.0, 0.9):
        four_g = _path(lambda ps, m=mom: optim.SGD(ps, lr=0.1, momentum=m), 4.0)
        four_lr = _path(lambda ps, m=mom: optim.SGD(ps, lr=0.4, momentum=m), 1.0)
        np.testing.assert_allclose(four_g, four_lr, rtol=1e-12)
    # the velocity is the sum of past gradients weighted by powers of the momentum
    p = Tensor(np.zeros(1), requires_grad=True)
    opt = optim.SGD([p], lr=1.0, momentum=0.9)
    gs = np.array([1.0, -2.0, 0.5, 3.0])
    for g in gs:
        p.grad = np.array([g])
        opt.step()
    v = sum(0.9 ** (len(gs) - 1 - s) * gs[s] for s in range(len(gs)))
    assert float(opt.state[p]["momentum_buffer"][0]) == pytest.approx(v, rel=1e-12)
    # Adam: with eps = 0 a 4x gradient changes nothing at all; with the default eps, barely
    exact = [_path(lambda ps: optim.Adam(ps, lr=0.1, eps=0.0), s) for s in (1.0, 4.0)]
    np.testing.assert_allclose(exact[0], exact[1], rtol=1e-12)
    near = [_path(lambda ps: optim.Adam(ps, lr=0.1), s) for s in (1.0, 4.0)]
    start = np.array([1.0, 2.0, -0.5])
    rel = np.abs(near[1] - near[0]) / np.abs(near[0] - start)
    assert rel.max() < 1e-5


def test_batch_norm_is_not_equivalent():
    """gradient-accumulation: "Fine print for real networks: layers that compute
    statistics *across the batch* (batch normalisation) see 8 examples at a time and
    are *not* exactly equivalent." """
    rng = np.random.default_rng(4)
    x, t, w = rng.normal(size=(32, 3)) * [1, 3, 0.5] + [2, -1, 0], rng.normal(size=32), \
        rng.normal(size=3)

    def grad(xb, tb, norm):
        h = (xb - xb.mean(0)) / np.sqrt(xb.var(0) + 1e-5) if norm else xb
        return 2 / len(xb) * h.T @ (h @ w - tb)

    for norm, same in ((False, True), (True, False)):
        whole = grad(x, t, norm)
        acc = sum(grad(x[8 * i:8 * i + 8], t[8 * i:8 * i + 8], norm) for i in range(4)) / 4
        assert np.allclose(acc, whole, rtol=1e-12) == same


def test_four_small_passes_take_longer_than_one_big():
    """gradient-accumulation: "The price is time: four small passes are slower than one
    big one would be."; "The maths is the same (except for batch-statistics layers such
    as batch norm), but four sequential passes take longer than one parallel pass." """
    rs = run_of(Simulation(load_scenario(MISSION)), BIG)
    X, y = rs.problem.data["X"][:32], rs.problem.data["y"][:32]

    def one():
        rs.criterion(rs.forward(X), y).backward()

    def four():
        for i in range(4):
            (rs.criterion(rs.forward(X[8 * i:8 * i + 8]), y[8 * i:8 * i + 8]) / 4).backward()

    def best(f):
        times = []
        for _ in range(25):
            t = time.perf_counter()
            f()
            times.append(time.perf_counter() - t)
        return min(times)

    assert best(four) > 1.5 * best(one)
