"""Read the columns of a CSV file as floats, with one-line errors.

``read_csv_table(path, features, label)`` returns ``(rows, labels)``: one list
of feature values per data row and the label column.  Every failure is a
``ValueError`` whose message is one line starting with the file name (and the
line number when one row is at fault), e.g. ``data.csv:5: column 'a': not a
number (got 'x')``.  A missing column raises :class:`MissingColumn`, which also
carries the header so a caller can suggest the closest name.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import TextIO

__all__ = ["MAX_CSV_BYTES", "MAX_CSV_ROWS", "MissingColumn", "read_csv_table",
           "resolve_data_path"]

MAX_CSV_BYTES = 20_000_000
MAX_CSV_ROWS = 100_000


class MissingColumn(ValueError):
    """The CSV file ``filename`` has no column ``column``; ``header`` lists those it has."""

    def __init__(self, filename: str, column: str, header: list[str]) -> None:
        self.filename = filename
        self.column = column
        self.header = header
        super().__init__(self.message())

    def message(self, hint: str = "") -> str:
        """The one-line message, with ``hint`` (say `` (did you mean 'x'?)``) after the name."""
        return (f"{self.filename}: no column '{self.column}'{hint};"
                f" columns: {', '.join(self.header)}")


def resolve_data_path(path: str | None, base_dir: Path | None) -> Path:
    """``path`` as written in a scenario, relative to ``base_dir`` (default: the cwd)."""
    p = Path(path or "")
    if not p.is_absolute():
        p = (base_dir or Path.cwd()) / p
    return p


def _quote(text: str, limit: int = 40) -> str:
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


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
    if not path.is_file():
        raise ValueError(f"file not found: {path}")
    if path.stat().st_size > MAX_CSV_BYTES:
        raise ValueError(f"{path.name}: file too large (max {MAX_CSV_BYTES // 1_000_000} MB)")
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows, labels = _read_rows(fh, path.name, features, label)
    except UnicodeDecodeError:
        raise ValueError(f"{path.name}: not UTF-8 text") from None
    except csv.Error as e:
        raise ValueError(f"{path.name}: CSV error: {e}") from None
    except OSError as e:
        raise ValueError(f"{path.name}: cannot read: {e.strerror or e}") from None
    if not rows:
        raise ValueError(f"{path.name}: no data rows")
    return rows, labels
