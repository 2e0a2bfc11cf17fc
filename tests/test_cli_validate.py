"""The descent CLI: validate exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _scenario_examples import LANDSCAPE, NETWORK

from descent_tui import __version__
from descent_tui.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.setenv("DESCENT_HOME", str(tmp_path / "home"))
    good = tmp_path / "good.toml"
    good.write_text(LANDSCAPE)
    net = tmp_path / "net.toml"
    net.write_text(NETWORK)
    bad = tmp_path / "bad.toml"
    bad.write_text(LANDSCAPE.replace('optimizer = "momentum"', 'optimizer = "adma"')
                   .replace("steps = 50", "steps = 0"))
    return good, net, bad


def test_version(capsys):
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_help(capsys):
    assert main(["--help"]) == 0
    assert "validate" in capsys.readouterr().out


def test_validate_good(files, capsys):
    good, net, _ = files
    assert main(["validate", str(good), str(net)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"ok: {good} (ex-ravine)", f"ok: {net} (ex-spiral)"]


def test_validate_bad(files, capsys):
    good, _, bad = files
    assert main(["validate", str(good), str(bad)]) == 2
    cap = capsys.readouterr()
    assert cap.out.strip() == f"ok: {good} (ex-ravine)"
    err = cap.err.strip().splitlines()
    assert len(err) == 2
    assert any("runs[1].optimizer: unknown optimizer 'adma' (did you mean 'adam'?)" in e
               for e in err)
    assert all(e.startswith(f"{bad}:") for e in err)
    assert "Traceback" not in cap.err


def test_validate_missing_and_binary(tmp_path, capsys):
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\x00\xff\xfe")
    assert main(["validate", str(tmp_path / "nope.toml"), str(binary)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "file not found" in err[0] and "binary" in err[1]


def test_usage_errors_are_one_line(capsys):
    assert main(["validate"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("descent: error:")
    assert main(["run", "x.toml", "--steps", "zero"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_list_and_show(files, capsys):
    good, _net, _bad = files
    assert main(["list", "-p", str(good.parent)]) == 0
    out = capsys.readouterr().out
    assert "ex-ravine" in out and "ex-spiral" in out and "broken (1)" in out
    assert main(["show", str(good)]) == 0
    out = capsys.readouterr().out
    assert "BRIEFING" in out and "Momentum: momentum, lr 0.05" in out
    assert "Which run first reaches loss < 0.01?" in out
    assert main(["show", "no-such-id"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no scenario with this id" in err[0]


def test_run_with_bad_override(files, capsys):
    good, _, _ = files
    assert main(["run", str(good), "--set", "lr=-3"]) == 2
    err = capsys.readouterr().err
    assert "lr: expected a number > 0" in err and "got integer -3" in err


def test_run_calls_headless(files, monkeypatch):

    seen = {}

    def run_command(scenario, args):
        seen["id"], seen["steps"], seen["set"] = scenario.id, args.steps, args.overrides
        return 0

    from descent_tui.cli import commands

    monkeypatch.setattr(commands, "run_command", run_command)
    good, _, _ = files
    assert main(["run", str(good), "--steps", "5", "--set", "lr=0.2", "--format", "csv"]) == 0
    assert seen == {"id": "ex-ravine", "steps": 5, "set": ["lr=0.2"]}


def test_bare_target_opens_app(files, monkeypatch):
    import types

    seen = {}

    def run_app(initial=None, extra_paths=()):
        seen["initial"] = initial and initial.id
        seen["extra"] = list(extra_paths)
        return 0

    monkeypatch.setitem(sys.modules, "descent_tui.tui.app",
                        types.SimpleNamespace(run_app=run_app))
    good, _, _ = files
    assert main([str(good)]) == 0
    assert seen == {"initial": "ex-ravine", "extra": []}
    assert main(["-p", str(good.parent)]) == 0
    assert seen == {"initial": None, "extra": [str(good.parent)]}


def test_subprocess_no_traceback(files):
    _, _, bad = files
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DESCENT_DEBUG", None)
    proc = subprocess.run([sys.executable, "-m", "descent_tui", "validate", str(bad)],
                          capture_output=True, text=True, env=env, timeout=60, cwd=ROOT,
                          check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith(f"{bad}:") for line in lines)
