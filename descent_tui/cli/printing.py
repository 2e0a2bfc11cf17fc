"""How ``descent run`` prints: an aligned table, CSV or one JSON document, and a progress bar.

Each report takes the simulation's rows (one :func:`row` per run and printed
step) as they come and writes them to ``out``:

* :class:`TableReport` -- a header, one aligned line per row, a ``final:`` block;
* :class:`CsvReport` -- a ``step,run,<COLUMNS>`` header and one line per row
  (floats as ``repr``, a missing value empty);
* :class:`JsonReport` -- nothing until the end, then one valid JSON document
  (NaN / infinities as the strings "NaN", "Infinity", "-Infinity"); the rows
  wait in a temporary file, not in memory, so a million steps cost no more
  memory than ten.

The progress bar (:class:`Progress`) draws on stderr only, so stdout stays
parseable.  Every text a scenario supplies (title, run labels) is printed
through :func:`~descent_tui.scenario.text.safe_text`, every message through
:func:`one_line`: nothing a file says can reach the terminal as a control
sequence.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import sys
import tempfile
import time
from typing import Any, TextIO

from descent_tui.scenario.text import clip, safe_text
from descent_tui.sim.cost import costs

__all__ = ["COLUMNS", "REPORTS", "CsvReport", "JsonReport", "Progress", "TableReport",
           "fmt_cell", "json_safe", "one_line", "row", "safe_text"]

#: the per-row metrics printed, in order (fields of the run's StepRecord: row ``k`` is the
#: state after ``k`` updates; docs/cli.md says what each one means)
COLUMNS = ("loss", "val_loss", "accuracy", "lr", "grad_norm")


def one_line(message: str) -> str:
    """A message as one short printable line (control characters escaped, clipped)."""
    return clip(safe_text(message.rstrip("\n")))


def row(step: int, run: Any) -> dict[str, Any]:
    """One printed row: ``step``, the run's label and its latest record's COLUMNS."""
    last = run.last
    out: dict[str, Any] = {"step": step, "run": run.label}
    for c in COLUMNS:
        out[c] = getattr(last, c)
    return out


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


def fmt_cell(v: Any) -> str:
    """A table cell: 6 significant digits, ``-`` for a missing value."""
    if v is None:
        return "-"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:.6g}"
    return str(v)


def _csv_num(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else fmt_cell(v)
    return str(v)


class Progress:
    """A one-line progress bar on stderr (only when ``enabled``: stderr is a terminal)."""

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


class TableReport:
    """An aligned, streamed text table; the divergence summary follows it on stdout."""

    summary_to_stderr = False

    def __init__(self, sim: Any, out: TextIO) -> None:
        self.sim = sim
        self.out = out
        self.w_step = max(4, len(str(sim.total_steps)))
        self.w_run = max(3, *(len(safe_text(rs.label)) for rs in sim.runs))
        self.w_num = 12

    def header(self) -> None:
        s = self.sim
        self.out.write(f"{s.spec.id}: {safe_text(s.spec.title)} ({s.kind}, {s.total_steps} steps, "
                       f"{len(s.runs)} runs)\n")
        cols = [f"{'step':>{self.w_step}}", f"{'run':<{self.w_run}}"]
        cols += [f"{c:>{self.w_num}}" for c in COLUMNS]
        line = "  ".join(cols)
        self.out.write(line + "\n" + "-" * len(line) + "\n")

    def rows(self, batch: list[dict[str, Any]]) -> None:
        for r in batch:
            cols = [f"{r['step']:>{self.w_step}}", f"{safe_text(r['run']):<{self.w_run}}"]
            cols += [f"{fmt_cell(r[c]):>{self.w_num}}" for c in COLUMNS]
            self.out.write("  ".join(cols) + "\n")

    def finish(self, every: int) -> None:
        buf = io.StringIO()
        buf.write("\nfinal:\n")
        for rs in self.sim.runs:
            status = (f"diverged at step {rs.diverged_at}" if rs.diverged
                      else f"{rs.step} steps")
            best = fmt_cell(rs.min_loss) if rs.min_loss_step is not None else "-"
            buf.write(f"  {safe_text(rs.label):<{self.w_run}}  loss {fmt_cell(rs.last.loss):>12}"
                      f"  best {best:>12}  {status}\n")
        self.out.write(buf.getvalue())


class CsvReport:
    """``step,run,<COLUMNS>`` lines, streamed; the divergence summary goes to stderr."""

    summary_to_stderr = True

    def __init__(self, sim: Any, out: TextIO) -> None:
        self.writer = csv.writer(out, lineterminator="\n")

    def header(self) -> None:
        self.writer.writerow(["step", "run", *COLUMNS])

    def rows(self, batch: list[dict[str, Any]]) -> None:
        for r in batch:
            self.writer.writerow([r["step"], safe_text(r["run"]),
                                  *(_csv_num(r[c]) for c in COLUMNS)])

    def finish(self, every: int) -> None:
        pass


class JsonReport:
    """One JSON document at the end: the runs, their final records and printed rows.

    The document is what ``json.dumps`` would write for the whole of it, but
    each run's ``history`` is written, row by row as it comes, to a temporary
    file (in memory while small) and copied into the document at the end.
    """

    summary_to_stderr = True

    def __init__(self, sim: Any, out: TextIO) -> None:
        self.sim = sim
        self.out = out
        self.spools: dict[str, Any] = {}

    def header(self) -> None:
        pass

    def rows(self, batch: list[dict[str, Any]]) -> None:
        for r in batch:
            spool = self.spools.get(r["run"])
            if spool is None:
                spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (closed in finish)
                    max_size=1 << 18, mode="w+",
                    encoding="utf-8")
                self.spools[r["run"]] = spool
            else:
                spool.write(", ")
            entry = {k: v for k, v in r.items() if k != "run"}
            spool.write(json.dumps(json_safe(entry), allow_nan=False))

    def finish(self, every: int) -> None:
        sim = self.sim
        doc = {"scenario": sim.spec.id, "title": sim.spec.title, "kind": sim.kind,
               "steps": sim.step_count, "every": every}
        self.out.write(_open_tail(doc) + ', "runs": [')
        bills = {c.label: c.as_dict() for c in costs(sim)}
        for i, rs in enumerate(sim.runs):
            run = {
                "label": rs.label,
                "optimizer": rs.config.optimizer,
                "diverged_at": rs.diverged_at,
                "reason": rs.reason,
                "final": {k: getattr(rs.last, k) for k in ("step", *COLUMNS, "val_accuracy")},
                "min_loss": rs.min_loss if rs.min_loss_step is not None else None,
            }
            if rs.label in bills:  # only scenarios with a [cost] table
                run["cost"] = bills[rs.label]
            self.out.write((", " if i else "") + _open_tail(run) + ', "history": [')
            spool = self.spools.pop(rs.label, None)
            if spool is not None:
                spool.seek(0)
                shutil.copyfileobj(spool, self.out)
                spool.close()
            self.out.write("]}")
        self.out.write("]}\n")
        self.out.flush()


def _open_tail(table: dict[str, Any]) -> str:
    """``json.dumps(table)`` without its closing brace, for more keys to follow."""
    return json.dumps(json_safe(table), allow_nan=False)[:-1]


#: the report class of each ``--format``
REPORTS = {"table": TableReport, "csv": CsvReport, "json": JsonReport}
