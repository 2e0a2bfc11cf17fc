"""Player progress: mission status and quiz scores, kept in a small JSON file.

The file lives in ``platformdirs.user_data_dir("descent")`` (the environment
variable ``DESCENT_HOME`` overrides the directory; tests use it).

Contract:

* **Nothing is lost when two windows save.**  :meth:`Progress.save` takes an
  exclusive lock (``fcntl.flock`` on ``progress.json.lock`` beside the file),
  reads what is on disk, *merges* it with what this window holds, writes the
  result and keeps it.  The merge is per mission: the union of missions, the
  furthest status (new < in_progress < done), the most steps, the best quiz
  score, and the latest quiz attempt (``quiz`` + ``answers``, by ``quiz_at``).
  Saving is therefore order-independent: whoever writes last keeps everyone's work.
* **A replay never lowers a score**: :meth:`Progress.record_quiz` keeps the best
  attempt beside the latest, and the board shows the best.  The answers of the
  latest attempt (also saved as they are given, before the run ends) are
  restored when the mission is reopened, if the quiz they answered is still the
  same (``quiz_sig``, an opaque signature the quiz panel computes).
* **Writes are atomic**: a temp file ``.progress-*.tmp`` in the same directory,
  fsync, then :func:`os.replace`.  Temp files orphaned by a killed save are
  removed at the next load (under the lock, so no save is in flight).
* **Reading never blocks or crashes**: only a regular file is read, opened
  non-blocking (a FIFO in its place does not hang), at most :data:`MAX_BYTES`.
  Every record is validated with typed msgspec structs (``true`` is not a
  number).  A file that cannot be read as progress (not JSON, too deep, too big,
  not a regular file, wrong types) is moved aside to
  ``progress.json.corrupt-<timestamp>`` and :attr:`Progress.notice` says so;
  the records that *were* valid are kept.

Format (version 2; a version 1 file loads as it is, its only quiz score
becoming the best as well -- see :func:`migrate_record`)::

    {"version": 2,
     "missions": {"<id>": {"status": "new" | "in_progress" | "done",
                           "steps": 120,
                           "quiz": {"correct": 3, "total": 4},      # the latest attempt
                           "best": {"correct": 4, "total": 4},      # the best attempt
                           "quiz_at": 1718000000.5,                  # when the latest was taken
                           "answers": {"concept.0": 1, "prediction.0": 2},
                           "quiz_sig": "3f2a9c01d4e5",              # the quiz those answer
                           "predictions": {"correct": 1, "total": 2}, # of the latest attempt
                           "started_at": 1718000000.0,               # first opened
                           "finished_at": 1718000300.0,              # first run to the end
                           "seconds": 240.5}}}                       # time spent on it

Time spent is what one window accounted (:meth:`Progress.add_seconds`, the app's
mission clock); two windows of one player merge to the larger figure, so time is
never counted twice.  The first start and the first finish are kept.
"""

from __future__ import annotations

import contextlib
import math
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

try:  # POSIX; elsewhere saves are atomic but not merged under a lock
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["FILENAME", "LOCKNAME", "MAX_BYTES", "Progress", "data_dir", "load_progress",
           "merge_missions"]

FILENAME = "progress.json"
LOCKNAME = FILENAME + ".lock"
VERSION = 2
STATUSES = ("new", "in_progress", "done")
#: a progress file larger than this is not progress (200 missions take ~40 KB)
MAX_BYTES = 4 * 1024 * 1024
#: how long a save waits for another window's save to finish
LOCK_TIMEOUT = 10.0
#: a temp file older than this is an orphan even when the lock cannot be taken
ORPHAN_AGE = 3600.0

NonNegative = Annotated[int, msgspec.Meta(ge=0)]


class QuizScore(msgspec.Struct, forbid_unknown_fields=True):
    """One quiz attempt: ``correct`` of ``total`` (whole numbers, 0 <= correct <= total)."""

    correct: NonNegative
    total: NonNegative

    def __post_init__(self) -> None:
        if self.correct > self.total:
            raise ValueError(f"correct ({self.correct}) > total ({self.total})")


