"""Parity with torch.optim: 200-step float64 trajectories must agree to 1e-9 relative.

Both sides compute the same non-quadratic losses (a 4-D Rosenbrock-like
valley and a tiny 2-4-1 tanh MLP) through their own autograd, from identical
starting weights; any difference in an update rule (eps placement, bias
correction, first momentum step, decay coupling, ...) compounds over 200
steps far beyond the tolerance.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from descent_tui.engine import Tensor, optim

STEPS = 200
RTOL = 1e-9
ATOL = 1e-12

rng = np.random.default_rng(1234)
X_MLP = rng.normal(size=(8, 2))
Y_MLP = np.sin(X_MLP[:, :1]) + 0.5 * X_MLP[:, 1:] ** 2
MLP_INIT = [
    rng.normal(size=(4, 2)) * 0.8,
    rng.normal(size=(4,)) * 0.1,
    rng.normal(size=(1, 4)) * 0.8,
    rng.normal(size=(1,)) * 0.1,
]
ROSEN_INIT = [np.array([-1.2, 1.0, -0.5, 0.8]), np.array([[0.3, -0.7]])]


def rosen(params, lib):
    x, y = params
    a = (1 - x[:-1]) ** 2
    b = (x[1:] - x[:-1] ** 2) ** 2
    c = (y - 0.5) ** 2 * (y * y + 1.0)
    return a.sum() + b.sum() * 5.0 + c.sum()


def mlp(params, lib):
    w1, b1, w2, b2 = params
    if lib == "torch":
        x, y = torch.tensor(X_MLP), torch.tensor(Y_MLP)
    else:
        x, y = Tensor(X_MLP), Tensor(Y_MLP)
    h = (x @ w1.T + b1).tanh()
    out = h @ w2.T + b2
    return ((out - y) ** 2).mean()


PROBLEMS = {"rosen": (rosen, ROSEN_INIT), "mlp": (mlp, MLP_INIT)}


def make_params(init, lib):
    if lib == "torch":
        return [torch.tensor(a.copy(), dtype=torch.float64, requires_grad=True) for a in init]
    return [Tensor(a.copy(), requires_grad=True) for a in init]


def groups(params, group_lrs):
    if group_lrs is None:
        return params
    return [{"params": params[:1], "lr": group_lrs[0]}, {"params": params[1:]}]


def run(problem, opt_name, kwargs, lib, sched=None, group_lrs=None, drop_grad=False):
    fn, init = PROBLEMS[problem]
    params = make_params(init, lib)
    mod = torch.optim if lib == "torch" else optim
    opt = getattr(mod, opt_name)(groups(params, group_lrs), **kwargs)
    scheduler = sched(mod.lr_scheduler, opt) if sched is not None else None
    traj, lrs = [], []
    for t in range(STEPS):
        opt.zero_grad()
        loss = fn(params, lib)
        loss.backward()
        if drop_grad and t % 3 == 1:  # the 2nd parameter gets no gradient this step
            params[1].grad = None
        opt.step()
        if scheduler is not None:
            if isinstance(scheduler, mod.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(loss.item())
            else:
                scheduler.step()
            lrs.append(list(scheduler.get_last_lr()))
        traj.append(np.concatenate([
            (p.detach().numpy() if lib == "torch" else p.data).ravel().copy() for p in params
        ]))
    return np.array(traj), np.array(lrs, dtype=float)


def assert_parity(*args, **kwargs):
    ours, our_lrs = run(*args, "engine", **kwargs)
    ref, ref_lrs = run(*args, "torch", **kwargs)
    # the trajectory must actually move, or agreement would prove nothing
    assert np.max(np.abs(ref[-1] - ref[0])) > 1e-3
    np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(our_lrs, ref_lrs, rtol=1e-12, atol=0)


OPT_CASES = [
    ("SGD", {"lr": 1e-3}),
    ("SGD", {"lr": 1e-3, "momentum": 0.9}),
    ("SGD", {"lr": 1e-3, "momentum": 0.9, "dampening": 0.5}),
    ("SGD", {"lr": 1e-3, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 1e-3, "weight_decay": 0.1}),
    ("SGD", {"lr": 1e-3, "momentum": 0.8, "dampening": 0.1, "weight_decay": 0.05}),
    ("SGD", {"lr": 1e-3, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 1e-3}),
    ("RMSprop", {"lr": 1e-3, "alpha": 0.95}),
    ("RMSprop", {"lr": 2e-3, "alpha": 0.9, "eps": 1e-2}),
    ("RMSprop", {"lr": 1e-3, "momentum": 0.5}),
    ("RMSprop", {"lr": 1e-3, "centered": True}),
    ("RMSprop", {"lr": 1e-3, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 1e-3, "eps": 1e-2, "weight_decay": 0.2}),
    ("Adagrad", {"lr": 0.05}),
    ("Adagrad", {"lr": 0.05, "lr_decay": 0.01}),
    ("Adagrad", {"lr": 0.05, "initial_accumulator_value": 0.5}),
    ("Adagrad", {"lr": 0.05, "weight_decay": 0.1, "eps": 1e-3}),
    ("Adagrad", {"lr": 0.05, "lr_decay": 0.05, "initial_accumulator_value": 0.1,
                 "weight_decay": 0.05}),
    ("Adam", {"lr": 1e-2}),
    ("Adam", {"lr": 1e-2, "betas": (0.8, 0.99), "eps": 1e-3}),
    ("Adam", {"lr": 1e-2, "amsgrad": True}),
    ("Adam", {"lr": 1e-2, "weight_decay": 0.1}),
    ("Adam", {"lr": 1e-2, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 1e-2}),
    ("AdamW", {"lr": 1e-2, "weight_decay": 0.3}),
    ("AdamW", {"lr": 1e-2, "weight_decay": 0.3, "amsgrad": True, "betas": (0.7, 0.95)}),
]


def _id(case):
    name, kw = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in kw.items())


@pytest.mark.parametrize("problem", ["rosen", "mlp"])
@pytest.mark.parametrize("case", OPT_CASES, ids=[_id(c) for c in OPT_CASES])
def test_optimizer_parity(case, problem):
    name, kwargs = case
    assert_parity(problem, name, kwargs)


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adagrad", "Adam", "AdamW"])
def test_param_groups_and_missing_grads_parity(name):
    kwargs = {"lr": 2e-3, "momentum": 0.9} if name in ("SGD", "RMSprop") else {"lr": 2e-2}
    assert_parity("mlp", name, kwargs, group_lrs=(kwargs["lr"] * 0.5, None), drop_grad=True)


def _seq(s, o):
    return s.SequentialLR(
        o, [s.LinearLR(o, start_factor=0.1, total_iters=20), s.CosineAnnealingLR(o, T_max=60)],
        milestones=[25],
    )


SCHED_CASES = {
    "StepLR": lambda s, o: s.StepLR(o, step_size=30, gamma=0.5),
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, milestones=[40, 90, 90, 150], gamma=0.5),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, gamma=0.99),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, T_max=50, eta_min=1e-4),
    "LinearLR": lambda s, o: s.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=40),
    "LambdaLR": lambda s, o: s.LambdaLR(o, lambda e: 1.0 / (1.0 + 0.05 * e)),
    "LambdaLR-per-group": lambda s, o: s.LambdaLR(
        o, [lambda e: 0.99**e, lambda e: math.cos(e / 100.0) ** 2]),
    "SequentialLR": _seq,
    "ReduceLROnPlateau": lambda s, o: s.ReduceLROnPlateau(
        o, factor=0.5, patience=3, threshold=5e-3, cooldown=2, min_lr=1e-4),
    "ReduceLROnPlateau-abs": lambda s, o: s.ReduceLROnPlateau(
        o, factor=0.7, patience=2, threshold=1e-3, threshold_mode="abs", min_lr=[2e-4, 1e-4]),
}


@pytest.mark.parametrize("name", list(SCHED_CASES))
def test_scheduler_parity(name):
    assert_parity("mlp", "SGD", {"lr": 0.1, "momentum": 0.5}, sched=SCHED_CASES[name],
                  group_lrs=(0.05, None))
