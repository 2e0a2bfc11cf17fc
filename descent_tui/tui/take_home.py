"""What a student takes home: their own progress file and the current run's numbers as CSV.

The app hands both to :meth:`textual.app.App.deliver_text`: in a browser
(``descent serve``) they download through the browser; in a terminal they are
saved to the user's downloads folder.  Only the student's *own* progress is in
it (a class keeps one file per call sign).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

__all__ = ["progress_text", "run_csv"]


def progress_text(progress: Any) -> str:
    """The student's progress as the JSON their progress file holds."""
    return json.dumps(progress.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def run_csv(sim: Any) -> str:
    """Every run's kept history as CSV: ``run, step`` then each series (loss, lr, ...).

    One row per run and recorded step; a long run's history is decimated (see
    :class:`descent_tui.sim.history.History`), so the steps are spread over the run.
    """
    names: list[str] = []
    for rs in sim.runs:
        names += [n for n in rs.history.names if n not in names]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["run", "step", *names])
    for rs in sim.runs:
        for row in rs.history.to_rows():
            writer.writerow([rs.label, int(row["step"]),
                             *(repr(row[n]) if n in row else "" for n in names)])
    return buf.getvalue()
