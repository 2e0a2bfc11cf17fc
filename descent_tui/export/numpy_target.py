"""The NumPy target: no autograd at all, the chain rule written out by hand.

A landscape's loss becomes one forward statement per operation and one adjoint
statement per operation (:mod:`descent_tui.export.expr_code`); a network's
forward and backward are written layer by layer (Linear, then activation).
The optimizer's update and the lr schedule are written as formulas.
"""

from __future__ import annotations

from descent_tui.export import frame
from descent_tui.export.expr_code import forward_adjoint
from descent_tui.export.literals import number
from descent_tui.export.newton import check_newton, newton_constants, newton_helpers, newton_step
from descent_tui.export.plan import ExportError, RunPlan

__all__ = ["numpy_script", "optimizer_lines", "schedule_lines"]


def schedule_lines(plan: RunPlan) -> list[str]:
    """``def lr_at(k)``: the learning rate of update k+1 (k updates done), in closed form."""
    c, sch = plan.config, plan.config.schedule
    lr = number(c.lr)
    body = f"    return {lr}"
    if sch is not None and sch.kind == "step":
        body = f"    return {lr} * {number(sch.gamma)} ** (k // {sch.step_size})"
    elif sch is not None and sch.kind == "multistep":
        body = (f"    return {lr} * {number(sch.gamma)} ** sum(k >= m for m in "
                f"{sorted(sch.milestones)})")
    elif sch is not None and sch.kind == "exponential":
        body = f"    return {lr} * {number(sch.gamma)} ** k"
    elif sch is not None and sch.kind == "cosine":
        t, e = sch.t_max or plan.steps, number(sch.eta_min)
        body = f"    return {e} + ({lr} - {e}) * (1 + math.cos(math.pi * k / {t})) / 2"
    elif sch is not None and sch.kind == "warmup":
        w, s = sch.warmup_steps, number(sch.start_factor)
        warm = f"        return {lr} * ({s} + (1.0 - {s}) * k / {w})   # linear warm-up"
        if sch.after == "cosine":
            t, e = max(1, (sch.t_max or plan.steps) - w), number(sch.eta_min)
            body = (f"    if k < {w}:\n{warm}\n    return {e} + ({lr} - {e}) * "
                    f"(1 + math.cos(math.pi * (k - {w}) / {t})) / 2")
        elif w:
            body = f"    if k < {w}:\n{warm}\n    return {lr}"
    return ["def lr_at(k):", '    """The learning rate after k updates (the schedule)."""',
            body, ""]


_UPDATES = {
    "sgd": ["    p += -lr * g                                  # p <- p - lr*g"],
    "momentum": [
        "    if st['b'] is None:",
        "        st['b'] = g.copy()                         # b1 <- g1",
        "    else:",
        "        st['b'] = MU * st['b'] + (1.0 - DAMPENING) * g   # b <- mu*b + (1-tau)*g",
        "    p += -lr * ({look})"],
    "rmsprop": [
        "    st['v'] = ALPHA * st['v'] + (1.0 - ALPHA) * (g * g)   # running mean of g^2",
        "    avg = np.sqrt(st['v']) + EPS",
        "    p += g / avg * -lr                         # p <- p - lr*g / (sqrt(v) + eps)"],
    "adagrad": [
        "    clr = lr / (1 + (st['t'] - 1) * LR_DECAY)",
        "    st['sum'] += g * g                         # every g^2 so far",
        "    p += g / (np.sqrt(st['sum']) + EPS) * -clr"],
    "adam": [
        "    st['m'] = BETA1 * st['m'] + (1.0 - BETA1) * g          # first moment",
        "    st['v'] = BETA2 * st['v'] + (1.0 - BETA2) * (g * g)    # second moment",
        "    {bc}",
        "    denom = np.sqrt(st['v']) / bc2 + EPS",
        "    update = st['m'] / denom * (-lr / bc1)      # -lr * m_hat / (sqrt(v_hat) + eps)",
        "{decay}    p += update"],
}


