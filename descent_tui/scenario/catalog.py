"""Finding scenario files: the shipped set, the user's directory, explicit paths.

* shipped: ``descent_tui/_scenarios`` (inside a wheel) or the repository's
  top-level ``scenarios/`` directory (in a checkout)
* user: ``$DESCENT_HOME/scenarios`` if ``DESCENT_HOME`` is set, else
  ``platformdirs.user_data_dir("descent")/scenarios``
* explicit paths: files or directories given by the caller
* or a :class:`MissionPack` in place of the explicit paths: then its folder is the
  whole catalog (a class limited to a pack sees neither shipped nor user missions)

A broken file never hides the others: :func:`discover` returns it as a
:class:`BrokenScenario` next to the good ones.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from descent_tui.scenario.errors import ScenarioError, did_you_mean
from descent_tui.scenario.loader import LoadedScenario, load_scenario

__all__ = [
    "BrokenScenario",
    "MissionPack",
    "discover",
    "find",
    "shipped_dir",
    "user_dir",
]

MAX_FILES_PER_DIR = 500


@dataclass(frozen=True)
class BrokenScenario:
    """A scenario file that did not load, with its problems."""

    path: Path
    source: str
    problems: tuple[str, ...]

    @property
    def message(self) -> str:
        return self.problems[0] if self.problems else "unknown problem"


class MissionPack(list[Path]):
    """A folder of mission files that is the *whole* catalog, passed where extra paths go.

    ``discover(MissionPack([folder]))`` lists the folder's missions only.
    """

    exclusive = True


def shipped_dir() -> Path | None:
    """Directory of the scenarios that ship with descent (None if there is none)."""
    pkg = Path(__file__).resolve().parents[1] / "_scenarios"
    if pkg.is_dir():
        return pkg
    repo = Path(__file__).resolve().parents[2] / "scenarios"
    if repo.is_dir():
        return repo
    return None


def user_dir() -> Path:
    """Directory for the user's own scenarios (may not exist)."""
    home = os.environ.get("DESCENT_HOME")
    if home:
        return Path(home).expanduser() / "scenarios"
    import platformdirs

    return Path(platformdirs.user_data_dir("descent")) / "scenarios"


def _files(directory: Path) -> list[Path]:
    try:
        files = sorted(p for p in directory.glob("*.toml") if p.is_file())
    except OSError:
        return []
    return files[:MAX_FILES_PER_DIR]


def _sources(extra_paths: Iterable[str | Path]) -> list[tuple[Path, str]]:
    out: list[tuple[Path, str]] = []
    shipped = shipped_dir()
    if shipped is not None and not isinstance(extra_paths, MissionPack):
        out.extend((p, "shipped") for p in _files(shipped))
    user = user_dir()
    if user.is_dir() and not isinstance(extra_paths, MissionPack):
        out.extend((p, "user") for p in _files(user))
    for extra in extra_paths:
        p = Path(extra).expanduser()
        if p.is_dir():
            out.extend((f, "path") for f in _files(p))
        else:
            out.append((p, "path"))
    return out


def discover(extra_paths: Iterable[str | Path] = ()
             ) -> tuple[list[LoadedScenario], list[BrokenScenario]]:
    """Load every scenario; return (good ones sorted by chapter/order/id, broken ones).

    When two files share an id the first one wins (shipped, then user, then
    explicit paths) and the later one is reported as broken.
    """
    good: list[LoadedScenario] = []
    broken: list[BrokenScenario] = []
    by_id: dict[str, LoadedScenario] = {}
    seen: set[Path] = set()
    for path, source in _sources(extra_paths):
        try:
            key = path.resolve()
        except OSError:
            key = path
        if key in seen:
            continue
        seen.add(key)
        try:
            loaded = load_scenario(path, source=source)
        except ScenarioError as e:
            broken.append(BrokenScenario(path, source, tuple(e.problems)))
            continue
        except Exception as e:
            broken.append(BrokenScenario(path, source, (f"{path}: {type(e).__name__}: {e}",)))
            continue
        other = by_id.get(loaded.id)
        if other is not None:
            broken.append(BrokenScenario(path, source, (
                f"{path}: id '{loaded.id}' is already used by {other.path}",)))
            continue
        by_id[loaded.id] = loaded
        good.append(loaded)
    good.sort(key=LoadedScenario.sort_key)
    return good, broken


def _looks_like_path(text: str) -> bool:
    """A path says so (``./x``, ``dir/x``, ``/x``, ``x.toml``); anything else is an id,
    even when a file of that name stands in the working directory."""
    return text.endswith(".toml") or "/" in text or os.sep in text


def find(id_or_path: str | Path, extra_paths: Iterable[str | Path] = ()) -> LoadedScenario:
    """One scenario by id (searching :func:`discover`) or by file path.

    Raises ScenarioError if the file is bad or no scenario has that id.
    """
    text = str(id_or_path)
    if isinstance(id_or_path, Path) or _looks_like_path(text):
        return load_scenario(Path(text))
    if not isinstance(extra_paths, MissionPack):
        extra_paths = list(extra_paths)
    good, broken = discover(extra_paths)
    for loaded in good:
        if loaded.id == text:
            return loaded
    for b in broken:
        if b.path.stem == text:
            raise ScenarioError(list(b.problems), str(b.path))
    hint = did_you_mean(text, [g.id for g in good])
    raise ScenarioError([(f"{text}: no scenario with this id{hint}"
                         " (try 'descent list', or give a file path)")])
