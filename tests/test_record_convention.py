"""What a step shows: record ``k`` is the state after ``k`` updates (row 0 is the start).

The loss, gradient and parameters of one record belong together: the loss is
measured at the parameters the record (and the app) shows, and the optimizer's
trajectory is the one it always was (update ``k`` uses the gradient measured
at record ``k - 1``).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from descent_tui.engine import no_grad
from descent_tui.scenario import load_scenario
from descent_tui.sim import Simulation

PARABOLA = """
id = "parabola"
title = "Parabola"
steps = 20
diverge_above = 1e6
[landscape]
params = ["x"]
loss = "x**2"
start = [3.0]
[[runs]]
label = "careful"
lr = 0.1
[[runs]]
label = "reckless"
lr = 1.6
[[runs]]
label = "forgot"
lr = 0.05
forget_zero_grad = true
[[runs]]
label = "newton"
optimizer = "newton"
lr = 1.0
"""

NETWORK = """
id = "blobs"
title = "Blobs"
steps = 12
seed = 5
[network]
loss = "cross_entropy"
batch_size = {batch}
val_split = 0.25
[network.data]
kind = "blobs"
n = 64
[network.model]
layers = [2, 6, 3]
activation = "tanh"
init = "xavier_uniform"
[[runs]]
label = "SGD"
lr = 0.2
"""


def write(tmp_path, text: str, name: str = "s.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return load_scenario(p)


def run_of(sim, label):
    return next(r for r in sim.runs if r.label == label)


def test_row_zero_is_the_start_and_one_press_changes_the_loss(tmp_path):
    sim = Simulation(write(tmp_path, PARABOLA))
    careful = run_of(sim, "careful")
    assert careful.last.step == 0 and careful.last.loss == pytest.approx(9.0)
    assert careful.last.grad_norm == pytest.approx(6.0)  # the gradient at x = 3
    assert list(careful.history.steps) == [0]
    sim.step(1)
    x = float(careful.point[0])
    assert x == pytest.approx(3 - 0.1 * 6)
    assert careful.last.step == 1 and careful.last.loss == pytest.approx(x * x)
    assert careful.last.grad_norm == pytest.approx(2 * x)


def test_every_row_is_the_loss_at_its_own_point(tmp_path):
    sim = Simulation(write(tmp_path, PARABOLA))
    sim.step(20)
    for rs in sim.runs:
        if rs.diverged:
            continue
        xs = rs.history.series("param.x")
        np.testing.assert_allclose(rs.history.series("loss"), xs ** 2, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(rs.history.series("grad.x"), 2 * xs, rtol=1e-12, atol=1e-300)
        assert list(rs.history.steps) == list(range(rs.step + 1))


def test_update_k_uses_the_gradient_of_row_k_minus_one(tmp_path):
    sim = Simulation(write(tmp_path, PARABOLA))
    sim.step(6)
    careful = run_of(sim, "careful")
    xs, gs = careful.history.series("param.x"), careful.history.series("grad.x")
    np.testing.assert_allclose(xs[1:], xs[:-1] - 0.1 * gs[:-1], rtol=1e-12)
    forgot = run_of(sim, "forgot")  # without zero_grad, update k uses rows 0..k-1 summed
    xs, gs = forgot.history.series("param.x"), forgot.history.series("grad.x")
    np.testing.assert_allclose(xs[1:], xs[:-1] - 0.05 * np.cumsum(gs[:-1]), rtol=1e-12)
    newton = run_of(sim, "newton")  # one Newton update lands on x = 0: row 1 reads 0
    assert newton.history.series("loss")[1] < 1e-20 and newton.first_step_below(1e-9) == 1


def test_divergence_is_reported_at_the_step_whose_reading_is_bad(tmp_path):
    sim = Simulation(write(tmp_path, PARABOLA))
    sim.step(20)
    boom = run_of(sim, "reckless")  # x -> -2.2 x each update: 9 · 4.84^k passes 1e6 at k = 8
    assert boom.diverged and boom.diverged_at == 8 and boom.step == 8
    assert boom.last.step == 8 and boom.last.loss > 1e6
    assert boom.last.loss == pytest.approx(float(boom.point[0]) ** 2)
    assert "at step 8" in boom.reason
    assert boom.history.steps[-1] == 7  # the bad reading is the last, not in the history
    assert np.all(boom.history.series("loss") <= 1e6)


def test_a_start_that_is_already_too_high_diverges_at_step_zero(tmp_path):
    text = PARABOLA.replace("start = [3.0]", "start = [3000.0]")
    sim = Simulation(write(tmp_path, text))
    for rs in sim.runs:
        assert rs.diverged and rs.diverged_at == 0 and rs.step == 0
        assert "at step 0" in rs.reason
    assert sim.done and sim.step(5) == 0


@pytest.mark.parametrize("batch", [0, 16])
def test_network_rows_are_measured_at_the_weights_after_the_update(tmp_path, batch):
    sim = Simulation(write(tmp_path, NETWORK.format(batch=batch)))
    rs = sim.runs[0]
    X, y = rs.problem.data["X"], rs.problem.data["y"]
    for _ in range(4):
        micro = rs.next_batch()  # what the record was measured on (and the next update uses)
        xm = np.concatenate([m[0] for m in micro])
        ym = np.concatenate([m[1] for m in micro])
        with no_grad():
            loss, _acc = rs._eval(xm, ym)
            vloss, _vacc = rs._eval_val()
        assert rs.last.loss == pytest.approx(loss, rel=1e-12)
        assert rs.last.val_loss == pytest.approx(vloss, rel=1e-12)
        if batch == 0:  # a full batch: the record is the training loss at the weights drawn
            with no_grad():
                assert rs.last.loss == pytest.approx(rs._eval(X, y)[0], rel=1e-12)
        sim.step(1)
    assert [int(s) for s in rs.history.steps] == [0, 1, 2, 3, 4]
    assert rs.first_layers is not None and len(rs.layers) == 2


def test_the_cli_rows_zero_and_one_differ():
    out = subprocess.run([sys.executable, "-m", "descent_tui", "run", "first-descent",
                          "--steps", "2", "--every", "1", "--format", "csv"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    rows = {(r.split(",")[0], r.split(",")[1]): r.split(",")[2:] for r in out[1:]}
    for label in ("careful", "bold", "reckless"):
        assert float(rows[("0", label)][0]) == pytest.approx(9.0)
        assert rows[("0", label)] != rows[("1", label)]