def _constants(plan: RunPlan) -> list[str]:
    c = plan.config
    name = c.optimizer
    out = []
    if name in ("momentum", "nesterov", "sgd") and c.effective_momentum:
        out += [f"MU = {number(c.effective_momentum)}", f"DAMPENING = {number(c.dampening)}"]
    if name == "rmsprop":
        out += [f"ALPHA = {number(c.alpha)}", f"EPS = {number(c.eps)}"]
    if name == "adagrad":
        out += [f"LR_DECAY = {number(c.lr_decay)}", f"EPS = {number(c.eps)}"]
    if name in ("adam", "adamw"):
        out += [f"BETA1, BETA2 = {number(c.betas[0])}, {number(c.betas[1])}",
                f"EPS = {number(c.eps)}"]
    if c.weight_decay:
        out.append(f"WEIGHT_DECAY = {number(c.weight_decay)}")
    return out


def optimizer_lines(plan: RunPlan) -> list[str]:
    """``def update(p, g, st, lr)``: the optimizer's rule on one parameter array, in place."""
    c = plan.config
    name = c.optimizer
    if name == "newton":  # not a rule on one array: H couples them (see _newton_lines)
        check_newton(plan)
        return newton_constants(plan)
    if (name == "rmsprop" and (c.centered or c.effective_momentum)) or c.amsgrad:
        raise ExportError(f"run '{plan.label}': {name} with these options is not written for "
                          "the NumPy target (use --to engine)")
    key = "momentum" if name in ("momentum", "nesterov") or (
        name == "sgd" and c.effective_momentum) else ("adam" if name == "adamw" else name)
    rule = list(_UPDATES[key])
    look = "g + MU * st['b']" if c.uses_nesterov else "st['b']"
    bc = ("bc1, bc2 = 1.0 - BETA1 ** st['t'], math.sqrt(1.0 - BETA2 ** st['t'])"
          if c.bias_correction else "bc1, bc2 = 1.0, 1.0   # bias_correction off")
    decay = ("    update += p * (-lr * WEIGHT_DECAY)            # AdamW: decoupled decay\n"
             if name == "adamw" and c.weight_decay else "")
    rule = [r.format(look=look, bc=bc, decay=decay) for r in rule]
    head = ["def update(p, g, st, lr):",
            f'    """One {name} update of the array p (in place); st holds its state."""',
            "    st['t'] += 1"]
    if c.weight_decay and name != "adamw":
        head.append("    g = g + WEIGHT_DECAY * p                     # L2 penalty")
    return [*_constants(plan), "", "", *head, *rule, "", ""]


def _state(plan: RunPlan, arr: str) -> str:
    name = plan.config.optimizer
    if name in ("adam", "adamw"):
        return f"dict(t=0, m=np.zeros_like({arr}), v=np.zeros_like({arr}))"
    if name == "rmsprop":
        return f"dict(t=0, v=np.zeros_like({arr}))"
    if name == "adagrad":
        return f"dict(t=0, sum=np.zeros_like({arr}))"
    return "dict(t=0, b=None)"


def _clip_lines(plan: RunPlan, grads: str, indent: str) -> list[str]:
    c = plan.config
    out = []
    if c.clip_norm is not None:
        out += [f"{indent}total = math.sqrt(sum(float(np.vdot(g, g)) for g in {grads}))",
                f"{indent}coef = {number(c.clip_norm)} / (total + 1e-6)   # clip_grad_norm_",
                f"{indent}if coef < 1.0:",
                f"{indent}    {grads} = [g * coef for g in {grads}]"]
    if c.clip_value is not None:
        v = number(c.clip_value)
        out.append(f"{indent}{grads} = [np.clip(g, -{v}, {v}) for g in {grads}]")
    return out


