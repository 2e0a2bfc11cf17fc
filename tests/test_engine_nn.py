"""nn: Linear, Sequential, activation modules, parameter naming, and nn.init."""

from __future__ import annotations

import math

import numpy as np
import pytest

from descent_tui.engine import Tensor, nn
from descent_tui.engine.nn import init


def rng(seed=0):
    return np.random.default_rng(seed)


# ------------------------------------------------------------------------ Linear
def test_linear_shapes_and_forward():
    layer = nn.Linear(3, 5, rng=rng())
    assert layer.weight.shape == (5, 3) and layer.bias.shape == (5,)
    assert layer.weight.requires_grad and layer.bias.requires_grad
    x = rng(1).normal(size=(4, 3))
    out = layer(Tensor(x))
    assert out.shape == (4, 5)
    np.testing.assert_allclose(out.data, x @ layer.weight.data.T + layer.bias.data, rtol=1e-13)
    one = layer(Tensor(x[0]))  # a single sample without a batch axis
    np.testing.assert_allclose(one.data, out.data[0], rtol=1e-13)
    assert "in_features=3" in repr(layer) and "out_features=5" in repr(layer)


def test_linear_backward_shapes_and_values():
    layer = nn.Linear(3, 2, rng=rng())
    x = rng(1).normal(size=(4, 3))
    layer(Tensor(x)).sum().backward()
    np.testing.assert_allclose(layer.weight.grad, np.tile(x.sum(0), (2, 1)), rtol=1e-13)
    np.testing.assert_allclose(layer.bias.grad, [4.0, 4.0])


def test_linear_without_bias():
    layer = nn.Linear(3, 2, bias=False, rng=rng())
    assert layer.bias is None
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    x = np.ones((1, 3))
    np.testing.assert_allclose(layer(Tensor(x)).data, x @ layer.weight.data.T)
    assert "bias=False" in repr(layer)


def test_linear_default_init_bounds():
    fan_in = 50
    layer = nn.Linear(fan_in, 400, rng=rng(3))
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) == U(±1/sqrt(fan_in))
    w, b = layer.weight.data, layer.bias.data
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.99 * bound  # fills the range, not a narrower one
    assert np.abs(b).max() > 0.9 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert abs(w.mean()) < 0.02 * bound


def test_linear_dtype_and_unseeded():
    layer = nn.Linear(2, 3, dtype=np.float32)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    other = nn.Linear(2, 3)  # no rng: still works, just not reproducible
    assert other.weight.shape == (3, 2)


def test_linear_reproducible_with_seeded_generator():
    a = nn.Linear(7, 4, rng=rng(42))
    b = nn.Linear(7, 4, rng=rng(42))
    c = nn.Linear(7, 4, rng=rng(43))
    assert a.weight.data.tobytes() == b.weight.data.tobytes()
    assert a.bias.data.tobytes() == b.bias.data.tobytes()
    assert not np.array_equal(a.weight.data, c.weight.data)
    m1 = nn.Sequential(nn.Linear(2, 8, rng=(g1 := rng(5))), nn.Tanh(), nn.Linear(8, 1, rng=g1))
    m2 = nn.Sequential(nn.Linear(2, 8, rng=(g2 := rng(5))), nn.Tanh(), nn.Linear(8, 1, rng=g2))
    for p, q in zip(m1.parameters(), m2.parameters()):
        assert p.data.tobytes() == q.data.tobytes()
    # the two layers drew different numbers from the shared generator
    assert not np.array_equal(m1[0].weight.data[:1, :1], m1[2].weight.data[:1, :1])


# ---------------------------------------------------------- Sequential, naming
def make_mlp():
    g = rng(0)
    return nn.Sequential(nn.Linear(2, 8, rng=g), nn.Tanh(), nn.Linear(8, 4, rng=g), nn.ReLU(),
                         nn.Linear(4, 1, rng=g), nn.Sigmoid())


def test_named_parameters_order_and_names():
    model = make_mlp()
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    params = model.parameters()
    assert [p.shape for p in params] == [(8, 2), (8,), (4, 8), (4,), (1, 4), (1,)]
    assert params[0] is model[0].weight and params[5] is model[4].bias
    assert all(p is q for p, (_, q) in zip(params, model.named_parameters()))


