"""A classroom: one progress file per class and call sign, never shared between students.

Layout on disk, under :func:`descent_tui.progress.data_dir` (``DESCENT_HOME`` wins)::

    classes/<class>/students/<call sign>/progress.json

Each student has a directory of their own, so each has their own lock and their
own atomic writes (:class:`descent_tui.progress.Progress` unchanged): two students
saving at the same moment never touch the same file, and two tabs of one student
merge as two windows always have.

A call sign (and a class name) is a *name*, never a path.  :func:`validate_call_sign`
accepts 1 to :data:`MAX_NAME` letters, digits, ``-``, ``_`` and ``.``, starting with
a letter or digit; it refuses path separators, ``..``, control characters and
spaces, with a one-line reason.  Names are compared case-insensitively: the
directory is the name's NFKC case-fold (``Ada`` and ``ada`` are one student, on
every file system alike).
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import msgspec

from descent_tui.progress import Progress, data_dir
from descent_tui.scenario.catalog import MissionPack
from descent_tui.scenario.loader import LoadedScenario

__all__ = ["DEFAULT_CLASS", "MAX_NAME", "ClassroomError", "class_dir", "classes",
           "load_student", "locked", "mission_pack", "open_class", "student_dir", "students",
           "validate_call_sign", "validate_class_name"]

#: the class ``descent serve`` and ``descent report`` use when none is named
DEFAULT_CLASS = "default"

#: the longest call sign or class name, in characters
MAX_NAME = 32
_PUNCT = "-_."


class ClassroomError(ValueError):
    """A bad call sign, class name or class: the message is one line."""


def _validate(text: str, what: str) -> str:
    """``text`` as a directory-safe name (NFKC case-folded), or ClassroomError saying why."""
    if not isinstance(text, str) or not text.strip():
        raise ClassroomError(f"{what}: empty; use 1 to {MAX_NAME} letters, digits, '-', '_' or '.'")
    shown = ascii(text)[1:-1][:40]
    if any(unicodedata.category(c).startswith("C") for c in text):
        raise ClassroomError(f"{what} '{shown}': control characters are not allowed")
    if "/" in text or "\\" in text:
        raise ClassroomError(f"{what} '{shown}': no '/' or '\\' (a {what} is a name, not a path)")
    if ".." in text:
        raise ClassroomError(f"{what} '{shown}': '..' is not allowed")
    if len(text) > MAX_NAME:
        raise ClassroomError(f"{what} '{shown}...': longer than {MAX_NAME} characters")
    bad = sorted({c for c in text if not (c.isalnum() or c in _PUNCT)})
    if bad:
        listed = " ".join(repr(c) for c in bad[:5])
        raise ClassroomError(f"{what} '{shown}': {listed} not allowed;"
                             " use letters, digits, '-', '_' or '.'")
    if not text[0].isalnum():
        raise ClassroomError(f"{what} '{shown}': must start with a letter or a digit")
    folded = unicodedata.normalize("NFKC", text).casefold()
    if len(folded) > MAX_NAME or any(not (c.isalnum() or c in _PUNCT) for c in folded):
        raise ClassroomError(f"{what} '{shown}': not a plain name once normalised")
    return folded


def validate_call_sign(text: str) -> str:
    """The call sign's directory name (case-folded), or :class:`ClassroomError` (one line)."""
    return _validate(text, "call sign")


def validate_class_name(text: str) -> str:
    """The class's directory name (case-folded), or :class:`ClassroomError` (one line)."""
    return _validate(text, "class")


def class_dir(name: str, root: Path | None = None) -> Path:
    """Where class ``name`` keeps its students (may not exist yet)."""
    base = data_dir() if root is None else Path(root)
    return base / "classes" / validate_class_name(name)


def student_dir(class_name: str, call_sign: str, root: Path | None = None) -> Path:
    """The directory of one student's ``progress.json`` in class ``class_name``."""
    return class_dir(class_name, root) / "students" / validate_call_sign(call_sign)


def open_class(name: str, root: Path | None = None) -> Path:
    """Create class ``name``'s directory (if new) and return it: ``descent serve`` does."""
    where = class_dir(name, root)
    (where / "students").mkdir(parents=True, exist_ok=True)
    return where


def classes(root: Path | None = None) -> list[str]:
    """The names of every class that has a directory."""
    base = (data_dir() if root is None else Path(root)) / "classes"
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if p.is_dir())


def load_student(class_name: str, call_sign: str, root: Path | None = None) -> Progress:
    """One student's progress (empty if new); saving it creates the directories."""
    return Progress.load(student_dir(class_name, call_sign, root))


def students(class_name: str, root: Path | None = None) -> Iterator[tuple[str, Progress]]:
    """Every student of an existing class, by call sign, with their progress.

    :class:`ClassroomError` if the class has never been used (no directory).
    Entries that are not valid call signs (stray files) are skipped.
    """
    where = class_dir(class_name, root)
    if not where.is_dir():
        raise ClassroomError(f"class '{class_name}': no such class (no directory {where})")
    base = where / "students"
    names = sorted(p.name for p in base.iterdir()) if base.is_dir() else []
    for name in names:
        try:
            validate_call_sign(name)
        except ClassroomError:
            continue
        if (base / name).is_dir():
            yield name, Progress.load(base / name)


# ------------------------------------------------------------------ what a class may use


def mission_pack(folder: str | Path) -> MissionPack:
    """The class's catalog: every ``*.toml`` in ``folder``, all of which must load.

    :class:`ClassroomError` (one line) when the folder is missing, holds no mission,
    or one of its files is broken (the first problem, and how many more there are).
    """
    from descent_tui.scenario.catalog import discover

    path = Path(folder).expanduser()
    if not path.is_dir():
        raise ClassroomError(f"--missions {folder}: no such folder")
    pack = MissionPack([path])
    good, broken = discover(pack)
    if broken:
        more = f" (and {len(broken) - 1} more broken file(s))" if len(broken) > 1 else ""
        first = " ".join(broken[0].message.split())
        raise ClassroomError(f"--missions {folder}: broken mission pack: {first}{more}")
    if not good:
        raise ClassroomError(f"--missions {folder}: no mission files (*.toml) in it")
    return pack


def locked(loaded: LoadedScenario) -> LoadedScenario:
    """``loaded`` with its knobs locked (``[knobs] locked = true``): a class's fixed settings."""
    knobs = msgspec.structs.replace(loaded.spec.knobs, locked=True)
    spec = msgspec.structs.replace(loaded.spec, knobs=knobs)
    return dataclasses.replace(loaded, spec=spec)
