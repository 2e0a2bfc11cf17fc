"""A landscape's loss expression (:mod:`descent_tui.scenario.expr`) written as Python code.

* :func:`expression_code` — one Python expression, for a target whose tensors
  carry autograd (``torch.exp(x)`` ...): the autograd library differentiates it.
* :func:`forward_adjoint` — for the NumPy target, where nothing differentiates
  for us: the forward pass as one statement per operation (``t1 = x ** 2``), and
  the reverse-mode adjoints (the chain rule, ``dL/dchild = dL/dnode · dnode/dchild``),
  one statement per operation, from the loss back to the parameters.

A sub-expression without parameters is folded to its value with the
expression language's float rules, as the simulation folds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from descent_tui.export.literals import number
from descent_tui.scenario.expr import (
    PREC_ATOM,
    PREC_UNARY,
    Binary,
    Call,
    Expr,
    Name,
    Node,
    Num,
    Unary,
    _operand_powers,
    parse,
)

__all__ = ["Adjoint", "expression_code", "forward_adjoint"]


def _constant(node: Node) -> float | None:
    """The value of a sub-tree without parameters (None: it reads a parameter)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Name):
            return None
        stack.extend(n.children())
    if isinstance(node, Num):
        return node.value
    return float(parse(node.to_string(), []).compile("float")({}))


def _constant_text(node: Node, value: float) -> str:
    """A number as the mission wrote it (``10``), a folded sub-tree as its value."""
    text = node.text if isinstance(node, Num) else number(value)
    return f"({text})" if text.startswith("-") else text


def _wrap(text: str, node: Node, power: int, right: bool) -> str:
    prec = PREC_ATOM if _constant(node) is not None and not text.startswith("(-") \
        else node.prec
    if prec <= power and not (right and isinstance(node, Unary)):
        return f"({text})"
    return text


def expression_code(node: Node, fn: str = "torch.") -> str:
    """``node`` as one Python expression; functions are called as ``{fn}exp(...)``."""
    value = _constant(node)
    if value is not None:
        return _constant_text(node, value)
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Unary):
        inner = _wrap(expression_code(node.operand, fn), node.operand, PREC_UNARY, True)
        return inner if node.op == "+" else f"-{inner}"
    if isinstance(node, Call):
        return f"{fn}{node.func}({expression_code(node.arg, fn)})"
    assert isinstance(node, Binary)
    lp, rp = _operand_powers(node.op)
    left = _wrap(expression_code(node.left, fn), node.left, lp, False)
    right = _wrap(expression_code(node.right, fn), node.right, rp, True)
    return f"{left} {node.op} {right}"


@dataclass
class Adjoint:
    """The NumPy target's loss: ``forward`` statements, then ``backward`` ones.

    ``forward`` ends with ``loss = ...``; ``backward`` starts from ``dloss = 1.0``
    and ends with ``dx``, ``dy``, ... the gradient per parameter.
    """

    forward: list[str] = field(default_factory=list)
    backward: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)


#: d(node)/d(operand) for one-argument functions: ``a`` the operand, ``t`` the node's value
_CALL_GRAD = {
    "exp": "{g} * {t}",
    "log": "{g} / {a}",
    "sqrt": "{g} * 0.5 / {t}",
    "abs": "{g} * np.sign({a})",
    "sin": "{g} * np.cos({a})",
    "cos": "-{g} * np.sin({a})",
    "tanh": "{g} * (1.0 - {t} * {t})",
    "sigmoid": "{g} * {t} * (1.0 - {t})",
}


class _Writer:
    def __init__(self, params: list[str]) -> None:
        self.out = Adjoint(params=list(params))
        self.count = 0
        self.back: list[list[str]] = []   # per node, in forward order

    def name_of(self, node: Node) -> str:
        """The forward statements for ``node``; returns the name (or constant) holding it."""
        value = _constant(node)
        if value is not None:
            return _constant_text(node, value)
        if isinstance(node, Name):
            return node.name
        if isinstance(node, Unary) and node.op == "+":
            return self.name_of(node.operand)
        kids = [(c, self.name_of(c)) for c in node.children()]
        self.count += 1
        t = f"t{self.count}"
        self.out.forward.append(f"{t} = {self._op_text(node, [k for _, k in kids])}"
                                f"  # {node.to_string()}")
        self.back.append(self._grads(node, t, kids))
        return t

    @staticmethod
    def _op_text(node: Node, kids: list[str]) -> str:
        if isinstance(node, Unary):
            return f"-{kids[0]}"
        if isinstance(node, Call):
            if node.func == "sigmoid":
                return f"1.0 / (1.0 + np.exp(-{kids[0]}))"
            return f"np.{node.func}({kids[0]})"
        return f"{kids[0]} {node.op} {kids[1]}"

    def _grads(self, node: Node, t: str, kids: list[tuple[Node, str]]) -> list[str]:
        """``d<child> += ...`` for each child that depends on a parameter."""
        g = "d" + t
        lines: list[str] = []

        def add(child: Node, name: str, text: str) -> None:
            if _constant(child) is None:
                op = "+=" if isinstance(child, Name) else "="
                lines.append(f"d{name} {op} {text}")

        if isinstance(node, Unary):
            add(kids[0][0], kids[0][1], f"-{g}")
        elif isinstance(node, Call):
            add(kids[0][0], kids[0][1], _CALL_GRAD[node.func].format(g=g, t=t, a=kids[0][1]))
        else:
            (ln, a), (rn, b) = kids
            rules = {
                "+": (g, g),
                "-": (g, f"-{g}"),
                "*": (f"{g} * {b}", f"{g} * {a}"),
                "/": (f"{g} / {b}", f"-{g} * {a} / ({b} * {b})"),
                "**": (self._pow_grad(g, a, b, rn), f"{g} * {t} * np.log({a})"),
            }[node.op]
            add(ln, a, rules[0])
            add(rn, b, rules[1])
        return lines

    @staticmethod
    def _pow_grad(g: str, a: str, b: str, exponent: Node) -> str:
        p = _constant(exponent)
        if p == 2.0:
            return f"{g} * 2.0 * {a}"          # d(a²)/da = 2a
        if p == 0.0:
            return "0.0"
        return f"{g} * {b} * {a} ** ({b} - 1.0)"   # d(a^p)/da = p·a^(p-1)


def forward_adjoint(expr: Expr) -> Adjoint:
    """The forward statements and reverse-mode adjoints of ``expr`` (see the module doc)."""
    w = _Writer(list(expr.params))
    top = w.name_of(expr.root)
    out = w.out
    out.forward.append(f"loss = {top}")
    out.backward.append("dloss = 1.0                      # dL/dL")
    out.backward += [f"d{p} = 0.0" for p in expr.params]
    if top.startswith("t"):
        out.backward.append(f"d{top} = dloss")
    elif top in expr.params:
        out.backward.append(f"d{top} += dloss")
    for lines in reversed(w.back):
        out.backward += lines
    return out
