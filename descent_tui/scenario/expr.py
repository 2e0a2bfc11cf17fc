"""A tiny, safe expression language for landscape losses.

``parse("0.05*x**2 + 5*y**2", ["x", "y"])`` returns an :class:`Expr`.  No
``eval``, no Python ``ast``: a hand-written tokenizer and a Pratt parser accept

* numbers: ``2``, ``0.5``, ``.5``, ``1e-3``, ``2.5E+4``
* the declared parameter names
* ``+ - * / **`` (``**`` is right-associative and binds tighter than unary minus,
  as in Python: ``-x**2 == -(x**2)``), unary ``-`` / ``+``, parentheses
* one-argument functions: exp, log, sqrt, abs, sin, cos, tanh, sigmoid

and nothing else; every error is an :class:`ExprError` naming the 1-based column.
Limits: 500 characters, 200 nodes, nesting depth 32.

One precedence table (:data:`BINARY`) serves both the parser and ``to_string``,
and one table (:data:`MEANING`) says what each operator and function does on
each kind of value. :meth:`Expr.compile` walks the tree once into nested
functions of ``env``, folding constant sub-trees with the float rules:

* ``expr.compile()`` works on engine Tensors (operators and ``.exp()`` ...
  methods, so autograd records the graph); ``compile(name_nodes=True)`` also
  names each new Tensor by its sub-expression text, for the backprop inspector;
* ``expr.compile("array")`` on NumPy arrays (vectorised, e.g. a contour grid);
* ``expr.compile("float")`` on plain numbers (IEEE results instead of errors).

``Expr.evaluate(env)`` picks the kind from the values in ``env``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "BINARY",
    "FUNCTIONS",
    "KINDS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_NODES",
    "MEANING",
    "PREC_ADD",
    "PREC_ATOM",
    "PREC_MUL",
    "PREC_POW",
    "PREC_UNARY",
    "Binary",
    "Call",
    "Expr",
    "ExprError",
    "Kind",
    "Name",
    "Node",
    "Num",
    "Unary",
    "parse",
]

MAX_LENGTH = 500
MAX_NODES = 200
MAX_DEPTH = 32
FUNCTIONS: tuple[str, ...] = ("exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid")
_RESERVED = FUNCTIONS


class ExprError(ValueError):
    """The expression is not valid; ``column`` is 1-based (0 if not tied to one)."""

    def __init__(self, message: str, column: int = 0, hint: str = "") -> None:
        self.message = message
        self.column = column
        self.hint = hint
        text = f"{message} at column {column}" if column else message
        if hint:
            text = f"{text}; {hint}"
        super().__init__(text)


# ----------------------------------------------------------------------- tokens


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # "num" | "name" | "op" | "(" | ")" | "end" | "bad"
    text: str
    col: int  # 1-based


def _tokenize(text: str) -> list[_Tok]:
    """Tokens of ``text``; a lexical error becomes a final "bad" token.

    The parser raises it only when it gets there, so the error reported is
    always the leftmost one.
    """
    toks: list[_Tok] = []
    try:
        _scan(text, toks)
    except ExprError as e:
        toks.append(_Tok("bad", e.message, e.column))
        return toks
    toks.append(_Tok("end", "", len(text) + 1))
    return toks


def _digit(text: str, i: int) -> bool:
    return i < len(text) and text[i].isascii() and text[i].isdigit()


def _scan(text: str, toks: list[_Tok]) -> None:
    """Append the tokens of ``text`` to ``toks``; raise ExprError at the first bad one."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        col = i + 1
        if c in " \t\r\n":
            i += 1
        elif _digit(text, i) or (c == "." and _digit(text, i + 1)):
            j = _number_end(text, i)
            toks.append(_Tok("num", text[i:j], col))
            i = j
        elif c.isascii() and (c.isalpha() or c == "_"):
            j = i
            while j < n and text[j].isascii() and (text[j].isalnum() or text[j] == "_"):
                j += 1
            toks.append(_Tok("name", text[i:j], col))
            i = j
        elif text.startswith("**", i):
            toks.append(_Tok("op", "**", col))
            i += 2
        elif c in "+-*/":
            toks.append(_Tok("op", c, col))
            i += 1
        elif c in "()":
            toks.append(_Tok(c, c, col))
            i += 1
        else:
            raise _bad_character(c, col)