def test_sequential_container():
    model = make_mlp()
    assert len(model) == 6
    assert isinstance(model[1], nn.Tanh) and isinstance(model[-1], nn.Sigmoid)
    assert [type(m).__name__ for m in model] == ["Linear", "Tanh", "Linear", "ReLU",
                                                 "Linear", "Sigmoid"]
    assert len(model.children()) == 6
    x = rng(1).normal(size=(5, 2))
    h = x
    for m in model:
        h = m(Tensor(h)).data
    np.testing.assert_allclose(model(Tensor(x)).data, h, rtol=1e-13)
    expected = 1 / (1 + np.exp(-(np.maximum(np.tanh(x @ model[0].weight.data.T
                                                     + model[0].bias.data)
                                             @ model[2].weight.data.T + model[2].bias.data, 0)
                                  @ model[4].weight.data.T + model[4].bias.data)))
    np.testing.assert_allclose(model(Tensor(x)).data, expected, rtol=1e-12)
    r = repr(model)
    assert "(0): Linear(in_features=2, out_features=8, bias=True)" in r and "(5): Sigmoid()" in r


def test_nested_and_custom_modules():
    class Block(nn.Module):
        def __init__(self):
            self.scale = Tensor([2.0], requires_grad=True)
            self.const = Tensor([1.0])  # not a parameter: no requires_grad
            self.inner = nn.Sequential(nn.Linear(2, 2, rng=rng()))
            self.head = nn.Linear(2, 1, rng=rng(1))

        def forward(self, x):
            return self.head(self.inner(x) * self.scale)

    block = Block()
    assert [n for n, _ in block.named_parameters()] == [
        "scale", "inner.0.weight", "inner.0.bias", "head.weight", "head.bias"]
    outer = nn.Sequential(block, nn.Identity())
    assert [n for n, _ in outer.named_parameters()][:2] == ["0.scale", "0.inner.0.weight"]
    out = outer(Tensor(np.ones((3, 2))))
    out.sum().backward()
    assert all(p.grad is not None for p in outer.parameters())
    with pytest.raises(NotImplementedError):
        nn.Module()(Tensor([1.0]))


def test_shared_parameters_listed_once():
    layer = nn.Linear(2, 2, rng=rng())
    model = nn.Sequential(layer, nn.Tanh(), layer)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    model(Tensor(np.ones((1, 2)))).sum().backward()  # both uses add into one grad
    assert layer.weight.grad is not None


@pytest.mark.parametrize("module,fn", [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(), lambda x: np.where(x > 0, x, 0.01 * x)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.Identity(), lambda x: x),
])
def test_activation_modules(module, fn):
    x = np.linspace(-3, 3, 13).reshape(1, 13) + 0.05  # avoid exactly 0
    t = Tensor(x, requires_grad=True)
    out = module(t)
    np.testing.assert_allclose(out.data, fn(x), rtol=1e-13)
    assert module.parameters() == []
    out.sum().backward()
    h = 1e-6
    np.testing.assert_allclose(t.grad, (fn(x + h) - fn(x - h)) / (2 * h), rtol=1e-6, atol=1e-9)


# ------------------------------------------------------------------------ init
GAINS = {
    ("linear", None): 1.0, ("identity", None): 1.0, ("conv1d", None): 1.0,
    ("conv2d", None): 1.0, ("conv3d", None): 1.0, ("conv_transpose1d", None): 1.0,
    ("conv_transpose2d", None): 1.0, ("conv_transpose3d", None): 1.0, ("sigmoid", None): 1.0,
    ("tanh", None): 5.0 / 3, ("relu", None): math.sqrt(2.0), ("selu", None): 0.75,
    ("leaky_relu", None): math.sqrt(2.0 / (1 + 0.01 ** 2)),
    ("leaky_relu", 0.2): math.sqrt(2.0 / 1.04), ("leaky_relu", 0): math.sqrt(2.0),
    ("leaky_relu", math.sqrt(5)): math.sqrt(1.0 / 3),
}


@pytest.mark.parametrize("key", list(GAINS), ids=str)
def test_calculate_gain(key):
    assert init.calculate_gain(*key) == pytest.approx(GAINS[key], rel=1e-15)


def test_calculate_gain_unknown():
    with pytest.raises(ValueError):
        init.calculate_gain("softplus")


def big(shape=(400, 300), seed=0):
    return Tensor(np.full(shape, np.nan), requires_grad=True)


def test_constant_initialisers():
    t = big((3, 4))
    assert init.zeros_(t) is t and np.all(t.data == 0)
    assert init.ones_(t) is t and np.all(t.data == 1)
    assert init.constant_(t, -0.25) is t and np.all(t.data == -0.25)


def test_uniform_and_normal():
    t = big()
    init.uniform_(t, -0.3, 0.7, rng=rng())
    assert t.data.min() >= -0.3 and t.data.max() < 0.7
    assert t.data.min() < -0.29 and t.data.max() > 0.69
    assert abs(t.data.mean() - 0.2) < 0.01
    init.uniform_(t, rng=rng())  # default U(0, 1)
    assert t.data.min() >= 0 and t.data.max() < 1 and abs(t.data.mean() - 0.5) < 0.01
    init.normal_(t, 1.5, 0.2, rng=rng())
    assert abs(t.data.mean() - 1.5) < 0.005 and abs(t.data.std() - 0.2) < 0.005
    init.normal_(t, rng=rng())
    assert abs(t.data.mean()) < 0.02 and abs(t.data.std() - 1.0) < 0.02


