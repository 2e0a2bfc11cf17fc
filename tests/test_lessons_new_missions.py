"""The four missions issue 15 added: each shows, in its own run's numbers, what it teaches.

Steps are counted in updates through ``tests/_lessons.py``. Each test names the
mission sentence it guards. Also here: the run options those missions brought
(``bias_correction``, ``apply_twice``, ``pretrain``, ``[cost]``) refuse bad
input with one line naming the file and key.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from _lessons import losses_after_updates, updates_to_reach

from descent_tui.engine import Tensor, optim
from descent_tui.quiz import correct_answer, grade_prediction
from descent_tui.scenario import load_scenario
from descent_tui.scenario.errors import ScenarioError
from descent_tui.scenario.loader import loads_scenario
from descent_tui.sim import Simulation
from descent_tui.sim.cost import costs, forward_macs

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

NEW_MISSIONS = ("local-minima-and-saddles", "adam-bias-correction", "double-applied-update",
                "compute-and-carbon")
EXPECTED_PREDICTIONS = {
    "local-minima-and-saddles": ["momentum from the ridge", "momentum from the ridge"],
    "adam-bias-correction": ["Adam"],
    "double-applied-update": ["PyTorch loop"],
    "compute-and-carbon": ["pre-trained"],
}


@functools.cache
def finished(mission: str, **overrides) -> Simulation:
    sim = Simulation(load_scenario(SCENARIOS / f"{mission}.toml"), overrides or None)
    sim.step(sim.total_steps)
    return sim


def run(sim: Simulation, label: str):
    return next(r for r in sim.runs if r.label == label)


# ------------------------------------------------------------------ generic


@pytest.mark.parametrize("mission", NEW_MISSIONS)
def test_new_mission_is_complete(mission):
    spec = load_scenario(SCENARIOS / f"{mission}.toml").spec
    assert spec.id == mission
    assert spec.briefing.strip() and spec.debrief.strip() and spec.watch_for
    assert spec.knobs.present()
    assert len(spec.quiz.concept) >= 4 and len(spec.quiz.prediction) >= 1
    assert all(q.explanation.strip() for q in [*spec.quiz.concept, *spec.quiz.prediction])


def test_course_order_with_the_new_missions_is_unique():
    keys = [(s.chapter, s.order) for s in
            (load_scenario(p).spec for p in SCENARIOS.glob("*.toml"))]
    assert len(keys) >= 16
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("mission", NEW_MISSIONS)
def test_new_predictions_are_graded_as_taught(mission):
    sim = finished(mission)
    for q, expected in zip(sim.spec.quiz.prediction, EXPECTED_PREDICTIONS[mission], strict=True):
        assert correct_answer(q, sim) == expected, q.question
        assert q.choices[grade_prediction(q, sim)] == expected


# --------------------------------------------------- local minima and saddles


def test_saddle_of_x2_minus_y2_takes_sgd_350_updates_and_adam_11():
    """Concept explanation: 'from 0.001 to about 1 takes ln(1000)/ln(1.02) ≈ 350 updates'."""
    text = """id = "s"\ntitle = "s"\nsteps = 400\n[landscape]\nparams = ["x", "y"]
