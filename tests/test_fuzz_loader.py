"""Fuzzing the loader: whatever the input, it returns a scenario or raises
ScenarioError (with one-line problems), never any other exception."""

from __future__ import annotations

import tomllib
from pathlib import Path

from _scenario_examples import LANDSCAPE, NETWORK
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from descent_tui.scenario import ScenarioError
from descent_tui.scenario.loader import loads_scenario, validate_data

ROOT = Path(__file__).resolve().parents[1]
SEEDS = [LANDSCAPE, NETWORK] + [p.read_text(encoding="utf-8", errors="replace")
                                for p in sorted((ROOT / "scenarios").glob("*.toml"))]
SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def check(text: str | bytes) -> None:
    try:
        loads_scenario(text, name="fuzz.toml", base_dir=ROOT / "scenarios")
    except ScenarioError as e:
        assert e.problems
        for p in e.problems:
            assert isinstance(p, str) and len(p.splitlines()) == 1, p
            assert p.startswith("fuzz.toml"), p


def test_seeds_are_valid():
    for text in SEEDS[:2]:
        loads_scenario(text)


# ------------------------------------------------------------ byte/line mutations


@SETTINGS
@given(st.sampled_from(SEEDS), st.data())
def test_line_mutations(seed, data):
    lines = seed.splitlines()
    for _ in range(data.draw(st.integers(1, 4))):
        if not lines:
            break
        i = data.draw(st.integers(0, len(lines) - 1))
        op = data.draw(st.sampled_from(["drop", "dup", "swap", "cut", "junk", "value"]))
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "cut":
            lines[i] = lines[i][: data.draw(st.integers(0, len(lines[i])))]
        elif op == "junk":
            lines.insert(i, data.draw(st.text(max_size=30)))
        elif "=" in lines[i]:
            key = lines[i].split("=", 1)[0]
            value = data.draw(st.sampled_from([
                "0", "-1", "1e309", "nan", "inf", "true", '"x"', "[]", "[[1]]", "{}",
                '["a", "b"]', "1979-05-27", '"""\nx"""', "99999999999999999999", "0.5",
                '"adam"', '"layer 1"', '"none"', "[0, 0, 0]", "[[0.0, 1.0]]",
            ]))
            lines[i] = f"{key}= {value}"
    check("\n".join(lines))


@SETTINGS
@given(st.sampled_from(SEEDS), st.data())
def test_byte_mutations(seed, data):
    raw = bytearray(seed.encode())
    for _ in range(data.draw(st.integers(1, 6))):
        if not raw:
            break
        i = data.draw(st.integers(0, len(raw) - 1))
        op = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        if op == "flip":
            raw[i] = data.draw(st.integers(0, 255))
        elif op == "delete":
            del raw[i]
        else:
            raw[i:i] = data.draw(st.binary(max_size=8))
    check(bytes(raw))


# ----------------------------------------------------------- random documents

_scalar = st.one_of(
    st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.text(max_size=20),
    st.sampled_from(["sgd", "adam", "x**2", "spiral", "tanh", "first_below", "none", "SGD"]),
)
_keys = st.sampled_from([
    "id", "title", "chapter", "order", "steps", "seed", "landscape", "network", "runs",
    "knobs", "quiz", "params", "loss", "start", "bounds", "label", "optimizer", "lr",
    "data", "model", "kind", "layers", "choices", "answer", "metric", "concept",
    "prediction", "schedule", "betas", "activation", "min", "max", "path",
]) | st.text(min_size=1, max_size=8)
_tree = st.recursive(
    _scalar,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_keys, children,
                                                                       max_size=5),
    max_leaves=25,
)


@SETTINGS
@given(st.dictionaries(_keys, _tree, max_size=8))
def test_random_trees(tree):
    try:
        validate_data(tree, name="fuzz.toml")
    except ScenarioError as e:
        assert all(len(p.splitlines()) == 1 for p in e.problems)


@SETTINGS
@given(st.sampled_from(SEEDS[:2]), st.sampled_from(["runs", "quiz", "landscape", "network",
                                                     "knobs"]), _tree)
def test_replace_a_section(seed, section, value):
    tree = tomllib.loads(seed)
    tree[section] = value
    try:
        validate_data(tree, name="fuzz.toml")
    except ScenarioError as e:
        assert all(len(p.splitlines()) == 1 for p in e.problems)


@SETTINGS
@given(st.text(max_size=200))
def test_random_text(text):
    check(text)


@SETTINGS
@given(st.binary(max_size=200))
def test_random_bytes(raw):
    check(raw)
