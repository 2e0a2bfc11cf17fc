"""The engine does what PyTorch does with the habits and names beginners' code uses.

Each test states the PyTorch behaviour; where PyTorch is installed the same
code runs on it too and the answers are compared.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import descent_tui.engine as E
from descent_tui.engine import Tensor, nn, no_grad, optim
from descent_tui.engine import functional as F
from descent_tui.engine.nn.utils import clip_grad_norm_

X = [[1.0, -2.0, 3.0], [4.0, 0.5, -6.0]]


def torch_or_skip():
    return pytest.importorskip("torch")


# ------------------------------------------------------- in-place updates
def test_in_place_update_under_no_grad_changes_the_parameter_itself():
    w = Tensor([1.0, 2.0], requires_grad=True)
    model_view, data = w, w.data
    (w * w).sum().backward()
    with no_grad():
        w -= 0.1 * w.grad
    assert w is model_view and w.data is data  # the same tensor, the same array
    np.testing.assert_allclose(w.data, [0.8, 1.6])
    assert w.requires_grad and w.is_leaf
    w.grad = None
    (w * w).sum().backward()  # a later backward still works
    np.testing.assert_allclose(w.grad, [1.6, 3.2])


def test_in_place_on_a_0d_parameter_and_through_data():
    a = Tensor(2.0, requires_grad=True)
    (a * 3.0).backward()
    same = a
    with no_grad():
        a -= 0.5 * a.grad
        a.data -= 0.25
    assert same is a and a.item() == pytest.approx(0.25)


def test_in_place_on_a_leaf_that_requires_grad_outside_no_grad_names_pytorchs_way():
    w = Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w -= 1.0
    torch = torch_or_skip()
    t = torch.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        t -= 1.0


def test_in_place_on_an_intermediate_stays_in_the_graph():
    w = Tensor([1.0, 2.0], requires_grad=True)
    h = w * 2.0
    h += w  # h = 3w
    h.sum().backward()
    np.testing.assert_allclose(w.grad, [3.0, 3.0])


def test_optimizer_sees_in_place_updates():
    w = Tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    with no_grad():
        w += 1.0
    w.grad = np.array([1.0])
    opt.step()
    assert w.item() == pytest.approx(1.9)


def test_zero_and_requires_grad_():
    t = Tensor([1.0, 2.0])
    assert t.zero_() is t and t.tolist() == [0.0, 0.0]
    assert t.requires_grad_() is t and t.requires_grad


# --------------------------------------------------------- p.data = tensor
def _assign_data_and_train(lib, t):
    """PyTorch's way to swap a knob's numbers: ``p.data = tensor``, then train on.

    What the program sees: the numbers after each assignment and update, the
    gradient (kept through the assignment, then the new one), and whether the
    knob shares the new tensor's numbers (an in-place change of the source shows
    in the knob).
    """
    p = t([1.0, 2.0, 3.0], requires_grad=True)
    opt = lib.optim.SGD([p], lr=0.1)
    (p * p).sum().backward()                    # grad = 2p = [2, 4, 6]
    source = t([5.0, -1.0, 0.5], requires_grad=True)
    p.data = source                             # the numbers only: no graph joins them
    seen = [p.tolist(), p.grad.tolist(), p.requires_grad, p.is_leaf]
    with lib.no_grad():
        source += t([2.0, 0.0, 0.0])            # p shares source's numbers
    seen.append(p.tolist())
    opt.step()                                  # the kept grad moves the new numbers
    seen.append(p.tolist())
    opt.zero_grad()
    (p * p * p).sum().backward()                # the next gradient is at the new numbers
    seen += [p.grad.tolist(), source.grad is None]
    p.data = t([0.0, 0.0])                      # another shape: p takes it, grad stays
    seen += [list(p.shape), p.grad.tolist()]
    return seen


def test_assigning_a_tensor_to_data_swaps_the_numbers_as_in_pytorch():
    ours = _assign_data_and_train(E, lambda v, requires_grad=False: Tensor(
        v, requires_grad=requires_grad))
    assert ours[:5] == [[5.0, -1.0, 0.5], [2.0, 4.0, 6.0], True, True, [7.0, -1.0, 0.5]]
    assert ours[7] is True  # the source got no gradient
    torch = torch_or_skip()
    theirs = _assign_data_and_train(torch, lambda v, requires_grad=False: torch.tensor(
        v, dtype=torch.float64, requires_grad=requires_grad))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-12)


def test_assigning_a_tensor_to_a_layers_weight_keeps_the_parameter():
    layer = nn.Linear(2, 1, rng=np.random.default_rng(0))
    w = layer.weight
    opt = optim.SGD(layer.parameters(), lr=0.5)
    source = Tensor([[1.0, -1.0]])
    layer.weight.data = source
    assert layer.weight is w and isinstance(w, nn.Parameter) and w.requires_grad
    assert type(w.data) is np.ndarray and w.data is source.data  # its numbers, not a copy
    assert layer.parameters()[0] is w
    out = layer(Tensor([[3.0, 1.0]])).sum()
    np.testing.assert_allclose(out.item(), 2.0 + layer.bias.item())
    out.backward()
    opt.step()  # the optimizer still holds w: it moves the new numbers
    np.testing.assert_allclose(w.data, [[1.0 - 1.5, -1.0 - 0.5]])


@pytest.mark.parametrize("value", [3.0, [1.0, 2.0], "1.0"])
def test_assigning_a_non_tensor_to_data_is_a_type_error_naming_pytorchs_way(value):
    p = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"p\.data = torch\.tensor"):
        p.data = value
    np.testing.assert_array_equal(p.data, [1.0, 2.0])  # p is left as it was
    torch = torch_or_skip()
    tp = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError):
        tp.data = value


def test_a_numpy_array_assigned_to_data_is_taken_as_it_is():
    """The engine's NumPy side: an array is a tensor's numbers already (no copy)."""
    p = Tensor([1.0, 2.0], requires_grad=True)
    arr = np.array([4.0, 5.0])
    p.data = arr
    assert p.data is arr and p.requires_grad and p.is_leaf


# ------------------------------------------------------------ comparisons
def test_comparisons_return_boolean_tensors_outside_the_graph():
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = Tensor([3.0, 2.0, 1.0])
    got = {op: getattr(a, op)(b) for op in ("__eq__", "__ne__", "__lt__", "__le__", "__gt__",
                                            "__ge__")}
    assert all(isinstance(t, Tensor) and t.dtype == np.bool_ and not t.requires_grad
               for t in got.values())
    assert (a == b).tolist() == [False, True, False]
    assert (a < 2).tolist() == [True, False, False]
    assert (a >= b).tolist() == [False, True, True]
    assert (a == b).sum().item() == 1  # counting matches, as accuracy code does
    torch = torch_or_skip()
    ta, tb = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([3.0, 2.0, 1.0])
    assert (ta != tb).tolist() == (a != b).tolist()


def test_tensors_still_hash_by_identity():
    a, b = Tensor([1.0]), Tensor([1.0])
    assert len({a, b}) == 2 and {a: 1, b: 2}[a] == 1
    assert (a == None) is False  # noqa: E711


def test_bool_of_a_tensor_is_its_one_value_or_ambiguous():
    assert bool(Tensor(1.0)) and not bool(Tensor([0.0]))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(Tensor([1.0, 2.0]))


def test_boolean_mask_indexing():
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x[x > 0]
    assert y.tolist() == [1.0, 3.0]
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 1.0])


def test_indexing_with_a_tuple_of_index_tensors():
    x = Tensor(X, requires_grad=True)
    rows, cols = E.tensor([0, 1, 1]), E.tensor([2, 0, 2])
    picked = x[rows, cols]
    assert picked.tolist() == [3.0, 4.0, -6.0]
    picked.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 1], [1, 0, 1]])


# --------------------------------------------------- shapes and reductions
def test_max_min_with_dim_return_values_and_indices_as_pytorch():
    x = Tensor(X)
    values, indices = x.max(1)
    assert values.tolist() == [3.0, 4.0] and indices.tolist() == [2, 0]
    assert x.min(dim=0).values.tolist() == [1.0, -2.0, -6.0]
    assert x.min(0, keepdim=True).indices.shape == (1, 3)
    assert x.max().item() == 4.0 and x.min().item() == -6.0
    assert x.max(Tensor(0.0)).tolist() == [[1.0, 0.0, 3.0], [4.0, 0.5, 0.0]]
    torch = torch_or_skip()
    t = torch.tensor(X, dtype=torch.float64)
    for dim in (0, 1, -1):
        for ours, theirs in ((x.max(dim), t.max(dim)), (x.min(dim), t.min(dim))):
            assert ours.values.tolist() == theirs.values.tolist()
            assert ours.indices.tolist() == theirs.indices.tolist()


def test_max_with_dim_passes_the_gradient_to_the_max():
    x = Tensor(X, requires_grad=True)
    x.max(1).values.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 1], [1, 0, 0]])


def test_transpose_swaps_two_dimensions():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.transpose(0, 1).shape == (3, 2, 4)
    assert x.transpose(-1, 0).shape == (4, 3, 2)
    assert Tensor(X).transpose(0, 1).tolist() == Tensor(X).T.tolist()
    torch = torch_or_skip()
    t = torch.arange(24.0, dtype=torch.float64).reshape(2, 3, 4)
    np.testing.assert_array_equal(x.transpose(0, 2).numpy(), t.transpose(0, 2).numpy())


def test_size_numel_dim():
    x = Tensor(np.zeros((2, 3)))
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3
    assert x.numel() == 6 and x.dim() == 2


@pytest.mark.parametrize("method", ["sum", "mean"])
def test_dim_and_keepdim_are_accepted_where_axis_and_keepdims_are(method):
    x = Tensor(X)
    ours = getattr(x, method)(dim=1, keepdim=True)
    numpy_names = getattr(x, method)(axis=1, keepdims=True)
    np.testing.assert_array_equal(ours.numpy(), numpy_names.numpy())
    assert getattr(x, method)(dim=[0, 1]).item() == pytest.approx(getattr(np, method)(X))
    assert F.softmax(x, dim=0).shape == F.log_softmax(x, dim=0).shape == (2, 3)
    assert E.cat([x, x], dim=1).shape == (2, 6) and E.stack([x, x], dim=2).shape == (2, 3, 2)


def test_sum_over_dim_0_of_a_0d_tensor_is_the_tensor_as_in_pytorch():
    x = Tensor(3.0, requires_grad=True)
    s = x.sum(0)
    assert s.shape == () and s.item() == 3.0
    s.backward()
    assert x.grad == 1.0
    assert x.mean(-1).item() == 3.0
    with pytest.raises(IndexError):
        x.sum(1)


def test_derivative_of_x_to_the_0_is_0_at_0():
    x = Tensor([0.0, 2.0], requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    y = Tensor([0.0, 2.0], requires_grad=True)
    (y ** Tensor([0.0, 0.0])).sum().backward()
    np.testing.assert_array_equal(y.grad, [0.0, 0.0])
    torch = torch_or_skip()
    t = torch.tensor([0.0, 2.0], requires_grad=True)
    (t ** 0).sum().backward()
    assert t.grad.tolist() == [0.0, 0.0]


def test_backward_takes_gradient_as_pytorch_names_it():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3.0).backward(gradient=Tensor([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [3.0, 30.0])


# ------------------------------------------------------ optimizer and losses
def test_sgd_positional_order_and_defaults_are_pytorchs():
    params = list(inspect.signature(optim.SGD).parameters)
    assert params[:6] == ["params", "lr", "momentum", "dampening", "weight_decay", "nesterov"]
    w = Tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], 0.1, 0.9, 0, 1e-4)
    group = opt.param_groups[0]
    assert group["weight_decay"] == 1e-4 and group["nesterov"] is False
    default = optim.SGD([w]).param_groups[0]
    assert default["lr"] == 1e-3
    torch = torch_or_skip()
    theirs = list(inspect.signature(torch.optim.SGD).parameters)
    assert params[:6] == theirs[:6]
    tg = torch.optim.SGD([torch.zeros(1, requires_grad=True)]).param_groups[0]
    assert all(tg[k] == default[k] for k in ("lr", "momentum", "dampening", "weight_decay",
                                              "nesterov"))


def test_cross_entropy_ignore_index_and_bad_labels():
    z = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3], [1.0, -1.0, 0.0]])
    labels = np.array([0, -100, 2])
    logits = Tensor(z, requires_grad=True)
    loss = F.cross_entropy(logits, labels)
    kept = F.cross_entropy(Tensor(z[[0, 2]]), labels[[0, 2]])
    assert loss.item() == pytest.approx(kept.item())
    loss.backward()
    np.testing.assert_array_equal(logits.grad[1], [0.0, 0.0, 0.0])
    assert nn.CrossEntropyLoss(ignore_index=1)(Tensor(z), np.array([1, 1, 0])).item() == \
        pytest.approx(F.cross_entropy(Tensor(z[[2]]), np.array([0])).item())
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(Tensor(z), np.array([0, 3, 1]))
    torch = torch_or_skip()
    tz = torch.tensor(z, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(tz, torch.tensor(labels))
    tl.backward()
    assert loss.item() == pytest.approx(tl.item(), rel=1e-12)
    np.testing.assert_allclose(logits.grad, tz.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_clip_grad_norm_returns_a_tensor():
    w = Tensor([3.0, 4.0], requires_grad=True)
    w.grad = np.array([3.0, 4.0])
    total = clip_grad_norm_([w], 1.0)
    assert isinstance(total, Tensor) and total.shape == () and float(total) == pytest.approx(5.0)


def test_constant_lr_as_pytorch():
    w = Tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    sched = optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=2)
    lrs = []
    for _ in range(4):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs == [0.5, 0.5, 1.0, 1.0]
    torch = torch_or_skip()
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    tsched = torch.optim.lr_scheduler.ConstantLR(topt, factor=0.5, total_iters=2)
    theirs = []
    for _ in range(4):
        theirs.append(topt.param_groups[0]["lr"])
        topt.step()
        tsched.step()
    assert theirs == lrs


# ---------------------------------------------------------------- the names
def test_creation_functions_and_the_seeded_generator():
    assert E.tensor([1, 2, 3]).dtype == np.int64 and E.tensor([1.0]).dtype == np.float64
    assert E.tensor([True]).dtype == np.bool_
    assert E.zeros(2, 3).shape == E.ones((2, 3)).shape == (2, 3)
    assert E.zeros_like(Tensor(X)).tolist() == [[0.0] * 3] * 2
    assert E.ones_like(Tensor(X)).shape == (2, 3)
    assert E.arange(4).tolist() == [0, 1, 2, 3] and E.arange(0.0, 1.0, 0.5).tolist() == [0.0, 0.5]
    assert E.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    E.manual_seed(7)
    first = (E.randn(3).tolist(), E.rand(2).tolist(), E.randint(0, 10, (4,)).tolist(),
             nn.Linear(2, 2).weight.tolist())
    E.manual_seed(7)
    again = (E.randn(3).tolist(), E.rand(2).tolist(), E.randint(10, (4,)).tolist(),
             nn.Linear(2, 2).weight.tolist())
    assert first == again
    assert all(0 <= v < 10 for v in first[2]) and all(0 <= v < 1 for v in first[1])
    assert E.randn((), requires_grad=True).shape == ()
    assert E.randn(2, dtype=E.float).dtype == np.float32
    with pytest.raises(RuntimeError, match="floating point"):
        E.tensor([1, 2], requires_grad=True)


@pytest.mark.parametrize("name", ["exp", "log", "sin", "cos", "tanh", "sigmoid", "sqrt", "abs",
                                  "relu"])
def test_top_level_functions_are_the_methods(name):
    x = Tensor([0.5, 1.5], requires_grad=True)
    getattr(E, name)(x).sum().backward()
    y = Tensor([0.5, 1.5], requires_grad=True)
    getattr(y, name)().sum().backward()
    np.testing.assert_array_equal(x.grad, y.grad)
    torch = torch_or_skip()
    t = torch.tensor([0.5, 1.5], dtype=torch.float64)
    np.testing.assert_allclose(getattr(E, name)(x).numpy(), getattr(torch, name)(t).numpy(),
                               rtol=1e-12)


def test_methods_beginners_use_match_pytorch():
    torch = torch_or_skip()
    x, t = Tensor(X), torch.tensor(X, dtype=torch.float64)
    pairs = {
        "pow": (x.pow(2), t.pow(2)),
        "matmul": (x.matmul(x.T), t.matmul(t.T)),
        "view": (x.view(3, 2), t.view(3, 2)),
        "view -1": (x.view(-1), t.view(-1)),
        "unsqueeze": (x.unsqueeze(1), t.unsqueeze(1)),
        "squeeze": (x.unsqueeze(0).squeeze(), t.unsqueeze(0).squeeze()),
        "squeeze dim": (x.unsqueeze(2).squeeze(2), t.unsqueeze(2).squeeze(2)),
        "flatten": (x.flatten(), t.flatten()),
        "permute": (x.permute(1, 0), t.permute(1, 0)),
        "argmax": (x.argmax(), t.argmax()),
        "argmax dim": (x.argmax(dim=1), t.argmax(dim=1)),
        "var": (x.var(), t.var()),
        "var dim": (x.var(dim=1), t.var(dim=1)),
        "std": (x.std(), t.std()),
        "std dim keepdim": (x.std(0, keepdim=True), t.std(0, keepdim=True)),
        "clamp": (x.clamp(-1.0, 1.0), t.clamp(-1.0, 1.0)),
        "float": (x.float(), t.float()),
        "double": (x.float().double(), t.float().double()),
    }
    for what, (ours, theirs) in pairs.items():
        assert ours.shape == tuple(theirs.shape), what
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, err_msg=what)
    assert x.float().dtype == np.float32 and x.tolist() == t.tolist()


def test_gradients_flow_through_the_new_methods():
    x = Tensor(X, requires_grad=True)
    (x.var() + x.std(1).sum() + x.view(-1).sum() + x.float().double().sum()).backward()
    torch = torch_or_skip()
    t = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    (t.var() + t.std(1).sum() + t.view(-1).sum() + t.float().double().sum()).backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-6)


def test_numbers_and_formatting_of_0d_tensors():
    loss = Tensor(0.123456)
    assert float(loss) == 0.123456 and int(Tensor(3.7)) == 3
    assert f"{loss:.3f}" == "0.123" and f"{loss}" == str(loss)
    assert f"{Tensor([2.5]):.1f}" == "2.5"
    assert E.tensor(2).__index__() == 2


def test_to_device_and_cpu_are_no_ops_and_cuda_is_absent():
    x = Tensor(X)
    assert x.to("cpu") is x and x.cpu() is x and x.to(E.device("cpu")) is x
    assert x.to(E.float32).dtype == np.float32
    assert not E.cuda.is_available() and not E.accelerator.is_available()
    E.set_default_device("cpu")
    with pytest.raises(RuntimeError, match="CPU only"):
        E.device("cuda")


def test_nn_parameter_and_module_habits():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(E.ones(1))
            self.layers = nn.ModuleList([nn.Linear(3, 4), nn.Linear(4, 2)])

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x * self.scale

    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "layers.0.weight", "layers.0.bias", "layers.1.weight",
                     "layers.1.bias"]
    assert isinstance(net.scale, Tensor) and net.scale.requires_grad
    assert [type(m).__name__ for m in net.modules()] == ["Net", "ModuleList", "Linear", "Linear"]
    assert net.eval() is net and not net.layers[0].training
    assert net.train().layers[1].training
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Linear", "ModuleList", "Net"]
    assert net.requires_grad_(False) is net and not net.scale.requires_grad
    assert len(net.parameters()) == 5  # frozen parameters are still parameters
    net.requires_grad_(True)
    state = net.state_dict()
    other = Net()
    other.load_state_dict(state)
    x = Tensor(np.ones((1, 3)))
    np.testing.assert_array_equal(other(x).numpy(), net(x).numpy())
    with pytest.raises(RuntimeError, match="missing keys"):
        other.load_state_dict({"scale": state["scale"]})


def test_nn_layers_and_losses_match_functional():
    z = Tensor(X)
    assert nn.Flatten()(Tensor(np.zeros((2, 3, 4)))).shape == (2, 12)
    assert nn.Flatten(0, 1)(Tensor(np.zeros((5, 1)))).shape == (5,)
    np.testing.assert_array_equal(nn.Softmax(dim=1)(z).numpy(), F.softmax(z, dim=1).numpy())
    np.testing.assert_array_equal(nn.LogSoftmax(dim=1)(z).numpy(), F.log_softmax(z).numpy())
    target = Tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    assert nn.MSELoss()(z, target).item() == F.mse_loss(z, target).item()
    assert nn.MSELoss(reduction="sum")(z, target).item() == F.mse_loss(z, target, "sum").item()
    assert nn.BCEWithLogitsLoss()(z, target).item() == \
        F.binary_cross_entropy_with_logits(z, target).item()
    assert nn.CrossEntropyLoss()(z, np.array([2, 0])).item() == \
        F.cross_entropy(z, np.array([2, 0])).item()
    emb = nn.Embedding(5, 2)
    out = emb(E.tensor([1, 1, 4]))
    assert out.shape == (3, 2)
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad[:, 0], [0, 2, 0, 0, 1])


def test_the_pytorch_layout_is_importable():
    import descent_tui.engine.nn.functional as NF
    import descent_tui.engine.optim.lr_scheduler as LS
    assert E.nn.functional.cross_entropy is NF.cross_entropy is F.cross_entropy
    assert E.optim.lr_scheduler.ConstantLR is LS.ConstantLR


# ----------------------------------------------------------- p.grad.zero_()
def test_a_tutorial_loop_that_zeroes_grads_by_hand_learns_as_in_pytorch():
    """The loop of PyTorch's polynomial_autograd: update under no_grad, then grad.zero_()."""
    def fit(lib, t):
        a = t(0.5, requires_grad=True)
        xs, ys = t([1.0, 2.0, 3.0]), t([2.0, 4.0, 6.0])
        for _ in range(5):
            loss = ((a * xs - ys) ** 2).sum()
            loss.backward()
            with lib.no_grad():
                a -= 0.01 * a.grad
                a.grad.zero_()
        return a.item(), a.grad.tolist()

    ours = fit(E, lambda v, requires_grad=False: Tensor(v, requires_grad=requires_grad))
    assert ours[1] == 0.0 and ours[0] > 0.5
    torch = torch_or_skip()
    theirs = fit(torch, lambda v, requires_grad=False: torch.tensor(
        v, dtype=torch.float64, requires_grad=requires_grad))
    assert ours[0] == pytest.approx(theirs[0], rel=1e-12)


