"""The one override path: ``--set``, the knobs and reset are held to the loader's rules.

A change is written into the scenario's document and checked as a file would be,
so a value is refused exactly when a file saying the same is, with the same
message, under the key the learner wrote; names get a did-you-mean.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from _scenario_examples import LANDSCAPE, NETWORK

from descent_tui.cli import main
from descent_tui.scenario import ScenarioError, load_scenario, loads_scenario
from descent_tui.scenario.overrides import OverrideError, apply, parse_assignment, parse_value
from descent_tui.sim import Simulation


@pytest.fixture
def landscape(tmp_path):
    p = tmp_path / "ravine.toml"
    p.write_text(LANDSCAPE)
    return load_scenario(p)


@pytest.fixture
def network(tmp_path):
    p = tmp_path / "spiral.toml"
    p.write_text(NETWORK)
    return load_scenario(p)


def first_run_says(text: str, setting: str, value) -> str:
    """The document with ``setting = value`` in its first [[runs]] table."""
    head, sep, tail = text.partition("[[runs]]\n")
    run, rest, more = tail.partition("\n[")
    lines = [line for line in run.splitlines() if not line.startswith(f"{setting} =")]
    return "\n".join([head + sep + f"{setting} = {json.dumps(value)}", *lines]) + rest + more


def file_problem(text: str, base_dir: Path) -> str | None:
    """The first problem the loader finds in ``text`` (without ``file:line: ``), or None."""
    try:
        loads_scenario(text, name="f.toml", base_dir=base_dir)
    except ScenarioError as e:
        return e.problems[0].split(": ", 1)[1]
    return None


# ------------------------------------------------ the same rules as a file


@pytest.mark.parametrize("kind, setting, value", [
    ("landscape", "momentum", 1.0),            # a range of the schema (momentum < 1)
    ("landscape", "lr", 0.0),                  # lr > 0
    ("landscape", "optimizer", "adma"),        # a choice, with did-you-mean
    ("landscape", "nesterov", True),           # cross-field: needs momentum > 0
    ("landscape", "start", [1.0]),             # cross-field: one value per param
    ("landscape", "batch_size", 4),            # network only
    ("network", "batch_size", 10_000),         # larger than the data set
    ("network", "activation", ["relu", "tanh"]),  # one per hidden layer
    ("landscape", "momentum", 0.5),            # fine in a file, fine as a change
    ("network", "batch_size", 8),
])
def test_a_change_is_refused_exactly_when_the_file_would_be(kind, setting, value, request):
    loaded = request.getfixturevalue(kind)
    text = LANDSCAPE if kind == "landscape" else NETWORK
    in_file = file_problem(first_run_says(text, setting, value), loaded.base_dir)
    key = f"runs[0].{setting}"
    if in_file is None:
        changed = apply(loaded, {key: value}).spec
        assert changed == loads_scenario(first_run_says(text, setting, value)).spec
        return
    with pytest.raises(OverrideError) as e:
        apply(loaded, {key: value})
    assert e.value.key == key
    assert in_file == f"{key}: {e.value.message}"


def test_a_knob_at_reset_meets_the_file_rule(landscape):
    expected = file_problem(first_run_says(LANDSCAPE, "momentum", 1.0), landscape.base_dir)
    sim = Simulation(landscape)
    with pytest.raises(OverrideError) as e:
        sim.reset({"momentum": 1.0})
    assert e.value.key == "momentum"
    assert expected == f"runs[0].momentum: {e.value.message}"


def test_a_bare_setting_changes_every_run_and_beta1_is_half_of_betas(landscape):
    spec = apply(landscape, {"lr": 0.3, "beta1": 0.8, "runs.SGD.lr": 0.05}).spec
    assert [r.lr for r in spec.runs] == [0.05, 0.3]
    assert [r.betas for r in spec.runs] == [(0.8, 0.999), (0.8, 0.999)]


def test_a_problem_elsewhere_is_blamed_on_the_change_and_says_where(landscape):
    with pytest.raises(OverrideError) as e:
        apply(landscape, {"runs.Momentum.momentum": 0.0, "runs.Momentum.nesterov": True})
    assert e.value.key == "runs.Momentum.nesterov"
    assert "Nesterov momentum needs momentum > 0" in e.value.message


def test_no_change_is_the_scenario_itself_and_the_last_change_wins(landscape):
    assert apply(landscape, {}) is landscape
    assert apply(landscape, [("steps", 0), ("steps", 5)]).spec.steps == 5


# ------------------------------------------------------------ did you mean


@pytest.mark.parametrize("change, expected", [
    ({"optimizer": "adma"}, "optimizer: unknown optimizer 'adma' (did you mean 'adam'?)"),
    ({"momentom": 0.5}, "momentom: unknown key 'momentom' (did you mean 'momentum'?)"),
    ({"runs.SDG.lr": 0.1}, "runs.SDG.lr: no run labelled 'SDG' (did you mean 'SGD'?)"),
    ({"runs[0].momentom": 0.5},
     "runs[0].momentom: unknown run setting 'momentom' (did you mean 'momentum'?)"),
    ({"landscape.lose": "x**2"}, "landscape.lose: unknown key 'lose' (did you mean 'loss'?)"),
])
def test_names_get_a_did_you_mean(landscape, change, expected):
    with pytest.raises(OverrideError) as e:
        apply(landscape, change)
    assert str(e.value) == expected


def test_cli_set_is_one_line_naming_the_key_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DESCENT_HOME", str(tmp_path / "home"))
    p = tmp_path / "ravine.toml"
    p.write_text(LANDSCAPE)
    assert main(["run", str(p), "--steps", "2", "--set", "optimizer=adma"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == ["--set optimizer: unknown optimizer 'adma'"
                                " (did you mean 'adam'?)"]


def test_a_label_with_spaces_and_dots_is_found(tmp_path):
    text = LANDSCAPE.replace('"SGD"', '"plain sgd v1.0"')
    loaded = loads_scenario(text)
    spec = apply(loaded, {"runs.plain sgd v1.0.schedule.kind": "cosine"}).spec
    assert spec.runs[0].schedule is not None and spec.runs[0].schedule.kind == "cosine"


@pytest.mark.parametrize("key, needle", [
    ("runs[9].lr", "no run 9 (there are 2, from 0)"),
    ("runs[x].lr", "bad run index"),
    ("runs[0]lr", "bad key"),
    ("network.data.noise", "this scenario has no [network]"),
    ("steps.x", "no such key 'steps.x'"),
])
def test_keys_that_name_nothing(landscape, key, needle):
    with pytest.raises(OverrideError) as e:
        apply(landscape, {key: 1})
    assert e.value.key == key and needle in e.value.message


# ------------------------------------------------------------------ values


@pytest.mark.parametrize("text, value", [
    ("0.1", 0.1), (".5", 0.5), ("3", 3), ("1e-3", 1e-3), ("true", True), ("False", False),
    ("none", None), ("[1, 2]", [1, 2]), ("[[1, 2], [3, 4]]", [[1, 2], [3, 4]]),
    ('"adam"', "adam"), ("adam", "adam"), ("1\nx = 2", "1\nx = 2"),
])
def test_one_value_parser(text, value):
    assert parse_value(text) == value


def test_nan_is_a_number_and_refused_by_the_rule(landscape):
    assert math.isnan(parse_value("nan"))
    with pytest.raises(OverrideError, match="^lr: "):
        apply(landscape, [parse_assignment("lr=nan")])


def test_an_assignment_needs_an_equals_sign():
    assert parse_assignment(" runs.SGD.lr = 0.5 ") == ("runs.SGD.lr", 0.5)
    with pytest.raises(OverrideError, match="^novalue: expected KEY=VALUE$"):
        parse_assignment("novalue")
    with pytest.raises(OverrideError, match="expected KEY=VALUE"):
        parse_assignment("=3")


def test_unset_goes_back_to_the_default(landscape):
    clipped = apply(landscape, {"clip_norm": 1.0})
    assert apply(clipped, {"clip_norm": None}).spec == landscape.spec


def test_a_shorter_run_keeps_its_notes_and_drops_late_pauses(tmp_path):
    """The file may not pause after its last step, but a learner who cuts ``steps``
    is not refused: the note stays, only a 'step:' past the new end stops pausing."""
    text = LANDSCAPE.replace('watch_for = ["zig-zag across the valley"]',
                             'watch_for = [{text = "late", when = "step:40"},'
                             ' {text = "early", when = "step:5"}]')
    p = tmp_path / "notes.toml"
    p.write_text(text)
    loaded = load_scenario(p)
    assert [w.when for w in loaded.spec.watch_for] == ["step:40", "step:5"]
    short = apply(loaded, {"steps": 30})
    assert [(w.text, w.when) for w in short.spec.watch_for] == [("late", None), ("early", "step:5")]
    assert apply(loaded, {"steps": 40}).spec.watch_for == loaded.spec.watch_for
    with pytest.raises(ScenarioError, match=r"watch_for\[0\]\.when"):
        loads_scenario(text.replace("steps = 50", "steps = 30"), name="f.toml", base_dir=tmp_path)
