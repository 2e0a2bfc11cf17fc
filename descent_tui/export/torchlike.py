"""The engine and PyTorch targets: one loop, written with PyTorch's API.

descent's engine speaks PyTorch's names, so both scripts are the same text but
for the import line (``import descent_tui.engine as torch``) and what PyTorch
lacks (Adam without bias correction is written out by hand for PyTorch).
"""

from __future__ import annotations

from descent_tui.export import frame
from descent_tui.export.expr_code import expression_code
from descent_tui.export.literals import array_literal, number
from descent_tui.export.newton import check_newton, newton_constants, newton_helpers, newton_step
from descent_tui.export.plan import ExportError, RunPlan

__all__ = ["engine_script", "optimizer_code", "schedule_code", "torch_script"]

_ACT = {"relu": "nn.ReLU()", "leaky_relu": "nn.LeakyReLU(0.01)", "sigmoid": "nn.Sigmoid()",
        "tanh": "nn.Tanh()"}
_LOSS = {"mse": "F.mse_loss", "bce": "F.binary_cross_entropy_with_logits",
         "cross_entropy": "F.cross_entropy"}

_HAND_ADAM = '''

class AdamWithoutBiasCorrection(torch.optim.Optimizer):
    """Adam without its bias correction (PyTorch's Adam always corrects):

        m <- b1*m + (1 - b1)*g;  v <- b2*v + (1 - b2)*g*g;  p <- p - lr * m / (sqrt(v) + eps)
    """

    def __init__(self, params, lr, betas, eps, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p if group["weight_decay"] else p.grad
                st = self.state[p]
                if not st:
                    st["m"], st["v"] = torch.zeros_like(p), torch.zeros_like(p)
                st["m"].mul_(b1).add_((1.0 - b1) * g)
                st["v"].mul_(b2).add_((1.0 - b2) * (g * g))
                p.add_(st["m"] / (st["v"].sqrt() + group["eps"]) * -group["lr"])
'''


def optimizer_code(plan: RunPlan, params: str, torch_api: bool) -> str:
    """``optimizer = torch.optim.X(...)`` with the run's settings (PyTorch's arguments)."""
    c = plan.config
    name = c.optimizer
    o = "torch.optim."
    if name in ("sgd", "momentum", "nesterov"):
        args = [f"lr={number(c.lr)}"]
        if c.effective_momentum:
            args.append(f"momentum={number(c.effective_momentum)}")
        if c.dampening:
            args.append(f"dampening={number(c.dampening)}")
        if c.weight_decay:
            args.append(f"weight_decay={number(c.weight_decay)}")
        if c.uses_nesterov:
            args.append("nesterov=True")
        return f"{o}SGD({params}, {', '.join(args)})"
    if name == "rmsprop":
        return (f"{o}RMSprop({params}, lr={number(c.lr)}, alpha={number(c.alpha)}, "
                f"eps={number(c.eps)}, weight_decay={number(c.weight_decay)}, "
                f"momentum={number(c.effective_momentum)}, centered={c.centered})")
    if name == "adagrad":
        return (f"{o}Adagrad({params}, lr={number(c.lr)}, lr_decay={number(c.lr_decay)}, "
                f"weight_decay={number(c.weight_decay)}, eps={number(c.eps)})")
    if name in ("adam", "adamw"):
        betas = f"({number(c.betas[0])}, {number(c.betas[1])})"
        common = (f"lr={number(c.lr)}, betas={betas}, eps={number(c.eps)}, "
                  f"weight_decay={number(c.weight_decay)}")
        if not c.bias_correction:
            if torch_api and (name == "adamw" or c.amsgrad):
                raise ExportError(f"run '{plan.label}': {name} without bias correction has no "
                                  "PyTorch counterpart to export")
            if torch_api:
                return f"AdamWithoutBiasCorrection({params}, {common})"
            common += ", bias_correction=False"
        if c.amsgrad:
            common += ", amsgrad=True"
        return f"{o}{'AdamW' if name == 'adamw' else 'Adam'}({params}, {common})"
    raise ExportError(f"run '{plan.label}': {name} cannot be exported: its step needs the "
                      "Hessian, and torch.optim has no Newton's method (export another run)")


