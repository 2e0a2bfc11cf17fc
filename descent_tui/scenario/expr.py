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

``Expr.evaluate(env)`` works on engine Tensors (operators and ``.exp()`` ...
methods, so autograd records the graph), on numpy arrays (vectorised, e.g. a
whole contour grid) and on plain floats (math, IEEE results instead of errors).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_NODES",
    "Binary",
    "Call",
    "Expr",
    "ExprError",
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
    kind: str  # "num" | "name" | "op" | "(" | ")" | "end"
    text: str
    col: int  # 1-based


_OPS = ("**", "+", "-", "*", "/")


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


def _scan(text: str, toks: list[_Tok]) -> None:
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        col = i + 1
        if c in " \t\r\n":
            i += 1
            continue
        if c.isascii() and (c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit())):
            j = i
            while j < n and text[j].isascii() and text[j].isdigit():
                j += 1
            if j < n and text[j] == ".":
                j += 1
                while j < n and text[j].isascii() and text[j].isdigit():
                    j += 1
            if j < n and text[j] in "eE":
                k = j + 1
                if k < n and text[k] in "+-":
                    k += 1
                if k < n and text[k].isascii() and text[k].isdigit():
                    while k < n and text[k].isascii() and text[k].isdigit():
                        k += 1
                    j = k
                else:
                    raise ExprError("malformed number exponent", k + 1)
            if j < n and (text[j].isalnum() or text[j] in "_."):
                raise ExprError(
                    f"unexpected {text[j]!r} right after the number {text[i:j]!r}", j + 1
                )
            toks.append(_Tok("num", text[i:j], col))
            i = j
            continue
        if c.isascii() and (c.isalpha() or c == "_"):
            j = i
            while j < n and text[j].isascii() and (text[j].isalnum() or text[j] == "_"):
                j += 1
            toks.append(_Tok("name", text[i:j], col))
            i = j
            continue
        if text.startswith("**", i):
            toks.append(_Tok("op", "**", col))
            i += 2
            continue
        if c in "+-*/":
            toks.append(_Tok("op", c, col))
            i += 1
            continue
        if c in "()":
            toks.append(_Tok(c, c, col))
            i += 1
            continue
        if c == "^":
            raise ExprError("'^' is not an operator here; use '**' for powers", col)
        if c in "'\"":
            raise ExprError("strings are not allowed", col)
        if c == ".":
            raise ExprError("attribute access is not allowed", col)
        if c in "[]{}":
            raise ExprError(f"{c!r} is not allowed (only parentheses group)", col)
        if c == ",":
            raise ExprError("',' is not allowed: functions take one argument", col)
        if c == "=":
            raise ExprError("'=' is not allowed: write only the loss expression", col)
        shown = repr(c) if c.isprintable() else f"U+{ord(c):04X}"
        raise ExprError(f"unexpected character {shown}", col)


# ------------------------------------------------------------------------ nodes

_PREC_ADD, _PREC_MUL, _PREC_UNARY, _PREC_POW, _PREC_ATOM = 1, 2, 3, 4, 5