loss = "x**2 - y**2"\nstart = [2.0, 0.001]\n[[runs]]\nlabel = "sgd"\nlr = 0.01
[[runs]]\nlabel = "adam"\noptimizer = "adam"\nlr = 0.1\n"""
    sim = Simulation(loads_scenario(text))
    sim.step(400)
    # |y| >= 1 means y² >= 1; read from the path: the k-th point is after k updates
    ys = {r.label: np.abs(np.asarray(r.path)[:, 1]) for r in sim.runs}
    assert int(np.argmax(ys["sgd"] >= 1.0)) in range(340, 360)
    assert int(np.argmax(ys["adam"] >= 1.0)) in range(8, 15)
    assert math.log(1000) / math.log(1.02) == pytest.approx(349, abs=1)


def test_saddle_mission_sgd_stalls_adam_escapes_momentum_finds_the_deep_valley():
    sim = finished("local-minima-and-saddles")
    sgd, adam = run(sim, "SGD at the saddle"), run(sim, "Adam at the saddle")
    ridge, heavy = run(sim, "SGD from the ridge"), run(sim, "momentum from the ridge")
    # prediction explanation: momentum ~10, Adam ~17, SGD from the ridge ~57, SGD at the saddle ~280
    assert updates_to_reach(heavy, -0.05) == 10
    assert updates_to_reach(adam, -0.05) == 17
    assert updates_to_reach(ridge, -0.05) == 57
    assert 270 <= updates_to_reach(sgd, -0.05) <= 290
    # watch-for: SGD at the saddle sits within 0.05 of 0 for more than a hundred updates
    flat = losses_after_updates(sgd)[130:260]
    assert np.all(np.abs(flat) < 0.05)
    # briefing/debrief: shallow valley (0, 0.8) at −0.28, deep valley (0, −1.25) at −0.93
    for r in (sgd, adam, ridge):
        assert r.point == pytest.approx([0.0, 0.8], abs=5e-3)
        assert r.last.loss == pytest.approx(-0.2816, abs=1e-3)
    assert heavy.point == pytest.approx([0.0, -1.25], abs=1e-3)
    assert heavy.last.loss == pytest.approx(-0.9277, abs=1e-4)
    # momentum went uphill on its way over the bump; plain SGD never goes uphill
    assert np.any(np.diff(losses_after_updates(heavy)) > 0)
    assert np.all(np.diff(losses_after_updates(ridge)) <= 1e-12)
    assert sim.spec.landscape.minimum == pytest.approx(list(heavy.point), abs=1e-3)


# ------------------------------------------------------- Adam bias correction


def test_adam_without_bias_correction_first_step_is_3_16_lr():
    """Briefing/debrief: 'the uncorrected run moves it by about 3.2 × lr' (β = 0.9, 0.999)."""
    p, q = Tensor(np.array([1.0, -2.0]), requires_grad=True), Tensor(np.array([1.0, -2.0]),
                                                                      requires_grad=True)
    on = optim.Adam([p], lr=0.01)
    off = optim.Adam([q], lr=0.01, bias_correction=False)
    moves = []
    for t in range(1, 101):
        for x, opt in ((p, on), (q, off)):
            before = x.data.copy()
            x.grad = np.array([3.0, -0.5])  # a steady gradient
            opt.step()
            moves.append((t, opt is off, np.abs(x.data - before)))
    on1 = next(m for t, o, m in moves if t == 1 and not o)
    off_t = {t: m for t, o, m in moves if o}
    np.testing.assert_allclose(on1, 0.01, rtol=1e-6)
    np.testing.assert_allclose(off_t[1], 0.01 * 0.1 / math.sqrt(0.001), rtol=1e-6)
    np.testing.assert_allclose(off_t[12], 0.01 * 6.57, rtol=1e-2)   # "about 6.6·γ at step 12"
    np.testing.assert_allclose(off_t[100], 0.01 * 3.24, rtol=1e-2)  # "still 3.2·γ at step 100"


def test_adam_bias_correction_mission_numbers():
    sim = finished("adam-bias-correction")
    counts = {r.label: updates_to_reach(r, 0.01) for r in sim.runs}
    # debrief: 22 vs 48 at lr 0.5 ("about twice as long"), 144 vs 50 at lr 0.1
    assert counts == {"Adam": 22, "no correction": 48, "Adam, lr 0.1": 144,
                      "no correction, lr 0.1": 50}
    assert 2.0 <= counts["no correction"] / counts["Adam"] <= 2.3
    first = {r.label: np.abs(np.asarray(r.path)[1] - np.asarray(r.path)[0]) / r.config.lr
             for r in sim.runs}
    np.testing.assert_allclose(first["Adam"], 1.0, rtol=1e-6)
    np.testing.assert_allclose(first["no correction"], 3.162, rtol=1e-3)
    assert pytest.approx(0.12, abs=0.005) == 0.9 ** 20
    assert pytest.approx(0.095, abs=0.001) == 1 - 0.999 ** 100  # "only a tenth"


def test_adam_beta2_099_makes_the_first_uncorrected_step_about_lr():
    """Watch-for: 'Turn the beta2 knob down to 0.99: the first uncorrected step is then about lr'."""
    sim = Simulation(load_scenario(SCENARIOS / "adam-bias-correction.toml"), {"beta2": 0.99})
    sim.step(1)
    r = run(sim, "no correction")
    step = np.abs(np.asarray(r.path)[-1] - np.asarray(r.path)[0]) / r.config.lr
    np.testing.assert_allclose(step, 1.0, rtol=1e-6)


# ------------------------------------------------------ the double-applied update


def test_tf_port_is_the_doubled_learning_rate():
    sim = finished("double-applied-update")
    good, port, double = (run(sim, label) for label in
                          ("PyTorch loop", "TF port", "PyTorch at lr 1.2"))
    a, b = losses_after_updates(port), losses_after_updates(double)
    assert len(a) == len(b)
    np.testing.assert_allclose(a, b, rtol=1e-9)  # "agreed to rounding on every step"
    assert port.diverged_at == double.diverged_at is not None and port.diverged_at <= 25
    assert not good.diverged and updates_to_reach(good, 0.02) <= 5
    # debrief: the largest curvature is about 2.0, edge of stability 2/2.0 ≈ 1.0
    X = sim.data["X"][:, 0]
    H = 2 * np.array([[np.mean(X * X), np.mean(X)], [np.mean(X), 1.0]])
    assert np.linalg.eigvalsh(H).max() == pytest.approx(2.0, abs=0.01)


def test_double_applied_momentum_is_not_a_doubled_rate():
    """Debrief: 'a rate (0.2) at which the double call diverges while the correct step at 0.4 does not'."""
    loaded = load_scenario(SCENARIOS / "double-applied-update.toml")
    sim = Simulation(loaded, {"optimizer": "momentum", "momentum": 0.9, "runs[0].lr": 0.2,
                              "runs[1].lr": 0.2, "runs[2].lr": 0.4})
    sim.step(sim.total_steps)
    assert run(sim, "TF port").diverged
    assert not run(sim, "PyTorch at lr 1.2").diverged  # label kept; its lr is 0.4 here


def test_double_applied_adam_starts_like_a_doubled_rate_then_drifts():
    loaded = load_scenario(SCENARIOS / "double-applied-update.toml")
    sim = Simulation(loaded, {"optimizer": "adam", "runs[0].lr": 0.05, "runs[1].lr": 0.05,
                              "runs[2].lr": 0.1})
    sim.step(40)
    a = losses_after_updates(run(sim, "TF port"))
    b = losses_after_updates(run(sim, "PyTorch at lr 1.2"))
    assert np.allclose(a[:3], b[:3], rtol=2e-3)
    assert np.max(np.abs(a - b) / b) > 0.1


# ------------------------------------------------------------ compute and carbon


def test_compute_and_carbon_bills():
    sim = finished("compute-and-carbon")
    bills = {c.label: c for c in costs(sim)}
    # briefing: 1·32 + 32·32 + 32·1 = 1088 MACs forward; 3 × 1088 × 64 = 208,896 per update
    assert forward_macs([1, 32, 32, 1]) == 1088
    assert {c.macs_per_step for c in bills.values()} == {208_896}
    tuned, pre = bills["tuned"], bills["pre-trained"]
    assert tuned.updates == 181  # debrief: "181 updates: ≈ 38 million MACs, about 0.4 mJ"
    assert tuned.macs_to_target == pytest.approx(38e6, rel=0.01)
    assert tuned.joules_to_target == pytest.approx(0.4e-3, rel=0.06)
    for label in ("lr too small", "plain SGD"):  # "never got there in 300 updates: 63 million"
        assert bills[label].updates is None
        assert bills[label].macs_spent == pytest.approx(63e6, rel=0.01)
    assert pre.updates == 62  # "62 updates, about a third of the tuned run's bill"
    assert pre.macs_to_target / tuned.macs_to_target == pytest.approx(1 / 3, abs=0.03)
    assert pre.pretrain_macs == pytest.approx(67e6, rel=0.01)  # "67 million MACs"
    assert pre.pretrain_macs > tuned.macs_to_target  # "cost more than training from scratch"
    # watch-for: the pre-trained run starts at a far lower loss
    starts = {r.label: losses_after_updates(r)[0] for r in sim.runs}
    assert starts["pre-trained"] < starts["tuned"] / 20


def test_pretraining_is_cached_and_reproducible():
    loaded = load_scenario(SCENARIOS / "compute-and-carbon.toml")
    sim = Simulation(loaded)
    w = [p.data.copy() for p in run(sim, "pre-trained").params]
    sim.reset()
    again = [p.data for p in run(sim, "pre-trained").params]
    for x, y in zip(w, again, strict=True):
        np.testing.assert_array_equal(x, y)  # same path, rerun
    fresh = [p.data for p in run(sim, "tuned").params]
    assert not all(np.array_equal(x, y) for x, y in zip(w, fresh, strict=True))


def test_cli_json_carries_the_bill(capsys):
    from descent_tui.cli import main

    assert main(["run", "compute-and-carbon", "--steps", "20", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    bill = doc["runs"][0]["cost"]
    assert bill["macs_per_step"] == 208_896 and bill["updates_taken"] == 20
    assert bill["joules_spent"] == pytest.approx(20 * 208_896 * 1e-11)
    assert main(["run", "the-bowl", "--steps", "5", "--format", "json"]) == 0
    assert "cost" not in json.loads(capsys.readouterr().out)["runs"][0]


# ----------------------------------------------------------- hostile options

_NET = """id = "h"\ntitle = "h"\n[network]\nloss = "mse"
data = { kind = "sine", n = 32 }\nmodel = { layers = [1, 4, 1] }\n"""
_LAND = """id = "h"\ntitle = "h"\n[landscape]\nparams = ["x"]\nloss = "x**2"\nstart = [1.0]\n"""


@pytest.mark.parametrize(("text", "key", "words"), [
    (_LAND + '[[runs]]\nlabel = "a"\nbias_correction = false\n',
     "runs[0].bias_correction", "only used by optimizers 'adam' and 'adamw'"),
    (_LAND + '[[runs]]\nlabel = "a"\noptimizer = "adam"\nbias_correction = "no"\n',
     "runs[0].bias_correction", "expected true or false"),
    (_LAND + '[[runs]]\nlabel = "a"\noptimizer = "newton"\napply_twice = true\n',
     "runs[0].apply_twice", "first-order"),
    (_LAND + '[[runs]]\nlabel = "a"\napply_twice = 2\n', "runs[0].apply_twice", "expected true or false"),
    (_LAND + '[[runs]]\nlabel = "a"\n[runs.pretrain]\ndata = { kind = "sine" }\nsteps = 5\n',
     "runs[0].pretrain", "only used by network scenarios"),
    (_NET + '[[runs]]\nlabel = "a"\n[runs.pretrain]\ndata = { kind = "moons" }\nsteps = 5\n',
     "runs[0].pretrain.data.kind", "feature"),
    (_NET + '[[runs]]\nlabel = "a"\n[runs.pretrain]\ndata = { kind = "sine" }\nsteps = 0\n',
     "runs[0].pretrain.steps", ">= 1"),
    (_NET + '[[runs]]\nlabel = "a"\n[runs.pretrain]\nsteps = 5\n',
     "runs[0].pretrain", "missing required key 'data'"),
    (_NET + '[[runs]]\nlabel = "a"\n[runs.pretrain]\ndata = { kind = "sine", n = 100000 }\n'
            'steps = 100000\n', "runs[0].pretrain.steps", "floating-point operations"),
    (_NET + '[[runs]]\nlabel = "a"\n[runs.pretrain]\ndata = { kind = "csv", path = "x.csv" }\n'
            'steps = 5\n', "runs[0].pretrain.data.kind", "not 'csv'"),
    (_NET + '[cost]\ntarget = nan\n[[runs]]\nlabel = "a"\n', "cost.target", "finite"),
    (_NET + '[cost]\ntarget = 0.1\njoules_per_mac = 0\n[[runs]]\nlabel = "a"\n',
     "cost.joules_per_mac", "> 0"),
    (_NET + '[cost]\ntargit = 0.1\n[[runs]]\nlabel = "a"\n', "cost.targit", "did you mean"),
    (_LAND + '[cost]\ntarget = 0.1\n[[runs]]\nlabel = "a"\n', "cost", "network"),
])
def test_new_options_refuse_bad_input_in_one_line(text, key, words):
    with pytest.raises(ScenarioError) as info:
        loads_scenario(text, name="hostile.toml")
    lines = [str(p) for p in info.value.problems]
    hit = [line for line in lines if f" {key}:" in line or line.startswith(f"hostile.toml: {key}:")
           or f": {key}:" in line]
    assert hit, lines
    assert all("\n" not in line for line in lines)
    assert hit[0].startswith("hostile.toml")
    assert words in hit[0], hit[0]
