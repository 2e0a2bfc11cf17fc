"""The run as TensorFlow code with ``tf.GradientTape``: for reading beside the others.

descent never imports TensorFlow and the tests do not run this script; it is
the same loop in TensorFlow's words. The five phases carry the same
``# n phase`` tags, so the Code view highlights them: with a tape there is no
``.grad`` to zero (each tape computes fresh gradients), the forward pass and
the loss run inside ``with tf.GradientTape() as tape:``, ``tape.gradient`` is
the backward pass and ``optimizer.apply_gradients`` the step.
"""

from __future__ import annotations

from descent_tui.export import frame
from descent_tui.export.expr_code import expression_code
from descent_tui.export.literals import array_literal, number
from descent_tui.export.plan import RunPlan

__all__ = ["optimizer_code", "tensorflow_script"]

_ACT = {"relu": "relu", "leaky_relu": "leaky_relu", "sigmoid": "sigmoid", "tanh": "tanh",
        "identity": None}
_LOSS = {
    "mse": "tf.reduce_mean(tf.square(out - yb))",
    "bce": "tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=yb, logits=out))",
    "cross_entropy": "tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits("
                     "labels=yb, logits=out))",
}


def optimizer_code(plan: RunPlan) -> str:
    """``tf.keras.optimizers.X(...)`` with the run's settings, in Keras's argument names."""
    c = plan.config
    k = "tf.keras.optimizers."
    lr = f"learning_rate={number(c.lr)}"
    if c.optimizer in ("sgd", "momentum", "nesterov"):
        return (f"{k}SGD({lr}, momentum={number(c.effective_momentum)}, "
                f"nesterov={c.uses_nesterov})")
    if c.optimizer == "rmsprop":
        return (f"{k}RMSprop({lr}, rho={number(c.alpha)}, epsilon={number(c.eps)}, "
                f"momentum={number(c.effective_momentum)}, centered={c.centered})")
    if c.optimizer == "adagrad":
        return f"{k}Adagrad({lr}, epsilon={number(c.eps)})"
    if c.optimizer in ("adam", "adamw"):
        name = "AdamW" if c.optimizer == "adamw" else "Adam"
        return (f"{k}{name}({lr}, beta_1={number(c.betas[0])}, beta_2={number(c.betas[1])}, "
                f"epsilon={number(c.eps)})")
    return f"None   # {c.optimizer}: Keras has no such optimizer (see the NumPy version)"


def _notes(plan: RunPlan) -> list[str]:
    """What the Keras line above does not say: decay, schedule, the run's quirks."""
    c = plan.config
    notes = []
    if c.weight_decay:
        notes.append(f"# weight decay {number(c.weight_decay)}: add it to each gradient "
                     "(PyTorch's weight_decay=), or pass weight_decay= in Keras 3")
    if c.schedule is not None and c.schedule.kind != "constant":
        notes.append(f"# learning-rate schedule '{c.schedule.kind}': "
                     "tf.keras.optimizers.schedules (see the PyTorch version)")
    if c.optimizer in ("adam", "adamw") and not c.bias_correction:
        notes.append("# this run turns Adam's bias correction off: Keras's Adam cannot")
    return notes


def _update(plan: RunPlan, variables: str, indent: str) -> list[str]:
    c = plan.config
    out = []
    if c.forget_zero_grad:
        out += [f"{indent}# the forgotten zero_grad, TensorFlow style: keep adding old gradients",
                f"{indent}total = grads if total is None else [t + g for t, g in "
                "zip(total, grads)]",
                f"{indent}grads = total"]
    if c.clip_norm is not None:
        out.append(f"{indent}grads, _ = tf.clip_by_global_norm(grads, {number(c.clip_norm)})")
    if c.clip_value is not None:
        v = number(c.clip_value)
        out.append(f"{indent}grads = [tf.clip_by_value(g, -{v}, {v}) for g in grads]")
    out.append(frame.tag(f"{indent}optimizer.apply_gradients(zip(grads, {variables}))", "step"))
    if c.apply_twice:
        out.append(f"{indent}optimizer.apply_gradients(zip(grads, {variables}))   # the bug: "
                   "twice")
    return out


