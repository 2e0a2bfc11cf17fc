"""Read and validate scenario files.

``load_scenario(path)`` returns a :class:`LoadedScenario` or raises
:class:`~descent_tui.scenario.errors.ScenarioError` whose ``problems`` are
one-line messages ``file[:line]: key.path: what is wrong``.  Every failure mode
(missing, huge, binary, non-UTF-8, bad TOML, absurd nesting, unknown keys,
wrong types, bad values, cross-field mistakes, a bad CSV) ends up there: this
module never lets another exception escape.

Validation runs in two passes.  First the raw TOML tree is walked against the
msgspec structs of :mod:`descent_tui.scenario.schema` one key at a time, so
*every* unknown key / wrong type / out-of-range value is reported, not only the
first.  If that pass is clean the tree is converted with ``msgspec.convert``
and the cross-field rules run (they too collect every problem).
"""

from __future__ import annotations

import csv
import difflib
import math
import re
import tomllib
import types
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import msgspec

from descent_tui.scenario import schema as S
from descent_tui.scenario.errors import ScenarioError
from descent_tui.scenario.expr import FUNCTIONS, Expr, ExprError, parse

__all__ = [
    "MAX_BYTES",
    "MAX_CSV_BYTES",
    "MAX_DEPTH",
    "LoadedScenario",
    "apply_overrides",
    "did_you_mean",
    "load_scenario",
    "loads_scenario",
    "read_csv_table",
    "validate_data",
]

MAX_BYTES = 1_000_000
MAX_DEPTH = 20
MAX_CSV_BYTES = 20_000_000
MAX_CSV_ROWS = 100_000

Source = Literal["shipped", "user", "path", "text"]


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and where it came from."""

    spec: S.Scenario
    path: Path | None
    source: str = "path"  # "shipped" | "user" | "path" | "text"

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def source_path(self) -> Path | None:
        return self.path

    @property
    def base_dir(self) -> Path:
        """Directory that relative paths (CSV data) are resolved against."""
        return self.path.parent if self.path is not None else Path.cwd()

    def loss_expr(self) -> Expr:
        """The parsed landscape loss (raises ValueError for network scenarios)."""
        if self.spec.landscape is None:
            raise ValueError(f"scenario {self.spec.id!r} is not a landscape scenario")
        return parse(self.spec.landscape.loss, self.spec.landscape.params)

    def sort_key(self) -> tuple:
        return (self.spec.chapter, self.spec.order, self.spec.id)


# ----------------------------------------------------------------------- helpers


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` or ``""``."""
    options = [o for o in options if isinstance(o, str)]
    if not isinstance(word, str) or not word:
        return ""
    # "lrate" -> "lr", "moment" -> "momentum": a shared prefix beats edit distance
    prefixed = [o for o in options if len(o) >= 2 and len(word) >= 2
                and (word.startswith(o) or o.startswith(word))]
    if prefixed:
        best = min(prefixed, key=lambda o: (abs(len(o) - len(word)), o))
        return f" (did you mean '{best}'?)"
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(word.lower(), options, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value!r}"
    if isinstance(value, str):
        return f"string {_short(value)}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {_short(value)}"


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a TOML tree, iteratively (stops counting past ``limit``)."""
    best = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        v, d = stack.pop()
        if d > best:
            best = d
            if best > limit:
                return best
        if isinstance(v, dict):
            stack.extend((c, d + 1) for c in v.values())
        elif isinstance(v, list):
            stack.extend((c, d + 1) for c in v)
    return best


class _Problems:
    """Collects (key path, message) pairs and formats them with line numbers."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.items.append((path, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def format(self, name: str, text: str | None) -> list[str]:
        lines = _key_lines(text) if text else {}
        out = []
        for path, message in self.items:
            line = _lookup_line(lines, path)
            where = f"{name}:{line}" if line else name
            out.append(f"{where}: {path}: {message}" if path else f"{where}: {message}")
        return out