def _step_lines(plan: RunPlan, params: str, grads: str, indent: str) -> list[str]:
    upd = f"{indent}for p, g, st in zip({params}, {grads}, states):"
    out = [*_clip_lines(plan, grads, indent), f"{indent}lr = lr_at(k)",
           frame.tag(upd, "step"), f"{indent}    update(p, g, st, lr)"]
    if plan.config.apply_twice:
        out += [f"{upd}   # the bug: again, same gradients", f"{indent}    update(p, g, st, lr)"]
    return out


def _zero(plan: RunPlan, grads: str, zeros: str, indent: str) -> list[str]:
    if plan.config.forget_zero_grad:
        return [frame.tag(f"{indent}# {grads} = {zeros}   <- forgotten", "zero_grad")]
    return [frame.tag(f"{indent}{grads} = {zeros}", "zero_grad")]


def _landscape(plan: RunPlan) -> list[str]:
    newton = plan.config.optimizer == "newton"
    adj = forward_adjoint(plan.expr)
    names = ", ".join(plan.params)
    grads = ", ".join("d" + p for p in plan.params)
    start = ", ".join(number(v) for v in plan.start)
    fwd = [f"    {s}" for s in adj.forward]
    back = [f"    {s}" for s in adj.backward]
    temps = ", ".join(f"t{i}" for i in range(1, len(fwd))) or "()"
    unpack = f"    {temps}, = saved" if len(fwd) == 2 else f"    {temps} = saved"
    return [
        f"def forward({names}):",
        f'    """L({names}) = {plan.expr.to_string()}, one operation per line."""',
        *fwd, f"    return loss, ({temps}{',' if len(fwd) == 2 else ''})   # kept for backward",
        "",
        "",
        f"def backward({names}, saved):",
        '    """Reverse mode: from dL/dL = 1 back to dL/d(each parameter), by the chain rule."""',
        *([unpack] if len(fwd) > 1 else []),
        *back, f"    return np.array([{grads}])", "", "",
        *(_newton_lines() if newton else [*schedule_lines(plan), ""]),
        f"theta = np.array([{start}])                       # the starting point",
        *([] if newton else ["states = [" + _state(plan, "theta") + "]"]),
        "grad = np.zeros_like(theta)", "",
        "for k in range(STEPS + 1):                          # k: updates done so far",
        *_zero(plan, "grad", "np.zeros_like(theta)", "    "),
        frame.tag(f"    {names}{',' if len(plan.params) == 1 else ''} = theta", "forward"),
        frame.tag(f"    loss, saved = forward({names})", "loss"),
        "    value = float(loss)",
        *frame.report_code("    ", "value"),
        frame.tag(f"    grad = grad + backward({names}, saved)", "backward"),
        *(newton_step("grad", ["theta += LR * d"], "    ") if newton else
          ["    grads = [grad]", *_step_lines(plan, "[theta]", "grads", "    ")]),
    ]


def _newton_lines() -> list[str]:
    """``grad_at``, ``hessian`` and ``newton_direction`` for Newton's method."""
    return ["def grad_at(theta):",
            '    """dL/dtheta at theta: forward, then backward by hand."""',
            "    loss, saved = forward(*theta)",
            "    return backward(*theta, saved)", "", "",
            *newton_helpers("float(theta[j])", "theta[j] = {v}")]


def numpy_script(plan: RunPlan) -> str:
    """The run as a NumPy script with hand-written gradients."""
    lines = frame.header(plan, "NumPy, gradients by hand",
                         "No autograd: every derivative is written out with the chain rule.")
    lines += ["import math", "", "import numpy as np", "", "np.seterr(all='ignore')", ""]
    lines += frame.settings_code(plan)
    opt = optimizer_lines(plan)
    if plan.kind == "landscape":
        lines += opt + _landscape(plan)
    else:
        from descent_tui.export.numpy_network import network_lines
        lines += frame.data_code(plan) + frame.batch_code(plan) + opt + network_lines(plan)
    return "\n".join(lines) + "\n"
