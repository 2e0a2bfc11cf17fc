"""The NumPy target's network: each Linear + activation, forward and backward, by hand.

Layer i computes ``z_i = h_{i-1} @ W_i.T + b_i`` and ``h_i = act(z_i)``; backward
takes ``dL/dh_i`` to ``dL/dz_i`` (the activation's derivative), then
``dL/dW_i = dz_iᵀ h_{i-1}``, ``dL/db_i = Σ dz_i``, ``dL/dh_{i-1} = dz_i W_i``.
"""

from __future__ import annotations

from descent_tui.export import frame
from descent_tui.export.literals import array_literal
from descent_tui.export.numpy_target import _state, _step_lines, _zero
from descent_tui.export.plan import RunPlan

__all__ = ["network_lines"]

_ACT = {  # forward, derivative (dz from dh)
    "relu": ("np.maximum(z{i}, 0.0)", "dh{i} * (z{i} > 0)"),
    "leaky_relu": ("np.where(z{i} > 0, z{i}, 0.01 * z{i})", "np.where(z{i} > 0, dh{i}, 0.01 * dh{i})"),
    "sigmoid": ("1.0 / (1.0 + np.exp(-z{i}))", "dh{i} * h{i} * (1.0 - h{i})"),
    "tanh": ("np.tanh(z{i})", "dh{i} * (1.0 - h{i} * h{i})"),
}

_LOSS = {
    "mse": ["diff = out - yb", "loss = np.mean(diff * diff)              # mean squared error",
            "dout = 2.0 * diff * (dloss / diff.size)    # dL/dout"],
    "bce": ["loss = np.mean(np.maximum(out, 0) - out * yb + np.log1p(np.exp(-np.abs(out))))",
            "dout = (1.0 / (1.0 + np.exp(-out)) - yb) * (dloss / out.size)   # sigmoid(out) - y"],
    "cross_entropy": [
        "z = out - out.max(axis=1, keepdims=True)",
        "logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))   # log softmax",
        "rows = np.arange(len(yb))",
        "loss = -np.mean(logp[rows, yb])",
        "dout = np.exp(logp)",
        "dout[rows, yb] -= 1.0                                     # softmax - onehot",
        "dout = dout * (dloss / len(yb))"],
}


def _forward(plan: RunPlan) -> list[str]:
    n = len(plan.weights)
    out = ["def forward(x):", '    """Layer by layer; returns the output and what backward needs."""',
           "    h0 = x"]
    for i in range(1, n + 1):
        act = plan.acts[i - 1]
        out.append(f"    z{i} = h{i - 1} @ W[{i - 1}].T + b[{i - 1}]   # Linear "
                   f"{plan.sizes[i - 1]} -> {plan.sizes[i]}")
        if act != "identity":
            out.append(f"    h{i} = {_ACT[act][0].format(i=i)}   # {act}")
        else:
            out.append(f"    h{i} = z{i}")
    saved = ", ".join(f"z{i}, h{i}" for i in range(1, n + 1))
    return out + [f"    return h{n}, (h0, {saved})", "", ""]


def _backward(plan: RunPlan) -> list[str]:
    n = len(plan.weights)
    saved = ", ".join(f"z{i}, h{i}" for i in range(1, n + 1))
    out = ["def backward(dout, saved):",
           '    """The chain rule from dL/dout back through every layer: (dW, db) per layer."""',
           f"    h0, {saved} = saved", "    dW, db = [None] * len(W), [None] * len(b)",
           f"    dh{n} = dout"]
    for i in range(n, 0, -1):
        act = plan.acts[i - 1]
        if act != "identity":
            out.append(f"    dz{i} = {_ACT[act][1].format(i=i)}   # through {act}")
        else:
            out.append(f"    dz{i} = dh{i}")
        out.append(f"    dW[{i - 1}] = dz{i}.T @ h{i - 1}")
        out.append(f"    db[{i - 1}] = dz{i}.sum(axis=0)")
        if i > 1:
            out.append(f"    dh{i - 1} = dz{i} @ W[{i - 1}]")
    return out + ["    return dW, db", "", ""]


def _weights(plan: RunPlan) -> list[str]:
    out = ["# the initial weights descent drew for this run (its seed; after pretraining)",
           "W = [", *[f"    {array_literal(w, 8)},".replace("\n]", "\n    ]")
                      for w, _ in plan.weights], "]",
           "b = [", *[f"    {array_literal(v, 8)},".replace("\n]", "\n    ]")
                      for _, v in plan.weights], "]",
           "params = W + b", "states = [" + _state(plan, "p") + " for p in params]", ""]
    return out


def network_lines(plan: RunPlan) -> list[str]:
    """Model, loss, and the training loop of a network run, written out in NumPy."""
    from descent_tui.export.numpy_target import schedule_lines

    acc = plan.accumulate
    dloss = "1.0 / ACCUMULATE" if acc > 1 else "1.0"
    loss = [f"        {s}" for s in _LOSS[plan.loss]]
    loss[1 if plan.loss == "mse" else 0] = frame.tag(loss[1 if plan.loss == "mse" else 0]
                                                     .split("  #")[0], "loss")
    return [
        *_forward(plan), *_backward(plan), *_weights(plan), *schedule_lines(plan),
        "grads = [np.zeros_like(p) for p in params]", "",
        "for k in range(STEPS + 1):                          # k: updates done so far",
        "    batches = next_batch()",
        *_zero(plan, "grads", "[np.zeros_like(p) for p in params]", "    "),
        "    value = 0.0",
        "    for idx in batches:",
        "        xb, yb = X[idx], y[idx]",
        frame.tag("        out, saved = forward(xb)", "forward"),
        f"        dloss = {dloss}                    # dL/d(this micro-batch's loss)",
        *loss,
        frame.tag("        dW, db = backward(dout, saved)", "backward"),
        "        grads = [g + d for g, d in zip(grads, dW + db)]",
        f"        value += float(loss){' / ACCUMULATE' if acc > 1 else ''}",
        *frame.report_code("    ", "value"),
        *_step_lines(plan, "params", "grads", "    "),
    ]
