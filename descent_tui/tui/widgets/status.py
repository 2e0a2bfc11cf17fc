"""Status line (step, loss per run, lr, speed), the divergence alarm and the footer.

The status line shows every run, whatever the width: labels are abbreviated
first, then the line wraps to a second row (:func:`pack`). Each run is drawn with
its :func:`~descent_tui.tui.run_style.run_style` (colour and glyph), as in the
plots. The footer (:class:`KeyFooter`) lists the help key ``?`` first, so it is
never cut off on a narrow terminal.
"""

from __future__ import annotations

import math
from typing import Any

from rich.text import Text
from textual.widgets import Static

from descent_tui.tui.run_style import abbreviate, run_style
from descent_tui.tui.safe_text import clean

__all__ = ["Alarm", "StatusLine", "abbreviate", "fmt_num", "pack"]


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


#: (rows, label length) tried in turn: shorter labels on one row, then a second row
LAYOUTS = ((1, 40), (1, 14), (1, 9), (2, 40), (2, 14), (2, 9), (2, 6), (2, 3), (2, 0))


def pack(head: Text, pieces: list[tuple[str, Any]], tail: Text, width: int,
         max_rows: int = 2) -> list[Text]:
    """``head``, then every run's piece, then ``tail``, in as few rows of ``width`` as fit.

    ``pieces`` are ``(label, build)`` with ``build(short_label) -> Text``. The
    :data:`LAYOUTS` are tried in turn (at most ``max_rows`` rows); the first where
    every row fits is kept (else the last one, which may be cut).
    """
    rows: list[Text] = []
    for n_rows, limit in LAYOUTS:
        if n_rows > max_rows:
            continue
        rows = [head.copy()]
        for label, build in pieces:
            piece = build(abbreviate(label, limit))
            if rows[-1].cell_len + piece.cell_len > width and len(rows) < n_rows \
                    and rows[-1].cell_len > 0:
                rows.append(Text(" "))
            rows[-1].append_text(piece)
        if rows[-1].cell_len + tail.cell_len > width and len(rows) < n_rows:
            rows.append(Text(" "))
        rows[-1].append_text(tail)
        if all(row.cell_len <= width for row in rows):
            return rows
    return rows


class StatusLine(Static):
    """▶/❚❚, step, speed, each run's glyph, label and loss in its colour, the selected lr.

    One row when everything fits, else two (the widget's height follows).
    """

    def show(self, snap: dict[str, Any], *, running: bool, speed: str, log_scale: bool,
             selected: int) -> None:
        dark = self.app.current_theme.dark
        width = self.size.width or self.app.size.width
        head = Text()
        if snap.get("done"):
            head.append(" ■ DONE ", style="bold reverse")
        elif running:
            head.append(" ▶ RUN ", style="bold reverse")
        else:
            head.append(" ❚❚ PAUSE ", style="bold reverse")
        head.append(f" step {snap['step']}/{snap['total']}", style="bold")
        head.append(f" {speed.replace('speed ', '')}", style="dim")
        if log_scale:
            head.append(" log", style="dim")
        head.append(" │")
        pieces = []
        sel_lr, sel_fork = None, False
        for run in snap["runs"]:
            pieces.append((clean(run["label"], one_line=True),
                           _run_piece(run, run_style(run["index"], dark),
                                      run["index"] == selected)))
            if run["index"] == selected:
                sel_lr, sel_fork = run.get("lr"), bool(run.get("fork"))
        tail = Text(" │ ⑂ fork selected" if sel_fork else "", style="bold")
        if sel_lr is not None:
            tail.append(f"{' ·' if sel_fork else ' │'} lr {fmt_num(sel_lr)}", style="bold")
        rows = pack(head, pieces, tail, max(20, width))
        # the height is set here (a new one lays the screen out again); the text alone
        # needs no layout: one at 10 Hz took the mission screen 100-270 ms a time
        self.styles.height = len(rows)
        self.update(Text("\n").join(rows), layout=False)


def _run_piece(run: dict[str, Any], style: Any, selected: bool) -> Any:
    """A builder of one run's piece: `` ▲ label 0.123`` (selected: underlined label)."""
    loss = ("✖ " if run["diverged"] else "") + fmt_num(run["loss"])

    def build(label: str) -> Text:
        piece = Text(" ")
        piece.append(style.glyph, style=f"bold {style.color}")
        if label:
            piece.append(" " + label, style=f"bold underline {style.color}" if selected
                         else style.color)
        piece.append(f" {loss}", style="bold" if selected else "")
        return piece

    return build


class Alarm(Static):
    """Loud red banner, shown (CSS class ``-on``) while any run has diverged."""

    _shown: tuple[str, ...] = ()

    def show(self, reasons: list[str]) -> None:
        self.set_class(bool(reasons), "-on")  # showing or hiding lays the screen out
        if reasons and tuple(reasons) != self._shown:
            # one row whatever the text (CSS height 1, no wrap): no new layout. Called
            # on every frame, a layout each time cost a served class a tenth of its CPU
            self.update(Text(" ⚠ DIVERGED ─ " + " ║ ".join(reasons), no_wrap=True,
                             overflow="ellipsis"), layout=False)
        self._shown = tuple(reasons)

