"""The backprop trace must show exactly the numbers backward() produces."""

import numpy as np
import pytest

from descent_tui.engine import Tensor, nn
from descent_tui.engine import functional as F
from descent_tui.sim.trace import norm, trace_backward


def test_first_descent_chain_numbers_by_hand():
    # y = 2x, z = y² at x = 1: y = 2, z = 4; dz/dy = 2y = 4, dy/dx = 2, dz/dx = 8
    x = Tensor([1.0], requires_grad=True)
    y = x * 2
    z = y ** 2
    tr = trace_backward(z)
    assert [n.value.item() for n in tr.nodes] == [1.0, 2.0, 4.0]
    first, second = tr.steps
    assert first.node == 2 and first.incoming.item() == 1.0
    (h,) = first.handoffs
    assert h.parent == 1 and h.local.item() == 4.0 and h.grad.item() == 4.0
    (h,) = second.handoffs
    assert h.parent == 0 and h.local.item() == 2.0 and h.grad.item() == 8.0
    assert x.grad is None  # tracing writes no gradient


def test_trace_equals_backward_on_shared_subexpressions():
    rng = np.random.default_rng(0)
    a = Tensor(rng.normal(size=(3, 4)), requires_grad=True)
    b = Tensor(rng.normal(size=(4,)), requires_grad=True)
    h = (a * b).tanh()
    loss = (h * h + h.sigmoid() * a).sum() / 3.0
    tr = trace_backward(loss)
    loss.backward()
    by_tensor = {id(n.tensor): tr.grad_of(n.index) for n in tr.nodes}
    np.testing.assert_array_equal(by_tensor[id(a)], a.grad)
    np.testing.assert_array_equal(by_tensor[id(b)], b.grad)


def test_network_trace_weight_grads_match_backward():
    rng = np.random.default_rng(1)
    model = nn.Sequential(nn.Linear(3, 5, rng=rng), nn.Sigmoid(), nn.Linear(5, 2, rng=rng))
    X = Tensor(rng.normal(size=(8, 3)))
    labels = rng.integers(0, 2, size=8)
    loss = F.cross_entropy(model(X), labels)
    tr = trace_backward(loss)
    loss.backward()
    for p in model.parameters():
        node = next(n for n in tr.nodes if n.tensor is p)
        assert node.is_param
        np.testing.assert_array_equal(tr.grad_of(node.index), p.grad)
        assert norm(tr.grad_of(node.index)) == pytest.approx(float(np.linalg.norm(p.grad)))


def test_trace_after_backward_without_retain_is_a_clear_error():
    x = Tensor([2.0], requires_grad=True)
    z = (x * x).exp()
    z.backward()
    with pytest.raises(RuntimeError, match="freed"):
        trace_backward(z)


# ---------------------------------------------------------------- step graphs of a sim
def _sim(scenario_id):
    from descent_tui.scenario.catalog import find
    from descent_tui.sim import Simulation

    return Simulation(find(scenario_id))


def test_example_graph_is_the_briefing_chain():
    from descent_tui.sim.step_graph import example_graph

    g = example_graph()
    tr = g.trace()
    assert [n.label for n in tr.nodes] == ["x", "y", "z"]
    assert [n.value.item() for n in tr.nodes] == [1.0, 2.0, 4.0]
    assert [tr.grad_of(i).item() for i in range(3)] == [8.0, 4.0, 1.0]


def test_first_descent_step_graph_matches_hand_and_sim():
    from descent_tui.sim.step_graph import step_graph

    sim = _sim("first-descent")
    for _ in range(3):
        for i, rs in enumerate(sim.runs):
            x = float(rs.theta.data[0])
            g = step_graph(sim, i)
            tr = g.trace()
            (step,) = tr.steps  # loss = x**2: one op, one backward step
            assert tr.nodes[step.node].value.item() == pytest.approx(x * x)
            (h,) = step.handoffs
            assert h.local.item() == pytest.approx(2 * x)          # d(x²)/dx = 2x
            assert h.grad.item() == pytest.approx(1.0 * 2 * x)     # dL/dloss · 2x
        before = [float(r.theta.data[0]) for r in sim.runs]
        steps = [g for g in (step_graph(sim, i) for i in range(len(sim.runs)))]
        grads = [g.trace().grads[0].item() for g in steps]
        sim.step(1)
        for rs, b, gr in zip(sim.runs, before, grads):
            # row -2: the point before this update, whose gradient the update used
            assert rs.history.series("grad.x")[-2] == gr == 2 * b
    assert sim.runs[0].theta.grad is not None  # the sim's own tensors trained as usual