def schedule_code(plan: RunPlan) -> list[str]:
    """``scheduler = ...`` (empty: a constant lr), PyTorch's lr_scheduler classes."""
    sch = plan.config.schedule
    if sch is None or sch.kind == "constant":
        return []
    ls = "torch.optim.lr_scheduler."
    if sch.kind == "step":
        make = f"{ls}StepLR(optimizer, step_size={sch.step_size}, gamma={number(sch.gamma)})"
    elif sch.kind == "multistep":
        make = (f"{ls}MultiStepLR(optimizer, milestones={sorted(sch.milestones)}, "
                f"gamma={number(sch.gamma)})")
    elif sch.kind == "exponential":
        make = f"{ls}ExponentialLR(optimizer, gamma={number(sch.gamma)})"
    elif sch.kind == "cosine":
        make = (f"{ls}CosineAnnealingLR(optimizer, T_max={sch.t_max or plan.steps}, "
                f"eta_min={number(sch.eta_min)})")
    else:
        return _warmup_code(plan, ls)
    return [f"scheduler = {make}"]


def _warmup_code(plan: RunPlan, ls: str) -> list[str]:
    sch = plan.config.schedule
    w = sch.warmup_steps
    warm = (f"{ls}LinearLR(optimizer, start_factor={number(sch.start_factor)}, "
            f"end_factor=1.0, total_iters={w})")
    if sch.after != "cosine":
        return [f"scheduler = {warm}"] if w else []
    t_max = max(1, (sch.t_max or plan.steps) - w)
    cosine = f"{ls}CosineAnnealingLR(optimizer, T_max={t_max}, eta_min={number(sch.eta_min)})"
    if w == 0:
        return [f"scheduler = {cosine}"]
    return [f"warmup = {warm}", f"cosine = {cosine}",
            f"scheduler = {ls}SequentialLR(optimizer, [warmup, cosine], milestones=[{w}])"]


def _update_code(plan: RunPlan, params: str, indent: str) -> list[str]:
    c = plan.config
    out = []
    if c.clip_norm is not None:
        out.append(f"{indent}torch.nn.utils.clip_grad_norm_({params}, max_norm="
                   f"{number(c.clip_norm)})")
    if c.clip_value is not None:
        out.append(f"{indent}torch.nn.utils.clip_grad_value_({params}, clip_value="
                   f"{number(c.clip_value)})")
    out.append(frame.tag(f"{indent}optimizer.step()", "step"))
    if c.apply_twice:
        out.append(f"{indent}optimizer.step()   # the bug: a second update from the same grads")
    if c.schedule is not None and schedule_code(plan):
        out.append(f"{indent}scheduler.step()")
    return out


def _zero_grad(plan: RunPlan, indent: str) -> str:
    if plan.config.forget_zero_grad:
        return frame.tag(f"{indent}# optimizer.zero_grad()   <- forgotten: grads pile up",
                         "zero_grad")
    return frame.tag(f"{indent}optimizer.zero_grad()", "zero_grad")


def _newton_landscape(plan: RunPlan, head: list[str], loop: list[str]) -> list[str]:
    """Newton's method by hand (torch.optim has none): autograd's gradients, H, a solve."""
    check_newton(plan)
    grad_at = ["def grad_at(theta):",
               '    """dL/dtheta at theta\'s current numbers: a fresh forward and backward."""',
               "    theta.grad = None",
               "    loss_fn(*theta).backward()",
               "    return np.array(theta.grad)", "", ""]
    helpers = newton_helpers("float(theta.data[j])", "theta.data[j] = {v}")
    update = ["with torch.no_grad():",
              "    theta += torch.tensor(LR * d)                # theta <- theta + LR*d"]
    zero = frame.tag("    theta.grad = None", "zero_grad")
    return [*newton_constants(plan), *head[:-2], *grad_at, *helpers, head[-1], "",
            loop[0], zero, *loop[2:],
            *newton_step("np.array(theta.grad)", update, "    ")]


