"""The parts every exported script shares: header, settings, data, batch order, output.

Every script prints one line per step, ``k loss`` with ``loss`` the training
loss after ``k`` updates (``repr``, full precision), for k = 0 .. STEPS, and
stops with a ``# diverged ...`` comment where descent stops the run. The five
phases of a step carry a trailing ``# 1 zero_grad`` .. ``# 5 step`` comment:
:func:`phase_lines` finds them (the Code view highlights them).
"""

from __future__ import annotations

import re

from descent_tui.export.literals import array_literal, number
from descent_tui.export.plan import RunPlan

__all__ = ["PHASES", "batch_code", "data_code", "header", "phase_lines", "settings_code",
           "tag"]

#: the phases of one training step, in order
PHASES = ("zero_grad", "forward", "loss", "backward", "step")
_TAG = re.compile(r"#\s*([1-5]) (zero_grad|forward|loss|backward|step)\b")


def tag(line: str, phase: str, width: int = 52) -> str:
    """``line`` with the phase comment ``# n phase`` aligned after it."""
    n = PHASES.index(phase) + 1
    return f"{line.ljust(width)}# {n} {phase}"


def phase_lines(text: str) -> dict[str, int]:
    """Phase -> the 0-based line of ``text`` that first carries its tag."""
    found: dict[str, int] = {}
    for i, line in enumerate(text.splitlines()):
        m = _TAG.search(line)
        if m and m.group(2) not in found:
            found[m.group(2)] = i
    return found


def header(plan: RunPlan, target: str, how: str) -> list[str]:
    return [
        f'"""{plan.title} ({plan.mission}): run {plan.label!r}, exported from descent.',
        "",
        f"Target: {target}. {how}",
        "It trains as descent trained the run and prints `k loss` per line: the",
        "training loss after k updates, for k = 0 .. STEPS.",
        '"""',
        "",
    ]


def settings_code(plan: RunPlan) -> list[str]:
    lines = [f"STEPS = {plan.steps}                      # updates to take",
             f"DIVERGE_ABOVE = {number(plan.diverge_above)}   # descent stops a run whose "
             "loss exceeds this"]
    if plan.kind == "network" and plan.accumulate > 1:
        lines.append(f"ACCUMULATE = {plan.accumulate}                 # micro-batches per update")
    return lines + [f"print({('# run ' + plan.label)!r})", ""]


def data_code(plan: RunPlan) -> list[str]:
    """The training set as literals (descent's generated data, to the last bit)."""
    return [f"# the training set: {len(plan.X)} examples (descent's generated data)",
            f"X = {array_literal(plan.X, width=100)}",
            f"y = {array_literal(plan.y, width=100)}", ""]


def batch_code(plan: RunPlan) -> list[str]:
    """``next_batch()``: the indices of each step's (micro-)batches, as descent draws them."""
    acc = plan.accumulate
    if plan.batch_size == 0:
        if acc == 1:
            return ["def next_batch():", '    """Full batch: every example, every step."""',
                    "    return [np.arange(len(X))]", ""]
        return ["def next_batch():",
                '    """Full batch, cut into ACCUMULATE micro-batches."""',
                "    return np.array_split(np.arange(len(X)), ACCUMULATE)", ""]
    return [
        f"BATCH_SIZE = {plan.batch_size}",
        "# descent's shuffle: its own generator, seeded from the run's seed",
        f"shuffle = np.random.default_rng(np.random.SeedSequence({plan.seed}).spawn(2)[1])",
        "order, pos = None, 0",
        "",
        "",
        "def next_batch():",
        f'    """{"ACCUMULATE" if acc > 1 else "One"} mini-batch{"es" if acc > 1 else ""}'
        ' of BATCH_SIZE: a new shuffled order each epoch."""',
        "    global order, pos",
        "    batches = []",
        f"    for _ in range({'ACCUMULATE' if acc > 1 else 1}):",
        "        if order is None or pos >= len(X):",
        "            order, pos = shuffle.permutation(len(X)), 0",
        "        batches.append(order[pos:pos + BATCH_SIZE])",
        "        pos += BATCH_SIZE",
        "    return batches",
        "",
    ]


def report_code(indent: str, value: str) -> list[str]:
    """Print ``k value``, or stop as descent stops a diverged run."""
    return [f"{indent}if not math.isfinite({value}) or {value} > DIVERGE_ABOVE:",
            f'{indent}    print(f"# diverged after {{k}} updates: loss {{{value}!r}}")',
            f"{indent}    break",
            f'{indent}print(f"{{k}} {{{value}!r}}")',
            f"{indent}if k == STEPS:",
            f"{indent}    break"]
