"""The simulation runner: trains a scenario's runs side by side (see /work/notes/sim_api.md).

    from descent_tui.sim import Simulation
    sim = Simulation(load_scenario("scenarios/ravine.toml"))
    sim.step(100)
    sim.runs[0].last["loss"]
"""

from descent_tui.scenario.overrides import OverrideError
from descent_tui.sim.history import History
from descent_tui.sim.runner import RunState, Simulation

__all__ = ["History", "OverrideError", "RunState", "Simulation"]
