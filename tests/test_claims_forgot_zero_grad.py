"""Lesson tests for the claims of forgot-zero-grad, sentence by sentence.

Each docstring names the mission and quotes the sentences it guards (see
``tests/_claims.py``). The mission is run once, update by update; before each
update of the two buggy crews the test keeps the parameters, the gradient pile
the update will use, and the gradient of the batch alone (computed beside the
run with the engine), so "the pile is the sum of every gradient since the start"
is checked on the run itself. Facts about ``backward`` and ``zero_grad`` are
checked with the engine (and PyTorch for the sentence about PyTorch).
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
from pathlib import Path

import numpy as np
import pytest
from _lessons import after_updates, losses_after_updates

from descent_tui.engine import Tensor, nn, optim
from descent_tui.scenario import load_scenario
from descent_tui.sim import Simulation

MISSION = Path(__file__).resolve().parents[1] / "scenarios" / "forgot-zero-grad.toml"
GOOD, FORGOT, LAZY = "correct loop", "forgot zero_grad", "forgot, no momentum"
WATCHED = (FORGOT, LAZY)


def flat(arrays) -> np.ndarray:
    return np.concatenate([np.asarray(a, float).reshape(-1) for a in arrays])


def fresh_gradient(rs) -> np.ndarray:
    """The gradient of the pending batch alone at the run's weights (the pile is put back)."""
    pile = [p.grad for p in rs.params]
    for p in rs.params:
        p.grad = None
    (Xb, yb), = rs.next_batch()
    rs.criterion(rs.forward(Xb), yb).backward()
    g = flat(p.grad for p in rs.params)
    for p, old in zip(rs.params, pile, strict=True):
        p.grad = old
    return g


@functools.cache
def stepped():
    """The mission run update by update; for each buggy crew, per update: the
    parameters before it, the pile it uses, and the batch's own gradient."""
    sim = Simulation(load_scenario(MISSION))
    rec = {k: {"theta": [], "pile": [], "fresh": []} for k in WATCHED}
    for _ in range(sim.total_steps):
        for label in WATCHED:
            rs = run_of(sim, label)
            if rs.diverged:
                continue
            rec[label]["theta"].append(flat(p.data for p in rs.params))
            rec[label]["pile"].append(flat(p.grad for p in rs.params))
            rec[label]["fresh"].append(fresh_gradient(rs))
        sim.step(1)
    for label in WATCHED:
        rec[label]["theta"].append(flat(p.data for p in run_of(sim, label).params))
    return sim, {k: {n: np.array(v) for n, v in d.items()} for k, d in rec.items()}


def run_of(sim, label):
    return next(r for r in sim.runs if r.label == label)


def run(label):
    return run_of(stepped()[0], label)


def test_measuring_beside_the_run_does_not_change_it():
    """The instrumented run (a gradient computed beside each update) is the mission's run."""
    plain = Simulation(load_scenario(MISSION))
    plain.step(plain.total_steps)
    for label in (GOOD, FORGOT, LAZY):
        np.testing.assert_allclose(losses_after_updates(run_of(plain, label)),
                                   losses_after_updates(run(label)), rtol=1e-12)


def test_the_task_and_the_three_crews():
    """forgot-zero-grad: "The task: fit the oxygen cycle (a noisy sine wave, 128
    readings) with a `1 → 16 → 16 → 1` tanh network, mini-batches of 32."; "**correct
    loop**: SGD with momentum 0.9, `lr = 0.01`"; "**forgot zero_grad**: the same
    script with step 1 deleted"; "**forgot, no momentum**: step 1 deleted, plain SGD
    (`momentum = 0`)" """
    sim = stepped()[0]
    net = sim.spec.network
    assert net.data.kind == "sine" and net.data.noise > 0 and net.data.n == 128
    assert net.model.activation == "tanh"
    good, forgot, lazy = run(GOOD), run(FORGOT), run(LAZY)
    for rs in (good, forgot, lazy):
        assert [lin.weight.data.shape for lin in rs.linears] == [(16, 1), (16, 16), (1, 16)]
        assert rs.batch_size == 32 and len(rs.problem.data["X"]) == 128
        assert rs.config.lr == 0.01
    assert good.config.momentum == 0.9 and not good.config.forget_zero_grad
    same = {f: getattr(good.config, f) for f in ("optimizer", "lr", "momentum")}
    assert {f: getattr(forgot.config, f) for f in same} == same
    assert forgot.config.forget_zero_grad
    assert lazy.config.forget_zero_grad and lazy.config.optimizer == "sgd"
    assert lazy.config.momentum == 0


