"""``descent export``: every shipped mission's runs, exported and run, reproduce descent's losses.

Each script runs in a subprocess; its ``k loss`` lines (the loss after k
updates) are compared with the Simulation's losses (``tests/_lessons.py``) over
the steps both have (a diverged run stops in both). NumPy and engine scripts
agree to 1e-12 relative, PyTorch's to 1e-9 (float64; skipped without torch).
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _lessons import losses_after_updates

from descent_tui.cli import main
from descent_tui.export import ExportError, export_script, phase_lines, run_plans
from descent_tui.scenario.catalog import find
from descent_tui.scenario.overrides import apply
from descent_tui.sim import Simulation

ROOT = Path(__file__).resolve().parents[1]
MISSIONS = sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))
STEPS = 30
TOL = {"numpy": 1e-12, "engine": 1e-12, "torch": 1e-9}
HAS_TORCH = importlib.util.find_spec("torch") is not None


def _outputs(text: str) -> dict[str, dict[str, np.ndarray]]:
    """Run ``text`` in a fresh Python: {mission: {run label: its k-loss values}}."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-"], input=text, capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    missions: dict[str, dict[str, list[float]]] = {}
    runs: dict[str, list[float]] = {}
    current: list[float] = []
    for line in done.stdout.splitlines():
        if line.startswith("# mission "):
            runs = missions.setdefault(line[10:], {})
        elif line.startswith("# run "):
            current = runs.setdefault(line[6:], [])
        elif not line.startswith("#"):
            k, value = line.split()
            assert int(k) == len(current)
            current.append(float(value))
    return {m: {label: np.array(v) for label, v in r.items()} for m, r in missions.items()}


def _scripts(mission: str, target: str) -> dict[str, str]:
    """The mission's runs (STEPS steps) exported for ``target``, by run label."""
    scripts = {}
    for plan in run_plans(find(mission, []), [("steps", STEPS)]):
        try:
            scripts[plan.label] = export_script(plan, target)
        except ExportError as e:       # a combination written for no target (said in one line)
            assert "not written" in str(e) and plan.config.optimizer != "newton"
    return scripts


@functools.cache
def _every_mission_run(target: str) -> dict[str, dict[str, np.ndarray]]:
    """Every mission's scripts for ``target`` run in one subprocess, one after another
    (each script seeds and sets up its own state): PyTorch is imported once, not
    thirteen times (about 2.5 s each)."""
    texts = [f'print("# mission {m}")\n\n' + "\n\n".join(_scripts(m, target).values())
             for m in MISSIONS]
    return _outputs("\n\n".join(texts))


@pytest.mark.parametrize("target", ["numpy", "engine",
                                    pytest.param("torch", marks=pytest.mark.skipif(
                                        not HAS_TORCH, reason="torch is not installed"))])
@pytest.mark.parametrize("mission", MISSIONS)
def test_export_reproduces_the_run(mission: str, target: str) -> None:
    sim = Simulation(apply(find(mission, []), [("steps", STEPS)]))
    sim.step(STEPS)
    scripts = _scripts(mission, target)
    assert scripts, "at least one run of every mission exports"
    got = _every_mission_run(target)[mission]
    assert sorted(got) == sorted(scripts)  # every exported run printed its losses
    for run in sim.runs:
        if run.label not in scripts:
            continue
        want = losses_after_updates(run)
        have = got[run.label]
        n = min(len(want), len(have))
        assert n >= min(len(want), 2)
        rel = np.abs(have[:n] - want[:n]) / np.maximum(np.abs(want[:n]), 1e-300)
        assert rel.max() <= TOL[target], (run.label, rel.max())


def test_scripts_name_the_five_phases() -> None:
    plan = run_plans(find("forgot-zero-grad", []))[0]
    for target in ("numpy", "engine", "torch"):
        lines = phase_lines(export_script(plan, target))
        assert list(lines) == ["zero_grad", "forward", "loss", "backward", "step"]


def test_cli_writes_a_script(tmp_path: Path) -> None:
    out = tmp_path / "bowl.py"
    assert main(["export", "the-bowl", "--to", "numpy", "--run", "1", "--steps", "3",
                 "-o", str(out)]) == 0
    text = out.read_text()
    assert "def backward(" in text and "STEPS = 3" in text


@pytest.mark.parametrize("argv, words", [
    (["export", "the-bowl", "--set", "lr=-1"], ["the-bowl.toml", "--set lr"]),
    (["export", "the-bowl", "--set", "nope=1"], ["the-bowl.toml", "nope"]),
    (["export", "the-bowl", "--run", "zz"], ["--run zz"]),
    (["export", "newton-vs-gradient", "--to", "torch", "--run", "1", "--set", "clip_norm=1"],
     ["Newton", "clipping"]),
    (["export", "no-such-mission"], ["no-such-mission"]),
])
def test_cli_errors_are_one_line(argv, words, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    for w in words:
        assert w in err


@pytest.mark.parametrize("mission", MISSIONS)
def test_every_run_reads_in_every_language_with_its_five_phases(mission: str) -> None:
    """The Code view's texts: each parses as Python and tags the five phases in order."""
    for plan in run_plans(find(mission, []), [("steps", 5)]):
        for target in ("numpy", "engine", "torch", "tensorflow"):
            text = export_script(plan, target)
            ast.parse(text)
            lines = phase_lines(text)
            assert list(lines) == ["zero_grad", "forward", "loss", "backward", "step"], \
                (plan.label, target)
            assert sorted(lines.values()) == list(lines.values())


def test_tensorflow_script_uses_the_runs_settings() -> None:
    plan = run_plans(find("forgot-zero-grad", []))[0]
    text = export_script(plan, "tensorflow")
    assert "tf.GradientTape()" in text and "import torch" not in text
    assert f"learning_rate={plan.config.lr!r}" in text
    assert ("total = grads if total is None" in text) == bool(plan.config.forget_zero_grad)


def test_newton_is_written_out_as_a_hessian_and_a_solve() -> None:
    """torch.optim has no Newton: each script builds H and solves (H + delta*I) d = -g."""
    plans = {p.label: p for p in run_plans(find("newton-vs-gradient", []))}
    for target in ("numpy", "engine", "torch"):
        text = export_script(plans["damped Newton"], target)
        assert "def hessian(theta" in text and "np.linalg.solve(A, -g)" in text
        assert "LR = 0.5" in text and "optimizer" not in text.split('"""', 2)[2]
        assert ("def backward(" in text) == (target == "numpy")  # the gradient by hand
