"""Player progress: mission status and quiz scores, kept in a small JSON file.

The file lives in ``platformdirs.user_data_dir("descent")`` (the environment
variable ``DESCENT_HOME`` overrides the directory; tests use it).  Writes are
atomic (temp file in the same directory, then :func:`os.replace`).  A file that
cannot be parsed is moved aside to ``progress.json.corrupt-<timestamp>`` and a
notice is kept in :attr:`Progress.notice` so the interface can tell the player:
never a crash, never silently lost.

Format::

    {"version": 1,
     "missions": {"<id>": {"status": "new" | "in_progress" | "done",
                           "steps": 120,
                           "quiz": {"correct": 3, "total": 4},
                           "answers": {"concept.0": 1, "prediction.0": 2}}}}
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["FILENAME", "Progress", "data_dir", "load_progress"]

FILENAME = "progress.json"
VERSION = 1
STATUSES = ("new", "in_progress", "done")


def data_dir() -> Path:
    """The directory holding progress.json (``DESCENT_HOME`` wins)."""
    env = os.environ.get("DESCENT_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("descent", appauthor=False))


def _clean_mission(raw: Any) -> dict[str, Any]:
    """Keep only well-formed fields of one mission record."""
    out: dict[str, Any] = {"status": "new"}
    if not isinstance(raw, dict):
        return out
    status = raw.get("status")
    if status in STATUSES:
        out["status"] = status
    steps = raw.get("steps")
    if isinstance(steps, int) and not isinstance(steps, bool) and steps >= 0:
        out["steps"] = steps
    quiz = raw.get("quiz")
    if isinstance(quiz, dict):
        c, t = quiz.get("correct"), quiz.get("total")
        if isinstance(c, int) and isinstance(t, int) and 0 <= c <= t:
            out["quiz"] = {"correct": c, "total": t}
    answers = raw.get("answers")
    if isinstance(answers, dict):
        out["answers"] = {str(k): v for k, v in answers.items()
                          if isinstance(v, int) and not isinstance(v, bool)}
    return out


@dataclass
class Progress:
    """In-memory progress plus where it is saved."""

    path: Path
    missions: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: a message for the player (e.g. the file was corrupt and moved aside)
    notice: str | None = None

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, directory: Path | None = None) -> Progress:
        """Read progress; a missing file is empty progress, a corrupt one is moved aside."""
        directory = data_dir() if directory is None else Path(directory)
        path = directory / FILENAME
        prog = cls(path=path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return prog
        except OSError as e:
            prog.notice = f"Could not read progress file {path}: {e.strerror or e}"
            return prog
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("missions", {}), dict):
                raise ValueError("not a progress object")
        except (ValueError, UnicodeDecodeError) as e:
            prog.notice = prog._move_aside(f"{type(e).__name__}: {e}")
            return prog
        for mid, rec in data.get("missions", {}).items():
            prog.missions[str(mid)] = _clean_mission(rec)
        return prog

    def _move_aside(self, why: str) -> str:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
            n += 1
        try:
            os.replace(self.path, target)
        except OSError as e:
            return (f"Progress file {self.path} is corrupt ({why}) and could not be moved"
                    f" aside ({e.strerror or e}); starting fresh, it will be overwritten.")
        return (f"Progress file was corrupt ({why}). It was moved to {target.name};"
                " starting with fresh progress.")

    # ------------------------------------------------------------------ saving
    def to_json(self) -> dict[str, Any]:
        return {"version": VERSION, "missions": self.missions}

    def save(self) -> bool:
        """Write atomically; returns False (and sets notice) if the disk refuses."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".progress-", suffix=".tmp",
                                       dir=str(self.path.parent))
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(self.to_json(), fh, indent=2, sort_keys=True)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError as e:
            self.notice = f"Could not save progress to {self.path}: {e.strerror or e}"
            return False
        return True

    # ------------------------------------------------------------------ queries
    def mission(self, mission_id: str) -> dict[str, Any]:
        return self.missions.setdefault(mission_id, {"status": "new"})

    def status(self, mission_id: str) -> str:
        return self.missions.get(mission_id, {}).get("status", "new")

    def quiz_score(self, mission_id: str) -> tuple[int, int] | None:
        quiz = self.missions.get(mission_id, {}).get("quiz")
        if not quiz:
            return None
        return quiz["correct"], quiz["total"]

    def status_text(self, mission_id: str) -> str:
        """"new", "in progress", "done" or "quiz 3/4"."""
        score = self.quiz_score(mission_id)
        if score is not None:
            return f"quiz {score[0]}/{score[1]}"
        return self.status(mission_id).replace("_", " ")

    # ------------------------------------------------------------------ updates
    def mark_started(self, mission_id: str, steps: int = 0) -> None:
        rec = self.mission(mission_id)
        if rec.get("status", "new") == "new":
            rec["status"] = "in_progress"
        rec["steps"] = max(int(steps), int(rec.get("steps", 0)))

    def mark_done(self, mission_id: str, steps: int) -> None:
        rec = self.mission(mission_id)
        rec["status"] = "done"
        rec["steps"] = max(int(steps), int(rec.get("steps", 0)))

    def record_quiz(self, mission_id: str, correct: int, total: int,
                    answers: dict[str, int] | None = None) -> None:
        rec = self.mission(mission_id)
        if rec.get("status", "new") == "new":
            rec["status"] = "in_progress"
        rec["quiz"] = {"correct": int(correct), "total": int(total)}
        if answers is not None:
            rec["answers"] = dict(answers)


def load_progress(directory: Path | None = None) -> Progress:
    return Progress.load(directory)