# -------------------------------------------------------------- key -> line map

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*(\]\]?)\s*(#.*)?$")
_KEY = r"""(?:[A-Za-z0-9_\-]+|"[^"]*"|'[^']*')"""
_KEYLINE = re.compile(rf"^\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*=")
_PART = re.compile(r"""[A-Za-z0-9_\-]+|"[^"]*"|'[^']*'""")


def _split_key(key: str) -> list[str]:
    return [p.strip("\"'") for p in _PART.findall(key)]


def _key_lines(text: str) -> dict[str, int]:
    """Best-effort map from key path (``runs[1].optimizer``) to 1-based line number."""
    found: dict[str, int] = {}
    arrays: dict[str, int] = {}  # array-of-tables path (unindexed) -> current index
    prefix = ""
    in_multiline: str | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        m = _HEADER.match(line)
        if m and m.group(1) == m.group(3)[::-1].replace("]", "["):
            parts = _split_key(m.group(2))
            path = ""
            raw = ""
            for part in parts:
                raw = f"{raw}.{part}" if raw else part
                path = _join(path, part)
                if raw in arrays and raw != ".".join(parts):
                    path = _join(path, arrays[raw])
            if m.group(1) == "[[":
                arrays[raw] = arrays.get(raw, -1) + 1
                path = _join(path, arrays[raw])
                # a new element resets the indices of arrays nested in it
                for other in list(arrays):
                    if other.startswith(raw + "."):
                        del arrays[other]
            prefix = path
            found.setdefault(path, lineno)
            continue
        m = _KEYLINE.match(line)
        if m:
            path = prefix
            for part in _split_key(m.group(1)):
                path = _join(path, part)
            found.setdefault(path, lineno)
            rest = line[m.end():]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2 == 1:
                    in_multiline = quote
                    break
    return found


_TRAIL = re.compile(r"(\[\d+\]|\.[^.\[\]]+)$")


def _lookup_line(lines: dict[str, int], path: str) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        new = _TRAIL.sub("", path)
        if new == path:
            return None
        path = new
    return None


# --------------------------------------------------------- structural checking


def _unwrap(tp: Any) -> tuple[Any, list[Any]]:
    """Strip Annotated, returning (inner type, metadata list)."""
    meta: list[Any] = []
    while typing.get_origin(tp) is typing.Annotated:
        args = typing.get_args(tp)
        tp, meta = args[0], meta + list(args[1:])
        # typing flattens nested Annotated already, loop is defensive
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


_NOUNS = {
    ("DataSpec", "kind"): "dataset kind",
    ("Schedule", "kind"): "schedule kind",
    ("Schedule", "after"): "schedule",
    ("Network", "loss"): "loss",
    ("PredictionQuestion", "metric"): "metric",
}

_TYPE_WORDS = {
    "`array`": "a list",
    "`object`": "a table",
    "`str`": "a string",
    "`float`": "a number",
    "`int`": "an integer",
    "`bool`": "true or false",
    "`null`": "nothing",
}

_GOT_WORDS = {
    "array": "a list",
    "object": "a table",
    "str": "a string",
    "float": "a number",
    "int": "an integer",
    "bool": "a boolean",
    "null": "nothing",
}

_MSGSPEC_AT = re.compile(r"^(.*?)(?: - at `\$(.*)`)?$", re.DOTALL)


def _follow(value: Any, sub: str) -> Any:
    for m in re.finditer(r"\[(\d+)\]|\.([^.\[]+)", sub):
        try:
            value = value[int(m.group(1))] if m.group(1) is not None else value[m.group(2)]
        except (LookupError, TypeError):
            return None
    return value


def _msgspec_message(err: str, value: Any, path: str) -> tuple[str, str]:
    """Turn ``Expected `int` >= 1 - at `$[0]``` into (path, readable message)."""
    m = _MSGSPEC_AT.match(err)
    msg, sub = (m.group(1), m.group(2) or "") if m else (err, "")
    got = _follow(value, sub) if sub else value
    sub_path = path + sub
    msg = msg.replace("Expected", "expected", 1)
    msg = re.sub(r", got `(\w+)`", lambda m: ", got " + _GOT_WORDS.get(m.group(1), m.group(1)), msg)
    for k, v in _TYPE_WORDS.items():
        msg = msg.replace(k, v)
    msg = msg.replace("`", "")
    if ", got " not in msg:
        msg = f"{msg} (got {_describe(got)})"
    return sub_path, msg


def _check_leaf(value: Any, tp: Any, path: str, owner: str, name: str, probs: _Problems) -> None:
    try:
        msgspec.convert(value, tp)
        return
    except msgspec.ValidationError as e:
        err = str(e)
    except Exception as e:
        probs.add(path, f"invalid value ({type(e).__name__}: {e})")
        return
    options = _literal_options(tp)
    if options:
        # find the offending string (the value itself or an element of a list)
        candidates = [(path, value)] if isinstance(value, str) else []
        if isinstance(value, list):
            candidates = [(_join(path, i), v) for i, v in enumerate(value) if isinstance(v, str)]
        for sub, v in candidates:
            if v not in options:
                noun = _NOUNS.get((owner, name), name.replace("_", " "))
                hint = did_you_mean(v, options)
                tail = hint or f"; expected one of: {', '.join(options)}"
                probs.add(sub, f"unknown {noun} {_short(v)}{tail}")
                return
    if "matching regex" in err:
        if name == "id":
            probs.add(path, f"must be a lowercase slug like 'the-ravine' (a-z, 0-9 and single"
                            f" dashes), got {_short(value)}")
            return
        sub, _ = _msgspec_message(err, value, path)
        probs.add(sub, f"not a valid name: {_short(_follow(value, sub[len(path):]))}"
                       " (letters, digits and _, not starting with a digit)")
        return
    probs.add(*_msgspec_message(err, value, path))


def _check_value(value: Any, tp: Any, path: str, owner: str, name: str, probs: _Problems) -> None:
    inner, meta = _unwrap(tp)
    options = _non_none(inner)
    structs = [o for o in options if _is_struct(_unwrap(o)[0])]
    if len(options) == 1 and structs:
        _check_struct(value, _unwrap(structs[0])[0], path, probs)
        return
    if len(options) == 1:
        lst, lmeta = _unwrap(options[0])
        if typing.get_origin(lst) is list:
            (elem,) = typing.get_args(lst)
            elem_inner, _ = _unwrap(elem)
            if _is_struct(elem_inner):
                if not isinstance(value, list):
                    probs.add(path, f"expected a list of tables ([[{path.split('.')[-1]}]]"
                                    f" sections), got {_describe(value)}")
                    return
                for m in meta + lmeta:
                    lo = getattr(m, "min_length", None)
                    hi = getattr(m, "max_length", None)
                    if lo is not None and len(value) < lo:
                        probs.add(path, f"needs at least {lo} entr{'y' if lo == 1 else 'ies'},"
                                        f" got {len(value)}")
                    if hi is not None and len(value) > hi:
                        probs.add(path, f"at most {hi} entries allowed, got {len(value)}")
                for i, item in enumerate(value):
                    _check_struct(item, elem_inner, _join(path, i), probs)
                return
    _check_leaf(value, tp, path, owner, name, probs)


def _check_struct(data: Any, cls: type, path: str, probs: _Problems) -> None:
    if not isinstance(data, dict):
        probs.add(path, f"expected a table, got {_describe(data)}")
        return
    fields = {f.encode_name: f for f in msgspec.structs.fields(cls)}
    for key in data:
        if key not in fields:
            probs.add(_join(path, key),
                      f"unknown key '{key}'{did_you_mean(key, fields)}")
    for fname, f in fields.items():
        if fname not in data:
            if f.required:
                where = f"[{path}]" if path else "the top level"
                probs.add(path, f"missing required key '{fname}' in {where}")
            continue
        _check_value(data[fname], f.type, _join(path, fname), cls.__name__, fname, probs)


# ------------------------------------------------------------ semantic checks


def _finite_list(values: Iterable[float], path: str, probs: _Problems) -> None:
    for i, v in enumerate(values):
        if not math.isfinite(v):
            probs.add(_join(path, i), f"expected a finite number, got {v}")


def _check_landscape(spec: S.Scenario, probs: _Problems) -> None:
    land = spec.landscape
    assert land is not None
    n = len(land.params)
    seen: set[str] = set()
    for i, p in enumerate(land.params):
        if p in FUNCTIONS:
            probs.add(f"landscape.params[{i}]", f"'{p}' is a function name, pick another name")
        if p in seen:
            probs.add(f"landscape.params[{i}]", f"duplicate parameter '{p}'")
        seen.add(p)
    expr: Expr | None = None
    if not probs:
        try:
            expr = parse(land.loss, land.params)
        except ExprError as e:
            probs.add("landscape.loss", str(e))
    if len(land.start) != n:
        probs.add("landscape.start",
                  f"needs one value per param ({n}: {', '.join(land.params)}), got {len(land.start)}")
    _finite_list(land.start, "landscape.start", probs)
    if land.bounds is not None:
        if len(land.bounds) != n:
            probs.add("landscape.bounds", f"needs one [lo, hi] per param ({n}), got {len(land.bounds)}")
        for i, (lo, hi) in enumerate(land.bounds):
            if not (math.isfinite(lo) and math.isfinite(hi)):
                probs.add(f"landscape.bounds[{i}]", f"expected finite numbers, got [{lo}, {hi}]")
            elif lo >= hi:
                probs.add(f"landscape.bounds[{i}]", f"lo must be < hi, got [{lo}, {hi}]")
    if land.minimum is not None:
        if len(land.minimum) != n:
            probs.add("landscape.minimum", f"needs one value per param ({n}), got {len(land.minimum)}")
        _finite_list(land.minimum, "landscape.minimum", probs)
    starts = [("landscape.start", land.start)]
    for i, run in enumerate(spec.runs):
        if run.start is not None:
            if len(run.start) != n:
                probs.add(f"runs[{i}].start", f"needs one value per param ({n}), got {len(run.start)}")
            else:
                starts.append((f"runs[{i}].start", run.start))
            _finite_list(run.start, f"runs[{i}].start", probs)
    if expr is not None:
        for where, start in starts:
            if len(start) != n or not all(math.isfinite(v) for v in start):
                continue
            try:
                value = expr.evaluate(dict(zip(land.params, (float(v) for v in start),
                                               strict=True)))
            except Exception as e:
                probs.add("landscape.loss", f"cannot be evaluated at {where}: {e}")
                continue
            if not math.isfinite(value):
                probs.add("landscape.loss", f"is not finite at {where} {list(start)} (got {value})")


def _check_network(spec: S.Scenario, base_dir: Path | None, probs: _Problems) -> None:
    net = spec.network
    assert net is not None
    data, model = net.data, net.model
    layers = model.layers
    csv_only = ("path", "features", "label")
    n_rows = data.n
    csv_labels: list[float] | None = None
    if data.kind == "csv":
        for key in csv_only:
            if getattr(data, key) is None:
                probs.add("network.data", f"missing required key '{key}' (needed for kind = 'csv')")
        if data.path is not None and data.features is not None and data.label is not None:
            result = _check_csv(data, base_dir, probs)
            if result is not None:
                n_rows, csv_labels = result
    else:
        for key in csv_only:
            if getattr(data, key) is not None:
                probs.add(f"network.data.{key}", "only used with kind = 'csv'")
    n_features = data.n_features
    if n_features and layers[0] != n_features:
        probs.add("network.model.layers[0]",
                  f"input size {layers[0]} does not match the data ({n_features} feature"
                  f"{'s' if n_features != 1 else ''} for kind = '{data.kind}')")
    out = layers[-1]
    regression = data.kind in S.REGRESSION_DATASETS
    n_classes = data.n_classes
    if csv_labels is not None and net.loss in ("cross_entropy", "bce"):
        bad = next((v for v in csv_labels if v != int(v) or v < 0), None)
        if bad is not None:
            probs.add("network.data.label", f"class labels must be whole numbers >= 0"
                                            f" for loss '{net.loss}' (got {bad})")
        elif net.loss == "bce" and any(v not in (0, 1) for v in csv_labels):
            probs.add("network.data.label", "loss 'bce' needs labels 0 or 1")
        else:
            n_classes = int(max(csv_labels)) + 1
    if net.loss == "mse":
        if out != 1:
            probs.add("network.model.layers", f"loss 'mse' needs 1 output, got {out}")
    elif regression:
        probs.add("network.loss", f"dataset '{data.kind}' is a regression task; use loss = 'mse'"
                                  f" (got '{net.loss}')")
    elif net.loss == "bce":
        if out != 1:
            probs.add("network.model.layers", f"loss 'bce' needs 1 output, got {out}")
        if n_classes is not None and n_classes != 2:
            probs.add("network.loss", f"loss 'bce' needs 2 classes, the data has {n_classes};"
                                      " use loss = 'cross_entropy'")
    elif net.loss == "cross_entropy":
        if out < 2:
            probs.add("network.model.layers", f"loss 'cross_entropy' needs one output per class"
                                              f" (at least 2), got {out}")
        elif n_classes is not None and out != n_classes:
            probs.add("network.model.layers",
                      f"last layer has {out} outputs but the data has {n_classes} classes")
    n_hidden = len(layers) - 2
    if isinstance(model.activation, list) and len(model.activation) != n_hidden:
        probs.add("network.model.activation",
                  f"needs one activation per hidden layer ({n_hidden}), got {len(model.activation)}")
    if net.batch_size > n_rows:
        probs.add("network.batch_size", f"larger than the data set ({net.batch_size} > {n_rows})")
    for i, run in enumerate(spec.runs):
        if isinstance(run.activation, list) and len(run.activation) != n_hidden:
            probs.add(f"runs[{i}].activation",
                      f"needs one activation per hidden layer ({n_hidden}), got {len(run.activation)}")
        if run.batch_size is not None and run.batch_size > n_rows:
            probs.add(f"runs[{i}].batch_size", f"larger than the data set ({run.batch_size} > {n_rows})")


def read_csv_table(path: Path, features: list[str], label: str
                   ) -> tuple[list[list[float]], list[float]]:
    """Read the ``features`` and ``label`` columns of a CSV file as floats.

    Raises ValueError with a one-line message (``data.csv:5: column 'a': ...``).
    """
    if not path.is_file():
        raise ValueError(f"file not found: {path}")
    if path.stat().st_size > MAX_CSV_BYTES:
        raise ValueError(f"{path.name}: file too large (max {MAX_CSV_BYTES // 1_000_000} MB)")
    rows: list[list[float]] = []
    labels: list[float] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise ValueError(f"{path.name}: empty CSV file (expected a header row)")
            header = [h.strip() for h in header]
            missing = [c for c in [*features, label] if c not in header]
            if missing:
                c = missing[0]
                raise ValueError(f"{path.name}: no column '{c}'{did_you_mean(c, header)};"
                                 f" columns: {', '.join(header)}")
            idx = [header.index(c) for c in features]
            lab = header.index(label)
            for row in reader:
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(rows) >= MAX_CSV_ROWS:
                    raise ValueError(f"{path.name}: too many rows (max {MAX_CSV_ROWS})")
                if len(row) != len(header):
                    raise ValueError(f"{path.name}:{reader.line_num}: expected {len(header)}"
                                     f" columns, got {len(row)}")
                values = []
                for j, col in [*zip(idx, features, strict=True), (lab, label)]:
                    cell = row[j].strip()
                    try:
                        v = float(cell)
                    except ValueError:
                        raise ValueError(f"{path.name}:{reader.line_num}: column '{col}':"
                                         f" not a number (got {_short(cell)})") from None
                    if not math.isfinite(v):
                        raise ValueError(f"{path.name}:{reader.line_num}: column '{col}':"
                                         f" not a finite number (got {_short(cell)})")
                    values.append(v)
                rows.append(values[:-1])
                labels.append(values[-1])
    except UnicodeDecodeError:
        raise ValueError(f"{path.name}: not UTF-8 text") from None
    except csv.Error as e:
        raise ValueError(f"{path.name}: CSV error: {e}") from None
    except OSError as e:
        raise ValueError(f"{path.name}: cannot read: {e.strerror or e}") from None
    if not rows:
        raise ValueError(f"{path.name}: no data rows")
    return rows, labels


def resolve_data_path(data: S.DataSpec, base_dir: Path | None) -> Path:
    p = Path(data.path or "")
    if not p.is_absolute():
        p = (base_dir or Path.cwd()) / p
    return p


def _check_csv(data: S.DataSpec, base_dir: Path | None, probs: _Problems
               ) -> tuple[int, list[float]] | None:
    path = resolve_data_path(data, base_dir)
    try:
        rows, labels = read_csv_table(path, list(data.features or ()), data.label or "")
    except (ValueError, OSError) as e:
        probs.add("network.data.path", str(e))
        return None
    return len(rows), labels


def _check_runs(spec: S.Scenario, probs: _Problems) -> None:
    seen: dict[str, int] = {}
    network_only = ("init", "init_value", "init_std", "bias_init", "activation", "batch_size")
    for i, run in enumerate(spec.runs):
        p = f"runs[{i}]"
        key = run.label.strip().lower()
        if not run.label.strip():
            probs.add(f"{p}.label", "must not be blank")
        if key in seen:
            probs.add(f"{p}.label", f"duplicate run label '{run.label}' (also runs[{seen[key]}])")
        seen.setdefault(key, i)
        if key == "none":
            probs.add(f"{p}.label", "'none' is reserved for prediction answers")
        if spec.kind == "landscape":
            for name in network_only:
                if getattr(run, name) is not None:
                    probs.add(f"{p}.{name}", "only used by network scenarios")
        elif run.start is not None:
            probs.add(f"{p}.start", "only used by landscape scenarios")
        if run.uses_nesterov and (run.effective_momentum <= 0 or run.dampening != 0):
            probs.add(f"{p}.nesterov", "Nesterov momentum needs momentum > 0 and dampening = 0")
        if run.optimizer == "newton" and spec.kind == "network":
            n_params = sum(a * b + b for a, b in zip(spec.network.model.layers,  # type: ignore[union-attr]
                                                     spec.network.model.layers[1:]))  # type: ignore[union-attr]
            if n_params > 400:
                probs.add(f"{p}.optimizer",
                          f"'newton' needs the full Hessian; this network has {n_params}"
                          " parameters (max 400)")
        sch = run.schedule
        if sch is not None:
            if sch.kind == "multistep":
                if not sch.milestones:
                    probs.add(f"{p}.schedule.milestones", "multistep needs at least one milestone")
                elif any(b <= a for a, b in zip(sch.milestones, sch.milestones[1:])):
                    probs.add(f"{p}.schedule.milestones",
                              f"must be strictly increasing, got {sch.milestones}")
            if sch.kind == "warmup" and sch.warmup_steps < 1:
                probs.add(f"{p}.schedule.warmup_steps", "warmup needs warmup_steps >= 1")


_KNOB_VALUES = {"optimizer": S.OPTIMIZERS, "init": S.INITS, "activation": S.ACTIVATIONS}
_KNOB_RANGES: dict[str, tuple[float, float, bool]] = {
    # name: (lowest allowed, highest allowed, integer?)
    "lr": (0.0, 1e6, False),
    "momentum": (0.0, 1.0, False),
    "beta1": (0.0, 1.0, False),
    "beta2": (0.0, 1.0, False),
    "weight_decay": (0.0, 1e6, False),
    "clip_norm": (0.0, 1e9, False),
    "batch_size": (0.0, 100_000, True),
    "steps": (1.0, 1_000_000, True),
}


def _check_knobs(spec: S.Scenario, probs: _Problems) -> None:
    for name, knob in spec.knobs.present().items():
        p = f"knobs.{name}"
        if spec.kind == "landscape" and name in S.NETWORK_ONLY_KNOBS:
            probs.add(p, "only used by network scenarios")
        if name in _KNOB_VALUES:
            if knob.min is not None or knob.max is not None or knob.log is not None:
                probs.add(p, "a choice knob takes 'choices', not min/max/log")
            if knob.choices is None:
                probs.add(p, "missing 'choices'")
                continue
            valid = _KNOB_VALUES[name]
            for j, c in enumerate(knob.choices):
                if c not in valid:
                    hint = did_you_mean(c, valid) or f"; expected one of: {', '.join(valid)}"
                    probs.add(f"{p}.choices[{j}]", f"unknown {name} {_short(c)}{hint}")
            if len(set(knob.choices)) != len(knob.choices):
                probs.add(f"{p}.choices", "duplicate choices")
            continue
        if knob.choices is not None:
            probs.add(f"{p}.choices", "a numeric knob takes min and max, not choices")
        if knob.min is None or knob.max is None:
            probs.add(p, "needs both min and max")
            continue
        lo_ok, hi_ok, integer = _KNOB_RANGES[name]
        for key, v in (("min", knob.min), ("max", knob.max)):
            if not math.isfinite(v) or v < lo_ok or v > hi_ok:
                probs.add(f"{p}.{key}", f"out of range (got {v}, expected {lo_ok:g}..{hi_ok:g})")
            elif integer and v != int(v):
                probs.add(f"{p}.{key}", f"expected a whole number, got {v}")
        if name == "lr" and knob.min <= 0:
            probs.add(f"{p}.min", f"lr must be > 0 (got {knob.min})")
        if name in ("momentum", "beta1", "beta2") and knob.max >= 1:
            probs.add(f"{p}.max", f"{name} must be < 1 (got {knob.max})")
        if knob.min >= knob.max:
            probs.add(p, f"min must be < max (got min = {knob.min}, max = {knob.max})")
        if knob.log and knob.min <= 0:
            probs.add(f"{p}.log", "a log-scale knob needs min > 0")


_RUN_METRICS = ("first_below", "lowest_final_loss", "largest_final_loss", "diverges")


def _check_quiz(spec: S.Scenario, probs: _Problems) -> None:
    for i, q in enumerate(spec.quiz.concept):
        p = f"quiz.concept[{i}]"
        if q.answer >= len(q.choices):
            probs.add(f"{p}.answer", f"index {q.answer} out of range: there are"
                                     f" {len(q.choices)} choices (0..{len(q.choices) - 1})")
        if len(set(q.choices)) != len(q.choices):
            probs.add(f"{p}.choices", "duplicate choices")
    labels = spec.run_labels
    for i, q in enumerate(spec.quiz.prediction):
        p = f"quiz.prediction[{i}]"
        if len(set(q.choices)) != len(q.choices):
            probs.add(f"{p}.choices", "duplicate choices")
        if q.metric == "first_below":
            if q.threshold is None:
                probs.add(p, "metric 'first_below' needs a threshold")
            elif not math.isfinite(q.threshold):
                probs.add(f"{p}.threshold", f"expected a finite number, got {q.threshold}")
        elif q.threshold is not None:
            probs.add(f"{p}.threshold", f"only used by metric 'first_below' (metric is '{q.metric}')")
        if q.metric in _RUN_METRICS:
            allowed = labels + (["none"] if q.metric in ("first_below", "diverges") else [])
            for j, c in enumerate(q.choices):
                if c not in allowed:
                    hint = did_you_mean(c, allowed) or f"; expected one of: {', '.join(allowed)}"
                    probs.add(f"{p}.choices[{j}]", f"'{c}' is not a run label{hint}")
            if q.run is not None:
                probs.add(f"{p}.run", "only used by metric 'smallest_grad_layer'")
        else:  # smallest_grad_layer
            if spec.kind != "network":
                probs.add(f"{p}.metric", "'smallest_grad_layer' needs a network scenario")
                continue
            names = spec.layer_names
            for j, c in enumerate(q.choices):
                if c not in names:
                    hint = did_you_mean(c, names) or f"; expected one of: {', '.join(names)}"
                    probs.add(f"{p}.choices[{j}]", f"'{c}' is not a layer name{hint}")
            if q.run is not None and q.run not in labels:
                probs.add(f"{p}.run", f"'{q.run}' is not a run label{did_you_mean(q.run, labels)}")


def _semantic(spec: S.Scenario, base_dir: Path | None, probs: _Problems) -> None:
    if spec.landscape is not None:
        _check_landscape(spec, probs)
    elif spec.network is not None:
        _check_network(spec, base_dir, probs)
    _check_runs(spec, probs)
    _check_knobs(spec, probs)
    _check_quiz(spec, probs)


# ------------------------------------------------------------------ entry points


def validate_data(data: Any, *, name: str = "<scenario>", text: str | None = None,
                  base_dir: Path | None = None) -> S.Scenario:
    """Validate a parsed TOML tree; return the Scenario or raise ScenarioError."""
    probs = _Problems()
    try:
        if not isinstance(data, dict):
            raise ScenarioError([f"{name}: expected a TOML table at the top level"])
        if _depth(data, MAX_DEPTH) > MAX_DEPTH:
            raise ScenarioError([f"{name}: document nested too deeply (max depth {MAX_DEPTH})"])
        _check_struct(data, S.Scenario, "", probs)
        has_l, has_n = "landscape" in data, "network" in data
        if has_l and has_n:
            probs.add("", "has both [landscape] and [network]; a scenario is exactly one kind")
        elif not has_l and not has_n:
            probs.add("", "needs a [landscape] or a [network] table")
        if probs:
            raise ScenarioError(probs.format(name, text))
        try:
            spec = msgspec.convert(data, S.Scenario)
        except msgspec.ValidationError as e:  # the walk above should have caught it
            probs.add(*_msgspec_message(str(e), data, ""))
            raise ScenarioError(probs.format(name, text)) from None
        _semantic(spec, base_dir, probs)
        if probs:
            raise ScenarioError(probs.format(name, text))
        return spec
    except ScenarioError as e:
        e.path = name
        raise
    except RecursionError:
        raise ScenarioError([f"{name}: document nested too deeply"], name) from None
    except Exception as e:
        raise ScenarioError([f"{name}: internal error while checking: {type(e).__name__}: {e}"],
                            name) from None


_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def _parse_toml(text: str, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = _TOML_POS.search(msg)
        if m:
            msg = _TOML_POS.sub("", msg)
            raise ScenarioError([(f"{name}:{m.group(1)}: TOML syntax error: {msg}"
                                 f" (column {m.group(2)})")], name) from None
        msg = msg.replace(" (at end of document)", "")
        line = text.count("\n") + 1
        raise ScenarioError([f"{name}:{line}: TOML syntax error: {msg} (at end of file)"],
                            name) from None
    except RecursionError:
        raise ScenarioError([f"{name}: document nested too deeply"], name) from None
    except MemoryError:
        raise ScenarioError([f"{name}: document too large to parse"], name) from None
    except Exception as e:
        raise ScenarioError([f"{name}: TOML error: {type(e).__name__}: {e}"], name) from None


def _decode(raw: bytes, name: str) -> str:
    if b"\x00" in raw:
        raise ScenarioError([f"{name}: binary file, not TOML text"], name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ScenarioError([(f"{name}: not UTF-8 text (bad byte 0x{raw[e.start]:02x}"
                             f" at offset {e.start})")], name) from None
    return text


def loads_scenario(text: str | bytes, *, name: str = "<string>", base_dir: Path | None = None,
                   path: Path | None = None, source: str = "text") -> LoadedScenario:
    """Validate scenario TOML text; ``name`` prefixes the problem lines."""
    try:
        if isinstance(text, (bytes, bytearray)):
            if len(text) > MAX_BYTES:
                raise ScenarioError([(f"{name}: file too large ({len(text)} bytes,"
                                     f" max {MAX_BYTES})")], name)
            text = _decode(bytes(text), name)
        if not isinstance(text, str):
            raise ScenarioError([f"{name}: expected TOML text"], name)
        if len(text) > MAX_BYTES:
            raise ScenarioError([f"{name}: file too large (max {MAX_BYTES} bytes)"], name)
        if "\x00" in text:
            raise ScenarioError([f"{name}: binary file, not TOML text"], name)
        if not text.strip():
            raise ScenarioError([f"{name}: empty file (expected a TOML scenario)"], name)
        data = _parse_toml(text, name)
        spec = validate_data(data, name=name, text=text, base_dir=base_dir)
        return LoadedScenario(spec=spec, path=path, source=source)
    except ScenarioError:
        raise
    except Exception as e:
        raise ScenarioError([f"{name}: internal error: {type(e).__name__}: {e}"], name) from None


def load_scenario(path: str | Path, source: str = "path") -> LoadedScenario:
    """Read, parse and validate one scenario file."""
    name = str(path)
    try:
        p = Path(path)
        if not p.exists():
            raise ScenarioError([f"{name}: file not found"], name)
        if p.is_dir():
            raise ScenarioError([f"{name}: is a directory, not a scenario file"], name)
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise ScenarioError([f"{name}: file too large ({size} bytes, max {MAX_BYTES})"], name)
        with p.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise ScenarioError([f"{name}: file too large (max {MAX_BYTES} bytes)"], name)
        return loads_scenario(raw, name=name, base_dir=p.resolve().parent, path=p,
                              source=source)
    except ScenarioError:
        raise
    except OSError as e:
        raise ScenarioError([f"{name}: cannot read: {e.strerror or e}"], name) from None
    except Exception as e:
        raise ScenarioError([f"{name}: internal error: {type(e).__name__}: {e}"], name) from None


# ----------------------------------------------------------------- overrides


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, RecursionError):
        return text


_RUN_KEYS = frozenset(f.name for f in msgspec.structs.fields(S.Run)) - {"label"}
_TOP_KEYS = frozenset(("steps", "seed", "diverge_above"))


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def _iter_assignments(assignments: Iterable[str]) -> Iterator[tuple[str, str, Any]]:
    for item in assignments:
        if "=" not in item:
            raise ScenarioError([f"--set {item}: expected KEY=VALUE"])
        key, _, raw = item.partition("=")
        yield item, key.strip(), _parse_value(raw.strip())


def apply_overrides(loaded: LoadedScenario | S.Scenario, assignments: Iterable[str]
                    ) -> S.Scenario:
    """Apply ``KEY=VALUE`` overrides (as given to ``descent run --set``) and re-validate.

    KEY is a dotted path into the document (``steps``, ``network.batch_size``,
    ``runs[1].lr``, ``landscape.start``) or a bare run option (``lr``,
    ``momentum``, ``optimizer`` ...) which applies to every run.  VALUE is a TOML
    value (``0.1``, ``true``, ``[1, 2]``, ``"adam"``); a bare word is a string.
    """
    spec = loaded.spec if isinstance(loaded, LoadedScenario) else loaded
    base_dir = loaded.base_dir if isinstance(loaded, LoadedScenario) else None
    data = _drop_none(msgspec.to_builtins(spec))
    for item, key, value in _iter_assignments(assignments):
        if key in _RUN_KEYS and key not in _TOP_KEYS:
            for run in data["runs"]:
                run[key] = value
            continue
        parts = re.findall(r"[^.\[\]]+|\[\d+\]", key)
        if not parts or "".join(p if p.startswith("[") else "." + p for p in parts
                                ).lstrip(".") != key.replace(" ", ""):
            raise ScenarioError([f"--set {item}: bad key '{key}'"])
        node: Any = data
        for j, part in enumerate(parts):
            last = j == len(parts) - 1
            idx: Any = int(part[1:-1]) if part.startswith("[") else part
            try:
                if last:
                    if isinstance(idx, int):
                        node[idx] = value
                    else:
                        if not isinstance(node, dict):
                            raise TypeError
                        node[idx] = value
                else:
                    if isinstance(node, dict) and isinstance(idx, str):
                        node = node.setdefault(idx, {})
                    else:
                        node = node[idx]
            except (LookupError, TypeError):
                raise ScenarioError([f"--set {item}: no such key '{key}'"]) from None
    return validate_data(data, name="--set", base_dir=base_dir)