def _number_end(text: str, i: int) -> int:
    """Index just past the number literal that starts at ``text[i]``."""
    j = i
    while _digit(text, j):
        j += 1
    if j < len(text) and text[j] == ".":
        j += 1
        while _digit(text, j):
            j += 1
    if j < len(text) and text[j] in "eE":
        k = j + 1
        if k < len(text) and text[k] in "+-":
            k += 1
        if not _digit(text, k):
            raise ExprError("malformed number exponent", k + 1)
        while _digit(text, k):
            k += 1
        j = k
    if j < len(text) and (text[j].isalnum() or text[j] in "_."):
        raise ExprError(f"unexpected {text[j]!r} right after the number {text[i:j]!r}", j + 1)
    return j


def _bad_character(c: str, col: int) -> ExprError:
    """The error for a character that starts no token, saying what to write instead."""
    if c == "^":
        return ExprError("'^' is not an operator here; use '**' for powers", col)
    if c in "'\"":
        return ExprError("strings are not allowed", col)
    if c == ".":
        return ExprError("attribute access is not allowed", col)
    if c in "[]{}":
        return ExprError(f"{c!r} is not allowed (only parentheses group)", col)
    if c == ",":
        return ExprError("',' is not allowed: functions take one argument", col)
    if c == "=":
        return ExprError("'=' is not allowed: write only the loss expression", col)
    shown = repr(c) if c.isprintable() else f"U+{ord(c):04X}"
    return ExprError(f"unexpected character {shown}", col)


# ------------------------------------------------------------------- precedence

#: How tightly each form binds, loosest first.
PREC_ADD, PREC_MUL, PREC_UNARY, PREC_POW, PREC_ATOM = 1, 2, 3, 4, 5

#: Each binary operator's precedence and whether it groups to the right
#: (``2**3**2 == 2**(3**2)``); the others group to the left (``8/4/2 == (8/4)/2``).
BINARY: dict[str, tuple[int, bool]] = {
    "+": (PREC_ADD, False),
    "-": (PREC_ADD, False),
    "*": (PREC_MUL, False),
    "/": (PREC_MUL, False),
    "**": (PREC_POW, True),
}


def _operand_powers(op: str) -> tuple[int, int]:
    """Binding powers of the left and right operand of ``op``.

    The parser reads the right operand with the right power: it takes in a
    following operator only if that binds tighter. ``to_string`` puts
    parentheses round an operand whose precedence is not above its power.
    """
    prec, right_assoc = BINARY[op]
    if right_assoc:
        return prec, prec - 1
    return prec - 1, prec


# ------------------------------------------------------------------------ nodes


class Node:
    """Base class of expression nodes: pure syntax, evaluated by :meth:`Expr.compile`."""

    __slots__ = ()
    prec = PREC_ATOM

    def to_string(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def children(self) -> tuple[Node, ...]:
        return ()


def _wrapped(node: Node, power: int, *, right: bool) -> str:
    """``node``'s text, in parentheses if it binds no tighter than ``power``.

    A unary minus on the right never needs them: the parser reads a prefix
    operator wherever an operand starts (``x * -y``, ``2**-1``).
    """
    text = node.to_string()
    if node.prec <= power and not (right and isinstance(node, Unary)):
        return f"({text})"
    return text


@dataclass(frozen=True, slots=True, eq=True)
class Num(Node):
    value: float
    text: str

    def to_string(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True, eq=True)
class Name(Node):
    name: str

    def to_string(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True, eq=True)
class Unary(Node):
    op: str  # "-" | "+"
    operand: Node

    prec = PREC_UNARY

    def to_string(self) -> str:
        return f"{self.op}{_wrapped(self.operand, PREC_UNARY, right=True)}"

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True, slots=True, eq=True)
class Binary(Node):
    op: str
    left: Node
    right: Node

    @property
    def prec(self) -> int:  # type: ignore[override]
        return BINARY[self.op][0]

    def to_string(self) -> str:
        left_power, right_power = _operand_powers(self.op)
        left = _wrapped(self.left, left_power, right=False)
        right = _wrapped(self.right, right_power, right=True)
        if self.op == "**":
            return f"{left}**{right}"
        return f"{left} {self.op} {right}"

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, slots=True, eq=True)
class Call(Node):
    func: str
    arg: Node

    def to_string(self) -> str:
        return f"{self.func}({self.arg.to_string()})"

    def children(self) -> tuple[Node, ...]:
        return (self.arg,)


