"""The simulation: trains a scenario's runs side by side, step by step.

    from descent_tui.sim import Simulation
    sim = Simulation(load_scenario("scenarios/the-ravine.toml"))
    sim.step(100)
    sim.runs[0].last.loss

The contract (what a step does, what the record of step ``s`` holds, when a run
is marked diverged) is in :mod:`descent_tui.sim.run`.
"""

from descent_tui.scenario.overrides import OverrideError
from descent_tui.sim.history import History
from descent_tui.sim.run import LayerRecord, Run, StepRecord
from descent_tui.sim.simulation import Simulation

__all__ = ["History", "LayerRecord", "OverrideError", "Run", "Simulation", "StepRecord"]
