"""``descent run``: train a scenario without the app and print what happened.

``run_command(loaded, args)`` is called by :mod:`descent_tui.cli` with ``args.steps``
(None: the scenario's), ``args.every`` (None: about 10 rows per run), ``args.format``
("table" | "csv" | "json") and the ``--set KEY=VALUE`` list (``args.overrides``, or
``args.set``). It returns the exit status: 0, or 2 for a bad ``--set`` (one line
``--set KEY: what is wrong`` on stderr).

Keys of ``--set``: a run setting for every run (``lr=0.1``, ``optimizer=adam``,
``beta1=0.8`` ...), one run's (``runs.SGD.lr=0.05`` or ``runs[0].lr=0.05``), the
scenario's ``steps`` / ``seed`` / ``diverge_above``, or any other dotted path into
the document (``network.data.noise=0.3``, ``landscape.start=[1, 2]``).

The json format is one valid JSON document (NaN / infinities as the strings
"NaN", "Infinity", "-Infinity"); csv and json keep stdout parseable by sending
the progress bar and the divergence summary to stderr.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
import time
from typing import Any, TextIO

from descent_tui.scenario.overrides import OverrideError, apply, parse_assignment

__all__ = ["COLUMNS", "json_safe", "run_command"]

#: the per-row metrics printed, in order
COLUMNS = ("loss", "val_loss", "accuracy", "lr", "grad_norm")
#: show a progress bar (on a TTY) when the run does more run-steps than this
PROGRESS_MIN_WORK = 20_000


def json_safe(value: Any) -> Any:
    """Replace non-finite floats by strings so ``json.dumps(allow_nan=False)`` works."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        if math.isnan(value):
            return "NaN"
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalar
        try:
            return json_safe(value.item())
        except (TypeError, ValueError):
            return str(value)
    return value


def _num(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:.6g}"
    return str(v)


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