@pytest.mark.parametrize("shape", [(400, 300), (64, 32, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 5.0 / 3])
def test_xavier(shape, gain):
    fan_in = shape[1] * int(np.prod(shape[2:]))
    fan_out = shape[0] * int(np.prod(shape[2:]))
    t = big(shape)
    init.xavier_uniform_(t, gain=gain, rng=rng())
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    assert np.abs(t.data).max() <= bound and np.abs(t.data).max() > 0.99 * bound
    assert abs(t.data.std() - bound / math.sqrt(3)) < 0.02 * bound
    init.xavier_normal_(t, gain=gain, rng=rng())
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    assert abs(t.data.std() - std) < 0.02 * std and abs(t.data.mean()) < 0.02 * std


@pytest.mark.parametrize("shape", [(400, 300), (64, 32, 3, 3)])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity,a", [("relu", 0.0), ("leaky_relu", 0.0),
                                            ("leaky_relu", math.sqrt(5)), ("tanh", 0.0),
                                            ("linear", 0.0)])
def test_kaiming(shape, mode, nonlinearity, a):
    rf = int(np.prod(shape[2:]))
    fan = shape[1] * rf if mode == "fan_in" else shape[0] * rf
    gain = {"relu": math.sqrt(2.0), "tanh": 5.0 / 3, "linear": 1.0,
            "leaky_relu": math.sqrt(2.0 / (1 + a * a))}[nonlinearity]
    std = gain / math.sqrt(fan)
    t = big(shape)
    init.kaiming_uniform_(t, a=a, mode=mode, nonlinearity=nonlinearity, rng=rng())
    bound = math.sqrt(3.0) * std
    assert np.abs(t.data).max() <= bound and np.abs(t.data).max() > 0.99 * bound
    assert abs(t.data.std() - std) < 0.02 * std
    init.kaiming_normal_(t, a=a, mode=mode, nonlinearity=nonlinearity, rng=rng())
    assert abs(t.data.std() - std) < 0.02 * std and abs(t.data.mean()) < 0.02 * std


def test_kaiming_defaults_are_leaky_relu_with_a0_fan_in():
    t1, t2 = big((300, 200)), big((300, 200))
    init.kaiming_uniform_(t1, rng=rng(9))
    init.kaiming_uniform_(t2, a=0.0, mode="fan_in", nonlinearity="relu", rng=rng(9))
    np.testing.assert_array_equal(t1.data, t2.data)  # gain sqrt(2) either way


def test_init_errors():
    with pytest.raises(ValueError):
        init.xavier_uniform_(Tensor(np.zeros(5)))
    with pytest.raises(ValueError):
        init.kaiming_normal_(Tensor(np.zeros((3, 3))), mode="fan_sideways")


ALL_RANDOM = [
    lambda t, g: init.uniform_(t, -1, 2, rng=g),
    lambda t, g: init.normal_(t, 0.5, 2.0, rng=g),
    lambda t, g: init.xavier_uniform_(t, rng=g),
    lambda t, g: init.xavier_normal_(t, gain=2.0, rng=g),
    lambda t, g: init.kaiming_uniform_(t, rng=g),
    lambda t, g: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu", rng=g),
]


@pytest.mark.parametrize("i", range(len(ALL_RANDOM)))
def test_init_reproducible(i):
    fill = ALL_RANDOM[i]
    a, b, c = big((20, 30)), big((20, 30)), big((20, 30))
    assert fill(a, rng(123)) is a
    fill(b, rng(123))
    fill(c, rng(124))
    assert a.data.tobytes() == b.data.tobytes()
    assert not np.array_equal(a.data, c.data)
    assert np.all(np.isfinite(a.data))
    f32 = Tensor(np.zeros((20, 30), dtype=np.float32))
    fill(f32, rng(123))
    assert f32.dtype == np.float32  # fills in place, keeps the tensor's dtype
    np.testing.assert_allclose(f32.data, a.data.astype(np.float32))


def test_linear_refuses_a_single_number_as_pytorch_does():
    """A 0-d input has no features: PyTorch raises, and so does the engine (it once
    broadcast the number into a row, and then failed on a missing ``.dot``)."""
    from descent_tui.engine import Tensor
    from descent_tui.engine import functional as F

    w = Tensor(np.ones((3, 1)), requires_grad=True)
    with pytest.raises(RuntimeError, match="at least one dimension"):
        F.linear(Tensor(2.0, requires_grad=True) * 1.0, w)
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        torch.nn.functional.linear(torch.tensor(2.0, dtype=torch.float64),
                                   torch.ones(3, 1, dtype=torch.float64))