def test_the_update_uses_the_running_sum_of_every_gradient():
    """forgot-zero-grad: "So if step 1 goes missing, batch 10's update uses the
    gradients of batches 1 through 10 added together, and batch 100's uses a hundred
    of them."; "It uses the **running sum of every gradient since the start**." """
    _, rec = stepped()
    for label in WATCHED:
        pile, fresh = rec[label]["pile"], rec[label]["fresh"]
        assert len(pile) >= 40
        total = np.cumsum(fresh, axis=0)  # batch t's pile: gradients 1..t added
        np.testing.assert_allclose(pile, total, rtol=1e-8, atol=1e-10)
    assert len(rec[LAZY]["pile"]) == 200  # batch 100's update holds a hundred of them
    lr = run(LAZY).config.lr
    moves = np.diff(rec[LAZY]["theta"], axis=0)
    np.testing.assert_allclose(moves, -lr * rec[LAZY]["pile"], rtol=1e-9, atol=1e-14)


def test_plain_sgd_pile_is_momentum_that_never_decays():
    """forgot-zero-grad: "With **plain SGD** the pile acts like a momentum term that
    *never decays* (a heavy ball with no friction)." """
    _, rec = stepped()
    lr = run(LAZY).config.lr
    v = -np.diff(rec[LAZY]["theta"], axis=0) / lr  # the velocity of each update
    # heavy ball: v_t = β·v_(t-1) + g_t with β = 1 (no friction)
    np.testing.assert_allclose(v[1:], 1.0 * v[:-1] + rec[LAZY]["fresh"][1:],
                               rtol=1e-6, atol=1e-9)
    # the engine's momentum SGD with β = 1 and zero_grad is the same loop
    a, b = _engine_pair(forget=True, momentum=0.0), _engine_pair(forget=False, momentum=1.0)
    np.testing.assert_allclose(a, b, rtol=1e-10)


def _engine_pair(forget: bool, momentum: float, steps: int = 15) -> np.ndarray:
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(steps, 8, 2)), rng.normal(size=(steps, 8, 1))
    model = nn.Linear(2, 1)
    w0 = np.array([[0.3, -0.2]])
    model.weight.data[...] = w0
    model.bias.data[...] = 0.1
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=momentum)
    for t in range(steps):
        if not forget:
            opt.zero_grad()
        ((model(Tensor(X[t])) - Tensor(y[t])) ** 2).mean().backward()
        opt.step()
    return np.concatenate([model.weight.data.ravel(), model.bias.data.ravel()])


