"""The Lab's model (descent_tui.scenario.lab): config → scenario TOML → runs, and back.

Also the two schema additions the Lab needs: ``[network] inputs`` (feature crosses)
and ``[[runs]] l1``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from descent_tui.scenario import ScenarioError, find, load_scenario, loads_scenario
from descent_tui.scenario.catalog import discover
from descent_tui.scenario.lab import (
    LabConfig,
    LabRun,
    from_scenario,
    left_behind,
    save_mission,
    to_loaded,
    to_toml,
)
from descent_tui.sim import Simulation

ROOT = Path(__file__).resolve().parents[1]
CROSSES = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]


def trained(loaded, steps: int = 30) -> list[list[float]]:
    """Every run's weights after ``steps`` steps, flattened, plus its loss history."""
    sim = Simulation(loaded)
    sim.step(steps)
    return [[float(x) for p in run.params for x in np.ravel(p.data)] + [run.last.loss]
            for run in sim.runs]


SETUPS = {
    "playground default": LabConfig(),
    "spiral with crosses": LabConfig(dataset="spiral", inputs=CROSSES, hidden=[8, 8],
                                     activations=["tanh", "relu"], samples=150, noise=0.05,
                                     runs=[LabRun(lr=0.01, l1=0.001, l2=0.0003)]),
    "xor, two optimizers": LabConfig(dataset="xor", hidden=[3], activations=["sigmoid"],
                                     runs=[LabRun(label="sgd", lr=0.3),
                                           LabRun(label="adam", optimizer="adam", lr=0.01,
                                                  betas=(0.8, 0.99), clip_norm=1.0)]),
    "three blobs": LabConfig(dataset="blobs", classes=3, loss="cross_entropy", inputs=None,
                             hidden=[], activations=[], batch_size=0),
    "sine": LabConfig(dataset="sine", loss="mse", inputs=["x1", "sin(x1)"], hidden=[6],
                      activations=["relu"], init="kaiming_uniform", val_split=0.2,
                      runs=[LabRun(optimizer="momentum", momentum=0.5, batch_size=20)]),
}


@pytest.mark.parametrize("name", list(SETUPS))
def test_round_trip_builds_the_same_runs_bitwise(name):
    cfg = SETUPS[name]
    first = to_loaded(cfg)
    again = from_scenario(first.spec)
    assert again == cfg
    second = loads_scenario(to_toml(again))
    assert trained(second) == trained(first)


def test_a_shipped_mission_opens_in_the_lab_and_runs_the_same(tmp_path):
    mission = find("batch-sizes")
    assert left_behind(mission.spec) == ["quiz"]
    cfg = from_scenario(mission.spec)
    text = to_toml(cfg, id=mission.spec.id, title=mission.spec.title)
    assert trained(loads_scenario(text), 20) == trained(mission, 20)


def test_a_landscape_does_not_open_in_the_lab():
    with pytest.raises(ValueError, match="landscape"):
        from_scenario(find("the-bowl").spec)


def test_saved_mission_validates_and_the_board_lists_it(tmp_path, monkeypatch):
    monkeypatch.setenv("DESCENT_HOME", str(tmp_path))
    path = save_mission(SETUPS["spiral with crosses"], "My Spiral!")
    assert path == tmp_path / "scenarios" / "my-spiral.toml"
    loaded = load_scenario(path)
    assert "Made in the Lab" in loaded.spec.briefing
    good, broken = discover()
    assert [g.id for g in good if g.source == "user"] == ["my-spiral"]
    assert not [b for b in broken if b.source == "user"]
    out = subprocess.run([sys.executable, "-m", "descent_tui", "validate", str(path)],
                         capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "DESCENT_HOME": str(tmp_path)})
    assert out.returncode == 0, out.stdout + out.stderr
    assert trained(loaded) == trained(to_loaded(SETUPS["spiral with crosses"]))


def test_bad_lab_setup_is_refused_by_the_loader():
    cfg = LabConfig(dataset="sine", loss="mse", inputs=["x1", "x2"], hidden=[4],
                    activations=["tanh"])
    with pytest.raises(ScenarioError, match=r"network\.inputs\[1\].*needs 2 data columns"):
        to_loaded(cfg)


def _net(extra: str) -> str:
    return ('id = "t"\ntitle = "t"\n[network]\nloss = "bce"\n' + extra +
            'data = { kind = "xor", n = 20 }\nmodel = { layers = [3, 1] }\n'
            '[[runs]]\nlabel = "a"\n')


def test_inputs_must_match_the_first_layer_and_not_repeat():
    with pytest.raises(ScenarioError) as e:
        loads_scenario(_net('inputs = ["x1", "x1", "x1*x2", "x2"]\n'))
    text = "\n".join(e.value.problems)
    assert "network.inputs[1]: 'x1' is listed twice" in text
    assert "network.model.layers[0]: input size 3 does not match the 4 inputs" in text
    assert loads_scenario(_net('inputs = ["x1", "x2", "x1*x2"]\n')).spec.network.n_inputs == 3


def test_the_cross_x1x2_alone_solves_xor_with_no_hidden_layer():
    cfg = LabConfig(dataset="xor", noise=0.0, inputs=["x1*x2"], hidden=[], activations=[],
                    batch_size=0, steps=300, runs=[LabRun(lr=1.0)])
    sim = Simulation(to_loaded(cfg))
    sim.step(300)
    assert sim.runs[0].last.accuracy >= 0.97
    raw = Simulation(to_loaded(LabConfig(**{**cfg.__dict__, "inputs": ["x1", "x2"]})))
    raw.step(300)
    assert raw.runs[0].last.accuracy < 0.8


def test_l1_drives_weights_to_zero_and_applies_live():
    cfg = LabConfig(dataset="circles", inputs=CROSSES, hidden=[6], activations=["tanh"],
                    steps=400, runs=[LabRun(lr=0.05), LabRun(label="l1", lr=0.05, l1=0.02)])
    sim = Simulation(to_loaded(cfg))
    sim.step(400)
    w_plain, w_l1 = (np.abs(run.linears[0].weight.data) for run in sim.runs)
    assert np.count_nonzero(w_l1 < 0.02) > np.count_nonzero(w_plain < 0.02) + 5
    sim.set_regularization(l1=0.0, l2=0.5, run=1)
    assert sim.runs[1].l1 == 0.0
    assert sim.runs[1].optimizer.param_groups[0]["weight_decay"] == 0.5
    with pytest.raises(ValueError):
        sim.set_regularization(l1=-1.0)
