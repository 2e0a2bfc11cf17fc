"""Lesson tests for the claims of compute-and-carbon, sentence by sentence.

The bill (``descent_tui.sim.cost``) is checked against the mission's own run and
against the arithmetic done by hand; the "3 × forward" rule against the shapes
of the matrix products a backward pass makes; the batch_size knob on a replay
that also measures the loss on all 64 readings.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from _lessons import losses_after_updates, run_named, run_to_end, updates_to_reach

from descent_tui.engine import no_grad
from descent_tui.scenario import load_scenario
from descent_tui.scenario.overrides import apply
from descent_tui.sim import Simulation
from descent_tui.sim.cost import costs, forward_macs, summary_line

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
MISSION = SCENARIOS / "compute-and-carbon.toml"
PER_UPDATE = 208_896


def finished() -> Simulation:
    return run_to_end(MISSION)


def run(label: str):
    return run_named(finished(), label)


@functools.cache
def bills() -> dict:
    return {c.label: c for c in costs(finished())}


# ---------------------------------------------------------------- the set-up


def test_the_task_and_the_runs():
    """compute-and-carbon: "Same task for everyone: fit the oxygen cycle (64 noisy readings
    of a sine wave) with a 1 → 32 → 32 → 1 tanh network, full batch, until the training
    loss is below 0.015"; "tuned: Adam, lr = 0.01"; "lr too small: Adam, lr = 0.001";
    "plain SGD: SGD, lr = 0.05"; "pre-trained: Adam, lr = 0.01, starting from weights that
    the sister outpost trained for 40 updates on its own, noisier oxygen log (512
    readings, noise 0.2)"."""
    spec = finished().spec
    net = spec.network
    assert (net.data.kind, net.data.n) == ("sine", 64) and net.data.noise > 0
    assert len(run("tuned").problem.data["X"]) == 64                  # all of them train
    assert list(net.model.layers) == [1, 32, 32, 1] and net.model.activation == "tanh"
    assert all(r.batch_size == 0 for r in finished().runs)           # full batch
    assert spec.cost.target == 0.015 and spec.quiz.prediction[0].threshold == 0.015
    want = {"tuned": ("adam", 0.01), "lr too small": ("adam", 0.001),
            "plain SGD": ("sgd", 0.05), "pre-trained": ("adam", 0.01)}
    assert {r.label: (r.config.optimizer, r.config.lr) for r in finished().runs} == want
    assert not run("plain SGD").config.momentum
    pre = run("pre-trained").config.pretrain
    assert (pre.steps, pre.data.kind, pre.data.n, pre.data.noise) == (40, "sine", 512, 0.2)
    assert pre.data.noise > net.data.noise and pre.data.seed != net.data.seed
    assert all(r.config.pretrain is None for r in finished().runs if r.label != "pre-trained")


def test_every_run_files_a_bill():
    """compute-and-carbon: "From today, every training run files an energy report"; "The
    run log below lists each run's updates to loss < 0.015 and what they cost"."""
    assert set(bills()) == {r.label for r in finished().runs}
    for c in bills().values():
        line = summary_line(c)
        assert "0.015" in line and "MAC" in line and "J" in line
        assert (f"{c.updates} updates" in line) if c.updates else "not below" in line


# ---------------------------------------------------------------- the arithmetic


def test_forward_macs_are_one_per_weight():
    """compute-and-carbon: "One example's forward pass costs one multiply-add (MAC) per
    weight: 1·32 + 32·32 + 32·1 = 1088 MACs"; "One multiply-add per weight: 1·32 + 32·32 +
    32·1 = 1088". Counted on the model's own weight matrices."""
    assert 1 * 32 + 32 * 32 + 32 * 1 == 1088 == forward_macs([1, 32, 32, 1])
    weights = sum(lin.weight.data.size for lin in run("tuned").linears)
    assert weights == 1088


