"""Base class shared by every optimizer in :mod:`descent_tui.engine.optim`.

An optimizer owns a list of *parameter groups*. Each group is a plain ``dict``
with a ``"params"`` list and the hyper-parameters (``"lr"``, ``"momentum"``,
...) used for those parameters. Learning-rate schedulers change
``group["lr"]`` between steps, exactly as in PyTorch.

Per-parameter state (momentum buffers, running averages, step counters) lives
in ``optimizer.state``, a dict keyed by the parameter itself, as in PyTorch.
For teaching, the documented :meth:`Optimizer.inspect_state` method returns a
small, uniform view of that state which the app draws as arrows on a loss
landscape.

Gradients are never modified in place: ``.grad`` arrays may be shared with
other arrays, so the optimizers only *read* them and write into their own
buffers and into ``param.data``. They read the plain array, ``param._grad``
(``param.grad`` is a view of it for user code: :mod:`descent_tui.engine.grad_array`),
and the fast loops write into ``param._data``, the array ``param.data`` hands out
(its setter is for user code: ``p.data = t``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Singleton marking a hyper-parameter that has no default value."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

# how PyTorch's error messages name a hyper-parameter ("Invalid epsilon value: -1")
_LABELS = {"lr": "learning rate", "eps": "epsilon value"}


def _is_tensor_like(obj: Any) -> bool:
    return hasattr(obj, "data") and hasattr(obj, "grad") and not isinstance(obj, dict)


class Optimizer:
    """Base class: holds ``param_groups`` and ``state``; subclasses implement ``step``.

    Args:
        params: an iterable of parameters (tensors with ``.data`` and ``.grad``)
            or an iterable of dicts, each a parameter group with a ``"params"``
            entry and optional per-group hyper-parameters overriding ``defaults``.
        defaults: the default hyper-parameters of every group.

    Subclasses override :meth:`_validate_group` (raise ``ValueError`` for bad
    hyper-parameters) and :meth:`_inspect` (the teaching view of the state).
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: dict[Any, dict[str, Any]] = {}  # parameter -> its state
        # id(group) -> the lr that group's most recent step() used (for inspect_state)
        self._last_lr: dict[int, float] = {}
        self.param_groups: list[dict[str, Any]] = []
        if _is_tensor_like(params):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of "
                f"Tensors or dicts, but got {type(params).__name__}"
            )
        if isinstance(params, dict):
            params = [params]
        param_list = list(params)
        if len(param_list) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_list[0], dict):
            param_list = [{"params": param_list}]
        for group in param_list:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a parameter group (a dict with ``"params"``) to ``param_groups``.

        Missing hyper-parameters are filled from ``defaults``; a parameter may
        belong to only one group.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = dict(param_group)
        if "params" not in group:
            raise ValueError("param group must have a 'params' entry")
        ps = group["params"]
        if _is_tensor_like(ps):
            ps = [ps]
        elif isinstance(ps, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections")
        else:
            ps = list(ps)
        for p in ps:
            if not _is_tensor_like(p):
                raise TypeError(f"optimizer can only optimize Tensors, but got {type(p).__name__}")
        if len({id(p) for p in ps}) != len(ps):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        group["params"] = ps
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in ps):
            raise ValueError("some parameters appear in more than one parameter group")
        self._validate_group(group)
        self.param_groups.append(group)

    @staticmethod
    def _require_non_negative(group: dict[str, Any], *names: str) -> None:
        """Raise ``ValueError`` (PyTorch's message) for the first of ``names`` below 0."""
        for name in names:
            if not group[name] >= 0.0:
                label = _LABELS.get(name, f"{name} value")
                raise ValueError(f"Invalid {label}: {group[name]}")

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Raise ``ValueError`` if a group's hyper-parameters are invalid."""
        lr = group.get("lr")
        if lr is not None and lr is not required and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")

    # -------------------------------------------------------------- gradients
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of every parameter.

        With ``set_to_none=True`` (default) each ``.grad`` becomes ``None``, so
        the next ``step()`` skips parameters that received no new gradient.
        With ``set_to_none=False`` each existing ``.grad`` is replaced by a
        fresh array of zeros (never zeroed in place: it may be shared).
        """
        for group in self.param_groups:
            if set_to_none:
                for p in group["params"]:
                    p._grad = None
                continue
            for p in group["params"]:
                if p._grad is not None:
                    p._grad = np.zeros_like(p._grad)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Apply one update to every parameter that has a gradient.

        The loop every optimizer shares: for each group, for each parameter
        with a ``.grad``, count the step (``t ← t + 1``) and let
        :meth:`_update` apply the rule of the class docstring. ``closure``
        (optional) re-evaluates the model and returns the loss, as in PyTorch.
        """
        loss = None if closure is None else closure()
        for group in self.param_groups:
            self._last_lr[id(group)] = group["lr"]
            self._step_group(group)
        return loss

    def _step_group(self, group: dict[str, Any]) -> None:
        """One update of every parameter in ``group`` that has a gradient."""
        for p in group["params"]:
            if p._grad is None:
                continue
            state = self.state.get(p) or self._state_of(p, group)
            state["step"] += 1
            self._update(p, p._grad, state, group)

    def _state_of(self, param: Any, group: dict[str, Any]) -> dict[str, Any]:
        """``param``'s state, set up by :meth:`_init_state` the first time it is asked for."""
        state = self.state.get(param)
        if state is None:
            state = self.state[param] = {"step": 0, **self._init_state(param, group)}
        return state

    def _init_state(self, param: Any, group: dict[str, Any]) -> dict[str, Any]:
        """The buffers a parameter starts with (besides its step counter)."""
        return {}

    def _update(self, param: Any, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        """Update ``param.data`` in place from ``grad``; ``state["step"]`` is already t."""
        raise NotImplementedError

    # --------------------------------------------------------------- teaching
    def _group_of(self, param: Any) -> dict[str, Any]:
        for group in self.param_groups:
            for p in group["params"]:
                if p is param:
                    return group
        raise KeyError("parameter is not managed by this optimizer")

    def inspect_state(self, param: Any) -> dict[str, Any]:
        """Return a uniform, read-only teaching view of ``param``'s optimizer state.

        Keys (always present):

        ``"velocity"``
            The direction the optimizer is "moving" in: SGD's / RMSprop's
            momentum buffer, Adam's bias-corrected first moment ``m_hat``;
            ``None`` when the method keeps no such buffer.
        ``"sq_avg"``
            The squared-gradient statistic: RMSprop's running average of
            ``g²``, Adagrad's running *sum* of ``g²``, Adam's raw second moment
            ``v``; ``None`` when the method keeps none.
        ``"step_size"``
            Array shaped like the parameter: the effective per-coordinate
            learning rate used by the last step (``lr`` everywhere for SGD,
            ``lr / (sqrt(v_hat) + eps)`` for Adam, ...). Before the first step
            it is computed from the current hyper-parameters when possible.
        ``"update"``
            The last change applied to the parameter (``new - old``), or
            ``None`` before the first step.
        ``"step"``
            How many updates this parameter has received.

        Returned arrays are copies: mutating them does not affect training.
        """
        group = self._group_of(param)
        st = self.state.get(param)
        info = self._inspect(param, group, st)
        for k in ("velocity", "sq_avg", "step_size", "update"):
            v = info.get(k)
            if isinstance(v, np.ndarray):
                info[k] = v.copy()
        info.setdefault("step", 0 if st is None else int(st.get("step", 0)))
        return info

    def _step_lr(self, group: dict[str, Any]) -> float:
        """The lr used by ``group``'s most recent step (its current lr before any step)."""
        return self._last_lr.get(id(group), group["lr"])

    def _inspect(self, param: Any, group: dict[str, Any], st: dict[str, Any] | None) -> dict:
        upd = None if st is None else st.get("update")
        return {"velocity": None, "sq_avg": None, "step_size": None, "update": upd}

    # ------------------------------------------------------------- utilities
    def state_dict(self) -> dict[str, Any]:
        """Return a (deep-copied) snapshot of hyper-parameters and state.

        Parameters are referred to by their index across all groups.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            g = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index[id(p)] = len(index)
                ids.append(index[id(p)])
            g["params"] = ids
            groups.append(g)
        state = {}
        for p, st in self.state.items():
            if id(p) in index:
                state[index[id(p)]] = {
                    k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in st.items()
                }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a snapshot produced by :meth:`state_dict` (same parameter layout)."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        params = []
        for mine, saved in zip(self.param_groups, groups, strict=True):
            if len(mine["params"]) != len(saved["params"]):
                raise ValueError("loaded state dict contains a group that doesn't match")
            params.extend(mine["params"])
        for mine, saved in zip(self.param_groups, groups, strict=True):
            for k, v in saved.items():
                if k != "params":
                    mine[k] = v
        self.state = {}
        for i, st in state_dict["state"].items():
            self.state[params[int(i)]] = {
                k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in st.items()
            }

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        lines.append(")")
        return "\n".join(lines)
