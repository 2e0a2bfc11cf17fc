"""``descent export``: a mission's runs as standalone scripts that reproduce them.

    from descent_tui.export import export_script, run_plans
    plans = run_plans(loaded, [("steps", 30)])
    text = export_script(plans[0], "numpy")      # "numpy" | "torch" | "engine" | "tensorflow"

Each script embeds the run's data and initial weights as literals, builds the
optimizer, schedule, clipping and accumulation the run used, and prints
``k loss`` per line, the training loss after k updates (see
:mod:`descent_tui.export.frame`). "tensorflow" is for reading only: it is
not run by the tests (descent does not depend on TensorFlow).
"""

from __future__ import annotations

from descent_tui.export.frame import PHASES, phase_lines
from descent_tui.export.plan import ExportError, RunPlan, run_plans

__all__ = ["PHASES", "TARGETS", "ExportError", "RunPlan", "export_script", "phase_lines",
           "run_plans"]

#: the targets ``descent export --to`` writes
TARGETS = ("numpy", "engine", "torch")


def export_script(plan: RunPlan, target: str) -> str:
    """The script of ``plan`` for ``target``; ExportError where the run has none."""
    from descent_tui.export import torchlike

    if target == "engine":
        return torchlike.engine_script(plan)
    if target == "torch":
        return torchlike.torch_script(plan)
    if target == "numpy":
        from descent_tui.export.numpy_target import numpy_script
        return numpy_script(plan)
    if target == "tensorflow":
        from descent_tui.export.tensorflow import tensorflow_script
        return tensorflow_script(plan)
    raise ExportError(f"unknown export target {target!r} (choose from {', '.join(TARGETS)})")