def test_step_graph_changes_nothing_in_the_sim():
    from descent_tui.sim.chain_check import check_chain_rule
    from descent_tui.sim.step_graph import step_graph

    a, b = _sim("batch-sizes"), _sim("batch-sizes")
    a.step(3)
    b.step(3)
    for i in range(len(a.runs)):
        g = step_graph(a, i)
        g.trace()
        g.root.backward()
        check_chain_rule(g)
    a.step(2)
    b.step(2)
    for ra, rb in zip(a.runs, b.runs):
        np.testing.assert_array_equal(ra.history.series("loss"), rb.history.series("loss"))
        for pa, pb in zip(ra.params, rb.params):
            np.testing.assert_array_equal(pa.data, pb.data)


@pytest.mark.parametrize("scenario_id", ["vanishing-gradients", "batch-sizes",
                                         "gradient-accumulation"])
def test_network_layer_blame_equals_sim_grad_norm(scenario_id):
    """The inspector's per-layer ‖dL/dW, dL/db‖ for the next step == what the sim records."""
    from descent_tui.sim.step_graph import layer_groups, step_graph

    sim = _sim(scenario_id)
    for _ in range(2):
        shown = []
        for i in range(len(sim.runs)):
            g = step_graph(sim, i)
            tr = g.trace()
            groups = layer_groups(tr, g)
            assert [gr.name for gr in groups] == [f"layer {k + 1}" for k in range(len(groups))]
            shown.append([gr.grad_norm(tr.grads) for gr in groups])
            # the trace's parameter gradients are those of a real backward()
            g.root.backward()
            for name, t in g.params:
                node = next(n for n in tr.nodes if n.tensor is t)
                assert node.label == name
                np.testing.assert_allclose(tr.grad_of(node.index), t.grad, rtol=1e-12)
        sim.step(1)
        for rs, norms in zip(sim.runs, shown):
            recorded = [rs.history.series(f"layer {k + 1}.grad_norm")[-1]
                        for k in range(len(norms))]
            assert norms == pytest.approx(recorded, rel=1e-12)


def test_vanishing_gradients_sigmoid_blame_shrinks_towards_the_input():
    from descent_tui.sim.step_graph import layer_groups, step_graph

    sim = _sim("vanishing-gradients")
    g = step_graph(sim, 0)
    tr = g.trace()
    assert len(tr.nodes) == 42
    assert [n.label for n in tr.nodes][:6] == [
        "x (batch)", "layer 1 · weight", "layer 1 · bias", "layer 1 · linear",
        "layer 1 · sigmoid", "layer 2 · weight"]
    assert tr.nodes[-1].label == "loss"
    out = [gr.output_grad_norm(tr.grads) for gr in layer_groups(tr, g)]
    # blame arriving at each layer's output: the sigmoid stack loses it going back
    assert out[0] < out[4] < out[8]


def test_check_chain_rule_samples_big_tensors_and_agrees():
    from descent_tui.sim.chain_check import check_chain_rule
    from descent_tui.sim.step_graph import example_graph, step_graph

    ex = check_chain_rule(example_graph())
    (row,) = ex.rows
    assert row.analytic.tolist() == [8.0] and row.numerical[0] == pytest.approx(8.0)
    assert ex.ok and not ex.sampled
    sim = _sim("vanishing-gradients")
    g = step_graph(sim, 0)
    tr = g.trace()
    res = check_chain_rule(g, per_tensor=6)
    assert res.ok and res.sampled
    assert len(res.rows) == 20
    for row, (name, t) in zip(res.rows, g.params):
        assert row.name == name and len(row.indices) == min(6, t.data.size)
        node = next(n for n in tr.nodes if n.tensor is t)
        full = tr.grad_of(node.index).reshape(-1)
        np.testing.assert_allclose(row.analytic, full[row.indices], rtol=1e-12, atol=1e-300)
        assert np.argmax(np.abs(full)) in row.indices  # the largest entry is always checked
    assert res.seconds < 5


def test_next_batch_is_what_the_step_trains_on():
    sim = _sim("batch-sizes")
    for _ in range(12):  # across an epoch boundary for the small batches
        peeks = [sim.next_batch(i) for i in range(len(sim.runs))]
        again = [sim.next_batch(i) for i in range(len(sim.runs))]
        for p, q in zip(peeks, again):
            for (xa, ya), (xb, yb) in zip(p, q):
                np.testing.assert_array_equal(xa, xb)
                np.testing.assert_array_equal(ya, yb)
        sim.step(1)