class _Progress:
    """A one-line progress bar on stderr (only when stderr is a terminal)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total = max(1, total)
        self.enabled = enabled
        self.shown = False
        self.t0 = time.perf_counter()
        self.last_draw = 0.0

    def draw(self, done: int, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self.last_draw < 0.1:
            return
        self.last_draw = now
        frac = min(1.0, done / self.total)
        width = 30
        fill = int(frac * width)
        bar = "#" * fill + "-" * (width - fill)
        sys.stderr.write(f"\r[{bar}] {done}/{self.total} steps {now - self.t0:5.1f}s")
        sys.stderr.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self.shown = False


def _row(step: int, rs: Any) -> dict[str, Any]:
    last = rs.last
    row: dict[str, Any] = {"step": step, "run": rs.label}
    for c in COLUMNS:
        row[c] = last.get(c)
    return row


def run_command(loaded: Any, args: Any) -> int:
    """Run ``loaded`` headless as ``descent run`` asks; return the exit status."""
    from descent_tui.sim.runner import Simulation

    fmt = getattr(args, "format", None) or "table"
    items = list(getattr(args, "overrides", None) or getattr(args, "set", None) or [])
    steps = getattr(args, "steps", None)
    try:
        changes = [parse_assignment(item) for item in items]
        if steps is not None:
            changes.append(("steps", int(steps)))
        loaded = apply(loaded, changes)
    except OverrideError as e:
        for key, message in e.items:
            flag = "--steps" if key == "steps" and steps is not None else f"--set {key}"
            _err(f"{flag}: {message}")
        return 2
    try:
        sim = Simulation(loaded)
    except ValueError as e:
        _err(f"--set: {e}")
        return 2

    total = sim.total_steps
    every = getattr(args, "every", None) or max(1, total // 10)
    out = sys.stdout
    progress = _Progress(total, enabled=sys.stderr.isatty()
                         and total * len(sim.runs) >= PROGRESS_MIN_WORK)
    rows: list[dict[str, Any]] = []
    table = _Table(sim, out) if fmt == "table" else None
    writer = None
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["step", "run", *COLUMNS])
    if table is not None:
        table.header()
    reported: set[int] = set()  # runs whose divergence row was emitted

    def emit(batch: list[dict[str, Any]]) -> None:
        if not batch:
            return
        progress.clear()
        if fmt == "json":
            rows.extend(batch)
        elif writer is not None:
            for r in batch:
                writer.writerow([r["step"], r["run"], *(_csv_num(r[c]) for c in COLUMNS)])
        else:
            for r in batch:
                table.row(r)
        out.flush()

    # step 0: the starting point
    emit([_row(0, rs) for rs in sim.runs])
    chunk = every if not progress.enabled else max(1, min(every, 200))
    while not sim.done and sim.step_count < total:
        target = min(total, sim.step_count + chunk)
        sim.step(target - sim.step_count)
        batch = []
        at_print = sim.step_count % every == 0 or sim.step_count >= total
        for rs in sim.runs:
            if rs.diverged:
                if rs.index not in reported:
                    reported.add(rs.index)
                    batch.append(_row(rs.diverged_at, rs))
            elif at_print:
                batch.append(_row(sim.step_count, rs))
        batch.sort(key=lambda r: r["step"])
        emit(batch)
        progress.draw(sim.step_count)
    progress.clear()

    summary_out: TextIO = sys.stderr if fmt in ("json", "csv") else out
    if fmt == "json":
        doc_out = {
            "scenario": sim.spec.id,
            "title": sim.spec.title,
            "kind": sim.kind,
            "steps": sim.step_count,
            "every": every,
            "runs": [],
        }
        for rs in sim.runs:
            doc_out["runs"].append({
                "label": rs.label,
                "optimizer": rs.config.optimizer,
                "diverged_at": rs.diverged_at,
                "reason": rs.reason,
                "final": {k: rs.last.get(k) for k in ("step", *COLUMNS, "val_accuracy")},
                "min_loss": rs.min_loss if rs.min_loss_step is not None else None,
                "history": [{k: v for k, v in r.items() if k != "run"}
                            for r in rows if r["run"] == rs.label],
            })
        out.write(json.dumps(json_safe(doc_out), allow_nan=False))
        out.write("\n")
        out.flush()
    elif table is not None:
        table.footer()
    diverged = [rs for rs in sim.runs if rs.diverged]
    if diverged:
        print(f"{len(diverged)} of {len(sim.runs)} runs diverged:", file=summary_out)
        for rs in diverged:
            print(f"  {rs.label}: {rs.reason}", file=summary_out)
    return 0


def _csv_num(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else _num(v)
    return str(v)


class _Table:
    """An aligned, streamed text table."""

    def __init__(self, sim: Any, out: TextIO) -> None:
        self.sim = sim
        self.out = out
        self.w_step = max(4, len(str(sim.total_steps)))
        self.w_run = max(3, *(len(rs.label) for rs in sim.runs))
        self.w_num = 12

    def header(self) -> None:
        s = self.sim
        self.out.write(f"{s.spec.id}: {s.spec.title} ({s.kind}, {s.total_steps} steps, "
                       f"{len(s.runs)} runs)\n")
        cols = [f"{'step':>{self.w_step}}", f"{'run':<{self.w_run}}"]
        cols += [f"{c:>{self.w_num}}" for c in COLUMNS]
        line = "  ".join(cols)
        self.out.write(line + "\n" + "-" * len(line) + "\n")

    def row(self, r: dict[str, Any]) -> None:
        cols = [f"{r['step']:>{self.w_step}}", f"{r['run']:<{self.w_run}}"]
        cols += [f"{_num(r[c]):>{self.w_num}}" for c in COLUMNS]
        self.out.write("  ".join(cols) + "\n")

    def footer(self) -> None:
        buf = io.StringIO()
        buf.write("\nfinal:\n")
        for rs in self.sim.runs:
            status = (f"diverged at step {rs.diverged_at}" if rs.diverged
                      else f"{rs.step} steps")
            best = _num(rs.min_loss) if rs.min_loss_step is not None else "-"
            buf.write(f"  {rs.label:<{self.w_run}}  loss {_num(rs.last.get('loss')):>12}"
                      f"  best {best:>12}  {status}\n")
        self.out.write(buf.getvalue())
