"""Resource bounds: the loader refuses a network step a laptop cannot take, by file,
``--set`` or knob alike; an out-of-memory step is an error, never a divergence."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from descent_tui.scenario.errors import ScenarioError
from descent_tui.scenario.loader import loads_scenario
from descent_tui.scenario.overrides import OverrideError, apply

REPO = Path(__file__).resolve().parents[1]


def _net(n=64, layers="[2, 8, 8, 1]", runs=1, optimizer="sgd", knobs="", batch=0):
    run_tables = "".join(f'\n[[runs]]\nlabel = "r{i}"\noptimizer = "{optimizer}"\nlr = 0.1\n'
                         for i in range(runs))
    return (f'id = "budget"\ntitle = "Budget"\nchapter = 2\nsteps = 5\n'
            f'[network]\nloss = "bce"\nbatch_size = {batch}\n'
            f'data = {{ kind = "moons", n = {n}, noise = 0.1 }}\n'
            f'model = {{ layers = {layers}, activation = "tanh" }}\n{run_tables}{knobs}')


def _problems(text):
    with pytest.raises(ScenarioError) as e:
        loads_scenario(text)
    return e.value.problems


HUGE = "[2, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1]"


def test_huge_network_is_refused_quickly_naming_key_and_estimate():
    t0 = time.perf_counter()
    problems = _problems(_net(n=100_000, layers=HUGE, runs=8))
    assert time.perf_counter() - t0 < 2.0
    assert len(problems) == 1
    assert "network.model.layers" in problems[0]
    assert "GB of memory" in problems[0] and "100000 samples" in problems[0]


def test_shipped_networks_fit_the_budget():
    from descent_tui.scenario.budget import MAX_STEP_BYTES, MAX_STEP_FLOPS, step_cost
    from descent_tui.scenario.catalog import discover

    good, broken = discover([])
    nets = [e.spec for e in good if e.spec.network is not None]
    assert nets and not broken
    for spec in nets:
        cost = step_cost(spec, spec.network.data.n)
        assert cost.bytes < MAX_STEP_BYTES / 100 and cost.flops < MAX_STEP_FLOPS / 100


def test_a_small_network_is_accepted():
    assert loads_scenario(_net()).spec.network is not None


def test_newton_on_a_big_batch_is_refused_though_under_400_parameters():
    # 337 parameters, but 2·P gradient evaluations over 100 000 rows a step
    problems = _problems(_net(n=100_000, layers="[2, 16, 16, 1]", optimizer="newton"))
    assert any("runs[0].optimizer" in p and "floating-point operations" in p for p in problems)


def test_set_cannot_reach_what_the_file_could_not():
    loaded = loads_scenario(_net())
    with pytest.raises(OverrideError) as e:
        apply(loaded, {"network.data.n": 100_000, "network.model.layers": eval(HUGE)})
    assert "GB of memory" in str(e.value)
    with pytest.raises(OverrideError):
        apply(loads_scenario(_net(n=100_000, layers="[2, 16, 16, 1]")), {"optimizer": "newton"})


def test_a_knob_offering_newton_on_a_big_network_is_refused():
    knob = '\n[knobs]\noptimizer = { choices = ["sgd", "newton"] }\n'
    problems = _problems(_net(layers="[2, 64, 64, 1]", knobs=knob))
    assert any("knobs.optimizer.choices" in p and "newton" in p for p in problems)
    # on a network Newton can handle, offering it is fine
    assert loads_scenario(_net(layers="[2, 4, 1]", knobs=knob)).spec.knobs is not None


# ------------------------------------------------------------------ out of memory


def _oom_sim(monkeypatch):
    from descent_tui.sim import Simulation
    from descent_tui.sim.network import NetworkRun

    def no_memory(self, s):
        raise MemoryError("Unable to allocate 16.0 GiB for an array")

    monkeypatch.setattr(NetworkRun, "_train_step", no_memory)
    return Simulation(loads_scenario(_net()))


def test_out_of_memory_is_an_error_not_a_divergence(monkeypatch):
    from descent_tui.sim.run import OutOfMemory

    sim = _oom_sim(monkeypatch)
    with pytest.raises(OutOfMemory) as e:
        sim.step(1)
    assert isinstance(e.value, MemoryError) and isinstance(e.value, ScenarioError)
    assert "out of memory at step 1" in str(e.value) and "'r0'" in str(e.value)
    assert not sim.runs[0].diverged


def test_cli_reports_out_of_memory_with_exit_2(tmp_path):
    mission = tmp_path / "budget.toml"
    mission.write_text(_net())
    code = ("import sys; from descent_tui.sim.network import NetworkRun\n"
            "def boom(self, s): raise MemoryError('no room')\n"
            "NetworkRun._train_step = boom\n"
            "from descent_tui.cli import main\n"
            f"sys.exit(main(['run', {str(mission)!r}, '--steps', '2']))\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2, out.stderr
    assert "out of memory at step 1" in out.stderr
    assert "diverged" not in out.stdout + out.stderr