# ---------------------------------------------------------------------- meaning
#
# Plain floats follow IEEE instead of raising: these are the domain rules, and
# NumPy and the engine give the same values natively (log of a negative is nan,
# of zero -inf; 1/0 is inf; an overflowing exp or power is inf).


def _fdiv(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _fpow(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except OverflowError:
        if a < 0 and b == int(b) and int(b) % 2:
            return -math.inf
        return math.inf
    except (ValueError, ZeroDivisionError):
        if a == 0 and b < 0:
            return math.inf
        return math.nan


def _fexp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _flog(x: float) -> float:
    if x > 0:
        return math.log(x)
    if x == 0:
        return -math.inf
    return math.nan


def _fsqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0 else math.nan


def _fsin(x: float) -> float:
    return math.sin(x) if math.isfinite(x) else math.nan


def _fcos(x: float) -> float:
    return math.cos(x) if math.isfinite(x) else math.nan


def _fsigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _numpy(name: str) -> Callable[..., Any]:
    """``numpy.<name>``, imported when first called: loading a scenario needs no NumPy."""

    def ufunc(*args: Any) -> Any:
        import numpy as np

        return getattr(np, name)(*args)

    ufunc.__name__ = ufunc.__qualname__ = f"numpy.{name}"
    return ufunc


def _np_sigmoid(x: Any) -> Any:
    import numpy as np

    return 0.5 * (1.0 + np.tanh(0.5 * x))


_method = operator.methodcaller

#: The kinds of value an expression is compiled for: the columns of MEANING.
KINDS: tuple[str, ...] = ("float", "array", "tensor")
Kind = Literal["float", "array", "tensor"]

#: What each operator ("neg" is unary minus) and function means, one column per
#: kind: plain floats (with the rules above), NumPy arrays, engine Tensors (the
#: engine's op, so autograd records it). Constant sub-trees always use floats.
MEANING: dict[str, tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]] = {
    "neg": (operator.neg, _numpy("negative"), operator.neg),
    "+": (operator.add, _numpy("add"), operator.add),
    "-": (operator.sub, _numpy("subtract"), operator.sub),
    "*": (operator.mul, _numpy("multiply"), operator.mul),
    "/": (_fdiv, _numpy("divide"), operator.truediv),
    "**": (_fpow, _numpy("power"), operator.pow),
    "exp": (_fexp, _numpy("exp"), _method("exp")),
    "log": (_flog, _numpy("log"), _method("log")),
    "sqrt": (_fsqrt, _numpy("sqrt"), _method("sqrt")),
    "abs": (abs, _numpy("abs"), _method("abs")),
    "sin": (_fsin, _numpy("sin"), _method("sin")),
    "cos": (_fcos, _numpy("cos"), _method("cos")),
    "tanh": (math.tanh, _numpy("tanh"), _method("tanh")),
    "sigmoid": (_fsigmoid, _np_sigmoid, _method("sigmoid")),
}

_FLOAT = KINDS.index("float")


def _as_array(v: Any) -> Any:
    import numpy as np

    return np.asarray(v, dtype=float)


#: How a parameter's value from ``env`` enters each kind (None: as it is).
_LEAF: dict[str, Callable[[Any], Any] | None] = {"float": float, "array": _as_array,
                                                 "tensor": None}

Env = Mapping[str, Any]
Fn = Callable[[Env], Any]


# --------------------------------------------------------------------- compiler


def _compile(node: Node, kind: int, label: bool) -> tuple[Fn | None, Any]:
    """``(fn, None)`` for a sub-tree that reads ``env``, ``(None, value)`` for a constant.

    ``kind`` is a column of MEANING. Each operation becomes one closure calling
    its operands' closures left to right, a constant operand is passed as its
    value, and a constant sub-tree is folded once here with the float rules.
    """
    if isinstance(node, Num):
        return None, node.value
    if isinstance(node, Name):
        return _leaf(node.name, _LEAF[KINDS[kind]]), None
    if isinstance(node, Unary):
        operand = _compile(node.operand, kind, label)
        if node.op == "+":
            return operand
        return _apply(node, "neg", [operand], kind, label)
    if isinstance(node, Call):
        return _apply(node, node.func, [_compile(node.arg, kind, label)], kind, label)
    if isinstance(node, Binary):
        left = _compile(node.left, kind, label)
        right = _compile(node.right, kind, label)
        return _apply(node, node.op, [left, right], kind, label)
    raise TypeError(f"unknown expression node {type(node).__name__}")


def _leaf(name: str, convert: Callable[[Any], Any] | None) -> Fn:
    if convert is None:
        return lambda env: env[name]
    return lambda env: convert(env[name])


def _apply(node: Node, meaning: str, operands: list[tuple[Fn | None, Any]], kind: int,
           label: bool) -> tuple[Fn | None, Any]:
    """``meaning`` applied to compiled ``operands``: folded if all are constant."""
    if all(f is None for f, _ in operands):
        return None, MEANING[meaning][_FLOAT](*(v for _, v in operands))
    fn = _closure(MEANING[meaning][kind], operands)
    return (_labelled(fn, node.to_string()) if label else fn), None


def _closure(op: Callable[..., Any], operands: list[tuple[Fn | None, Any]]) -> Fn:
    """``env -> op(operand values...)``, a constant operand passed as its value."""
    if len(operands) == 1:
        f = operands[0][0]
        assert f is not None
        return lambda env: op(f(env))
    (fa, va), (fb, vb) = operands
    if fb is None:
        assert fa is not None  # a wholly constant operation was folded
        return lambda env: op(fa(env), vb)
    if fa is None:
        return lambda env: op(va, fb(env))
    return lambda env: op(fa(env), fb(env))


def _labelled(fn: Fn, text: str) -> Fn:
    """``fn``, naming the engine node it makes (if not named yet) ``text``."""

    def named(env: Env) -> Any:
        out = fn(env)
        if getattr(out, "op", "") and out.name is None:
            out.name = text
        return out

    return named


def _kind_of(values: Iterable[Any]) -> Kind:
    """"float" if every value is a plain number, "array" if any is NumPy's, else "tensor"."""
    values = list(values)
    if all(isinstance(v, (int, float)) for v in values):  # numpy.float64 is a float
        return "float"
    if any(type(v).__module__.split(".")[0] == "numpy" for v in values):
        return "array"
    return "tensor"


# --------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, text: str, params: Sequence[str]) -> None:
        self.text = text
        self.params = list(params)
        self.toks = _tokenize(text)
        self.pos = 0
        self.nodes = 0
        self.depth = 0

    # helpers
    def peek(self) -> _Tok:
        tok = self.toks[self.pos]
        if tok.kind == "bad":
            raise ExprError(tok.text, tok.col)
        return tok

    def advance(self) -> _Tok:
        tok = self.peek()
        self.pos += 1
        return tok

    def node(self, n: Node, col: int) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExprError(f"expression too large (more than {MAX_NODES} nodes)", col)
        return n

    def allowed(self) -> str:
        return ", ".join([*self.params, *FUNCTIONS])

    def describe(self, tok: _Tok) -> str:
        if tok.kind == "end":
            return "end of expression"
        return repr(tok.text)

    def close(self, opened: _Tok, what: str) -> None:
        tok = self.advance()
        if tok.kind != ")":
            raise ExprError(f"expected ')' to close '{what}' from column {opened.col},"
                            f" got {self.describe(tok)}", tok.col)

    # grammar
    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise ExprError("empty expression", 1)
        root = self.expr(0)
        tok = self.peek()
        if tok.kind != "end":
            if tok.kind == ")":
                raise ExprError("unbalanced ')'", tok.col)
            raise ExprError(f"expected an operator, got {self.describe(tok)}", tok.col)
        return root

    def expr(self, power: int) -> Node:
        """An operand and every following operator that binds tighter than ``power``."""
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise ExprError(f"expression nested too deeply (max depth {MAX_DEPTH})",
                                self.peek().col)
            left = self.prefix()
            while True:
                tok = self.peek()
                if tok.kind != "op":
                    if tok.kind in ("num", "name", "("):
                        raise ExprError(f"expected an operator before {tok.text!r}"
                                        " (write multiplication as '*')", tok.col)
                    return left
                if BINARY[tok.text][0] <= power:
                    return left
                self.advance()
                right = self.expr(_operand_powers(tok.text)[1])
                left = self.node(Binary(tok.text, left, right), tok.col)
        finally:
            self.depth -= 1

    def prefix(self) -> Node:
        tok = self.advance()
        if tok.kind == "num":
            value = float(tok.text)  # the tokenizer guarantees the shape
            if not math.isfinite(value):
                raise ExprError(f"number {tok.text!r} is too large", tok.col)
            return self.node(Num(value, tok.text), tok.col)
        if tok.kind == "name":
            return self.name(tok)
        if tok.kind == "op" and tok.text in ("+", "-"):
            operand = self.expr(PREC_UNARY)
            return self.node(Unary(tok.text, operand), tok.col)
        if tok.kind == "(":
            inner = self.expr(0)
            self.close(tok, "(")
            return inner
        if tok.kind == "end":
            raise ExprError("unexpected end of expression", tok.col)
        raise ExprError(f"unexpected {tok.text!r}", tok.col)

    def name(self, tok: _Tok) -> Node:
        if tok.text in FUNCTIONS:
            nxt = self.peek()
            if nxt.kind != "(":
                raise ExprError(f"function '{tok.text}' needs '(' and one argument", nxt.col)
            self.advance()
            if self.peek().kind == ")":
                raise ExprError(f"function '{tok.text}' needs one argument", self.peek().col)
            arg = self.expr(0)
            self.close(tok, f"{tok.text}(")
            return self.node(Call(tok.text, arg), tok.col)
        if tok.text in self.params:
            if self.peek().kind == "(":
                raise ExprError(f"'{tok.text}' is a parameter, not a function", self.peek().col)
            return self.node(Name(tok.text), tok.col)
        raise ExprError(f"unknown name '{tok.text}'", tok.col, f"allowed: {self.allowed()}")


# ------------------------------------------------------------------------ API


class Expr:
    """A parsed expression: ``compile(kind)``, ``evaluate(env)``, ``to_string()``, ``names``."""

    __slots__ = ("_compiled", "params", "root", "text")

    def __init__(self, root: Node, params: Sequence[str], text: str) -> None:
        self.root = root
        self.params = tuple(params)
        self.text = text
        self._compiled: dict[tuple[str, bool], Fn] = {}

    def compile(self, kind: Kind = "tensor", *, name_nodes: bool = False) -> Fn:
        """The expression as a function ``env -> value`` on values of ``kind``.

        ``env`` maps each parameter name to a value. On "tensor" the result is an
        engine Tensor with its graph (or a float if no parameter is used); with
        ``name_nodes`` each Tensor an operation makes is named by the text of its
        sub-expression (``to_string``), as the backprop inspector shows it.
        The same function is returned on every call.
        """
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        key = (kind, name_nodes)
        fn = self._compiled.get(key)
        if fn is None:
            f, value = _compile(self.root, KINDS.index(kind), name_nodes)
            fn = self._compiled[key] = f if f is not None else (lambda env: value)
        return fn

    def evaluate(self, env: Env) -> Any:
        """Evaluate with ``env`` mapping each parameter name to a value.

        The values (all of one kind) may be engine Tensors (the result is a Tensor
        with a graph), numpy arrays (vectorised, warnings silenced: inf/nan
        propagate) or plain numbers (a float, never an exception).
        """
        missing = [p for p in self.names if p not in env]
        if missing:
            raise KeyError(f"no value for {', '.join(missing)}")
        kind = _kind_of(env[p] for p in self.names)
        if kind == "array":
            import numpy as np

            with np.errstate(all="ignore"):
                return self.compile(kind)(env)
        return self.compile(kind)(env)

    __call__ = evaluate

    def to_string(self) -> str:
        """Canonical text with minimal parentheses; ``parse`` of it gives the same tree."""
        return self.root.to_string()

    @property
    def names(self) -> frozenset[str]:
        """Parameter names the expression actually uses."""
        out: set[str] = set()
        stack = [self.root]
        while stack:
            n = stack.pop()
            if isinstance(n, Name):
                out.add(n.name)
            stack.extend(n.children())
        return frozenset(out)

    def __repr__(self) -> str:
        return f"Expr({self.to_string()!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expr) and self.root == other.root

    def __hash__(self) -> int:
        return hash(self.root)


def parse(text: str, params: Sequence[str]) -> Expr:
    """Parse ``text`` allowing the parameter names ``params``; raise :class:`ExprError`."""
    if not isinstance(text, str):
        raise ExprError(f"expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression too long ({len(text)} characters, max {MAX_LENGTH})")
    for p in params:
        if not isinstance(p, str) or not p.isidentifier() or not p.isascii():
            raise ExprError(f"invalid parameter name {p!r}")
        if p in _RESERVED:
            raise ExprError(f"parameter name {p!r} is reserved (a function or constant name)")
    return Expr(_Parser(text, params).parse(), params, text)
