"""The safe expression language of landscape losses."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from descent_tui.engine import Tensor
from descent_tui.scenario.expr import (
    BINARY,
    FUNCTIONS,
    KINDS,
    MAX_LENGTH,
    MEANING,
    Binary,
    ExprError,
    Name,
    Unary,
    parse,
)

XY = ["x", "y"]


def ev(text: str, **env: float) -> float:
    return parse(text, list(env) or XY).evaluate(env)


@pytest.mark.parametrize("text, expected", [
    ("1 + 2 * 3", 7.0),
    ("(1 + 2) * 3", 9.0),
    ("2 ** 3 ** 2", 512.0),
    ("-2 ** 2", -4.0),
    ("(-2) ** 2", 4.0),
    ("2 ** -1", 0.5),
    ("8 / 4 / 2", 1.0),
    ("10 - 4 - 3", 3.0),
    ("+3 - -3", 6.0),
    ("1e-3 * 1E3", 1.0),
    (".5 + 5.", 5.5),
    ("sigmoid(0) + tanh(0) + exp(0) + log(1) + sqrt(4) + abs(-1) + sin(0) + cos(0)", 5.5),
])
def test_precedence_and_values(text, expected):
    assert parse(text, []).evaluate({}) == pytest.approx(expected)


def test_params():
    assert ev("0.05*x**2 + 5*y**2", x=2.0, y=1.0) == pytest.approx(5.2)
    assert ev("-x**2", x=3.0) == -9.0


def test_float_evaluation_never_raises():
    assert math.isnan(ev("log(x)", x=-1.0))
    assert ev("log(x)", x=0.0) == -math.inf
    assert ev("exp(x)", x=1e5) == math.inf
    assert ev("1/x", x=0.0) == math.inf
    assert math.isnan(ev("x**0.5", x=-4.0))
    assert ev("x**2", x=1e300) == math.inf


@pytest.mark.parametrize("text, column, needle", [
    ("x + foo", 5, "unknown name 'foo'"),
    ("__import__('os')", 1, "unknown name '__import__'"),
    ("x.real", 2, "attribute access"),
    ("lambda: x", 1, "unknown name 'lambda'"),
    ("[1]", 1, "'['"),
    ("x + 'a'", 5, "strings"),
    ('"x"', 1, "strings"),
    ("x ^ 2", 3, "'**'"),
    ("2x", 2, "right after the number"),
    ("x y", 3, "expected an operator"),
    ("x +", 4, "unexpected end"),
    ("(x", 3, "expected ')'"),
    ("x)", 2, "unbalanced ')'"),
    ("exp(x, y)", 6, "one argument"),
    ("exp x", 5, "needs '('"),
    ("exp()", 5, "needs one argument"),
    ("x(2)", 2, "not a function"),
    ("", 1, "empty"),
    ("1e999", 1, "too large"),
    ("1e+", 4, "exponent"),
    ("x == y", 3, "'='"),
    ("x @ y", 3, "'@'"),
    ("x; y", 2, "';'"),
])
def test_errors_have_columns(text, column, needle):
    with pytest.raises(ExprError) as info:
        parse(text, XY)
    assert info.value.column == column, str(info.value)
    assert needle in str(info.value)
    assert f"at column {column}" in str(info.value)


def test_error_message_lists_allowed_names():
    with pytest.raises(ExprError, match=r"unknown name 'foo' at column 7; allowed: x, y, exp, log"):
        parse("x + y*foo", XY)


def test_limits():
    with pytest.raises(ExprError, match="too long"):
        parse("x+" * (MAX_LENGTH // 2) + "x", XY)
    with pytest.raises(ExprError, match="nested too deeply"):
        parse("(" * 40 + "x" + ")" * 40, XY)
    with pytest.raises(ExprError, match="nested too deeply"):
        parse("-" * 40 + "x", XY)
    with pytest.raises(ExprError, match="too large"):
        parse("+".join(["x"] * 150), XY)
    parse("(" * 20 + "x" + ")" * 20, XY)  # moderate nesting is fine


def test_bad_param_names():
    with pytest.raises(ExprError):
        parse("x", ["exp"])
    with pytest.raises(ExprError):
        parse("x", ["1x"])


def test_to_string_round_trip():
    for text in ["-x**2", "(-x)**2", "x - (y - x)", "x / (y * x)", "2**3**2", "(2**3)**2",
                 "x * -y", "sigmoid(x) * exp(-y)", "-(x + y)", "1e-05 * x"]:
        e = parse(text, XY)
        assert parse(e.to_string(), XY) == e, (text, e.to_string())
    assert parse("((x))+((y))", XY).to_string() == "x + y"


def test_names_used():
    assert parse("x**2 + 1", XY).names == {"x"}


def test_numpy_grid_vectorised():
    gx, gy = np.meshgrid(np.linspace(-2, 2, 5), np.linspace(-1, 1, 3))
    z = parse("0.05*x**2 + 5*y**2 + log(x)", XY).evaluate({"x": gx, "y": gy})
    assert z.shape == (3, 5)
    np.testing.assert_allclose(z[:, 3:], 0.05 * gx[:, 3:] ** 2 + 5 * gy[:, 3:] ** 2
                               + np.log(gx[:, 3:]))
    assert np.isnan(z[0, 0])


@pytest.mark.parametrize("text, grad", [
    ("0.05*x**2 + 5*y**2", lambda x, y: (0.1 * x, 10 * y)),
    ("(1 - x)**2 + 100*(y - x**2)**2",
     lambda x, y: (-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2))),
    ("sin(x)*cos(y) + exp(-x*y)",
     lambda x, y: (math.cos(x) * math.cos(y) - y * math.exp(-x * y),
                   -math.sin(x) * math.sin(y) - x * math.exp(-x * y))),
    ("sqrt(x**2 + y**2 + 1) + log(1 + x**2)",
     lambda x, y: (x / math.sqrt(x * x + y * y + 1) + 2 * x / (1 + x * x),
                   y / math.sqrt(x * x + y * y + 1))),
    ("tanh(x) + sigmoid(y) + abs(x - y) - x/y",
     lambda x, y: (1 - math.tanh(x) ** 2 + math.copysign(1, x - y) - 1 / y,
                   (1 / (1 + math.exp(-y))) * (1 - 1 / (1 + math.exp(-y)))
                   - math.copysign(1, x - y) + x / y**2)),
    ("2**x + y**y", lambda x, y: (math.log(2) * 2**x, y**y * (math.log(y) + 1))),
])
@pytest.mark.parametrize("point", [(0.7, 1.3), (-1.2, 0.4)])
def test_gradient_matches_hand_derivative(text, grad, point):
    x0, y0 = point
    if "y**y" in text and y0 <= 0:
        return
    x, y = Tensor(x0, requires_grad=True), Tensor(y0, requires_grad=True)
    loss = parse(text, XY).evaluate({"x": x, "y": y})
    assert isinstance(loss, Tensor)
    loss.backward()
    gx, gy = grad(x0, y0)
    assert float(x.grad) == pytest.approx(gx, rel=1e-6, abs=1e-9)
    assert float(y.grad) == pytest.approx(gy, rel=1e-6, abs=1e-9)
    assert loss.item() == pytest.approx(parse(text, XY).evaluate({"x": x0, "y": y0}))


# random expressions: to_string round-trips and floats agree with numpy
_leaf = st.one_of(st.sampled_from(["x", "y"]),
                  st.floats(0, 10, allow_nan=False).map(lambda v: f"{v:.3g}"))


def _combine(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/", "**"]), children)
        .map(lambda t: f"({t[0]}){t[1]}({t[2]})" if t[1] == "**" else f"{t[0]} {t[1]} {t[2]}"),
        children.map(lambda c: f"-{c}"),
        st.tuples(st.sampled_from(["exp", "log", "sin", "tanh", "sigmoid", "abs"]), children)
        .map(lambda t: f"{t[0]}({t[1]})"),
        children.map(lambda c: f"({c})"),
    )


@settings(max_examples=150, deadline=None)
@given(st.recursive(_leaf, _combine, max_leaves=12), st.floats(-3, 3), st.floats(-3, 3))
def test_random_expressions(text, x0, y0):
    """to_string round-trips; NumPy arrays and engine Tensors give the float values."""
    try:
        e = parse(text, XY)
    except ExprError:
        return  # e.g. too deep
    again = parse(e.to_string(), XY)
    assert again == e
    a = e.evaluate({"x": x0, "y": y0})
    with np.errstate(all="ignore"):
        grid = e.evaluate({"x": np.array([x0]), "y": np.array([y0])})
        out = e.compile()({"x": Tensor(x0, requires_grad=True), "y": Tensor(y0)})
    assert isinstance(out, Tensor) == bool(e.names)
    for b in (float(grid[0]) if e.names else grid, out.item() if e.names else out):
        if math.isfinite(a) and math.isfinite(b):
            assert b == pytest.approx(a, rel=1e-6, abs=1e-9)


# ------------------------------------------------------------ one evaluator

# every row of the meaning table, at ordinary points and at the edges of its domain
# (not infinite operands of **: NumPy reads (-inf)**0.5 as sqrt(-inf), nan, C's pow says inf)
_EDGES = [-1e5, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 1e5, 1e300, math.nan]
_EDGES_OF_FUNCTIONS = [-math.inf, *_EDGES, math.inf]


@pytest.mark.parametrize("text", [f"{f}(x)" for f in FUNCTIONS] + ["-x"]
                         + [f"x {op} y" for op in BINARY])
def test_each_kind_gives_the_float_rules(text):
    """floats, NumPy arrays and engine Tensors agree, nan and inf included."""
    e = parse(text, XY)
    edges = _EDGES if "y" in text else _EDGES_OF_FUNCTIONS
    points = [(x, y) for x in edges for y in edges]
    floats = np.array([e.compile("float")({"x": x, "y": y}) for x, y in points])
    xs, ys = (np.array(c) for c in zip(*points, strict=True))
    with np.errstate(all="ignore"):
        arrays = e.evaluate({"x": xs, "y": ys})
        tensors = np.array([e.compile()({"x": Tensor(x), "y": Tensor(y)}).item()
                            for x, y in points])
    for other in (arrays, tensors):
        np.testing.assert_array_equal(np.isnan(other), np.isnan(floats), err_msg=text)
        np.testing.assert_array_equal(np.isinf(other) * np.sign(other),
                                      np.isinf(floats) * np.sign(floats), err_msg=text)
        finite = np.isfinite(floats)
        np.testing.assert_allclose(other[finite], floats[finite], rtol=1e-12, err_msg=text)


def test_meaning_covers_every_function_and_operator():
    assert set(MEANING) == {*FUNCTIONS, *BINARY, "neg"}
    assert all(len(row) == len(KINDS) for row in MEANING.values())


def _graph_nodes(out: Tensor) -> list[Tensor]:
    seen, stack, nodes = set(), [out], []
    while stack:
        t = stack.pop()
        if id(t) not in seen:
            seen.add(id(t))
            nodes.append(t)
            stack.extend(t.parents)
    return nodes


def _operation_texts(e) -> set[str]:
    """to_string of every sub-tree that reads a parameter and is an operation."""
    texts, stack = set(), [e.root]
    while stack:
        n = stack.pop()
        stack.extend(n.children())
        if isinstance(n, Unary) and n.op == "+":
            continue
        if n.children() and parse(n.to_string(), XY).names:
            texts.add(n.to_string())
    return texts


@pytest.mark.parametrize("text", ["(1 - x)**2 + 100*(y - x**2)**2",
                                  "sin(x)*exp(-y) + sigmoid(x*y) / abs(y - 3)",
                                  "+(x + 2*3) - -y**(1 + 1)"])
def test_inspector_names_are_the_subexpression_texts(text):
    e = parse(text, XY)
    x, y = Tensor(0.3, requires_grad=True), Tensor(-0.7, requires_grad=True)
    x.name = "x"
    out = e.compile(name_nodes=True)({"x": x, "y": y})
    ops = [t for t in _graph_nodes(out) if not t.is_leaf]
    assert {t.name for t in ops} == _operation_texts(e)
    assert (x.name, y.name) == ("x", None)  # leaves are not the hook's to name
    plain = e.compile()({"x": x, "y": y})  # the same path without the hook
    assert all(t.name is None for t in _graph_nodes(plain) if not t.is_leaf)
    assert plain.item() == out.item()
    assert e.compile("float", name_nodes=True)({"x": 0.3, "y": -0.7}) == pytest.approx(
        out.item())  # only engine nodes get names


def test_constant_subtrees_are_folded_with_the_float_rules():
    e = parse("x * (2**3 - log(1)) + (1 - 1) * y", XY)
    out = e.compile()({"x": Tensor(1.5, requires_grad=True),
                        "y": Tensor(2.0, requires_grad=True)})
    assert out.item() == pytest.approx(12.0)
    # one mul by the folded 8, one mul of a leaf by the folded 0, their sum
    assert len([t for t in _graph_nodes(out) if not t.is_leaf]) == 3
    x = Tensor(1.0)
    with np.errstate(all="ignore"):
        assert parse("x + 1/0", XY).compile()({"x": x}).item() == math.inf
        assert math.isnan(parse("x * log(0 - 1)", XY).compile()({"x": x}).item())
        assert parse("x * (-2)**3", XY).compile()({"x": x}).item() == -8.0
    const = parse("2 * 3 + sqrt(16)", XY)
    assert const.compile()({}) == 10.0
    assert const.compile("array")({"x": np.zeros(3)}) == 10.0


def test_compile_returns_one_function_per_kind():
    e = parse("x + y", XY)
    assert e.compile() is e.compile("tensor")
    assert e.compile("float") is not e.compile("array")
    with pytest.raises(ValueError, match="kind must be one of float, array, tensor"):
        e.compile("int")  # type: ignore[arg-type]


def test_evaluate_picks_the_kind_from_the_values():
    e = parse("x / y", XY)
    assert type(e.evaluate({"x": np.float64(1.0), "y": 0.0})) is float
    assert isinstance(e.evaluate({"x": np.ones(2), "y": np.zeros(2)}), np.ndarray)
    assert isinstance(e.evaluate({"x": Tensor(1.0), "y": Tensor(2.0)}), Tensor)
    with pytest.raises(KeyError, match="no value for y"):
        e.evaluate({"x": 1.0})


# ------------------------------------------------------------ one precedence table

def _two_operator_trees():
    x, y, z = Name("x"), Name("y"), Name("z")
    for a in BINARY:
        yield Unary("-", Binary(a, x, y))
        yield Binary(a, Unary("-", x), y)
        yield Binary(a, x, Unary("-", y))
        for b in BINARY:
            yield Binary(a, Binary(b, x, y), z)
            yield Binary(a, x, Binary(b, y, z))


@pytest.mark.parametrize("tree", list(_two_operator_trees()), ids=lambda t: t.to_string())
def test_to_string_brackets_what_the_parser_needs(tree):
    text = tree.to_string()
    assert parse(text, ["x", "y", "z"]).root == tree
    # and nothing more: without any one pair of brackets the text means another tree
    opens = [i for i, c in enumerate(text) if c == "("]
    for i in opens:
        depth, j = 0, i
        while True:
            depth += {"(": 1, ")": -1}.get(text[j], 0)
            if depth == 0:
                break
            j += 1
        bare = text[:i] + text[i + 1:j] + text[j + 1:]
        assert parse(bare, ["x", "y", "z"]).root != tree, (text, bare)


@pytest.mark.parametrize("text, shown", [
    ("x + y * z", "x + y * z"), ("(x + y) * z", "(x + y) * z"), ("x - (y - z)", "x - (y - z)"),
    ("x**y**z", "x**y**z"), ("(x**y)**z", "(x**y)**z"), ("-x**2", "-x**2"),
    ("(-x)**2", "(-x)**2"), ("x * -y", "x * -y"), ("2**-x", "2**-x"), ("--x", "--x"),
    ("-(x * y)", "-(x * y)"), ("(-x) * y", "-x * y"),
])
def test_to_string_examples(text, shown):
    assert parse(text, ["x", "y", "z"]).to_string() == shown


# ------------------------------------------------------------ never eval

@pytest.mark.parametrize("text", [
    "__import__('os').system('true')", "x.__class__", "exp.__globals__", "(lambda: 1)()",
    "open('f')", "eval('1')", "exec", "x if y else 1", "not x", "x and y", "x or y",
    "[x for x in y]", "x[0]", "x % y", "x // y", "x < y", "x; import os", "x # comment",
    "\x00", "\uff58", "x\u200b", "x ** __builtins__", "sin(x)(y)", "`x`", "$x", "x\\\ny",
    "{'a': 1}", "x := 1", "f'{x}'", "b'x'", "1j", "0x10", "1_000", "globals()", "x.real",
    "exp(x).real", "sigmoid", "abs(x, y)",
])
def test_injection_attempts_are_refused(text):
    with pytest.raises(ExprError):
        parse(text, XY)


def test_the_module_never_evaluates_text():
    import ast

    import descent_tui.scenario.expr as module

    tree = ast.parse(Path(module.__file__).read_text())
    called = {n.func.id for n in ast.walk(tree)
              if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert not called & {"eval", "exec", "compile", "__import__"}
    imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not [m for m in imported if m.startswith("descent_tui")]


def test_loading_an_expression_does_not_import_numpy():
    code = ("import sys; from descent_tui.scenario.expr import parse;"
            "parse('exp(x)**2', ['x']).evaluate({'x': 1.0});"
            "sys.exit('numpy' in sys.modules)")
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == 0
