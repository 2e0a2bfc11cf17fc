"""The step charts' drawing (loss plot, lr, accuracy panels), now and at a git revision.

    python benchmarks/charts.py [--against REV] [--cases 400] [--repeat 30]

Draws random charts (1–8 runs of up to 2,000 kept points each, NaN and ±inf among
them, dotted, smoothed and stamped curves, guide marks, notes, sizes from 8×2 to
160×40) with :class:`~descent_tui.tui.widgets.step_chart.StepChart` as it is and
as it was at ``REV`` (its ``step_chart.py`` and ``canvas.py``, loaded beside the
current ones), checks that both draw the same cells (character and style), then
times the two taking turns on the same charts at 160×50's plot sizes: median and
max milliseconds per chart.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CANVAS = "descent_tui/tui/widgets/canvas.py"
CHART = "descent_tui/tui/widgets/step_chart.py"


def _load(name: str, source: str) -> Any:
    path = Path(tempfile.mkdtemp()) / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def load_at(rev: str) -> Any:
    """``step_chart`` as it was at ``rev``, drawing on the canvas of ``rev``."""
    def show(path: str) -> str:
        return subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout

    _load("canvas_then", show(CANVAS))
    return _load("step_chart_then",
                 show(CHART).replace("descent_tui.tui.widgets.canvas", "canvas_then"))


def chart(module: Any, case: dict[str, Any]) -> Any:
    """A StepChart of ``module`` outside an app: its size, theme and background faked."""
    cls = type("Fake", (module.StepChart,), {
        "size": property(lambda self: SimpleNamespace(width=case["w"], height=case["h"])),
        "app": property(lambda self: SimpleNamespace(
            current_theme=SimpleNamespace(dark=case["dark"]))),
        "background_colors": property(lambda self: (None, SimpleNamespace(hex=case["fill"]))),
    })
    c = object.__new__(cls)
    c.curves = [module.Curve(*args, **kw) for args, kw in case["curves"]]
    c.legend = [module.Key(*k) for k in case["legend"]]
    c.total, c.y_range, c.marks, c.note = case["total"], case["y_range"], case["marks"], \
        case["note"]
    c._lines = None
    return c


def random_case(rng: random.Random, w: int | None = None, h: int | None = None
                ) -> dict[str, Any]:
    """A random chart: runs of random walks (some points NaN or ±inf), on random sizes."""
    total = rng.choice([10, 300, 5000, 1_000_000])
    curves, legend = [], []
    for index in range(rng.randrange(1, 9)):
        n = rng.randrange(0, 2000)
        steps = np.sort(np.asarray(rng.sample(range(total + 1), min(n, total + 1)),
                                   dtype=float))
        values = np.cumsum(np.asarray([rng.gauss(0, 0.3) for _ in steps])) + rng.uniform(-1, 3)
        for _ in range(rng.randrange(4)):
            if len(values):
                values[rng.randrange(len(values))] = rng.choice([np.nan, np.inf, -np.inf])
        stamps = tuple(sorted(rng.uniform(0, total) for _ in range(rng.randrange(6))))
        curves.append(((steps, values, index), {
            "dotted": rng.random() < 0.3, "glyph": rng.choice(["", "●", "▲"]),
            "stamps": stamps, "smooth": rng.random() < 0.3}))
        legend.append((rng.choice("━●▲"), f"run {index} " * rng.randrange(1, 5), index,
                       f"{rng.uniform(0, 9):.3g}"))
    lo, span = rng.uniform(-3, 1), rng.choice([0.0, 0.5, 2.0, 6.0])
    return {"w": w or rng.randrange(8, 161), "h": h or rng.randrange(2, 41),
            "dark": rng.random() < 0.7, "fill": rng.choice(["#101826", "#f4f6fb", "#000000"]),
            "curves": curves, "legend": legend, "total": total,
            "y_range": (lo, lo + span),  # the guide marks inside it, as the app's are
            "marks": [lo + rng.uniform(0, span) for _ in range(rng.randrange(3))],
            "note": rng.choice(["", "floor 1e-11", "batch losses: line = moving mean"])}


def cells(strips: list[Any]) -> list[list[tuple[str, Any]]]:
    return [[(ch, seg.style) for seg in strip for ch in seg.text] for strip in strips]


def compare(then: Any, now: Any, n: int, rng: random.Random) -> int:
    """Draw ``n`` random charts with both; the number that differ (printed)."""
    bad = 0
    for k in range(n):
        case = random_case(rng)
        a, b = cells(chart(then, case)._build()), cells(chart(now, case)._build())
        if a != b:
            bad += 1
            print(f"  case {k} ({case['w']}x{case['h']}) differs")
    return bad


def timings(then: Any, now: Any, repeat: int, rng: random.Random) -> None:
    """Both drawing the same charts in turn, at the sizes of 160×50's loss plot and lr panel."""
    for w, h in ((104, 26), (54, 12)):
        t_then: list[float] = []
        t_now: list[float] = []
        for _ in range(repeat):
            case = random_case(rng, w, h)
            for module, out in ((then, t_then), (now, t_now)):
                c = chart(module, case)
                t0 = time.perf_counter()
                c._build()
                out.append(time.perf_counter() - t0)
        print(f"  {w}x{h}: then median {1e3 * statistics.median(t_then):.1f} ms, max "
              f"{1e3 * max(t_then):.1f}; now median {1e3 * statistics.median(t_now):.1f} ms, "
              f"max {1e3 * max(t_now):.1f}; ratio of medians "
              f"{statistics.median(t_then) / statistics.median(t_now):.2f}x")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--against", default="HEAD")
    ap.add_argument("--cases", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from descent_tui.tui.widgets import step_chart as now

    then = load_at(args.against)
    rng = random.Random(0)
    bad = compare(then, now, args.cases, rng)
    print(f"{args.cases} random charts: {bad} drawn differently from {args.against}")
    timings(then, now, args.repeat, rng)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