class MissionRecord(msgspec.Struct, omit_defaults=True):
    """One mission's record, as the file holds it (unknown fields are ignored)."""

    status: Literal["new", "in_progress", "done"] = "new"
    steps: NonNegative = 0
    quiz: QuizScore | None = None
    best: QuizScore | None = None
    quiz_at: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    answers: dict[str, int] = {}
    quiz_sig: str = ""
    predictions: QuizScore | None = None
    started_at: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    finished_at: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    seconds: Annotated[float, msgspec.Meta(ge=0)] = 0.0

    def __post_init__(self) -> None:
        for name in ("quiz_at", "started_at", "finished_at", "seconds"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be finite")


class _FileHead(msgspec.Struct):
    """The top level: each mission is kept raw and validated on its own."""

    missions: dict[str, msgspec.Raw] = {}


class NotProgress(Exception):
    """The file on disk cannot be read as progress (the message says why)."""


def data_dir() -> Path:
    """The directory holding progress.json (``DESCENT_HOME`` wins)."""
    env = os.environ.get("DESCENT_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("descent", appauthor=False))


# ------------------------------------------------------------------ reading


def _read_regular(path: Path, limit: int = MAX_BYTES) -> bytes | None:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    None if there is no file.  Opened with ``O_NONBLOCK`` so that a FIFO or a
    device in its place never blocks; :class:`NotProgress` for anything but a
    regular file or a file over the limit; OSError for the disk's refusals.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotProgress("not a regular file")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise NotProgress(f"larger than {limit} bytes")
    return data


def parse_missions(raw: bytes) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Valid mission records of a progress file and a list of what was wrong.

    :class:`NotProgress` when the file as a whole is not a progress object;
    otherwise each mission is validated separately, so one bad record does not
    take the others with it (it is listed in the second value).
    """
    try:
        head = msgspec.json.decode(raw, type=_FileHead)
    except (msgspec.DecodeError, RecursionError) as e:
        reason = "nested too deeply" if isinstance(e, RecursionError) else str(e)
        raise NotProgress(reason) from None
    missions: dict[str, dict[str, Any]] = {}
    bad: list[str] = []
    for mid, rec_raw in head.missions.items():
        try:
            rec = msgspec.json.decode(rec_raw, type=MissionRecord)
        except (msgspec.DecodeError, RecursionError) as e:
            bad.append(f"{mid}: {e if not isinstance(e, RecursionError) else 'too deep'}")
            continue
        missions[mid] = migrate_record(msgspec.to_builtins(rec))
    return missions, bad


def migrate_record(rec: dict[str, Any]) -> dict[str, Any]:
    """A record of any earlier version in today's shape.

    Version 1 files written before ``best`` existed hold one ``quiz`` score: it is
    the best so far as well.  (Records without ``quiz_sig`` keep their answers;
    the quiz panel checks each restored index against the question's choices.)
    """
    if rec.get("quiz") and not rec.get("best"):
        rec["best"] = dict(rec["quiz"])
    return rec


# ------------------------------------------------------------------ merging


def _rate(score: dict[str, int] | None) -> tuple[float, int]:
    """Order of quiz scores: the larger fraction right, then more right answers."""
    if not score:
        return (-1.0, -1)
    total = score["total"]
    return (score["correct"] / total if total else 0.0, score["correct"])


def _merge_record(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """One mission seen by two windows: the furthest status, most steps, best and latest quiz."""
    out: dict[str, Any] = {"status": max(a.get("status", "new"), b.get("status", "new"),
                                         key=STATUSES.index)}
    steps = max(a.get("steps", 0), b.get("steps", 0))
    if steps:
        out["steps"] = steps
    best = max(a.get("best"), a.get("quiz"), b.get("best"), b.get("quiz"), key=_rate)
    if best:
        out["best"] = dict(best)
    latest = max(a, b, key=lambda r: (r.get("quiz_at", 0.0), "quiz" in r))
    for key in ("quiz", "quiz_at", "answers", "quiz_sig", "predictions"):
        if key in latest:
            out[key] = latest[key]
    for key in ("started_at", "finished_at"):  # the first one, where either has it
        stamps = [r[key] for r in (a, b) if r.get(key)]
        if stamps:
            out[key] = min(stamps)
    seconds = max(a.get("seconds", 0.0), b.get("seconds", 0.0))
    if seconds:
        out["seconds"] = seconds
    return out


def merge_missions(ours: dict[str, dict[str, Any]], theirs: dict[str, dict[str, Any]]
                   ) -> dict[str, dict[str, Any]]:
    """The union of two windows' missions, each merged by :func:`_merge_record`."""
    merged = {mid: dict(rec) for mid, rec in theirs.items()}
    for mid, rec in ours.items():
        merged[mid] = _merge_record(rec, merged[mid]) if mid in merged else dict(rec)
    return merged


# ------------------------------------------------------------------ the lock


@contextlib.contextmanager
def _locked(directory: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[bool | None]:
    """Hold the exclusive progress lock for the ``with`` block.

    Yields True when held, False when another process kept it for ``timeout``
    seconds, None when there can be no lock (no ``fcntl``, or a read-only
    directory where the lock file cannot be created: nothing can be written there).
    """
    try:
        fd = -1 if fcntl is None else os.open(
            directory / LOCKNAME, os.O_RDWR | os.O_CREAT | getattr(os, "O_NONBLOCK", 0), 0o644)
    except OSError:
        fd = -1
    if fd < 0:
        yield None
        return
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    yield False
                    return
                time.sleep(0.01)
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _remove_orphans(directory: Path, held: bool) -> None:
    """Delete temp files left by killed saves: all of them under the lock, else only old ones."""
    now = time.time()
    for tmp in directory.glob(".progress-*.tmp"):
        with contextlib.suppress(OSError):
            if held or now - tmp.lstat().st_mtime > ORPHAN_AGE:
                tmp.unlink()


# ------------------------------------------------------------------ the store


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
        prog = cls(path=directory / FILENAME)
        if not directory.is_dir():
            return prog
        try:
            with _locked(directory, timeout=1.0) as held:
                _remove_orphans(directory, held is True)
                prog.missions = prog._read_disk()
        except OSError as e:
            prog.notice = f"Could not read progress file {prog.path}: {e.strerror or e}"
        return prog

    def _read_disk(self) -> dict[str, dict[str, Any]]:
        """The valid records on disk; a bad file (or bad records) is moved aside with a notice."""
        try:
            raw = _read_regular(self.path)
            if raw is None:
                return {}
            missions, bad = parse_missions(raw)
        except NotProgress as e:
            self.notice = self._move_aside(str(e))
            return {}
        if bad:
            shown = "; ".join(bad[:3]) + (f"; … and {len(bad) - 3} more" if len(bad) > 3 else "")
            self.notice = self._move_aside(f"{len(bad)} bad record(s): {shown}", kept=missions)
            with contextlib.suppress(OSError):
                self._write(missions)  # the valid rest stays in place
        return missions

    def _move_aside(self, why: str, kept: dict[str, Any] | None = None) -> str:
        why = why if len(why) <= 300 else why[:300] + "…"
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
        rest = (f"; the {len(kept)} valid mission record(s) were kept" if kept
                else "; starting with fresh progress")
        return f"Progress file was corrupt ({why}). It was moved to {target.name}{rest}."

    # ------------------------------------------------------------------ saving
    def to_json(self) -> dict[str, Any]:
        return {"version": VERSION, "missions": self.missions}

    def save(self) -> bool:
        """Merge with the file on disk and write atomically, under the lock.

        Returns False (and sets :attr:`notice`) if the disk refuses or another
        window holds the lock for longer than :data:`LOCK_TIMEOUT`.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with _locked(self.path.parent) as held:
                if held is False:
                    self.notice = f"Could not save progress: {self.path} is locked by another save"
                    return False
                merged = merge_missions(self.missions, self._read_disk())
                self._write(merged)
                self.missions = merged
        except OSError as e:
            self.notice = f"Could not save progress to {self.path}: {e.strerror or e}"
            return False
        return True

    def _write(self, missions: dict[str, dict[str, Any]]) -> None:
        """Temp file in the same directory, fsync, then os.replace (atomic)."""
        fd, tmp = tempfile.mkstemp(prefix=".progress-", suffix=".tmp", dir=str(self.path.parent))
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(msgspec.json.format(
                    msgspec.json.encode({"version": VERSION, "missions": missions},
                                        order="sorted"), indent=2))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    # ------------------------------------------------------------------ queries
    def mission(self, mission_id: str) -> dict[str, Any]:
        return self.missions.setdefault(mission_id, {"status": "new"})

    def status(self, mission_id: str) -> str:
        return self.missions.get(mission_id, {}).get("status", "new")

    def quiz_score(self, mission_id: str) -> tuple[int, int] | None:
        """The latest quiz attempt ``(correct, total)``, or None."""
        quiz = self.missions.get(mission_id, {}).get("quiz")
        if not quiz:
            return None
        return quiz["correct"], quiz["total"]

    def best_score(self, mission_id: str) -> tuple[int, int] | None:
        """The best quiz attempt ``(correct, total)`` over every window, or None."""
        rec = self.missions.get(mission_id, {})
        best = max(rec.get("best"), rec.get("quiz"), key=_rate)
        return None if not best else (best["correct"], best["total"])

    def answers(self, mission_id: str, signature: str = "") -> dict[str, int]:
        """The latest answers given in ``mission_id``'s quiz (``{"prediction.0": 2, ...}``).

        Empty when they answered another quiz than ``signature`` (the mission's quiz
        was edited since); answers saved without a signature (version 1) are returned.
        """
        rec = self.missions.get(mission_id, {})
        saved = rec.get("quiz_sig", "")
        if signature and saved and saved != signature:
            return {}
        return dict(rec.get("answers", {}))

    def status_text(self, mission_id: str) -> str:
        """"new", "in progress", "done" or "quiz 3/4" (the best attempt)."""
        score = self.best_score(mission_id)
        if score is not None:
            return f"quiz {score[0]}/{score[1]}"
        return self.status(mission_id).replace("_", " ")

    # ------------------------------------------------------------------ updates
    def mark_started(self, mission_id: str, steps: int = 0) -> None:
        rec = self.mission(mission_id)
        if rec.get("status", "new") == "new":
            rec["status"] = "in_progress"
        rec["steps"] = max(int(steps), int(rec.get("steps", 0)))
        rec.setdefault("started_at", time.time())

    def mark_done(self, mission_id: str, steps: int) -> None:
        rec = self.mission(mission_id)
        rec["status"] = "done"
        rec["steps"] = max(int(steps), int(rec.get("steps", 0)))
        rec.setdefault("started_at", time.time())
        rec.setdefault("finished_at", time.time())

    def add_seconds(self, mission_id: str, seconds: float) -> None:
        """Count ``seconds`` more spent on ``mission_id`` (negative or non-finite: ignored)."""
        if not (math.isfinite(seconds) and seconds > 0):
            return
        rec = self.mission(mission_id)
        rec["seconds"] = float(rec.get("seconds", 0.0)) + float(seconds)

    def seconds(self, mission_id: str) -> float:
        """Time spent on ``mission_id`` so far, in seconds."""
        return float(self.missions.get(mission_id, {}).get("seconds", 0.0))

    def record_answers(self, mission_id: str, answers: dict[str, int],
                       signature: str = "") -> None:
        """Answers given so far (no score yet): kept so that reopening restores them."""
        rec = self.mission(mission_id)
        if rec.get("status", "new") == "new":
            rec["status"] = "in_progress"
        rec["answers"] = {str(k): int(v) for k, v in answers.items()}
        rec["quiz_sig"] = str(signature)
        rec["quiz_at"] = max(time.time(), rec.get("quiz_at", 0.0))

    def record_quiz(self, mission_id: str, correct: int, total: int,
                    answers: dict[str, int] | None = None, signature: str = "",
                    predictions: tuple[int, int] | None = None) -> None:
        """A graded attempt: the latest score, the best one kept (a replay never lowers it).

        ``predictions``: ``(right, asked)`` of the prediction questions in this attempt."""
        rec = self.mission(mission_id)
        if rec.get("status", "new") == "new":
            rec["status"] = "in_progress"
        score = {"correct": int(correct), "total": int(total)}
        best = max(rec.get("best"), rec.get("quiz"), score, key=_rate)
        rec["quiz"] = score
        rec["best"] = dict(best or score)
        rec["quiz_at"] = max(time.time(), rec.get("quiz_at", 0.0))
        if answers is not None:
            rec["answers"] = {str(k): int(v) for k, v in answers.items()}
            rec["quiz_sig"] = str(signature)
        if predictions is not None:
            rec["predictions"] = {"correct": int(predictions[0]), "total": int(predictions[1])}


def load_progress(directory: Path | None = None) -> Progress:
    return Progress.load(directory)
