"""The architecture, enforced: the floors of the layer plan, what the engine may import,
how long a function may grow, and an engine that leaves NumPy's global state alone.

The floors themselves are import-linter contracts in ``pyproject.toml``
(``[tool.importlinter]``); this file runs them, so that the plain test line checks
them too, and adds what a contract cannot say.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "descent_tui"
ENGINE = PACKAGE / "engine"

#: the longest a function in descent_tui/ may be, and Tensor.backward (a plain walk);
#: a function's length runs from its ``def`` line to its last line, docstring included
MAX_FUNCTION_LINES = 60
MAX_BACKWARD_LINES = 30


def _run_python(code: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with this repository first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def _sources(root: Path) -> list[Path]:
    return sorted(root.rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


# ------------------------------------------------------------------ the floors
def test_import_contracts_are_kept():
    """lint-imports: cli > tui > sim, scenario > data > engine; no floor imports one above."""
    done = _run_python("import sys; from importlinter.cli import lint_imports_command; "
                       "sys.exit(lint_imports_command())", "--no-cache", "--no-logo")
    assert done.returncode == 0, f"import contracts broken:\n{done.stdout}{done.stderr}"
    assert "0 broken" in done.stdout


# ------------------------------------------------------------ engine's imports
def imports_outside_engine(source: str, module: str, is_package: bool = False) -> list[str]:
    """``line: name`` for every import in ``source`` (the text of ``module``) that is
    neither the standard library, NumPy, nor descent_tui.engine itself.

    ``from M import n`` is read as importing ``M.n`` (``n`` may be a submodule), and
    relative imports are resolved against ``module`` first, so that
    ``from ...scenario import expr`` is seen as ``descent_tui.scenario.expr``.
    """
    package = module.split(".") if is_package else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names = [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            inside = name == "descent_tui.engine" or name.startswith("descent_tui.engine.")
            if not (inside or top == "numpy" or top in sys.stdlib_module_names):
                found.append((node.lineno, name))
    return [f"{line}: {name}" for line, name in sorted(found)]


def test_engine_imports_only_numpy_and_the_standard_library():
    problems = [f"{path.relative_to(REPO)}:{found}"
                for path in _sources(ENGINE)
                for found in imports_outside_engine(path.read_text(encoding="utf-8"),
                                                    _module_name(path),
                                                    path.name == "__init__.py")]
    assert not problems, "the engine imports more than NumPy and the standard library:\n" + \
        "\n".join(problems)


def test_the_import_scan_refuses_what_it_must():
    """The scan itself: stdlib, NumPy and the engine pass; a relative import climbing
    out of the engine and a third-party package are refused."""
    source = ("from __future__ import annotations\nimport os.path\nimport numpy as np\n"
              "from . import init\nfrom ..tensor import Tensor\n"
              "def f():\n    from ...scenario import expr\n"
              "import textual\n")
    assert imports_outside_engine(source, "descent_tui.engine.nn.probe") == [
        "7: descent_tui.scenario.expr", "8: textual"]
    assert imports_outside_engine("from .. import sim, engine\n", "descent_tui.engine", True) == [
        "1: descent_tui.sim"]
    assert imports_outside_engine("from descent_tui import engine\n", "descent_tui.engine.x") == []


# ------------------------------------------------------------ function lengths
def function_lengths(path: Path):
    """(qualified name, first line, number of lines) of every function in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                yield name, child.lineno, child.end_lineno - child.lineno + 1
                yield from visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                yield from visit(child, f"{prefix}{child.name}.")
            else:
                yield from visit(child, prefix)

    return list(visit(tree, ""))


def test_no_function_in_descent_is_longer_than_60_lines():
    too_long = [f"{path.relative_to(REPO)}:{line} {name} is {n} lines"
                for path in _sources(PACKAGE)
                for name, line, n in function_lengths(path) if n > MAX_FUNCTION_LINES]
    if too_long:
        pytest.fail(f"over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(too_long), pytrace=False)


def test_tensor_backward_is_a_short_walk():
    lengths = {name: n for name, _, n in function_lengths(ENGINE / "tensor.py")}
    assert lengths["Tensor.backward"] <= MAX_BACKWARD_LINES, (
        f"Tensor.backward is {lengths['Tensor.backward']} lines (at most {MAX_BACKWARD_LINES})")


# ------------------------------------------------------- NumPy's global state
def test_importing_the_engine_leaves_numpys_error_state_alone():
    """A learner's own NumPy warnings must survive ``import descent_tui.engine``."""
    done = _run_python("import numpy as np\n"
                       "before = np.geterr()\n"
                       "import descent_tui.engine\n"
                       "print(before == np.geterr(), before, np.geterr())\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("True"), f"np.geterr() before, after: {done.stdout}"


def test_the_readme_lists_every_shipped_mission():
    """The README's mission table: a mission added without a row goes unseen."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    missing = [p.stem for p in sorted((root / "scenarios").glob("*.toml"))
               if f"| `{p.stem}` |" not in readme]
    assert not missing, f"README.md's mission table lacks: {', '.join(missing)}"