def test_training_is_three_forward_passes():
    """compute-and-carbon: "Training costs about 3 × the forward pass: the backward pass does
    two matrix products per layer, one for the input's gradient and one for the weights'";
    "The rule of thumb: training costs ≈ 3 × forward MACs × examples × updates (Kaplan et
    al., 2020, write it as C ≈ 6·N FLOPs per training token for N parameters: a
    multiply-add is 2 FLOPs, so that is 3·N MACs)". The products' shapes, counted; the
    first layer's input gradient is not needed, hence 'about'."""
    layers, batch = [1, 32, 32, 1], 64
    fwd = sum(batch * a * b for a, b in zip(layers, layers[1:]))           # x·Wᵀ
    d_input = sum(batch * b * a for a, b in zip(layers, layers[1:]))       # g·W
    d_weight = sum(b * batch * a for a, b in zip(layers, layers[1:]))      # gᵀ·x
    assert fwd + d_input + d_weight == 3 * fwd
    needed = fwd + (d_input - batch * 1 * 32) + d_weight
    assert needed / fwd == pytest.approx(3, rel=0.01)
    # a backward pass on the engine really makes both gradients, of those shapes
    r = Simulation(load_scenario(MISSION)).runs[0]
    for lin in r.linears:
        assert lin.weight.grad is not None and lin.weight.grad.shape == lin.weight.data.shape
    n = 1088                                     # parameters (weights) of the network
    assert 6 * n / 2 == 3 * n == bills()["tuned"].macs_per_step / 64


def test_per_update_bill_and_its_arithmetic():
    """compute-and-carbon: "That gives 3 × 1088 × 64 examples = 208,896 MACs per update";
    "Every run pays the same 208,896 MACs per update"; "The bill is the number of updates
    times that"."""
    assert PER_UPDATE == 3 * 1088 * 64
    for r in finished().runs:
        c = bills()[r.label]
        assert c.macs_per_step == PER_UPDATE
        assert c.updates_taken == 300 and c.macs_spent == 300 * PER_UPDATE
        if c.updates is not None:
            assert c.macs_to_target == c.updates * PER_UPDATE


def test_energy_per_mac():
    """compute-and-carbon: "Energy assumes 1e-11 J (10 pJ) per MAC"; "Energy is that times
    the joules per operation of your hardware, which you should look up for the device
    you actually use"."""
    assert finished().spec.cost.joules_per_mac == 1e-11
    for c in bills().values():
        assert c.joules_per_mac == 1e-11
        if c.updates is not None:
            assert c.joules_to_target == pytest.approx(c.macs_to_target * 1e-11, rel=1e-12)
        assert c.pretrain_joules == pytest.approx(c.pretrain_macs * 1e-11, rel=1e-12)


def test_a100_peak_energy_per_mac():
    """compute-and-carbon: "That is an order of magnitude for a datacenter GPU in real use:
    an NVIDIA A100's peak works out to about 2.6 pJ per 16-bit MAC (312 TFLOP/s at 400
    W), and real training runs well below peak"; "Peak numbers from a data sheet give a
    lower bound (about 2.6 pJ per 16-bit MAC for an A100); real training runs below peak
    and pays for memory and cooling too". 312 TFLOP/s is 156 T MAC/s (2 FLOPs a MAC)."""
    per_mac = 400 / (312e12 / 2)
    assert per_mac == pytest.approx(2.6e-12, rel=0.02)
    assert per_mac < 1e-11 < 10 * per_mac          # 10 pJ: within an order of magnitude
    # 10 pJ is what 2.6 pJ at peak becomes at about a quarter of peak
    assert per_mac / 1e-11 == pytest.approx(0.26, abs=0.01)


# ---------------------------------------------------------------- the runs


def test_tuned_bill():
    """compute-and-carbon: "tuned got there in 181 updates: 181 × 208,896 ≈ 38 million MACs,
    about 0.4 mJ at 10 pJ per MAC"."""
    c = bills()["tuned"]
    assert c.updates == 181 == updates_to_reach(run("tuned"), 0.015)
    assert 181 * PER_UPDATE == c.macs_to_target == pytest.approx(38e6, rel=0.01)
    assert c.joules_to_target == pytest.approx(0.4e-3, rel=0.06)


def test_bad_rates_never_arrive_and_pay_full_price():
    """compute-and-carbon: "'lr too small' and 'plain SGD' are still above 0.015 when the
    step budget runs out"; "lr too small and plain SGD never got there in 300 updates: 63
    million MACs each, and nothing to show for them"."""
    assert finished().total_steps == 300
    for label in ("lr too small", "plain SGD"):
        loss = losses_after_updates(run(label))
        assert len(loss) == 301 and np.all(loss > 0.015)
        c = bills()[label]
        assert c.updates is None and c.macs_to_target is None
        assert c.macs_spent == 300 * PER_UPDATE == pytest.approx(63e6, rel=0.01)