class Node:
    """Base class of expression nodes."""

    __slots__ = ()
    prec = _PREC_ATOM

    def eval(self, env: Mapping[str, Any]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_string(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(frozen=True, slots=True, eq=True)
class Num(Node):
    value: float
    text: str

    def eval(self, env: Mapping[str, Any]) -> Any:
        return self.value

    def to_string(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True, eq=True)
class Name(Node):
    name: str

    def eval(self, env: Mapping[str, Any]) -> Any:
        return env[self.name]

    def to_string(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True, eq=True)
class Unary(Node):
    op: str  # "-" | "+"
    operand: Node

    @property
    def prec(self) -> int:  # type: ignore[override]
        return _PREC_UNARY

    def eval(self, env: Mapping[str, Any]) -> Any:
        v = self.operand.eval(env)
        if self.op == "+":
            return v
        return _neg(v)

    def to_string(self) -> str:
        inner = self.operand.to_string()
        if self.operand.prec < _PREC_UNARY:
            inner = f"({inner})"
        return f"{self.op}{inner}"

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


_BIN_PREC = {"+": _PREC_ADD, "-": _PREC_ADD, "*": _PREC_MUL, "/": _PREC_MUL, "**": _PREC_POW}


@dataclass(frozen=True, slots=True, eq=True)
class Binary(Node):
    op: str
    left: Node
    right: Node

    @property
    def prec(self) -> int:  # type: ignore[override]
        return _BIN_PREC[self.op]

    def eval(self, env: Mapping[str, Any]) -> Any:
        a = self.left.eval(env)
        b = self.right.eval(env)
        return _binop(self.op, a, b)

    def to_string(self) -> str:
        p = self.prec
        left, right = self.left.to_string(), self.right.to_string()
        if self.op == "**":
            # left operand of ** must be an atom (or a call): (-x)**2, (x**2)**3
            if self.left.prec <= _PREC_POW:
                left = f"({left})"
            if self.right.prec < _PREC_UNARY:
                right = f"({right})"
            return f"{left}**{right}"
        if self.left.prec < p:
            left = f"({left})"
        if self.right.prec <= p:
            right = f"({right})"
        return f"{left} {self.op} {right}"

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, slots=True, eq=True)
class Call(Node):
    func: str
    arg: Node

    def eval(self, env: Mapping[str, Any]) -> Any:
        return _call(self.func, self.arg.eval(env))

    def to_string(self) -> str:
        return f"{self.func}({self.arg.to_string()})"

    def children(self) -> tuple[Node, ...]:
        return (self.arg,)


# ---------------------------------------------------------------- evaluation


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_ndarray(v: Any) -> bool:
    mod = type(v).__module__
    return mod == "numpy" or mod.startswith("numpy.")


def _neg(v: Any) -> Any:
    if _is_number(v):
        return -float(v)
    try:
        return -v
    except TypeError:
        return v * -1.0


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


def _binop(op: str, a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b):
        a, b = float(a), float(b)
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return _fdiv(a, b)
        return _fpow(a, b)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b
    # power
    if _is_ndarray(a) or _is_ndarray(b):
        import numpy as np

        return np.power(np.asarray(a, dtype=float), b)
    try:
        return a**b
    except TypeError:
        # fall back to exp(b * log(a)) for engines without __rpow__ / tensor exponents
        if _is_number(a):
            return (b * math.log(a)).exp()
        return (b * a.log()).exp()


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


def _ftrig(f):
    def g(x: float) -> float:
        try:
            return f(x)
        except ValueError:
            return math.nan

    return g


def _fsigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


_FLOAT_FUNCS = {
    "exp": _fexp,
    "log": _flog,
    "sqrt": _fsqrt,
    "abs": abs,
    "sin": _ftrig(math.sin),
    "cos": _ftrig(math.cos),
    "tanh": math.tanh,
    "sigmoid": _fsigmoid,
}


def _np_func(name: str, x: Any) -> Any:
    import numpy as np

    if name == "sigmoid":
        x = np.asarray(x, dtype=float)
        return 0.5 * (1.0 + np.tanh(0.5 * x))
    return {
        "exp": np.exp,
        "log": np.log,
        "sqrt": np.sqrt,
        "abs": np.abs,
        "sin": np.sin,
        "cos": np.cos,
        "tanh": np.tanh,
    }[name](x)


def _call(name: str, x: Any) -> Any:
    if _is_number(x):
        return float(_FLOAT_FUNCS[name](float(x)))
    if _is_ndarray(x):
        return _np_func(name, x)
    method = getattr(x, name, None)
    if callable(method):
        return method()
    if name == "abs":
        return abs(x)
    return _np_func(name, x)


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

    def describe(self, tok: _Tok) -> str:
        if tok.kind == "end":
            return "end of expression"
        return repr(tok.text)

    def expr(self, rbp: int) -> Node:
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
                        raise ExprError(
                            f"expected an operator before {tok.text!r}"
                            " (write multiplication as '*')",
                            tok.col,
                        )
                    return left
                lbp = {"+": 10, "-": 10, "*": 20, "/": 20, "**": 40}[tok.text]
                if lbp <= rbp:
                    return left
                self.advance()
                # ** is right-associative: parse its right side with a lower bp
                right = self.expr(39 if tok.text == "**" else lbp)
                left = self.node(Binary(tok.text, left, right), tok.col)
        finally:
            self.depth -= 1

    def prefix(self) -> Node:
        tok = self.advance()
        if tok.kind == "num":
            try:
                value = float(tok.text)
            except ValueError:  # pragma: no cover - tokenizer guarantees the shape
                raise ExprError(f"bad number {tok.text!r}", tok.col) from None
            if not math.isfinite(value):
                raise ExprError(f"number {tok.text!r} is too large", tok.col)
            return self.node(Num(value, tok.text), tok.col)
        if tok.kind == "name":
            if tok.text in FUNCTIONS:
                nxt = self.peek()
                if nxt.kind != "(":
                    raise ExprError(f"function '{tok.text}' needs '(' and one argument",
                                    nxt.col)
                self.advance()
                if self.peek().kind == ")":
                    raise ExprError(f"function '{tok.text}' needs one argument",
                                    self.peek().col)
                arg = self.expr(0)
                close = self.advance()
                if close.kind != ")":
                    raise ExprError(
                        f"expected ')' to close '{tok.text}(' from column {tok.col},"
                        f" got {self.describe(close)}",
                        close.col,
                    )
                return self.node(Call(tok.text, arg), tok.col)
            if tok.text in self.params:
                if self.peek().kind == "(":
                    raise ExprError(f"'{tok.text}' is a parameter, not a function",
                                    self.peek().col)
                return self.node(Name(tok.text), tok.col)
            raise ExprError(f"unknown name '{tok.text}'", tok.col, f"allowed: {self.allowed()}")
        if tok.kind == "op" and tok.text in "+-" and len(tok.text) == 1:
            operand = self.expr(30)
            return self.node(Unary(tok.text, operand), tok.col)
        if tok.kind == "(":
            inner = self.expr(0)
            close = self.advance()
            if close.kind != ")":
                raise ExprError(
                    f"expected ')' to close '(' from column {tok.col}, got {self.describe(close)}",
                    close.col,
                )
            return inner
        if tok.kind == "end":
            raise ExprError("unexpected end of expression", tok.col)
        raise ExprError(f"unexpected {tok.text!r}", tok.col)


# ------------------------------------------------------------------------ API


class Expr:
    """A parsed expression: ``evaluate(env)``, ``to_string()``, ``names``."""

    __slots__ = ("params", "root", "text")

    def __init__(self, root: Node, params: Sequence[str], text: str) -> None:
        self.root = root
        self.params = tuple(params)
        self.text = text

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        """Evaluate with ``env`` mapping each parameter name to a value.

        Values may be engine Tensors (the result is a Tensor with a graph),
        numpy arrays (vectorised, warnings silenced: inf/nan propagate) or floats.
        """
        missing = [p for p in self.names if p not in env]
        if missing:
            raise KeyError(f"no value for {', '.join(missing)}")
        if any(_is_ndarray(v) for v in env.values()):
            import numpy as np

            with np.errstate(all="ignore"):
                return self.root.eval(env)
        return self.root.eval(env)

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
