"""descent_tui.data is a bottom floor: NumPy and the standard library only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from descent_tui.data.csv_table import MissingColumn, read_csv_table

ROOT = Path(__file__).resolve().parents[1]


def test_importing_data_pulls_in_no_other_part_of_descent():
    code = ("import sys, descent_tui.data.datasets, descent_tui.data.csv_table; "
            "print(sorted(m for m in sys.modules if m.startswith('descent_tui.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    assert all(m.startswith("descent_tui.data") for m in ast.literal_eval(out)), out


def test_read_csv_table_reads_the_named_columns_in_order(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("y,b,a\n0,2,1\n\n1,4,3\n")
    assert read_csv_table(p, ["a", "b"], "y") == ([[1.0, 2.0], [3.0, 4.0]], [0.0, 1.0])


def test_a_missing_column_names_the_header(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(MissingColumn) as e:
        read_csv_table(p, ["a"], "y")
    assert (e.value.column, e.value.header) == ("y", ["a", "b"])
    assert str(e.value) == "t.csv: no column 'y'; columns: a, b"
