"""The scenario loader: good documents load, each kind of bad input is reported
with its key path (and line), never with another exception."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _scenario_examples import LANDSCAPE, NETWORK

from descent_tui.scenario import ScenarioError, discover, find, load_scenario
from descent_tui.scenario.loader import loads_scenario
from descent_tui.scenario.overrides import OverrideError, apply, parse_assignment


def write(tmp_path: Path, text: str | bytes, name: str = "bowl.toml") -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def problems(tmp_path: Path, text: str | bytes, name: str = "bowl.toml") -> list[str]:
    p = write(tmp_path, text, name)
    with pytest.raises(ScenarioError) as info:
        load_scenario(p)
    probs = info.value.problems
    assert probs and all("\n" not in x for x in probs)
    assert all(x.startswith(str(p)) for x in probs), probs
    return probs


def one(tmp_path: Path, text: str, needle: str) -> str:
    probs = problems(tmp_path, text)
    hits = [p for p in probs if needle in p]
    assert hits, f"{needle!r} not in {probs}"
    return hits[0]


# ------------------------------------------------------------------ good files


def test_landscape_example_loads(tmp_path):
    loaded = load_scenario(write(tmp_path, LANDSCAPE))
    spec = loaded.spec
    assert loaded.source == "path" and loaded.path == tmp_path / "bowl.toml"
    assert spec.id == "ex-ravine" and spec.kind == "landscape"
    assert spec.chapter == 2 and spec.steps == 50
    assert spec.run_labels == ["SGD", "Momentum"]
    assert spec.runs[0].effective_momentum == 0.0
    assert spec.runs[1].effective_momentum == 0.9
    assert spec.landscape.plot_bounds() == [(-10.0, 10.0), (-3.0, 3.0)]
    assert spec.knobs.present().keys() == {"lr", "optimizer"}
    assert loaded.loss_expr().evaluate({"x": 2.0, "y": 1.0}) == pytest.approx(0.2 + 5.0)


def test_network_example_loads_with_defaults(tmp_path):
    spec = load_scenario(write(tmp_path, NETWORK)).spec
    assert spec.kind == "network"
    assert spec.network.data.kind == "spiral" and spec.network.data.noise == 0.1
    assert spec.network.model.hidden_activations == ["tanh"]
    assert spec.network.model.effective_bias_init == "zeros"
    assert spec.runs[0].schedule.kind == "cosine"
    assert spec.layer_names == ["layer 1", "layer 2"]
    assert spec.quiz.concept == []


def test_minimal_document(tmp_path):
    text = ('id = "tiny"\ntitle = "Tiny"\n[landscape]\nparams = ["w"]\nloss = "w**2"\n'
            'start = [1.0]\n[[runs]]\nlabel = "a"\n')
    spec = loads_scenario(text).spec
    assert spec.steps == 200 and spec.runs[0].optimizer == "sgd"
    assert spec.landscape.plot_bounds() == [(-10.0, 10.0)]


# --------------------------------------------------------------- file problems


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "nope.toml")


def test_directory(tmp_path):
    with pytest.raises(ScenarioError, match="directory"):
        load_scenario(tmp_path)


@pytest.mark.parametrize("text, needle", [
    ("", "empty file"),
    ("   \n\n# only a comment\n", None),
    (b"\x00\x01\x02binary", "binary"),
    (b"id = \"caf\xe9\"\n", "not UTF-8"),
    (b"x" * 1_000_001, "too large"),
])
def test_bad_files(tmp_path, text, needle):
    probs = problems(tmp_path, text)
    if needle:
        assert needle in probs[0]


def test_toml_syntax_error_has_line(tmp_path):
    text = LANDSCAPE.replace('lr = 0.05', 'lr = = 0.05')
    (p,) = problems(tmp_path, text)
    line = LANDSCAPE.splitlines().index("lr = 0.05") + 1
    assert re.match(rf".*bowl\.toml:{line}: TOML syntax error: ", p), p


def test_absurd_nesting(tmp_path):
    probs = problems(tmp_path, "a = " + "[" * 5000 + "]" * 5000 + "\n")
    assert "nested too deeply" in probs[0]
    probs = problems(tmp_path, "a = " + "[" * 25 + "1" + "]" * 25 + "\n")
    assert "nested too deeply" in probs[0]


def test_top_level_must_be_complete(tmp_path):
    probs = problems(tmp_path, 'title = "x"\n')
    text = "\n".join(probs)
    assert "missing required key 'id'" in text
    assert "missing required key 'runs'" in text
    assert "[landscape] or a [network]" in text


# ------------------------------------------------------------ key-level problems


def test_unknown_key_did_you_mean_with_line(tmp_path):
    text = LANDSCAPE.replace('lr = 0.1', 'lrate = 0.1')
    p = one(tmp_path, text, "runs[0].lrate")
    line = LANDSCAPE.splitlines().index("lr = 0.1") + 1
    assert f"bowl.toml:{line}: runs[0].lrate: unknown key 'lrate' (did you mean 'lr'?)" in p


def test_unknown_optimizer_did_you_mean(tmp_path):
    text = LANDSCAPE.replace('optimizer = "momentum"', 'optimizer = "adma"')
    p = one(tmp_path, text, "runs[1].optimizer")
    line = LANDSCAPE.splitlines().index('optimizer = "momentum"') + 1
    assert p.endswith(f"bowl.toml:{line}: runs[1].optimizer: unknown optimizer 'adma'"
                      " (did you mean 'adam'?)")


def test_all_problems_reported(tmp_path):
    text = (LANDSCAPE.replace('optimizer = "momentum"', 'optimizer = "adma"')
            .replace("chapter = 2", "chapter = 0")
            .replace('title = "The Ravine"', 'title = "The Ravine"\ncolour = "red"'))
    probs = problems(tmp_path, text)
    assert len(probs) == 3
    assert any("chapter: expected an integer >= 1 (got integer 0)" in p for p in probs)
    assert any("colour: unknown key" in p for p in probs)


@pytest.mark.parametrize("old, new, needle", [
    ('chapter = 2', 'chapter = "two"', "chapter: expected an integer, got string 'two'"),
    ('steps = 50', 'steps = 0', "steps: expected an integer >= 1"),
    ('steps = 50', 'steps = 2000000', "steps: expected an integer <= 1000000"),
    ('id = "ex-ravine"', 'id = "The Ravine"', "id: must be a lowercase slug"),
    ('lr = 0.1', 'lr = -0.1', "runs[0].lr: expected a number > 0.0"),
    ('lr = 0.1', 'lr = true', "runs[0].lr: expected a number, got boolean true"),
    ('params = ["x", "y"]', 'params = ["x", "exp"]', "landscape.params[1]: 'exp' is a function"),
    ('params = ["x", "y"]', 'params = ["x", "1y"]', "landscape.params[1]: not a valid name"),
    ('start = [-8.0, 1.0]', 'start = [-8.0]', "landscape.start: needs one value per param"),
    ('start = [-8.0, 1.0]', 'start = [-8.0, nan]', "landscape.start[1]: expected a finite"),
    ('bounds = [[-10.0, 10.0], [-3.0, 3.0]]', 'bounds = [[-10.0, 10.0], [3.0, -3.0]]',
     "landscape.bounds[1]: lo must be < hi"),
    ('bounds = [[-10.0, 10.0], [-3.0, 3.0]]', 'bounds = [[-10.0, 10.0]]',
     "landscape.bounds: needs one [lo, hi] per param"),
    ('loss = "0.05*x**2 + 5*y**2"', 'loss = "0.05*x**2 + 5*z**2"',
     "landscape.loss: unknown name 'z' at column 15; allowed: x, y, exp"),
    ('loss = "0.05*x**2 + 5*y**2"', 'loss = "log(x - 100)"', "landscape.loss: is not finite"),
    ('label = "Momentum"', 'label = "SGD"', "runs[1].label: duplicate run label 'SGD'"),
    ('label = "Momentum"', 'label = "none"', "runs[1].label: 'none' is reserved"),
    ('answer = 0', 'answer = 2', "quiz.concept[0].answer: index 2 out of range"),
    ('answer = 0', 'answer = -1', "quiz.concept[0].answer: expected an integer >= 0"),
    ('choices = ["SGD", "Momentum", "none"]', 'choices = ["SGD", "Adam", "none"]',
     "quiz.prediction[0].choices[1]: 'Adam' is not a run label"),
    ('threshold = 0.01\n', '', "quiz.prediction[0]: metric 'first_below' needs a threshold"),
    ('metric = "first_below"', 'metric = "first_bellow"',
     "quiz.prediction[0].metric: unknown metric 'first_bellow' (did you mean 'first_below'?)"),
    ('lr = { min = 1e-4, max = 2.0, log = true }', 'lr = { min = 2.0, max = 1.0 }',
     "knobs.lr: min must be < max"),
    ('"sgd", "momentum", "adam"]', '"sgd", "momentun"]',
     "knobs.optimizer.choices[1]: unknown optimizer 'momentun' (did you mean 'momentum'?)"),
    ('[knobs]', '[knobs]\ninit = { choices = ["zeros"] }', "knobs.init: only used by network"),
    ('optimizer = "sgd"', 'optimizer = "sgd"\ninit = "zeros"', "runs[0].init: only used by net"),
    ('optimizer = "sgd"', 'optimizer = "sgd"\nnesterov = true', "runs[0].nesterov: Nesterov"),
    ('optimizer = "sgd"', 'optimizer = "sgd"\nbetas = [0.9]', ("runs[0].betas: expected a list of"
                                                              " length 2")),
    ('lr = 0.05', 'lr = 0.05\n[runs.schedule]\nkind = "multistep"',
     "runs[1].schedule.milestones: multistep needs at least one"),
    ('[[runs]]\nlabel = "SGD"', '[runs]\nlabel = "SGD"', None),
])
def test_landscape_problems(tmp_path, old, new, needle):
    assert old in LANDSCAPE
    text = LANDSCAPE.replace(old, new, 1)
    probs = problems(tmp_path, text)
    if needle:
        assert any(needle in p for p in probs), probs


def test_problem_line_numbers_for_nested_tables(tmp_path):
    text = LANDSCAPE.replace("answer = 0", "answer = 7")
    p = one(tmp_path, text, "quiz.concept[0].answer")
    assert f"bowl.toml:{LANDSCAPE.splitlines().index('answer = 0') + 1}:" in p


def test_multiline_string_does_not_confuse_lines(tmp_path):
    text = LANDSCAPE.replace("A long, narrow valley.", "steps = 3\nlr = 4").replace(
        "steps = 50", "steps = -1")
    p = one(tmp_path, text, ": steps:")
    assert f"bowl.toml:{text.splitlines().index('steps = -1') + 1}:" in p


@pytest.mark.parametrize("old, new, needle", [
    ('kind = "spiral"', 'kind = "spirals"', ("network.data.kind: unknown dataset kind 'spirals'"
                                            " (did you mean 'spiral'?)")),
    ('layers = [2, 8, 3]', 'layers = [3, 8, 3]', "network.model.layers[0]: input size 3"),
    ('layers = [2, 8, 3]', 'layers = [2, 8, 4]', "last layer has 4 outputs but the data has 3"),
    ('activation = "tanh"', 'activation = "relu6"', "network.model.activation: unknown activation"),
    ('activation = "tanh"', 'activation = ["tanh", "relu"]', "needs one activation per hidden"),
    ('init = "xavier_uniform"', 'init = "xavier"', "network.model.init: unknown init 'xavier'"),
    ('loss = "cross_entropy"', 'loss = "bce"', "loss 'bce' needs 1 output"),
    ('loss = "cross_entropy"', 'loss = "hinge"', "network.loss: unknown loss 'hinge'"),
    ('val_split = 0.2', 'val_split = 0.95', "network.val_split: expected a number < 0.9"),
    ('batch_size = 32', 'batch_size = 1000', "network.batch_size: larger than the data set"),
    ('classes = 3', 'classes = 3\npath = "x.csv"', "network.data.path: only used with kind"),
    ('choices = ["layer 1", "layer 2"]', 'choices = ["layer 1", "layer 3"]',
     "quiz.prediction[0].choices[1]: 'layer 3' is not a layer name"),
    ('[network.model]', '[network.model]\nfoo = 1', "network.model.foo: unknown key 'foo'"),
])
def test_network_problems(tmp_path, old, new, needle):
    assert old in NETWORK
    probs = problems(tmp_path, NETWORK.replace(old, new, 1))
    assert any(needle in p for p in probs), probs


def test_both_landscape_and_network(tmp_path):
    text = NETWORK + '\n[landscape]\nparams = ["x"]\nloss = "x"\nstart = [0.0]\n'
    assert any("exactly one kind" in p for p in problems(tmp_path, text))


# ------------------------------------------------------------------------- csv

CSV_NET = NETWORK.replace('kind = "spiral"\nn = 90\nclasses = 3',
                          'kind = "csv"\npath = "data.csv"\nfeatures = ["a", "b"]\nlabel = "y"'
                          ).replace("batch_size = 32", "batch_size = 2")


def test_csv_ok(tmp_path):
    (tmp_path / "data.csv").write_text("a,b,y\n1,2,0\n3,4,1\n5,6,2\n")
    spec = load_scenario(write(tmp_path, CSV_NET)).spec
    assert spec.network.data.features == ["a", "b"]


@pytest.mark.parametrize("csv_text, needle", [
    (None, "file not found"),
    ("", "empty CSV"),
    ("a,b,z\n1,2,0\n", "no column 'y'"),
    ("a,b,y\n1,2,0\n1,x,1\n", "data.csv:3: column 'b': not a number (got 'x')"),
    ("a,b,y\n1,2,0\n1,2\n", "data.csv:3: expected 3 columns, got 2"),
    ("a,b,y\n", "no data rows"),
    ("a,b,y\n1,2,0.5\n", "whole numbers"),
    ("a,b,y\n1,2,0\n1,2,1\n", "last layer has 3 outputs but the data has 2 classes"),
])
def test_csv_problems(tmp_path, csv_text, needle):
    if csv_text is not None:
        (tmp_path / "data.csv").write_text(csv_text)
    probs = problems(tmp_path, CSV_NET)
    assert any(needle in p for p in probs), probs


# --------------------------------------------------------------------- catalog


def test_discover_and_find(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / "scenarios").mkdir(parents=True)
    monkeypatch.setenv("DESCENT_HOME", str(home))
    write(home / "scenarios", NETWORK, "spiral.toml")
    write(home / "scenarios", "id = [", "broken.toml")
    extra = tmp_path / "extra"
    extra.mkdir()
    write(extra, LANDSCAPE, "ravine.toml")
    write(extra, NETWORK, "dup.toml")
    good, broken = discover([extra])
    by_id = {g.id: g for g in good}
    assert by_id["ex-spiral"].source == "user"
    assert by_id["ex-ravine"].source == "path"
    names = sorted(b.path.name for b in broken)
    assert "broken.toml" in names and "dup.toml" in names
    assert find("ex-spiral").id == "ex-spiral"
    assert find(str(extra / "ravine.toml")).id == "ex-ravine"
    with pytest.raises(ScenarioError, match="did you mean 'ex-spiral'"):
        find("ex-spiralt")


def test_apply_overrides(tmp_path):
    loaded = load_scenario(write(tmp_path, LANDSCAPE))
    changes = [parse_assignment(a) for a in ["lr=0.5", "steps=7", "runs[1].optimizer=adam"]]
    spec = apply(loaded, changes).spec
    assert [r.lr for r in spec.runs] == [0.5, 0.5]
    assert spec.steps == 7 and spec.runs[1].optimizer == "adam"
    with pytest.raises(OverrideError, match="^lr: expected a number > 0"):
        apply(loaded, [parse_assignment("lr=-1")])
    with pytest.raises(ScenarioError, match="no run 9"):
        apply(loaded, [parse_assignment("runs[9].lr=1")])


def test_csv_missing_column_did_you_mean(tmp_path):
    (tmp_path / "data.csv").write_text("a,b,targt\n1,2,0\n3,4,1\n5,6,2\n")
    probs = problems(tmp_path, CSV_NET.replace('label = "y"', 'label = "target"'))
    assert any(p.endswith("network.data.path: data.csv: no column 'target' (did you mean"
                          " 'targt'?); columns: a, b, targt") for p in probs), probs