def test_lazy_crew_never_blows_up_and_never_settles():
    """forgot-zero-grad: "'forgot, no momentum' doesn't blow up at this lr (0.01), not
    even in 600 steps, but it never settles either."; "The run keeps swinging past
    the answer and never comes to rest." (at the knob's lr = 0.2 it does blow up)"""
    _, rec = stepped()
    lazy, good = run(LAZY), run(GOOD)
    loss = losses_after_updates(lazy)
    assert not lazy.diverged and len(loss) == 201
    tail = loss[-50:]
    assert tail.max() > 5 * tail.min() and tail.min() > 5 * losses_after_updates(good)[-1]
    peaks = np.sum((tail[1:-1] > tail[:-2]) & (tail[1:-1] > tail[2:]))
    assert peaks >= 8  # up and down, again and again
    speed = np.linalg.norm(np.diff(rec[LAZY]["theta"], axis=0), axis=1)
    assert speed[-50:].min() > 0.5 * speed[:50].max()  # the ball does not slow down
    longer = Simulation(load_scenario(MISSION), {"steps": 600})
    longer.step(longer.total_steps)
    long_run = run_of(longer, LAZY)
    assert not long_run.diverged
    assert losses_after_updates(long_run)[-100:].min() > 0.1
    assert long_run.config.lr == 0.01
    fast = Simulation(load_scenario(MISSION), {"lr": 0.2})
    fast.step(fast.total_steps)
    assert run_of(fast, LAZY).diverged  # hence "at this lr"


def test_momentum_crew_takes_off_well_before_step_100():
    """forgot-zero-grad: "Then the loss takes off and, at this lr, the alarm trips well
    before step 100 (a smaller lr only delays it)." ('forgot zero_grad' looks fine for
    the first few steps)"""
    forgot = run(FORGOT)
    loss = losses_after_updates(forgot)
    assert np.all(loss[1:3] < loss[0])  # fine at first
    assert forgot.diverged and forgot.diverged_at <= 60 and forgot.config.lr == 0.01
    assert loss[-1] > 1e5 * loss[0]
    slow = Simulation(load_scenario(MISSION), {"lr": 0.0005})  # the knob's smallest
    slow.step(slow.total_steps)
    late = run_of(slow, FORGOT)
    assert late.diverged and late.diverged_at > 100  # later, but it still explodes


def test_the_bug_raises_nothing():
    """forgot-zero-grad: "Nothing crashes and no error is raised. The bug shows up only
    in the numbers." """
    sim = stepped()[0]  # 200 steps ran without an exception
    forgot, lazy, good = run(FORGOT), run(LAZY), run(GOOD)
    assert "exceeded" in forgot.reason and "loss" in forgot.reason  # a loss alarm
    assert lazy.reason is None and not lazy.diverged
    assert losses_after_updates(lazy)[-1] > 10 * losses_after_updates(good)[-1]
    assert all(rs.step == sim.total_steps for rs in (lazy, good))


def _linear():
    model = nn.Linear(2, 1)
    model.weight.data[...] = np.array([[0.5, -1.0]])
    model.bias.data[...] = 0.2
    return model


def _loss(model, x, y):
    return ((model(Tensor(x)) - Tensor(y)) ** 2).mean()


XS = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, -0.7], [2.0, 1.0]])
YS = np.array([[1.0], [0.0], [-1.0], [0.5]])


def _grad(model):
    return np.concatenate([model.weight.grad.ravel(), model.bias.grad.ravel()])


def test_backward_adds_into_grad_and_nothing_clears_it():
    """forgot-zero-grad: "loss.backward()              # 3. backward: ADDS into
    .grad"; "Every backward() adds its gradient to the pile and nothing ever clears
    it."; "optimizer.zero_grad()        # 1. wipe last batch's gradients" """
    model = _linear()
    opt = optim.SGD(model.parameters(), lr=0.1)
    _loss(model, XS[:2], YS[:2]).backward()
    g1 = _grad(model).copy()
    opt.step()  # a step does not clear the pile
    np.testing.assert_array_equal(_grad(model), g1)
    _loss(model, XS[2:], YS[2:]).backward()
    pile = _grad(model).copy()
    fresh = _linear()
    fresh.weight.data[...] = model.weight.data
    fresh.bias.data[...] = model.bias.data
    _loss(fresh, XS[2:], YS[2:]).backward()
    np.testing.assert_allclose(pile, g1 + _grad(fresh), rtol=1e-12)  # added, not replaced
    opt.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None  # wiped
    _loss(model, XS[2:], YS[2:]).backward()
    np.testing.assert_allclose(_grad(model), _grad(fresh), rtol=1e-12)


