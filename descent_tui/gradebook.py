"""The teacher's gradebook: one row per student and mission, from the class's progress files.

A row (:data:`COLUMNS`) holds the call sign, the mission id, its status (new,
in_progress, done), the best and the latest quiz attempt (``correct`` of
``total``), the prediction questions answered right in the latest graded attempt,
the time spent in the mission (seconds, as the app's mission clock counted it)
and when the student first opened and first finished it (UTC, ISO 8601; empty
when not yet).  Empty cells are ``""`` in CSV and ``null`` in JSON.

The gradebook only reads: each student's file is loaded as the app loads it
(a corrupt one is moved aside, its valid records kept), never written.
"""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any

from descent_tui.classroom import students

__all__ = ["COLUMNS", "class_rows", "to_csv", "to_json"]

COLUMNS = ("call_sign", "mission", "status", "best_correct", "best_total", "last_correct",
           "last_total", "predictions_right", "predictions_total", "seconds", "started_at",
           "finished_at")


def _stamp(seconds: float | None) -> str | None:
    if not seconds:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _score(rec: dict[str, Any], key: str) -> tuple[int | None, int | None]:
    score = rec.get(key)
    return (score["correct"], score["total"]) if score else (None, None)


def mission_row(call_sign: str, mission: str, rec: dict[str, Any]) -> dict[str, Any]:
    """One gradebook row of ``call_sign``'s record for ``mission`` (a progress record)."""
    best = _score(rec, "best") if rec.get("best") else _score(rec, "quiz")
    last = _score(rec, "quiz")
    pred = _score(rec, "predictions")
    return {"call_sign": call_sign, "mission": mission, "status": rec.get("status", "new"),
            "best_correct": best[0], "best_total": best[1],
            "last_correct": last[0], "last_total": last[1],
            "predictions_right": pred[0], "predictions_total": pred[1],
            "seconds": round(float(rec.get("seconds", 0.0)), 1),
            "started_at": _stamp(rec.get("started_at")),
            "finished_at": _stamp(rec.get("finished_at"))}


def class_rows(class_name: str, root: Path | None = None) -> list[dict[str, Any]]:
    """Every row of class ``class_name``: by call sign, then mission id.

    :class:`descent_tui.classroom.ClassroomError` for a bad or unknown class name.
    """
    rows = []
    for call_sign, progress in students(class_name, root):
        for mission in sorted(progress.missions):
            rows.append(mission_row(call_sign, mission, progress.missions[mission]))
    return rows


def to_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV with a header line (empty cells for missing values)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buf.getvalue()


def to_json(rows: list[dict[str, Any]], class_name: str) -> str:
    """The rows as a JSON object ``{"class": ..., "columns": [...], "rows": [...]}``."""
    return json.dumps({"class": class_name, "columns": list(COLUMNS), "rows": rows},
                      indent=2, ensure_ascii=False) + "\n"
