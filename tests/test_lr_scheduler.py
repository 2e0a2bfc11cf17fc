"""Learning-rate schedulers against hand-computed tables (PyTorch semantics)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from descent_tui.engine import Tensor, optim
from descent_tui.engine.optim import lr_scheduler as S

C1 = (2 + math.sqrt(2)) / 4  # (1 + cos(π/4)) / 2
C3 = (2 - math.sqrt(2)) / 4  # (1 + cos(3π/4)) / 2


def make_opt(lr=1.0, groups=1):
    ps = [Tensor([1.0], requires_grad=True) for _ in range(groups)]
    return optim.SGD([{"params": [p]} for p in ps], lr=lr)


def trace(sched, n):
    """lr after construction, then after each of n steps (with an optimizer step first)."""
    out = [sched.get_last_lr()[0]]
    for _ in range(n):
        sched.optimizer.step()
        sched.step()
        out.append(sched.get_last_lr()[0])
    return out


@pytest.mark.parametrize(
    "make,expected",
    [
        (lambda o: S.StepLR(o, step_size=3, gamma=0.5), [1, 1, 1, .5, .5, .5, .25, .25]),
        (lambda o: S.MultiStepLR(o, milestones=[2, 5, 5], gamma=0.1),
         [1, 1, .1, .1, .1, .001, .001, .001]),
        (lambda o: S.ExponentialLR(o, gamma=0.5), [1, .5, .25, .125, .0625]),
        (lambda o: S.CosineAnnealingLR(o, T_max=4), [1, C1, .5, C3, 0, C3, .5, C1, 1, C1]),
        (lambda o: S.CosineAnnealingLR(o, T_max=4, eta_min=0.2),
         [1, .2 + .8 * C1, .6, .2 + .8 * C3, .2, .2 + .8 * C3, .6]),
        (lambda o: S.LinearLR(o, start_factor=0.25, total_iters=3), [.25, .5, .75, 1, 1, 1]),
        (lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.5, total_iters=2),
         [1, .75, .5, .5]),
        (lambda o: S.LambdaLR(o, lambda e: 0.9**e), [1, .9, .81, .729]),
        (lambda o: S.SequentialLR(
            o, [S.LinearLR(o, start_factor=0.5, total_iters=2), S.ExponentialLR(o, gamma=0.5)],
            milestones=[3]),
         [.5, .75, 1, 1, .5, .25]),
    ],
    ids=["step", "multistep", "exp", "cosine", "cosine-eta", "linear", "linear-down", "lambda",
         "sequential"],
)
def test_schedule_tables(make, expected):
    opt = make_opt()
    sched = make(opt)
    assert sched.last_epoch == 0
    got = trace(sched, len(expected) - 1)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert opt.param_groups[0]["lr"] == pytest.approx(expected[-1], abs=1e-15)
    assert opt.param_groups[0]["initial_lr"] == 1.0


def test_cosine_recursive_matches_closed_form_over_200_steps():
    opt = make_opt(lr=0.3)
    sched = S.CosineAnnealingLR(opt, T_max=37, eta_min=0.01)
    got = trace(sched, 200)
    t = np.arange(201)
    closed = 0.01 + (0.3 - 0.01) * (1 + np.cos(np.pi * t / 37)) / 2
    np.testing.assert_allclose(got, closed, rtol=1e-9, atol=1e-12)


def test_epoch_argument_uses_closed_form():
    opt = make_opt()
    sched = S.StepLR(opt, step_size=2, gamma=0.1)
    sched.step(5)
    assert sched.get_last_lr()[0] == pytest.approx(0.01)


def test_lambda_per_group_and_base_lrs():
    opt = make_opt(groups=2)
    opt.param_groups[1]["lr"] = 2.0
    sched = S.LambdaLR(opt, [lambda e: 1.0 / (e + 1), lambda e: 0.5**e])
    assert sched.base_lrs == [1.0, 2.0]
    opt.step()
    sched.step()
    opt.step()
    sched.step()
    assert sched.get_last_lr() == pytest.approx([1 / 3, 0.5])
    with pytest.raises(ValueError):
        S.LambdaLR(opt, [lambda e: 1.0])


def test_schedulers_compose_recursively():
    # two schedulers on one optimizer multiply their effects (recursive updates)
    opt = make_opt()
    a = S.ExponentialLR(opt, gamma=0.5)
    b = S.StepLR(opt, step_size=2, gamma=0.1)
    lrs = []
    for _ in range(4):
        opt.step()
        a.step()
        b.step()
        lrs.append(opt.param_groups[0]["lr"])
    np.testing.assert_allclose(lrs, [0.5, 0.025, 0.0125, 0.000625], rtol=1e-12)


def test_reduce_on_plateau_patience_and_cooldown():
    opt = make_opt()
    sched = S.ReduceLROnPlateau(opt, factor=0.5, patience=2, threshold=0.0, cooldown=1)
    metrics = [10, 9, 9, 9, 9, 9, 9, 8, 8, 8, 8]
    lrs = []
    for m in metrics:
        opt.step()
        sched.step(m)
        lrs.append(sched.get_last_lr()[0])
    assert lrs == [1, 1, 1, 1, .5, .5, .5, .5, .5, .5, .25]


def test_reduce_on_plateau_threshold_modes_max_and_min_lr():
    opt = make_opt()
    # rel: improvement in "min" mode needs metric < best·(1 − 0.1)
    sched = S.ReduceLROnPlateau(opt, factor=0.1, patience=0, threshold=0.1)
    for m in [10.0, 9.5]:  # 9.5 > 9.0 → not an improvement → cut immediately
        sched.step(m)
    assert sched.get_last_lr()[0] == pytest.approx(0.1)
    opt2 = make_opt()
    sched2 = S.ReduceLROnPlateau(opt2, mode="max", factor=0.5, patience=0, threshold=0.5,
                                 threshold_mode="abs", min_lr=0.3)
    for m in [1.0, 1.6, 2.0, 2.2, 2.3]:
        # 1.6 > 1.5 improves; 2.0 < 2.1 no → 0.5; 2.2 > 2.1 improves; 2.3 no → max(.25,.3)
        sched2.step(Tensor(m))
    assert sched2.get_last_lr()[0] == pytest.approx(0.3)
    sched2.step(0.0)  # lr − max(lr·factor, min_lr) = 0 ≤ eps: unchanged
    assert sched2.get_last_lr()[0] == pytest.approx(0.3)


def test_reduce_on_plateau_eps_blocks_tiny_changes():
    opt = make_opt(lr=1e-8)
    sched = S.ReduceLROnPlateau(opt, factor=0.5, patience=0, eps=1e-8)
    sched.step(1.0)
    sched.step(2.0)
    assert opt.param_groups[0]["lr"] == 1e-8


@pytest.mark.parametrize(
    "make",
    [
        lambda o: S.ReduceLROnPlateau(o, factor=1.0),
        lambda o: S.ReduceLROnPlateau(o, mode="sideways"),
        lambda o: S.ReduceLROnPlateau(o, threshold_mode="pct"),
        lambda o: S.LinearLR(o, start_factor=0.0),
        lambda o: S.SequentialLR(o, [S.StepLR(o, 2)], milestones=[3]),
    ],
)
def test_invalid_scheduler_arguments(make):
    with pytest.raises(ValueError):
        make(make_opt())


def test_scheduler_requires_optimizer():
    with pytest.raises(TypeError):
        S.StepLR(object(), step_size=1)
