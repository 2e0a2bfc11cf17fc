"""Read the columns of a CSV file as floats, with one-line errors.

``read_csv_table(path, features, label)`` returns ``(rows, labels)``: one list
of feature values per data row and the label column.  Every failure is a
``ValueError`` whose message is one line starting with the file name (and the
line number when one row is at fault), e.g. ``data.csv:5: column 'a': not a
number (got 'x')``.  A missing column raises :class:`MissingColumn`, which also
carries the header so a caller can suggest the closest name.

The file is a stranger's choice, so: :func:`resolve_data_path` refuses a path
that leads (through ``..`` or a symlink) outside the scenario's folder and the
folders named in ``$DESCENT_DATA_DIRS``, before anything is read; the file is
read only if it is a regular file within :data:`MAX_CSV_BYTES`
(:func:`~descent_tui.data.files.read_regular`); a message quotes at most a
short ``repr`` of a cell or a column name and lists at most
:data:`MAX_LISTED` columns; a header naming one column twice is refused.
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path
from typing import TextIO

from descent_tui.data.files import Unreadable, inside, read_regular

__all__ = ["DATA_DIRS_ENV", "MAX_CSV_BYTES", "MAX_CSV_COLUMNS", "MAX_CSV_ROWS", "MAX_LISTED",
           "MissingColumn", "read_csv_table", "resolve_data_path"]

MAX_CSV_BYTES = 20_000_000
MAX_CSV_ROWS = 100_000
MAX_CSV_COLUMNS = 10_000
#: the most column names one message lists
MAX_LISTED = 10
#: folders (``os.pathsep``-separated) a scenario's data may come from besides its own
DATA_DIRS_ENV = "DESCENT_DATA_DIRS"


class MissingColumn(ValueError):
    """The CSV file ``filename`` has no column ``column``; ``header`` lists those it has."""

    def __init__(self, filename: str, column: str, header: list[str]) -> None:
        self.filename = filename
        self.column = column
        self.header = header
        super().__init__(self.message())

    def message(self, hint: str = "") -> str:
        """The one-line message, with ``hint`` (say `` (did you mean 'x'?)``) after the name."""
        return (f"{self.filename}: no column {_quote(self.column)}{hint};"
                f" columns: {_listing(self.header)}")


def resolve_data_path(path: str | None, base_dir: Path | None) -> Path:
    """``path`` as written in a scenario, relative to ``base_dir`` (default: the cwd).

    Raises ValueError, without reading anything, when the path leads outside
    ``base_dir`` and the folders of ``$DESCENT_DATA_DIRS``.
    """
    base = base_dir or Path.cwd()
    p = Path(path or "")
    if not p.is_absolute():
        p = base / p
    extra = [Path(d) for d in os.environ.get(DATA_DIRS_ENV, "").split(os.pathsep) if d]
    if not inside(p, [base, *extra]):
        raise ValueError(f"data file {_quote(str(path))} is outside the scenario's folder;"
                         f" put it beside the scenario (or name its folder in {DATA_DIRS_ENV})")
    return p


def _quote(text: str, limit: int = 40) -> str:
    """A short, escaped excerpt: ``repr(text)`` cut to ``limit`` characters."""
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def _listing(names: list[str]) -> str:
    """``a, b, … and 990 more``: at most MAX_LISTED names, each cut short (and
    quoted when it holds an unprintable character)."""
    shown = ", ".join(n[:40] if n.isprintable() else _quote(n) for n in names[:MAX_LISTED])
    more = len(names) - MAX_LISTED
    return f"{shown}, … and {more:,} more" if more > 0 else shown


def _check_header(header: list[str], name: str) -> None:
    """Not too wide; no column named twice (which one would be read?)."""
    if len(header) > MAX_CSV_COLUMNS:
        raise ValueError(f"{name}: too many columns ({len(header):,}, max {MAX_CSV_COLUMNS:,})")
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise ValueError(f"{name}: duplicate column {_quote(column)} in the header")
        seen.add(column)


def _parse_row(row: list[str], columns: list[tuple[int, str]], where: str) -> list[float]:
    """The float value of each ``(index, name)`` column of one row."""
    values = []
    for j, name in columns:
        cell = row[j].strip()
        try:
            v = float(cell)
        except ValueError:
            raise ValueError(f"{where}: column '{name}': not a number (got {_quote(cell)})"
                             ) from None
        if not math.isfinite(v):
            raise ValueError(f"{where}: column '{name}': not a finite number (got {_quote(cell)})")
        values.append(v)
    return values


def _read_rows(fh: TextIO, name: str, features: list[str], label: str
               ) -> tuple[list[list[float]], list[float]]:
    reader = csv.reader(fh)
    header = next(reader, None)
    if header is None:
        raise ValueError(f"{name}: empty CSV file (expected a header row)")
    header = [h.strip() for h in header]
    _check_header(header, name)
    missing = [c for c in [*features, label] if c not in header]
    if missing:
        raise MissingColumn(name, missing[0], header)
    columns = [(header.index(c), c) for c in [*features, label]]
    rows: list[list[float]] = []
    labels: list[float] = []
    for row in reader:
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(rows) >= MAX_CSV_ROWS:
            raise ValueError(f"{name}: too many rows (max {MAX_CSV_ROWS})")
        where = f"{name}:{reader.line_num}"
        if len(row) != len(header):
            raise ValueError(f"{where}: expected {len(header)} columns, got {len(row)}")
        values = _parse_row(row, columns, where)
        rows.append(values[:-1])
        labels.append(values[-1])
    return rows, labels


def read_csv_table(path: Path, features: list[str], label: str
                   ) -> tuple[list[list[float]], list[float]]:
    """Read the ``features`` and ``label`` columns of a CSV file as floats.

    Raises ValueError with a one-line message (``data.csv:5: column 'a': ...``).
    """
    try:
        raw = read_regular(path, MAX_CSV_BYTES)
    except Unreadable as e:
        if e.kind == "missing":
            raise ValueError(f"file not found: {path}") from None
        if e.kind == "large":
            raise ValueError(f"{path.name}: file too large (max {MAX_CSV_BYTES // 1_000_000} MB)"
                             ) from None
        raise ValueError(f"{path.name}: {e.reason}") from None
    try:
        text = raw.decode("utf-8-sig")
        rows, labels = _read_rows(io.StringIO(text, newline=""), path.name, features, label)
    except UnicodeDecodeError:
        raise ValueError(f"{path.name}: not UTF-8 text") from None
    except csv.Error as e:
        raise ValueError(f"{path.name}: CSV error: {_quote(str(e), 80)}") from None
    if not rows:
        raise ValueError(f"{path.name}: no data rows")
    return rows, labels
