"""Load a scenario: read the file, parse the TOML, check it against the rules.

``load_scenario(path)`` returns a :class:`LoadedScenario` or raises
:class:`~descent_tui.scenario.errors.ScenarioError` whose ``problems`` are
one-line messages ``file[:line]: key.path: what is wrong``.  Every failure mode
(missing, huge, binary, non-UTF-8, bad TOML, absurd nesting, unknown keys,
wrong types, bad values, cross-field mistakes, a bad CSV) ends up there: this
module never lets another exception escape.

The jobs live beside it: :mod:`~descent_tui.scenario.read` (bytes to a TOML
tree), :mod:`~descent_tui.scenario.rules` (what a valid scenario obeys),
:mod:`~descent_tui.scenario.errors` (the problem list and its wording) and
:mod:`~descent_tui.scenario.keylines` (the line each key stands on).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from descent_tui.scenario import rules
from descent_tui.scenario import schema as S
from descent_tui.scenario.errors import ScenarioError
from descent_tui.scenario.expr import Expr, parse
from descent_tui.scenario.read import MAX_BYTES, MAX_DEPTH, parse_text, read_file

__all__ = ["MAX_BYTES", "MAX_DEPTH", "LoadedScenario", "load_scenario", "loads_scenario",
           "validate_data"]


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and where it came from."""

    spec: S.Scenario
    path: Path | None
    source: str = "path"  # "shipped" | "user" | "path" | "text"

    @property
    def id(self) -> str:
        """The scenario's slug, e.g. ``the-ravine``."""
        return self.spec.id

    @property
    def base_dir(self) -> Path:
        """Directory that relative paths (CSV data) are resolved against."""
        return self.path.parent if self.path is not None else Path.cwd()

    @property
    def title(self) -> str:
        """The title the app shows."""
        return self.spec.title

    def loss_expr(self) -> Expr:
        """The parsed landscape loss (raises ValueError for network scenarios)."""
        if self.spec.landscape is None:
            raise ValueError(f"scenario {self.spec.id!r} is not a landscape scenario")
        return parse(self.spec.landscape.loss, self.spec.landscape.params)

    def sort_key(self) -> tuple:
        """Catalog order: chapter, then order within it, then id."""
        return (self.spec.chapter, self.spec.order, self.spec.id)

    @property
    def kind(self) -> str:
        """``"landscape"`` or ``"network"``."""
        return self.spec.kind


def validate_data(data: Any, *, name: str = "<scenario>", text: str | None = None,
                  base_dir: Path | None = None) -> S.Scenario:
    """Validate a parsed TOML tree; return the Scenario or raise ScenarioError.

    ``text``, when given, is the document the tree came from: problems then carry
    the line of their key.
    """
    try:
        spec, problems = rules.check(data, base_dir)
    except RecursionError:
        raise ScenarioError([f"{name}: document nested too deeply"], name) from None
    except Exception as e:
        raise ScenarioError([f"{name}: internal error while checking: {type(e).__name__}: {e}"],
                            name) from None
    if spec is None:
        raise ScenarioError(problems.format(name, text), name)
    return spec


def loads_scenario(text: str | bytes, *, name: str = "<string>", base_dir: Path | None = None,
                   path: Path | None = None, source: str = "text") -> LoadedScenario:
    """Validate scenario TOML text; ``name`` prefixes the problem lines."""
    try:
        text, data = parse_text(text, name)
        spec = validate_data(data, name=name, text=text, base_dir=base_dir)
        return LoadedScenario(spec=spec, path=path, source=source)
    except ScenarioError:
        raise
    except Exception as e:
        raise ScenarioError([f"{name}: internal error: {type(e).__name__}: {e}"], name) from None


def load_scenario(path: str | Path, source: str = "path") -> LoadedScenario:
    """Read, parse and validate one scenario file."""
    name = str(path)
    try:
        p = Path(path)
        raw = read_file(p, name)
        return loads_scenario(raw, name=name, base_dir=p.resolve().parent, path=p,
                              source=source)
    except ScenarioError:
        raise
    except OSError as e:
        raise ScenarioError([f"{name}: cannot read: {e.strerror or e}"], name) from None
    except Exception as e:
        raise ScenarioError([f"{name}: internal error: {type(e).__name__}: {e}"], name) from None