def test_zero_grad_once_before_the_loop_is_as_if_missing():
    """forgot-zero-grad: "Called once before the loop it clears nothing (no gradient
    exists yet), and from the second batch on the gradients pile up exactly as if it
    were missing." """
    runs = []
    for once in (True, False):
        model = _linear()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        assert all(p.grad is None for p in model.parameters())  # nothing to clear
        if once:
            opt.zero_grad()
        for i in range(4):
            _loss(model, XS[i:i + 1], YS[i:i + 1]).backward()
            opt.step()
        runs.append(np.concatenate([model.weight.data.ravel(), model.bias.data.ravel()]))
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-12)


def test_summed_gradients_are_useful_on_purpose():
    """forgot-zero-grad: "That is useful for gradient accumulation and for some
    recurrent networks, and it is exactly why zero_grad() must be called before each
    fresh backward pass." """
    # gradient accumulation: two half-batches' backward, each loss halved, add up to
    # the whole batch's gradient
    whole, parts = _linear(), _linear()
    _loss(whole, XS, YS).backward()
    for sl in (slice(0, 2), slice(2, 4)):
        (_loss(parts, XS[sl], YS[sl]) * 0.5).backward()
    np.testing.assert_allclose(_grad(parts), _grad(whole), rtol=1e-12)
    # a recurrent net reuses one weight at every time step: its gradient is the sum
    w = Tensor(0.7, requires_grad=True)
    h = Tensor(1.0)
    for _ in range(3):
        h = (w * h).tanh()
    h.backward()
    eps, f = 1e-6, lambda v: np.tanh(v * np.tanh(v * np.tanh(v)))
    assert float(w.grad) == pytest.approx((f(0.7 + eps) - f(0.7 - eps)) / (2 * eps), rel=1e-6)
    # and without zero_grad the next batch's gradient lands on top of the last one
    model = _linear()
    _loss(model, XS[:2], YS[:2]).backward()
    _loss(model, XS[:2], YS[:2]).backward()
    one = _linear()
    _loss(one, XS[:2], YS[:2]).backward()
    np.testing.assert_allclose(_grad(model), 2 * _grad(one), rtol=1e-12)


def test_set_to_none_is_the_default():
    """forgot-zero-grad: "(In PyTorch, `zero_grad(set_to_none=True)` is the default: it
    sets each `.grad` to `None` instead of writing zeros, which its documentation says
    saves memory and can modestly improve performance.)" """
    assert inspect.signature(optim.SGD.zero_grad).parameters["set_to_none"].default is True
    model = _linear()
    _loss(model, XS, YS).backward()
    optim.SGD(model.parameters(), lr=0.1).zero_grad(set_to_none=False)
    np.testing.assert_array_equal(model.weight.grad, 0.0)  # the other way: zeros
    # PyTorch's own source (read, not imported: importing torch takes seconds)
    spec = importlib.util.find_spec("torch")
    if spec is None or spec.origin is None:
        pytest.skip("PyTorch is not installed")
    src = (Path(spec.origin).parent / "optim" / "optimizer.py").read_text(encoding="utf-8")
    zero_grad = src[src.index("def zero_grad("):][:2000]
    assert "set_to_none: bool = True" in zero_grad
    assert "lower memory footprint" in zero_grad
    assert "modestly improve performance" in zero_grad


def test_gradient_norms_grow_for_the_buggy_loops():
    """The buggy loops' gradient-norm panel shows the norm of the pile."""
    _, rec = stepped()
    for label in WATCHED:
        gn = after_updates(run(label), "grad_norm")
        n = len(rec[label]["pile"])
        np.testing.assert_allclose(gn[:n], np.linalg.norm(rec[label]["pile"], axis=1),
                                   rtol=1e-9)