def test_pretrained_run_starts_low_and_pays_a_third():
    """compute-and-carbon: "The pre-trained run starts at a far lower loss than the others:
    the sister outpost's weights already know the shape of the cycle"; "pre-trained got
    there in 62 updates, about a third of the tuned run's bill"."""
    starts = {r.label: losses_after_updates(r)[0] for r in finished().runs}
    others = [v for k, v in starts.items() if k != "pre-trained"]
    assert starts["pre-trained"] < min(others) / 20
    # the shape: far below what predicting the mean of the readings scores
    y = run("tuned").problem.data["y"]
    assert starts["pre-trained"] < np.var(y) / 5
    pre, tuned = bills()["pre-trained"], bills()["tuned"]
    assert pre.updates == 62
    assert pre.macs_to_target / tuned.macs_to_target == pytest.approx(1 / 3, abs=0.03)


def test_pretraining_cost_and_its_reuse():
    """compute-and-carbon: "But its pretraining (40 full-batch updates on 512 readings, 67
    million MACs) cost more than training from scratch"; "Pre-trained weights save energy
    because they are trained once and reused many times: the saving is per reuse, and the
    pretraining bill is shared by everyone who starts from them"; "One published
    checkpoint fine-tuned a thousand times costs its pretraining once"; "At that scale
    every wasted run of a hyperparameter search burns another bill of that size, and
    reusing a pre-trained model instead of training from scratch (transfer learning)
    saves most of a bill each time it is reused: here about two thirds, 62 updates
    instead of 181"."""
    pre, tuned = bills()["pre-trained"], bills()["tuned"]
    assert pre.pretrain_macs == 3 * 1088 * 512 * 40 == pytest.approx(67e6, rel=0.01)
    assert pre.pretrain_macs > tuned.macs_to_target                 # once: a loss
    saving = tuned.macs_to_target - pre.macs_to_target              # per reuse
    assert saving / tuned.macs_to_target == pytest.approx(2 / 3, abs=0.02)
    assert (pre.updates, tuned.updates) == (62, 181)
    # k reuses pay the pretraining once: it pays off from the third reuse on
    total = [pre.pretrain_macs + k * pre.macs_to_target for k in range(1, 6)]
    scratch = [k * tuned.macs_to_target for k in range(1, 6)]
    assert [t < s for t, s in zip(total, scratch, strict=True)] == [False, False, True, True, True]
    per_reuse_1000 = pre.pretrain_macs / 1000 + pre.macs_to_target
    assert per_reuse_1000 < 0.4 * tuned.macs_to_target
    # a wasted run pays at least a finished run's bill
    assert bills()["lr too small"].macs_spent > tuned.macs_to_target


def test_the_batch_size_knob():
    """compute-and-carbon: "Try the batch_size knob: smaller batches make each update
    cheaper, but it takes more of them: at batch 8 'tuned' needs 242 updates to bring its
    loss on all 64 readings below 0.015, and that is what its bill counts (one lucky batch
    of 8 reads below 0.015 after only 22)"; "Those 242 cheap updates cost 6.3 MMAC in all,
    against 37.8 MMAC for 181 full-batch ones." """
    knob = load_scenario(MISSION).spec.knobs.batch_size
    assert knob.min <= 8 <= knob.max
    sim = Simulation(apply(load_scenario(MISSION), {"batch_size": 8}))
    tuned = next(r for r in sim.runs if r.label == "tuned")
    X, y = tuned.problem.data["X"], tuned.problem.data["y"]
    whole = []
    for k in range(sim.total_steps + 1):
        with no_grad():
            whole.append(float(np.mean((tuned.forward(X).data.ravel() - y.ravel()) ** 2)))
        if k < sim.total_steps:
            sim.step(1)
    whole = np.array(whole)
    bill = next(c for c in costs(sim) if c.label == "tuned")
    assert bill.macs_per_step == 3 * 1088 * 8 < PER_UPDATE
    assert int(np.argmax(whole < 0.015)) == 242 > bills()["tuned"].updates == 181
    assert bill.updates == 242  # the bill counts the model on the whole set ...
    assert tuned.first_step_below(0.015) == 22 and whole[22] > 4 * 0.015  # ... not one batch
    assert bill.macs_to_target == pytest.approx(6.3e6, rel=0.01)
    assert bills()["tuned"].macs_to_target == pytest.approx(37.8e6, rel=0.01)
