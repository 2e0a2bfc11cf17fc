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

__all__ = ["Alarm", "StatusLine", "abbreviate", "fit", "fmt_num", "pack"]


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
         max_rows: int = 2, layouts: tuple[tuple[int, int], ...] = LAYOUTS) -> list[Text]:
    """``head``, then every run's piece, then ``tail``, in as few rows of ``width`` as fit.

    ``pieces`` are ``(label, build)`` with ``build(short_label) -> Text``. The
    ``layouts`` (rows, label length; :data:`LAYOUTS`) are tried in turn (at most
    ``max_rows`` rows); the first where every row fits is kept (else the last one,
    which may be cut).
    """
    return _pack(head, pieces, tail, width,
                 fit(head, pieces, tail, width, max_rows, layouts))[0]


def fit(head: Text, pieces: list[tuple[str, Any]], tail: Text, width: int,
        max_rows: int = 2, layouts: tuple[tuple[int, int], ...] = LAYOUTS) -> tuple[int, int]:
    """The first of ``layouts`` (rows, label length) where :func:`pack` fits ``width``
    (else the last one tried)."""
    layout = layouts[0]
    for layout in layouts:
        if layout[0] > max_rows:
            continue
        rows = _pack(head, pieces, tail, width, layout)[0]
        if len(rows) <= layout[0] and all(row.cell_len <= width for row in rows):
            return layout
    return layout


def _pack(head: Text, pieces: list[tuple[str, Any]], tail: Text, width: int,
          layout: tuple[int, int], breaks: list[int] | None = None
          ) -> tuple[list[Text], list[int]]:
    """The rows of one layout (rows, label length), and where rows start (the index of
    the piece; ``len(pieces)``: the tail). A piece that does not fit starts the next
    row while there are rows left; given ``breaks``, rows start there instead."""
    n_rows, limit = layout
    rows, starts = [head.copy()], []
    built = [build(abbreviate(label, limit)) for label, build in pieces] + [tail]
    for k, piece in enumerate(built):
        if breaks is not None:
            new_row = k in breaks
        else:
            new_row = rows[-1].cell_len + piece.cell_len > width and len(rows) < n_rows \
                and (rows[-1].cell_len > 0 or k == len(pieces))
        if new_row:
            rows.append(Text(" "))
            starts.append(k)
        rows[-1].append_text(piece)
    return rows, starts


#: screens at least this tall have rows to spare: the status line's height is chosen
#: for the widest text its runs can show and stays for the whole run
ROOMY_ROWS = 40

#: the widest positive number :func:`fmt_num` writes (4 significant digits, or
#: ``1.23e-04``): the layout is chosen for every loss and lr at this width
WIDEST = "0.001234"


def widest_loss(loss: Any, diverged: bool) -> str:
    """The widest text a run's loss can take while its sign and divergence stay as
    they are (a run that diverges, or a loss that turns negative, may add a row)."""
    try:
        negative = float(loss) < 0
    except (TypeError, ValueError):
        negative = False
    return ("✖ " if diverged else "") + ("-" if negative else "") + WIDEST


class StatusLine(Static):
    """▶/❚❚, step, speed, each run's glyph, label and loss in its colour, the selected lr.

    One row when everything fits, else two (the widget's height follows). On a tall
    screen (:data:`ROOMY_ROWS`) the height is the one the widest losses need, so it
    does not change while the runs train; on a short one, while the same runs train,
    rows are added and labels shortened but never the other way, so the height
    changes at most once or twice a run, not back and forth with the losses.
    """

    _key: tuple[Any, ...] = ()
    _poorest = 0  # the poorest of LAYOUTS shown since the key changed

    def show(self, snap: dict[str, Any], *, running: bool, speed: str, log_scale: bool,
             selected: int, widest_speed: str | None = None) -> None:
        """Show ``snap``'s step and runs (``widest_speed``: the longest ``speed`` the
        screen can show)."""
        dark = self.app.current_theme.dark
        width = max(20, self.size.width or self.app.size.width)
        pieces, widest = [], []
        sel_lr, sel_fork = None, False
        for run in snap["runs"]:
            label, style = clean(run["label"], one_line=True), run_style(run["index"], dark)
            chosen = run["index"] == selected
            loss = ("✖ " if run["diverged"] else "") + fmt_num(run["loss"])
            pieces.append((label, _run_piece(loss, style, chosen)))
            widest.append((label, _run_piece(widest_loss(run["loss"], run["diverged"]),
                                             style, chosen)))
            if chosen:
                sel_lr, sel_fork = run.get("lr"), bool(run.get("fork"))
        head = _head(snap, "done" if snap.get("done") else "run" if running else "pause",
                     speed, log_scale, snap["step"])
        tail = _tail(sel_fork, None if sel_lr is None else fmt_num(sel_lr))
        roomy = self.app.size.height >= ROOMY_ROWS
        # the widest text these runs can show: each loss and lr at its widest
        # (widest_loss) and the last step; at this speed and scale, or (roomy) at any
        most = (_head(snap, "pause", (widest_speed or speed) if roomy else speed,
                      roomy or log_scale, snap["total"]), widest,
                _tail(sel_fork, None if sel_lr is None else WIDEST), width)
        # a new height lays the whole screen out again (40-70 ms at 160x50, and one
        # flip after another at 10 Hz cost 100-300 ms each), so it must not follow
        # the losses. With rows to spare the layout (rows, label length) is the one
        # the widest text needs, from the first step to the last. On a short screen,
        # where a row counts, it only moves to a poorer one while the same runs train,
        # starting afresh at step 0 and on any other change (width, runs, selection,
        # speed). On two rows, the rows break where the widest text would, so no run
        # hops between them.
        if roomy:
            layout = fit(*most)
        else:
            key = (width, tuple(label for label, _ in pieces), selected, speed, log_scale,
                   snap["step"] == 0)
            if key != self._key:
                self._key, self._poorest = key, 0
            self._poorest = max(self._poorest, LAYOUTS.index(fit(head, pieces, tail, width)))
            layout = LAYOUTS[self._poorest]
        breaks = _pack(*most, layout)[1] if layout[0] > 1 else None
        rows = _pack(head, pieces, tail, width, layout, breaks)[0]
        if self.styles.height is None or self.styles.height.value != layout[0]:
            self.styles.height = layout[0]
        # the text alone needs no layout: one at 10 Hz took the mission screen 100-270 ms
        self.update(Text("\n").join(rows), layout=False)


def _head(snap: dict[str, Any], state: str, speed: str, log_scale: bool, step: Any) -> Text:
    """`` ▶ RUN  step 12/200 10/tick log │`` (state: ``run``, ``pause`` or ``done``)."""
    head = Text()
    head.append({"done": " ■ DONE ", "run": " ▶ RUN ", "pause": " ❚❚ PAUSE "}[state],
                style="bold reverse")
    head.append(f" step {step}/{snap['total']}", style="bold")
    head.append(f" {speed.replace('speed ', '')}", style="dim")
    if log_scale:
        head.append(" log", style="dim")
    head.append(" │")
    return head


def _tail(fork: bool, lr: str | None) -> Text:
    """`` │ ⑂ fork selected · lr 0.1`` for the selected run."""
    tail = Text(" │ ⑂ fork selected" if fork else "", style="bold")
    if lr is not None:
        tail.append(f"{' ·' if fork else ' │'} lr {lr}", style="bold")
    return tail


def _run_piece(loss: str, style: Any, selected: bool) -> Any:
    """A builder of one run's piece: `` ▲ label 0.123`` (selected: underlined label)."""

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

