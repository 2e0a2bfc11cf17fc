"""The first pass of validation: the raw TOML tree against the schema's types.

``check_struct(data, S.Scenario, "", problems)`` walks the tree one key at a
time beside the msgspec structs of :mod:`descent_tui.scenario.schema`, so that
*every* unknown key, wrong type and out-of-range value is reported (msgspec
itself stops at the first).  Unknown keys and unknown choices get a
did-you-mean.  A number that is not finite (TOML's ``inf``, ``nan``) is refused
wherever it stands, naming its key.  An array of tables longer than its limit
is reported once and only its first entries are checked: the walk costs no more
for 330,000 ``[[runs]]`` than for nine.  Only a tree that passes is converted to a
:class:`~descent_tui.scenario.schema.Scenario` for the cross-field rules of
:mod:`descent_tui.scenario.rules`.
"""

from __future__ import annotations

import functools
import math
import types
import typing
from typing import Any, Literal

import msgspec

from descent_tui.scenario.errors import Problems, describe, did_you_mean, follow, msgspec_message, short
from descent_tui.scenario.keylines import join_path

__all__ = ["check_struct"]

#: what to call a field's value in "unknown X 'y'" (default: the field name)
_NOUNS = {
    ("DataSpec", "kind"): "dataset kind",
    ("Schedule", "kind"): "schedule kind",
    ("Schedule", "after"): "schedule",
    ("Network", "loss"): "loss",
    ("PredictionQuestion", "metric"): "metric",
}


@functools.cache
def _fields(cls: type) -> dict[str, msgspec.structs.FieldInfo]:
    """The fields of a struct by their TOML name (msgspec re-reads the annotations each call)."""
    return {f.encode_name: f for f in msgspec.structs.fields(cls)}


def _unwrap(tp: Any) -> tuple[Any, list[Any]]:
    """Strip Annotated, returning (inner type, metadata list)."""
    meta: list[Any] = []
    while typing.get_origin(tp) is typing.Annotated:
        args = typing.get_args(tp)
        tp, meta = args[0], meta + list(args[1:])
    return tp, meta


def _non_none(tp: Any) -> list[Any]:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return [a for a in typing.get_args(tp) if a is not type(None)]
    return [tp]


def _is_struct(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)


def _literal_options(tp: Any) -> list[str]:
    """All string Literal values reachable in ``tp`` (through unions, lists, Annotated)."""
    tp, _ = _unwrap(tp)
    origin = typing.get_origin(tp)
    if origin is Literal:
        return [a for a in typing.get_args(tp) if isinstance(a, str)]
    out: list[str] = []
    if origin in (typing.Union, types.UnionType, list, tuple):
        for a in typing.get_args(tp):
            out.extend(_literal_options(a))
    return out


def _unknown_choice(value: Any, tp: Any, path: str, noun: str, probs: Problems) -> bool:
    """Report the first string of ``value`` that is not one of ``tp``'s choices."""
    options = _literal_options(tp)
    if not options:
        return False
    candidates = [(path, value)] if isinstance(value, str) else []
    if isinstance(value, list):
        candidates = [(join_path(path, i), v) for i, v in enumerate(value) if isinstance(v, str)]
    for sub, v in candidates:
        if v not in options:
            tail = did_you_mean(v, options) or f"; expected one of: {', '.join(options)}"
            probs.add(sub, f"unknown {noun} {short(v)}{tail}")
            return True
    return False


def _non_finite(value: Any, path: str) -> tuple[str, float] | None:
    """The first number in ``value`` (a number or a list of them) that is not finite."""
    stack = [(path, value)]
    while stack:
        where, v = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            return where, v
        if isinstance(v, list):
            stack.extend((join_path(where, i), x) for i, x in reversed(list(enumerate(v))))
    return None


def _takes_number(tp: Any) -> bool:
    """The field holds a number (so ``inf`` is a bad number, not a wrong type)."""
    try:
        msgspec.convert(1.0, tp)
        return True
    except (msgspec.ValidationError, TypeError):
        return False


def _check_leaf(value: Any, tp: Any, path: str, owner: str, name: str, probs: Problems) -> None:
    try:
        msgspec.convert(value, tp)
        bad = _non_finite(value, path)
        if bad is not None:
            probs.add(bad[0], f"expected a finite number, got {bad[1]}")
        return
    except msgspec.ValidationError as e:
        err = str(e)
    except Exception as e:
        probs.add(path, f"invalid value ({type(e).__name__}: {e})")
        return
    if isinstance(value, float) and not math.isfinite(value) and _takes_number(tp):
        probs.add(path, f"expected a finite number, got {value}")
        return
    noun = _NOUNS.get((owner, name), name.replace("_", " "))
    if _unknown_choice(value, tp, path, noun, probs):
        return
    if "matching regex" in err:
        if name == "id":
            probs.add(path, f"must be a lowercase slug like 'the-ravine' (a-z, 0-9 and single"
                            f" dashes), got {short(value)}")
            return
        sub, _ = msgspec_message(err, value, path)
        probs.add(sub, f"not a valid name: {short(follow(value, sub[len(path):]))}"
                       " (letters, digits and _, not starting with a digit)")
        return
    probs.add(*msgspec_message(err, value, path))


def _check_tables(value: Any, elem: type, meta: list[Any], path: str, probs: Problems) -> None:
    """An array of tables (``[[runs]]``): its length, then each element."""
    if not isinstance(value, list):
        probs.add(path, f"expected a list of tables ([[{path.split('.')[-1]}]]"
                        f" sections), got {describe(value)}")
        return
    for m in meta:
        lo = getattr(m, "min_length", None)
        hi = getattr(m, "max_length", None)
        if lo is not None and len(value) < lo:
            probs.add(path, f"needs at least {lo} entr{'y' if lo == 1 else 'ies'},"
                            f" got {len(value)}")
        if hi is not None and len(value) > hi:
            probs.add(path, f"at most {hi} entries allowed, got {len(value)}")
            value = value[:hi]
    for i, item in enumerate(value):
        check_struct(item, elem, join_path(path, i), probs)


def _check_value(value: Any, tp: Any, path: str, owner: str, name: str, probs: Problems) -> None:
    inner, meta = _unwrap(tp)
    options = _non_none(inner)
    structs = [o for o in options if _is_struct(_unwrap(o)[0])]
    if len(options) == 1 and structs:
        check_struct(value, _unwrap(structs[0])[0], path, probs)
        return
    if len(options) == 1:
        lst, lmeta = _unwrap(options[0])
        if typing.get_origin(lst) is list:
            (elem,) = typing.get_args(lst)
            elem_inner, _ = _unwrap(elem)
            if _is_struct(elem_inner):
                _check_tables(value, elem_inner, meta + lmeta, path, probs)
                return
    _check_leaf(value, tp, path, owner, name, probs)


def check_struct(data: Any, cls: type, path: str, probs: Problems) -> None:
    """Check the table ``data`` at ``path`` against the struct ``cls``, key by key."""
    if not isinstance(data, dict):
        probs.add(path, f"expected a table, got {describe(data)}")
        return
    fields = _fields(cls)
    for key in data:
        if key not in fields:
            hint = "" if probs.full else did_you_mean(key, fields)
            probs.add(join_path(path, key), f"unknown key {short(key)}{hint}")
    for fname, f in fields.items():
        if fname not in data:
            if f.required:
                where = f"[{path}]" if path else "the top level"
                probs.add(path, f"missing required key '{fname}' in {where}")
            continue
        _check_value(data[fname], f.type, join_path(path, fname), cls.__name__, fname, probs)