def _landscape(plan: RunPlan) -> list[str]:
    names = ", ".join(plan.params)
    unpack = f"{names}, = tf.unstack(theta)" if len(plan.params) == 1 else \
        f"{names} = tf.unstack(theta)"
    start = ", ".join(number(v) for v in plan.start)
    return [
        f"def loss_fn({names}):",
        f'    """The landscape: L({names}) = {plan.expr.to_string()}"""',
        f"    return {expression_code(plan.expr.root, 'tf.math.')}",
        "",
        "",
        f"theta = tf.Variable([{start}], dtype=tf.float64)   # the starting point",
        f"optimizer = {optimizer_code(plan)}",
        *_notes(plan),
        "total = None" if plan.config.forget_zero_grad else "",
        "for k in range(STEPS + 1):                          # k: updates done so far",
        frame.tag("    with tf.GradientTape() as tape:   # records; no .grad to zero",
                  "zero_grad"),
        frame.tag(f"        {unpack}", "forward"),
        frame.tag(f"        loss = loss_fn({names})", "loss"),
        "    value = float(loss)",
        *frame.report_code("    ", "value"),
        frame.tag("    grads = tape.gradient(loss, [theta])", "backward"),
        *_update(plan, "[theta]", "    "),
    ]


def _model(plan: RunPlan) -> list[str]:
    out = ["model = tf.keras.Sequential([", f"    tf.keras.Input(shape=({plan.sizes[0]},)),"]
    for i in range(len(plan.sizes) - 1):
        act = _ACT.get(plan.acts[i], plan.acts[i])
        out.append(f"    tf.keras.layers.Dense({plan.sizes[i + 1]}, activation={act!r}),")
    out += ["])", "# the initial weights descent drew (Keras keeps W transposed: in × out)"]
    for i, (W, b) in enumerate(plan.weights):
        out.append(f"model.layers[{i}].set_weights([np.array({array_literal(W, 4)}).T,")
        out.append(f"                            np.array({array_literal(b, 4)})])")
    return out + [""]


def _network(plan: RunPlan) -> list[str]:
    acc = plan.accumulate
    scale = " / ACCUMULATE" if acc > 1 else ""
    return [
        f"optimizer = {optimizer_code(plan)}",
        *_notes(plan),
        "total = None" if plan.config.forget_zero_grad else "",
        "for k in range(STEPS + 1):                          # k: updates done so far",
        "    batches = next_batch()",
        frame.tag("    grads, value = None, 0.0          # a tape has no .grad to zero",
                  "zero_grad"),
        "    for idx in batches:",
        "        xb, yb = tf.constant(X[idx]), tf.constant(y[idx])",
        "        with tf.GradientTape() as tape:",
        frame.tag("            out = model(xb)", "forward"),
        frame.tag(f"            loss = {_LOSS[plan.loss]}{scale}", "loss"),
        frame.tag("        g = tape.gradient(loss, model.trainable_variables)", "backward"),
        "        grads = g if grads is None else [a + b for a, b in zip(grads, g)]",
        "        value += float(loss)",
        *frame.report_code("    ", "value"),
        *_update(plan, "model.trainable_variables", "    "),
    ]


def tensorflow_script(plan: RunPlan) -> str:
    """The run as a TensorFlow (GradientTape) script, for reading."""
    how = ("TensorFlow with tf.GradientTape, for reading beside the PyTorch version "
           "(descent does not run it; Keras's optimizers differ in small details).")
    lines = frame.header(plan, "TensorFlow", how)
    lines += ["import math", "", "import numpy as np", "import tensorflow as tf", "",
              'tf.keras.backend.set_floatx("float64")', ""]
    lines += frame.settings_code(plan)
    if plan.kind == "landscape":
        lines += _landscape(plan)
    else:
        lines += frame.data_code(plan) + frame.batch_code(plan) + _model(plan) + _network(plan)
    return "\n".join(lines) + "\n"
