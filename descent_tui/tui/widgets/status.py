"""Status line (step, loss per run, lr, speed) and the divergence alarm."""

from __future__ import annotations

import math
from typing import Any

from rich.text import Text
from textual.widgets import Static

from descent_tui.tui.safe_text import clean
from descent_tui.tui.theme import run_color


def fmt_num(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "—"
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    if f != 0 and (abs(f) < 1e-3 or abs(f) >= 1e4):
        return f"{f:.2e}"
    return f"{f:.4g}"


class StatusLine(Static):
    """One line: ▶/❚❚, step, speed, each run's loss in its colour, selected run's lr."""

    def show(self, snap: dict[str, Any], *, running: bool, speed: str, log_scale: bool,
             selected: int) -> None:
        dark = self.app.current_theme.dark
        text = Text(no_wrap=True, overflow="ellipsis")
        if snap.get("done"):
            text.append(" ■ DONE ", style="bold reverse")
        elif running:
            text.append(" ▶ RUN ", style="bold reverse")
        else:
            text.append(" ❚❚ PAUSE ", style="bold reverse")
        text.append(f" step {snap['step']}/{snap['total']}", style="bold")
        text.append(f"  {speed}", style="dim")
        if log_scale:
            text.append(" log", style="dim")
        text.append("  │ ")
        sel_lr = None
        for run in snap["runs"]:
            color = run_color(run["index"], dark)
            mark = "◉" if run["index"] == selected else "●"
            text.append(f"{mark} ", style=color)
            loss = "✖ " + fmt_num(run["loss"]) if run["diverged"] else fmt_num(run["loss"])
            label = clean(run["label"], one_line=True)
            text.append(f"{label} ", style=f"bold {color}" if run["index"] == selected
                        else color)
            text.append(f"{loss}  ")
            if run["index"] == selected:
                sel_lr = run.get("lr")
        if sel_lr is not None:
            text.append(f"│ lr {fmt_num(sel_lr)}", style="bold")
        self.update(text)


class Alarm(Static):
    """Loud red banner, shown (CSS class ``-on``) while any run has diverged."""

    def show(self, reasons: list[str]) -> None:
        self.set_class(bool(reasons), "-on")
        if reasons:
            self.update(Text(" ⚠ DIVERGED ─ " + " ║ ".join(reasons), no_wrap=True,
                             overflow="ellipsis"))
