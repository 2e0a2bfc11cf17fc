"""Every change a learner makes to a scenario: ``--set KEY=VALUE``, the knobs, reset.

One path for all of them::

    key, value = parse_assignment("runs.SGD.lr=0.05")       # the text of one --set
    changed = apply(loaded, {"lr": 0.1, "optimizer": "adam"})  # a new LoadedScenario

:func:`apply` writes each change into the scenario's document and checks the
result with the loader's own rules (:func:`descent_tui.scenario.rules.check`),
so a change is accepted exactly when a file saying the same would be, and is
refused with the same message.  A refusal is an :class:`OverrideError` naming
the key the learner wrote.

Keys:

* a run setting (``lr``, ``optimizer``, ``momentum``, ``clip_norm``,
  ``batch_size`` ... and ``beta1`` / ``beta2``, the two halves of ``betas``)
  changes every run;
* ``runs.<label>.<setting>`` or ``runs[<i>].<setting>`` (0-based) changes one run;
* anything else is a dotted path into the document: ``steps``, ``seed``,
  ``network.data.noise``, ``landscape.start``, ``runs[1].schedule.kind``.

Values: a TOML value (``0.1``, ``true``, ``[1, 2]``, ``"adam"``), a bare word as
a string (``adam``), ``none`` to unset a setting (back to its default).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from descent_tui.scenario import rules
from descent_tui.scenario import schema as S
from descent_tui.scenario.errors import Problems, ScenarioError, did_you_mean
from descent_tui.scenario.loader import LoadedScenario
from descent_tui.scenario.read import MAX_DEPTH, depth
from descent_tui.scenario.triggers import parse_trigger

__all__ = ["OverrideError", "apply", "parse_assignment", "parse_value"]

#: settings a bare key changes in every run (``seed`` is the scenario's: see _TOP_KEYS)
_RUN_KEYS = frozenset(f.encode_name for f in msgspec.structs.fields(S.Run))
_TOP_KEYS = frozenset(f.encode_name for f in msgspec.structs.fields(S.Scenario))
#: ``beta1`` / ``beta2`` stand for one half of a run's ``betas``
_BETAS = {"beta1": 0, "beta2": 1}
_DEFAULT_BETAS = S.Run(label="-").betas
_PATH_PART = re.compile(r"[^.\[\]]+|\[\d+\]")


class OverrideError(ScenarioError, ValueError):
    """A change that was refused: ``key`` as the learner wrote it, ``message`` why.

    ``items`` lists every ``(key, message)`` found (the first is ``key, message``);
    ``problems`` has them as ``key: message`` lines.
    """

    def __init__(self, key: str, message: str,
                 more: Iterable[tuple[str, str]] = ()) -> None:
        self.key = key
        self.message = message
        self.items = [(key, message), *more]
        super().__init__([f"{k}: {m}" for k, m in self.items])


def parse_value(text: str) -> Any:
    """A learner's value: ``none`` / ``null`` (unset), ``true`` / ``false``, a TOML
    value (number, ``[list]``, ``"string"``), a Python number (``.5``), else the bare text.

    ValueError for a value nested deeper than a file may nest (``[[[[...]]]]``)."""
    t = text.strip()
    low = t.lower()
    if low in ("none", "null"):
        return None
    if low in ("true", "false"):
        return low == "true"
    try:
        doc = tomllib.loads(f"v = {t}")
    except RecursionError:
        raise ValueError(f"value nested too deeply (max depth {MAX_DEPTH})") from None
    except tomllib.TOMLDecodeError:
        doc = {}
    if list(doc) == ["v"]:
        if depth(doc["v"], MAX_DEPTH) > MAX_DEPTH:
            raise ValueError(f"value nested too deeply (max depth {MAX_DEPTH})")
        return doc["v"]
    for number in (int, float):
        try:
            return number(t)
        except ValueError:
            pass
    return t


def parse_assignment(item: str) -> tuple[str, Any]:
    """``"KEY=VALUE"`` -> ``(key, parsed value)``; OverrideError without ``=`` or key."""
    key, eq, raw = item.partition("=")
    key = key.strip()
    if not eq or not key:
        raise OverrideError(item, "expected KEY=VALUE")
    try:
        return key, parse_value(raw)
    except ValueError as e:
        raise OverrideError(key, str(e)) from None


def apply(loaded: LoadedScenario, changes: Mapping[str, Any] | Iterable[tuple[str, Any]]
          ) -> LoadedScenario:
    """``loaded`` with ``changes`` (key -> value, applied in order) made and checked.

    Raises :class:`OverrideError` for an unknown key or run, or when the changed
    scenario breaks a rule of the loader.  No changes: ``loaded`` itself.
    """
    pairs = list(changes.items() if isinstance(changes, Mapping) else changes)
    if not pairs:
        return loaded
    data = _drop_none(msgspec.to_builtins(loaded.spec))
    touched: list[tuple[str, list[str]]] = []
    for key, value in pairs:
        key = str(key).strip()
        try:
            touched.append((key, _assign(data, key, value)))
        except (LookupError, TypeError, AttributeError):  # an earlier change broke the shape
            raise OverrideError(key, "no such key in the changed scenario") from None
    _quiet_late_steps(data)
    try:
        spec, problems = rules.check(_drop_none(data), loaded.base_dir)
    except Exception as e:  # a rule that crashed: still one line naming the keys
        raise OverrideError(_all_keys(touched), f"internal error while checking:"
                                                f" {type(e).__name__}: {e}") from None
    if spec is None:
        raise _blame(problems, touched)
    return LoadedScenario(spec=spec, path=loaded.path, source=loaded.source)


def _quiet_late_steps(data: dict[str, Any]) -> None:
    """A shorter run keeps its watch-for notes; a 'step:N' past the new end just never pauses.

    The loader refuses such a trigger in a file (the author's slip), but a learner
    who cuts ``steps`` should not be refused because of a note.
    """
    steps = data.get("steps")
    for item in data.get("watch_for") or ():
        if not isinstance(item, dict) or not isinstance(item.get("when"), str):
            continue
        try:
            trigger = parse_trigger(item["when"])
        except ValueError:
            continue  # the rules report it
        if trigger.kind == "step" and isinstance(steps, int) and trigger.value > steps:
            del item["when"]


# ------------------------------------------------------------ writing a change


def _assign(data: dict[str, Any], key: str, value: Any) -> list[str]:
    """Write one change into the document; return the key paths it wrote."""
    runs = data["runs"]
    if key in _TOP_KEYS:
        data[key] = value
        return [key]
    if key in _RUN_KEYS or key in _BETAS:
        return [_assign_run(runs, i, key, value, key) for i in range(len(runs))]
    if key.startswith(("runs.", "runs[")):
        i, setting = _find_run(runs, key)
        return [_assign_run(runs, i, setting, value, key)]
    if "." not in key and "[" not in key:
        names = sorted(_TOP_KEYS | _RUN_KEYS | set(_BETAS))
        raise OverrideError(key, f"unknown key '{key}'{did_you_mean(key, names)}")
    return [_assign_path(data, key, value, "", key)]


def _assign_run(runs: list[dict[str, Any]], i: int, setting: str, value: Any, shown: str
                ) -> str:
    """Write ``setting`` (a Run field, ``beta1``/``beta2`` or a path) of run ``i``."""
    run = runs[i]
    if setting in _BETAS:
        betas = list(run.get("betas") or _DEFAULT_BETAS)
        betas[_BETAS[setting]] = value
        run["betas"] = betas
        return f"runs[{i}].betas"
    if "." not in setting and "[" not in setting and setting not in _RUN_KEYS:
        names = sorted(_RUN_KEYS | set(_BETAS))
        raise OverrideError(shown, f"unknown run setting '{setting}'{did_you_mean(setting, names)}")
    return _assign_path(run, setting, value, f"runs[{i}]", shown)


def _find_run(runs: list[dict[str, Any]], key: str) -> tuple[int, str]:
    """``runs[<i>].<setting>`` / ``runs.<label>.<setting>`` -> ``(i, setting)``."""
    labels = [str(r.get("label")) for r in runs]
    if key.startswith("runs["):
        index, _, setting = key[len("runs["):].partition("]")
        if not index.strip().isdigit():
            raise OverrideError(key, f"bad run index {index!r}")
        i = int(index)
        if i >= len(runs):
            raise OverrideError(key, f"no run {i} (there are {len(runs)}, from 0)")
        if setting and not setting.startswith("."):
            raise OverrideError(key, f"bad key '{key}'")
        setting = setting[1:]
    else:
        body = key[len("runs."):]
        found = [label for label in labels if body.startswith(label + ".")]
        if not found:
            label = body.rpartition(".")[0] or body
            hint = did_you_mean(label, labels) or f" (runs: {', '.join(labels)})"
            raise OverrideError(key, f"no run labelled {label!r}{hint}")
        label = max(found, key=len)
        i, setting = labels.index(label), body[len(label) + 1:]
    if not setting:
        raise OverrideError(key, "expected runs.<label>.<setting> or runs[<i>].<setting>")
    return i, setting


def _assign_path(node: Any, path: str, value: Any, prefix: str, shown: str) -> str:
    """Write ``value`` at the dotted ``path`` below ``node``; missing tables are made
    (except a missing top-level table: a landscape scenario has no ``[network]``)."""
    parts = _PATH_PART.findall(path)
    if len(parts) > MAX_DEPTH:
        raise OverrideError(shown, f"key nested too deeply (max depth {MAX_DEPTH})")
    if "".join(p if p.startswith("[") else "." + p for p in parts).lstrip(".") != path:
        raise OverrideError(shown, f"bad key '{shown}'")
    where = prefix
    for j, part in enumerate(parts):
        index: Any = int(part[1:-1]) if part.startswith("[") else part
        where = f"{where}{part}" if part.startswith("[") else (f"{where}.{part}" if where else part)
        try:
            if j == len(parts) - 1:
                if isinstance(index, str) and not isinstance(node, dict):
                    raise TypeError
                node[index] = value
            elif isinstance(node, dict) and isinstance(index, str):
                if j == 0 and not prefix and index not in node and index in _TOP_KEYS:
                    raise OverrideError(shown, f"this scenario has no [{index}]")
                node = node.setdefault(index, {})
            else:
                node = node[index]
        except (LookupError, TypeError):
            raise OverrideError(shown, f"no such key '{where}'") from None
    return where


def _drop_none(value: Any) -> Any:
    """The document without its unset (None) settings, as a file would leave them out."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


# ------------------------------------------------------------ naming the key


def _within(path: str, outer: str) -> bool:
    """``path`` is ``outer`` or lies inside it (``outer`` "" is the whole document)."""
    return (not outer or path == outer or path.startswith(outer + ".")
            or path.startswith(outer + "["))


def _all_keys(touched: list[tuple[str, list[str]]]) -> str:
    return ", ".join(dict.fromkeys(key for key, _ in touched))


def _owner(path: str, touched: list[tuple[str, list[str]]]) -> tuple[str, bool]:
    """The change a problem at ``path`` is blamed on, and whether it lies inside it.

    The latest change that wrote ``path`` (or a table around it); else the latest
    change inside the table the problem is about; else every change.
    """
    for key, paths in reversed(touched):
        if any(_within(path, p) for p in paths):
            return key, True
    for key, paths in reversed(touched):
        if path and any(_within(p, path) for p in paths):
            return key, False
    return _all_keys(touched), False


def _blame(problems: Problems, touched: list[tuple[str, list[str]]]) -> OverrideError:
    """One error whose lines name the change each problem comes from."""
    items: list[tuple[str, str]] = []
    for path, message in problems.items:
        key, inside = _owner(path, touched)
        item = (key, message if inside or not path else f"{path}: {message}")
        if item not in items:
            items.append(item)
    (key, message), *more = items
    return OverrideError(key, message, more)
