"""Newton's method, written out: the Hessian as descent builds it, then one linear solve.

PyTorch has no Newton optimizer, so every target writes the step by hand, the
same way for NumPy (gradients by hand) and for the engine and PyTorch
(gradients by autograd). The Hessian is built as descent builds it (see
:mod:`descent_tui.engine.hessian`): central differences of the exact gradient,
coordinate by coordinate, made symmetric. On a quadratic that is exact up to
rounding, and it keeps the script's numbers those of the run (an exact Hessian,
``torch.autograd.functional.hessian``, would round differently near 0).
"""

from __future__ import annotations

from descent_tui.export import frame
from descent_tui.export.literals import number
from descent_tui.export.plan import ExportError, RunPlan

__all__ = ["check_newton", "newton_constants", "newton_helpers", "newton_step"]


def check_newton(plan: RunPlan) -> None:
    """ExportError for what the written-out Newton step does not cover."""
    c = plan.config
    extras = [name for name, on in (
        ("a network", plan.kind != "landscape"),
        ("an lr schedule", c.schedule is not None and c.schedule.kind != "constant"),
        ("clipping", c.clip_norm is not None or c.clip_value is not None),
        ("apply_twice", c.apply_twice), ("forget_zero_grad", c.forget_zero_grad)) if on]
    if extras:
        raise ExportError(f"run '{plan.label}': Newton's method with {', '.join(extras)} "
                          "is not written for export (export another run)")


def newton_constants(plan: RunPlan) -> list[str]:
    return [f"LR = {number(plan.config.lr)}        # the part of the Newton step taken (1: all)",
            f"DAMPING = {number(plan.config.damping)}   # delta in (H + delta*I) d = -g", "", ""]


def newton_helpers(value: str, set_coord: str) -> list[str]:
    """``hessian(theta)`` and ``newton_direction(g, H)``.

    ``value`` is how to read coordinate ``j`` of theta as a float, ``set_coord``
    a format string assigning ``{v}`` to it; both scripts define ``grad_at(theta)``.
    """
    return [
        "def hessian(theta, h=1e-4):",
        '    """H[i, j] = d2L / dtheta_i dtheta_j, as descent builds it: nudge coordinate j',
        "    both ways and difference the exact gradients, then make H symmetric.",
        "    Exact on a quadratic, up to rounding.\"\"\"",
        "    n = len(theta)",
        "    H = np.empty((n, n))",
        "    for j in range(n):",
        f"        old = {value}",
        "        step = h * max(1.0, abs(old))",
        f"        {set_coord.format(v='old + step')}",
        "        g_plus = grad_at(theta)",
        f"        {set_coord.format(v='old - step')}",
        "        g_minus = grad_at(theta)",
        f"        {set_coord.format(v='old')}",
        "        H[:, j] = (g_plus - g_minus) / ((old + step) - (old - step))",
        "    H += H.T",
        "    H *= 0.5",
        "    return H",
        "",
        "",
        "def newton_direction(g, H):",
        '    """d with (H + DAMPING*I) d = -g: the step to the bottom of the local bowl."""',
        "    A = H + np.diag(np.full(len(g), DAMPING))",
        "    try:",
        "        d = np.linalg.solve(A, -g)",
        "        if not np.all(np.isfinite(d)):",
        "            raise np.linalg.LinAlgError('non-finite solution')",
        "    except np.linalg.LinAlgError:   # singular: the least-squares step, as descent",
        "        d = np.linalg.lstsq(A, -g, rcond=None)[0]",
        "    return d",
        "",
        "",
    ]


def newton_step(g: str, update: list[str], indent: str) -> list[str]:
    """The step phase: the gradient ``g`` at theta, H there, the solve, then ``update``
    moves theta by ``LR * d`` (``g`` is read first: building H evaluates other points)."""
    return [frame.tag(f"{indent}g = {g}", "step"),
            f"{indent}H = hessian(theta)",
            f"{indent}d = newton_direction(g, H)",
            *(indent + line for line in update)]