def _landscape(plan: RunPlan, torch_api: bool) -> list[str]:
    names = ", ".join(plan.params)
    unpack = f"{names}, = theta" if len(plan.params) == 1 else f"{names} = theta"
    start = ", ".join(number(v) for v in plan.start)
    head = [
        f"def loss_fn({names}):",
        f'    """The landscape: L({names}) = {plan.expr.to_string()}"""',
        f"    return {expression_code(plan.expr.root)}",
        "",
        "",
        f"theta = torch.tensor([{start}], requires_grad=True)   # the starting point",
    ]
    loop = [
        "for k in range(STEPS + 1):                          # k: updates done so far",
        _zero_grad(plan, "    "),
        frame.tag(f"    {unpack}", "forward"),
        frame.tag(f"    loss = loss_fn({names})", "loss"),
        "    value = loss.item()",
        *frame.report_code("    ", "value"),
        frame.tag("    loss.backward()", "backward"),
    ]
    if plan.config.optimizer == "newton":
        return _newton_landscape(plan, head, loop)
    return [*head, f"optimizer = {optimizer_code(plan, '[theta]', torch_api)}",
            *schedule_code(plan), "", *loop, *_update_code(plan, "[theta]", "    ")]


def _model_code(plan: RunPlan, torch_api: bool) -> list[str]:
    layers = []
    for i in range(len(plan.sizes) - 1):
        layers.append(f"    nn.Linear({plan.sizes[i]}, {plan.sizes[i + 1]}),")
        if plan.acts[i] != "identity":
            layers.append(f"    {_ACT[plan.acts[i]]},")
    out = ["model = nn.Sequential(", *layers, ")", "",
           "# the initial weights descent drew for this run (its seed; after pretraining)",
           ]
    linear = 0
    for i, (W, b) in enumerate(plan.weights):
        for name, value in (("weight", W), ("bias", b)):
            if torch_api:
                out.append(f"model[{linear}].{name}.data = torch.tensor({array_literal(value, 4)})")
            else:
                out.append(f"model[{linear}].{name}.data[...] = {array_literal(value, 4)}")
        linear += 1 if plan.acts[i] == "identity" else 2
    return out + [""]


def _network_loop(plan: RunPlan, torch_api: bool) -> list[str]:
    acc = plan.accumulate
    scale = " / ACCUMULATE" if acc > 1 else ""
    return [
        f"loss_fn = {_LOSS[plan.loss]}",
        f"optimizer = {optimizer_code(plan, 'model.parameters()', torch_api)}",
        *schedule_code(plan),
        "",
        "for k in range(STEPS + 1):                          # k: updates done so far",
        "    batches = next_batch()",
        _zero_grad(plan, "    "),
        "    value = 0.0",
        "    for idx in batches:",
        "        xb, yb = torch.tensor(X[idx]), torch.tensor(y[idx])",
        frame.tag("        out = model(xb)", "forward"),
        frame.tag(f"        loss = loss_fn(out, yb){scale}", "loss"),
        frame.tag("        loss.backward()", "backward"),
        "        value += loss.item()",
        *frame.report_code("    ", "value"),
        *_update_code(plan, "model.parameters()", "    "),
    ]


def _script(plan: RunPlan, torch_api: bool) -> str:
    if torch_api:
        how = "PyTorch itself (float64): run it with `python` where torch is installed."
        imports = ["import math", "", "import numpy as np", "import torch",
                   "from torch import nn", "import torch.nn.functional as F", "",
                   "torch.set_default_dtype(torch.float64)"]
    else:
        how = ("descent's own engine, which speaks PyTorch's names: change the import "
               "line to `import torch` and most of it runs on PyTorch.")
        imports = ["import math", "", "import numpy as np", "",
                   "import descent_tui.engine as torch", "from descent_tui.engine import nn",
                   "import descent_tui.engine.functional as F"]
    lines = frame.header(plan, "PyTorch" if torch_api else "descent's engine", how)
    lines += imports + [""]
    if torch_api and not plan.config.bias_correction and plan.config.optimizer == "adam":
        lines += _HAND_ADAM.strip("\n").splitlines()[0:0] + _HAND_ADAM.splitlines()[1:] + [""]
    lines += frame.settings_code(plan)
    if plan.kind == "landscape":
        lines += _landscape(plan, torch_api)
    else:
        lines += frame.data_code(plan) + frame.batch_code(plan) + _model_code(plan, torch_api)
        lines += _network_loop(plan, torch_api)
    return "\n".join(lines) + "\n"


def engine_script(plan: RunPlan) -> str:
    """The run as a script on descent's engine."""
    return _script(plan, torch_api=False)


def torch_script(plan: RunPlan) -> str:
    """The run as a PyTorch script (float64)."""
    return _script(plan, torch_api=True)
