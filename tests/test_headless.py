"""``descent run``'s engine: run_command output formats and --set handling (in-process)."""

from __future__ import annotations

import argparse
import csv
import io
import json
import textwrap

import pytest

from descent_tui.cli.commands import run_command
from descent_tui.cli.printing import json_safe
from descent_tui.scenario import load_scenario

SCENARIO = """
id = "bowl"
title = "Bowl"
steps = 40
[landscape]
params = ["x", "y"]
loss = "x**2 + 3*y**2"
start = [2.0, 1.0]
[[runs]]
label = "SGD"
lr = 0.05
[[runs]]
label = "Boom"
lr = 5.0
"""


@pytest.fixture
def loaded(tmp_path):
    p = tmp_path / "bowl.toml"
    p.write_text(textwrap.dedent(SCENARIO))
    return load_scenario(p)


def args(**kw):
    base = {"steps": None, "every": None, "format": "table", "overrides": []}
    base.update(kw)
    return argparse.Namespace(**base)


def test_json_is_one_valid_document(loaded, capsys):
    assert run_command(loaded, args(format="json", every=10)) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)  # strict: NaN / Infinity would fail json's parse_constant below
    json.loads(out, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert doc["scenario"] == "bowl" and doc["steps"] == 40
    sgd, boom = doc["runs"]
    assert sgd["label"] == "SGD" and sgd["diverged_at"] is None and sgd["reason"] is None
    assert [h["step"] for h in sgd["history"]] == [0, 10, 20, 30, 40]
    assert set(sgd["history"][1]) >= {"step", "loss", "val_loss", "accuracy", "lr", "grad_norm"}
    assert sgd["final"]["loss"] < 1e-2
    assert boom["diverged_at"] is not None and "step" in boom["reason"]
    assert "diverged" in err  # the summary goes to stderr


def test_json_encodes_non_finite_values(tmp_path, capsys):
    text = SCENARIO.replace("[landscape]", "diverge_above = 1e300\n[landscape]").replace(
        'loss = "x**2 + 3*y**2"', 'loss = "exp(x**2) + y**2"').replace("lr = 5.0", "lr = 1e6")
    p = tmp_path / "inf.toml"
    p.write_text(textwrap.dedent(text))
    assert run_command(load_scenario(p), args(format="json")) == 0
    out = capsys.readouterr().out
    doc = json.loads(out, parse_constant=lambda c: pytest.fail(c))
    boom = doc["runs"][1]
    assert boom["diverged_at"] is not None
    assert boom["final"]["loss"] == "Infinity"  # exp(x²) overflows: inf written as JSON can read it


def test_json_safe():
    assert json_safe({"a": float("nan"), "b": [float("inf"), -float("inf"), 1.0]}) == {
        "a": "NaN", "b": ["Infinity", "-Infinity", 1.0]}


def test_table_is_aligned(loaded, capsys):
    assert run_command(loaded, args(every=20)) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.lstrip().startswith("step"))
    rows = lines[header + 2:lines.index("", header)]
    assert len({len(r) for r in rows}) == 1  # every row the same width
    assert len(rows[0]) == len(lines[header])
    assert any(r.split()[1] == "Boom" for r in rows)
    assert "diverged" in out  # table: summary on stdout


def test_csv(loaded, capsys):
    assert run_command(loaded, args(format="csv", every=20, steps=40)) == 0
    out, err = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0].keys() == {"step", "run", "loss", "val_loss", "accuracy", "lr", "grad_norm"}
    sgd = [r for r in rows if r["run"] == "SGD"]
    assert [int(r["step"]) for r in sgd] == [0, 20, 40]
    assert float(sgd[-1]["loss"]) < 1e-2 and sgd[-1]["val_loss"] == ""
    assert "Boom" in err


def test_set_overrides(loaded, capsys):
    assert run_command(loaded, args(format="json", overrides=["lr=0.01"])) == 0
    doc = json.loads(capsys.readouterr().out)
    assert all(r["diverged_at"] is None for r in doc["runs"])
    assert doc["runs"][0]["final"]["lr"] == 0.01
    assert run_command(loaded, args(format="json", overrides=["runs.Boom.lr=0.1",
                                                              "optimizer=adam"])) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["runs"][1]["final"]["lr"] == 0.1 and doc["runs"][1]["optimizer"] == "adam"
    assert run_command(loaded, args(format="json", overrides=["landscape.start=[1.0, 0.0]"],
                                    steps=5)) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["runs"][0]["history"][0]["loss"] == 1.0 and doc["steps"] == 5


@pytest.mark.parametrize("item, start", [
    ("lr=abc", "--set lr: "),
    ("momentom=0.5", "--set momentom: "),
    ("runs.Nope.lr=1", "--set runs.Nope.lr: "),
    ("novalue", "--set novalue: "),
    ("landscape.nope=1", "--set landscape.nope"),
])
def test_bad_set_is_one_line_and_exit_2(loaded, capsys, item, start):
    assert run_command(loaded, args(overrides=[item])) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(start), lines


def test_accepts_args_set_too(loaded, capsys):
    ns = argparse.Namespace(steps=3, every=1, format="csv", set=["lr=0.02"])
    assert run_command(loaded, ns) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["lr"] for r in rows if r["run"] == "SGD"} == {"0.02"}


def test_progress_bar_goes_to_stderr_only(loaded, capsys, monkeypatch):
    import descent_tui.cli.commands as H

    monkeypatch.setattr(H, "PROGRESS_MIN_WORK", 0)
    monkeypatch.setattr(H.sys.stderr, "isatty", lambda: True, raising=False)
    assert run_command(loaded, args(format="json", every=5)) == 0
    out, err = capsys.readouterr()
    json.loads(out)
    assert "/40 steps" in err
