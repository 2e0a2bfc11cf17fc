"""Same seed, same numbers across BLAS thread counts (the CLI pins them; see cli/blas.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: wide enough that OpenBLAS splits the products over threads; clipping makes the
#: update depend on the gradient norm, where a different summation order shows
WIDE = """
id = "wide-clip"
title = "Wide"
chapter = 2
steps = 12
seed = 1
[network]
loss = "bce"
data = { kind = "moons", n = 256, noise = 0.1, seed = 3 }
model = { layers = [2, 512, 512, 1], activation = "tanh" }
[[runs]]
label = "clip"
optimizer = "sgd"
lr = 0.5
clip_norm = 0.5
"""


def _run(mission: Path, threads: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": threads,
           "OMP_NUM_THREADS": threads}
    env.pop("DESCENT_BLAS_THREADS", None)
    out = subprocess.run([sys.executable, "-m", "descent_tui", "run", str(mission),
                          "--format", "json", "--every", "1"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_reruns_agree_with_one_and_two_blas_threads(tmp_path):
    mission = tmp_path / "wide-clip.toml"
    mission.write_text(WIDE)
    # the same code path run twice: bitwise equality is the contract
    assert _run(mission, "1") == _run(mission, "2")


def test_pin_sets_every_blas_variable_before_numpy(monkeypatch):
    from descent_tui.cli import blas

    monkeypatch.setattr(sys, "modules", {k: v for k, v in sys.modules.items() if k != "numpy"})
    for name in blas.BLAS_VARIABLES:  # what the user had (restored after the test)
        monkeypatch.setenv(name, "8")
    monkeypatch.setenv("DESCENT_BLAS_THREADS", "3")
    assert blas.pin_blas_threads()
    assert all(os.environ[name] == "3" for name in blas.BLAS_VARIABLES)