def test_in_place_methods_on_grad_match_pytorch():
    def chain(w, g_of):
        (w * w * w).sum().backward()  # dL/dw = 3w²
        w.grad.mul_(0.5).add_(g_of([1.0, 1.0]), alpha=2.0).sub_(g_of([0.5, 0.5]))
        w.grad.div_(2.0).clamp_(min=-1.0, max=2.0)
        grads = [w.grad.tolist()]
        w.grad.fill_(4.0)
        grads.append(w.grad.tolist())
        w.grad.data.zero_()  # the old tutorials' `.grad.data`
        grads.append(w.grad.tolist())
        return grads

    ours = chain(Tensor([1.0, -2.0], requires_grad=True), Tensor)
    assert ours == [[1.5, 2.0], [4.0, 4.0], [0.0, 0.0]]
    torch = torch_or_skip()
    theirs = chain(torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True),
                   lambda v: torch.tensor(v, dtype=torch.float64))
    assert ours == theirs


def test_zeroing_a_grad_in_place_touches_no_other_array():
    w = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    h = w + b  # `+` hands the same dL/dh to both sides
    h.sum().backward()
    w.grad.zero_()
    assert b.grad.tolist() == [1.0, 1.0]


def test_grad_is_a_plain_numpy_array_for_numpy():
    w = Tensor([1.0, 2.0], requires_grad=True)
    (w * 3.0).sum().backward()
    assert isinstance(w.grad, np.ndarray)
    assert type(np.asarray(w.grad)) is np.ndarray and type(w.grad.numpy()) is np.ndarray
    np.testing.assert_array_equal(w.grad * 2.0, [6.0, 6.0])
    w.data -= 0.1 * w.grad.data
    np.testing.assert_allclose(w.data, [0.7, 1.7])
    assert type(w.data) is np.ndarray  # the parameter's own numbers stay a plain array


def test_a_pytorch_method_grad_lacks_names_what_grad_is():
    w = Tensor([1.0], requires_grad=True)
    (w * 2.0).sum().backward()
    with pytest.raises(AttributeError, match="NumPy array of dL/dp.*zero_"):
        w.grad.exp_()
    with pytest.raises(AttributeError, match="NumPy array"):
        w.grad.norm()
    assert not hasattr(w.grad, "__torch_function__")


def test_assigning_grad_takes_an_array_or_tensor_of_the_shape_and_zero_grad_still_works():
    w = Tensor([1.0, 2.0], requires_grad=True)
    w.grad = Tensor([0.5, -1.0])  # a Tensor gives its numbers, as `p.grad = t` in PyTorch
    w.grad.zero_()
    assert w.grad.tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match=r"assigned grad has shape \(3,\).*\(2,\)"):
        w.grad = np.zeros(3)
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    w.grad.mul_(2.0)  # an in-place edit by user code is the gradient the optimizer reads
    opt.step()
    np.testing.assert_allclose(w.data, [1.0 - 0.1 * 4.0, 2.0 - 0.1 * 8.0])
    opt.zero_grad()
    assert w.grad is None
