"""Optimizers against closed forms and hand-computed sequences."""

from __future__ import annotations

import numpy as np
import pytest

from descent_tui.engine import Tensor, nn, optim
from descent_tui.engine import functional as F

ALL = [
    (optim.SGD, {"lr": 0.1}),
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1}),
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1}),
    (optim.RMSprop, {"lr": 0.01}),
    (optim.RMSprop, {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    (optim.Adagrad, {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.1}),
    (optim.Adam, {"lr": 0.01}),
    (optim.Adam, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    (optim.AdamW, {"lr": 0.01}),
    (optim.AdamW, {"lr": 0.01, "amsgrad": True}),
]


def quad_step(opt, p, a):
    """Give p the gradient of sum(a * p²/2) at its current value, then step."""
    opt.zero_grad()
    p.grad = a * p.data
    opt.step()


# ---------------------------------------------------------------- SGD
@pytest.mark.parametrize("lr,a", [(0.1, 1.0), (0.05, 3.0), (0.3, 6.0), (0.9, 2.5)])
def test_sgd_on_quadratic_follows_geometric_sequence(lr, a):
    x0 = np.array([1.5, -2.0, 0.25])
    p = Tensor(x0.copy(), requires_grad=True)
    opt = optim.SGD([p], lr=lr)
    for t in range(1, 31):
        loss = (Tensor(a) * p * p).sum() * 0.5
        opt.zero_grad()
        loss.backward()
        opt.step()
        np.testing.assert_allclose(p.data, x0 * (1 - lr * a) ** t, rtol=1e-12, atol=1e-300)


def test_sgd_momentum_first_buffer_is_grad_then_dampened():
    p = Tensor([1.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    quad_step(opt, p, 2.0)  # g1 = 2, buf = 2 (no dampening on the first step)
    assert p.data[0] == pytest.approx(1.0 - 0.1 * 2.0, abs=1e-15)  # 0.8
    quad_step(opt, p, 2.0)  # g2 = 1.6, buf = 0.9*2 + 0.5*1.6 = 2.6
    assert p.data[0] == pytest.approx(0.8 - 0.1 * 2.6, abs=1e-15)  # 0.54
    assert opt.inspect_state(p)["velocity"][0] == pytest.approx(2.6, abs=1e-15)


def test_sgd_nesterov_hand_computed_two_steps():
    # x0=1, f = x², g = 2x, lr=0.1, mu=0.9
    # step 1: g=2, buf=2, g+mu*buf = 3.8, x1 = 1 - 0.38 = 0.62
    # step 2: g=1.24, buf = 1.8 + 1.24 = 3.04, g+mu*buf = 1.24 + 2.736 = 3.976, x2 = 0.2224
    p = Tensor([1.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    quad_step(opt, p, 2.0)
    assert p.data[0] == pytest.approx(0.62, abs=1e-14)
    quad_step(opt, p, 2.0)
    assert p.data[0] == pytest.approx(0.2224, abs=1e-14)
    # plain momentum differs: x1 = 0.8, buf = 1.8+1.6=3.4, x2 = 0.46
    q = Tensor([1.0], requires_grad=True)
    opt2 = optim.SGD([q], lr=0.1, momentum=0.9)
    quad_step(opt2, q, 2.0)
    quad_step(opt2, q, 2.0)
    assert q.data[0] == pytest.approx(0.46, abs=1e-14)


def test_sgd_weight_decay_is_added_to_gradient():
    p = Tensor([2.0, -1.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1, weight_decay=0.5)
    p.grad = np.array([1.0, 1.0])
    opt.step()
    np.testing.assert_allclose(p.data, [2.0 - 0.1 * (1 + 1.0), -1.0 - 0.1 * (1 - 0.5)])


# ---------------------------------------------------------------- Adam
@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW])
def test_adam_first_step_moves_lr_times_sign(cls):
    g = np.array([1e-3, -2.0, 5e2, -7e-2, 3.0])
    p = Tensor(np.zeros(5) + 1.0, requires_grad=True)
    opt = cls([p], lr=0.01, weight_decay=0.0)
    p.grad = g
    opt.step()
    # exact: lr * g / (|g| + eps) ; within eps/|g| of lr * sign(g)
    np.testing.assert_allclose(p.data - 1.0, -0.01 * np.sign(g), rtol=1e-5)
    np.testing.assert_allclose(p.data - 1.0, -0.01 * g / (np.abs(g) + 1e-8), rtol=1e-12)


def test_adam_constant_gradient_bias_correction_is_exact():
    # with a constant gradient, m_hat = g and v_hat = g² at every step
    g = np.array([0.5, -4.0])
    p = Tensor([0.0, 0.0], requires_grad=True)
    opt = optim.Adam([p], lr=0.1, betas=(0.8, 0.9), eps=1e-3)
    for t in range(1, 11):
        p.grad = g
        opt.step()
        np.testing.assert_allclose(p.data, -t * 0.1 * g / (np.abs(g) + 1e-3), rtol=1e-12)
    st = opt.inspect_state(p)
    np.testing.assert_allclose(st["velocity"], g, rtol=1e-12)
    np.testing.assert_allclose(st["sq_avg"], (1 - 0.9**10) * g * g, rtol=1e-12)
    np.testing.assert_allclose(st["step_size"], 0.1 / (np.abs(g) + 1e-3), rtol=1e-12)


def test_weight_decay_coupled_vs_decoupled():
    x0 = np.array([3.0, -0.5])
    lr, wd = 0.1, 0.2
    zero = np.zeros(2)
    # coupled (Adam): the decay is a gradient wd*x, normalised by sqrt(v): moves lr*sign(x)
    p = Tensor(x0.copy(), requires_grad=True)
    opt = optim.Adam([p], lr=lr, weight_decay=wd)
    p.grad = zero
    opt.step()
    np.testing.assert_allclose(p.data, x0 - lr * np.sign(x0), rtol=1e-7)
    # decoupled (AdamW): with zero gradient only the shrink x·(1 − lr·wd) acts
    q = Tensor(x0.copy(), requires_grad=True)
    optw = optim.AdamW([q], lr=lr, weight_decay=wd)
    q.grad = zero
    optw.step()
    np.testing.assert_allclose(q.data, x0 * (1 - lr * wd), rtol=1e-14)
    np.testing.assert_allclose(optw.inspect_state(q)["update"], -lr * wd * x0, rtol=1e-12)
    assert optim.AdamW([Tensor([1.0])]).param_groups[0]["weight_decay"] == 1e-2


# ------------------------------------------------------------- Adagrad
@pytest.mark.parametrize("lr_decay", [0.0, 0.1, 1.0])
def test_adagrad_lr_decay_constant_gradient(lr_decay):
    lr, g, eps = 0.5, 2.0, 1e-10
    p = Tensor([0.0], requires_grad=True)
    opt = optim.Adagrad([p], lr=lr, lr_decay=lr_decay)
    expected = 0.0
    for t in range(1, 8):
        p.grad = np.array([g])
        opt.step()
        # sum of g² after t steps is t·g²; clr = lr / (1 + (t−1)·lr_decay)
        expected -= lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(t * g * g) + eps)
        assert p.data[0] == pytest.approx(expected, rel=1e-13)
    st = opt.inspect_state(p)
    assert st["sq_avg"][0] == pytest.approx(7 * g * g)
    assert st["velocity"] is None


def test_adagrad_initial_accumulator():
    p = Tensor([0.0], requires_grad=True)
    opt = optim.Adagrad([p], lr=1.0, initial_accumulator_value=3.0, eps=0.0)
    p.grad = np.array([1.0])
    opt.step()
    assert p.data[0] == pytest.approx(-1.0 / 2.0)  # sqrt(3 + 1) = 2


# ------------------------------------------------------------- RMSprop
def test_rmsprop_constant_gradient():
    lr, alpha, eps, g = 0.01, 0.9, 1e-8, np.array([3.0, -0.2])
    p = Tensor([0.0, 0.0], requires_grad=True)
    opt = optim.RMSprop([p], lr=lr, alpha=alpha, eps=eps)
    expected = np.zeros(2)
    for t in range(1, 6):
        p.grad = g
        opt.step()
        v = (1 - alpha**t) * g * g  # no bias correction in RMSprop
        expected = expected - lr * g / (np.sqrt(v) + eps)
        np.testing.assert_allclose(p.data, expected, rtol=1e-13)
    st = opt.inspect_state(p)
    np.testing.assert_allclose(st["sq_avg"], (1 - alpha**5) * g * g, rtol=1e-13)
    np.testing.assert_allclose(st["step_size"], lr / (np.sqrt((1 - alpha**5) * g * g) + eps))


def test_rmsprop_centered_uses_variance():
    g = np.array([1.0])
    p = Tensor([0.0], requires_grad=True)
    opt = optim.RMSprop([p], lr=0.1, alpha=0.5, eps=0.1, centered=True)
    p.grad = g
    opt.step()
    # v = 0.5, g_ave = 0.5, v − g_ave² = 0.25, sqrt = 0.5, + eps = 0.6
    assert p.data[0] == pytest.approx(-0.1 / 0.6, rel=1e-14)


# ------------------------------------------------------- common behaviour
@pytest.mark.parametrize("cls,kw", ALL, ids=lambda v: getattr(v, "__name__", str(v)))
def test_grads_are_never_modified_in_place_and_update_is_new_minus_old(cls, kw):
    rng = np.random.default_rng(0)
    p = Tensor(rng.normal(size=(3, 2)), requires_grad=True)
    opt = cls([p], **kw)
    for _ in range(3):
        g = rng.normal(size=(3, 2))
        g_copy = g.copy()
        p.grad = g
        old = p.data.copy()
        opt.step()
        np.testing.assert_array_equal(g, g_copy)
        assert p.grad.base is g  # p's gradient is still g itself
        st = opt.inspect_state(p)
        np.testing.assert_allclose(st["update"], p.data - old, rtol=1e-12, atol=1e-15)
        assert st["step_size"].shape == p.data.shape
        assert np.all(st["step_size"] > 0)
        assert set(st) >= {"velocity", "sq_avg", "step_size", "update", "step"}
    assert st["step"] == 3


@pytest.mark.parametrize("cls,kw", ALL, ids=lambda v: getattr(v, "__name__", str(v)))
def test_params_without_grad_are_skipped(cls, kw):
    p = Tensor([1.0, 2.0], requires_grad=True)
    q = Tensor([3.0], requires_grad=True)
    opt = cls([p, q], **kw)
    p.grad = np.array([0.5, -0.5])
    opt.step()
    assert q.data[0] == 3.0
    assert opt.inspect_state(q)["update"] is None
    assert opt.inspect_state(q)["step"] == 0
    assert not np.array_equal(p.data, [1.0, 2.0])


def test_zero_grad_set_to_none_and_zeros():
    p = Tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    shared = np.array([5.0, 6.0])
    p.grad = shared
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad, [0.0, 0.0])
    np.testing.assert_array_equal(shared, [5.0, 6.0])  # not zeroed in place
    opt.zero_grad()
    assert p.grad is None


def test_param_groups_have_their_own_mutable_lr():
    a = Tensor([1.0], requires_grad=True)
    b = Tensor([1.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.0)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    a.grad = b.grad = np.array([1.0])
    opt.step()
    assert (a.data[0], b.data[0]) == pytest.approx((0.9, 0.5))
    opt.param_groups[0]["lr"] = 0.2
    opt.step()
    assert a.data[0] == pytest.approx(0.7)
    assert opt.inspect_state(a)["step_size"][0] == pytest.approx(0.2)


@pytest.mark.parametrize(
    "make,msg",
    [
        (lambda ps: optim.SGD(ps, lr=-1), "Invalid learning rate: -1"),
        (lambda ps: optim.SGD(ps, lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
        (lambda ps: optim.SGD(ps, lr=0.1, nesterov=True), "Nesterov momentum requires"),
        (lambda ps: optim.SGD(ps, lr=0.1, weight_decay=-1), "Invalid weight_decay value"),
        (lambda ps: optim.Adam(ps, lr=-1e-3), "Invalid learning rate: -0.001"),
        (lambda ps: optim.Adam(ps, betas=(1.0, 0.9)), "Invalid beta parameter at index 0"),
        (lambda ps: optim.Adam(ps, betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
        (lambda ps: optim.AdamW(ps, eps=-1), "Invalid epsilon value"),
        (lambda ps: optim.RMSprop(ps, alpha=-1), "Invalid alpha value"),
        (lambda ps: optim.Adagrad(ps, lr_decay=-1), "Invalid lr_decay value"),
        (lambda ps: optim.Adagrad(ps, initial_accumulator_value=-1), "initial_accumulator"),
        (lambda ps: optim.Newton(ps, damping=-1), "Invalid damping value"),
        (lambda ps: optim.SGD([{"params": ps, "lr": -2}], lr=0.1), "Invalid learning rate: -2"),
        (lambda ps: optim.SGD([], lr=0.1), "empty parameter list"),
        (lambda ps: optim.SGD(ps + ps, lr=0.1), "duplicate"),
    ],
)
def test_invalid_arguments_raise_value_error(make, msg):
    with pytest.raises(ValueError, match=msg):
        make([Tensor([1.0], requires_grad=True)])


def test_single_tensor_is_rejected_like_pytorch():
    with pytest.raises(TypeError):
        optim.SGD(Tensor([1.0], requires_grad=True), lr=0.1)


def test_state_dict_round_trip_continues_identically():
    rng = np.random.default_rng(3)
    grads = [rng.normal(size=3) for _ in range(6)]
    p = Tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([p], lr=0.05, amsgrad=True)
    for g in grads[:3]:
        p.grad = g
        opt.step()
    snap, data = opt.state_dict(), p.data.copy()
    q = Tensor(data.copy(), requires_grad=True)
    opt2 = optim.Adam([q], lr=0.05, amsgrad=True)
    opt2.load_state_dict(snap)
    for g in grads[3:]:
        p.grad = g
        q.grad = g
        opt.step()
        opt2.step()
    np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize("cls,kw", [(optim.SGD, {"lr": 0.1, "momentum": 0.9}),
                                    (optim.Adam, {"lr": 0.02}), (optim.RMSprop, {"lr": 0.01}),
                                    (optim.Adagrad, {"lr": 0.1}), (optim.AdamW, {"lr": 0.02})])
def test_training_a_small_mlp_reduces_the_loss(cls, kw):
    rng = np.random.default_rng(7)
    x = Tensor(rng.normal(size=(32, 2)))
    y = Tensor(np.tanh(x.data[:, :1] - x.data[:, 1:]))
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = cls(model.parameters(), **kw)
    first = None
    for _ in range(150):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert loss.item() < 0.3 * first
