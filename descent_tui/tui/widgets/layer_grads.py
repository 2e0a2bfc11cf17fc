"""Per-layer gradient panel: one bar per layer on a log scale of gradient norm,
with weight norm, update ratio and dead/saturated fraction, so vanishing and
exploding gradients are obvious at a glance."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style as RichStyle
from rich.text import Text
from textual.app import active_app
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual
from textual.widget import Widget

from descent_tui.tui.widgets.safe import safe_render

if TYPE_CHECKING:
    from descent_tui.sim.run import LayerRecord

#: one cell of the table: its text and its style (a Rich style string, "" for none)
Cell = tuple[str, str]

LOG_LO, LOG_HI = -10.0, 4.0  # bar axis: 1e-10 .. 1e4
VANISH, EXPLODE = 1e-5, 1e2


def _fmt(v: Any, spec: str = ".1e") -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(f):
        return "NaN" if math.isnan(f) else ("+inf" if f > 0 else "-inf")
    return format(f, spec)


def bar(norm: float, width: int) -> tuple[str, str]:
    """(bar text, verdict) for a gradient norm."""
    if not math.isfinite(norm):
        return "█" * width, "nan"
    if norm <= 0:
        return "·" * width, "vanishing"
    t = (math.log10(norm) - LOG_LO) / (LOG_HI - LOG_LO)
    t = min(1.0, max(0.0, t))
    full = t * width
    n = int(full)
    part = " ▏▎▍▌▋▊▉"[int((full - n) * 8)]
    text = "█" * n + (part if n < width else "")
    text = text.ljust(width, "·")[:width]
    verdict = "vanishing" if norm < VANISH else ("exploding" if norm > EXPLODE else "ok")
    return text, verdict


class GridLines(Visual):
    """The panel's picture: rows of cells laid out as Rich's ``Table.grid(padding=(0, 2,
    0, 0))`` lays out no_wrap columns, then a verdict that wraps as Rich Text wraps.

    Each column is as wide as its widest cell, with two spaces after every column
    but the last. When the columns are wider than the panel, each gives up an equal
    share of the excess (as a Rich table shrinks them) and a cell that no longer fits
    ends in "…", as in the table.
    """

    def __init__(self, rows: list[list[Cell]], right: list[bool], verdict: Text) -> None:
        self.rows = rows
        self.right = right  # which columns are right-justified
        self.pads = [2] * (len(right) - 1) + [0]
        self.verdict = verdict

    def render_strips(self, width: int, height: int | None, style: Style,
                      options: RenderOptions) -> list[Strip]:
        base = style.rich_style
        console = active_app.get().console
        styles: dict[str, RichStyle] = {"": base}
        widths = _column_widths(self.rows, self.pads, width)
        too_wide = sum(widths) > width  # some columns kept more than their share
        strips = []
        for row in self.rows:
            segments = []
            for (text, name), w, pad, right in zip(row, widths, self.pads, self.right):
                if name not in styles:
                    styles[name] = base + console.get_style(name)
                segments += _cell_segments(text, styles[name], w, pad, right, base)
            if too_wide:  # the line is cut at the panel's edge, as Rich cuts it
                segments = Segment.adjust_line_length(segments, width, pad=False)
            strips.append(Strip(segments))
        verdict_style = base + console.get_style(self.verdict.style)
        for line in self.verdict.wrap(console, width):
            strips.append(Strip([Segment(line.plain, verdict_style)] if line.plain else []))
        return strips[:height]

    def get_optimal_width(self, rules: Any, container_width: int) -> int:
        return sum(_column_widths(self.rows, self.pads, container_width))

    def get_height(self, rules: Any, width: int) -> int:
        console = active_app.get().console
        return len(self.rows) + len(self.verdict.wrap(console, max(1, width)))


def _column_widths(rows: list[list[Cell]], pads: list[int], width: int) -> list[int]:
    """The widths (padding included) Rich's Table gives no_wrap columns in ``width``."""
    columns = list(zip(*rows))

    def widest(i: int, room: int) -> int:
        return max(min(cell_len(text) + pads[i], room) for text, _ in columns[i])

    widths = [widest(i, width) or 1 for i in range(len(columns))]  # an empty column: 1
    excess = sum(widths) - width
    if excess > 0:  # every column gives up an equal share, but no more than it has
        widths = _share_out(excess, widths)
        widths = [widest(i, w) if w >= 1 else 0 for i, w in enumerate(widths)]
    return widths


def _share_out(excess: int, widths: list[int]) -> list[int]:
    """``widths`` less ``excess`` cells in all, taken in equal shares from left to right
    (each share rounded, none more than the column has): how a Rich table shrinks
    columns that may not wrap, so the widths agree with the table's."""
    out, left, columns = [], excess, len(widths)
    for w in widths:
        take = min(w, round(left / columns))
        out.append(w - take)
        left -= take
        columns -= 1
    return out


def _cell_segments(text: str, style: RichStyle, width: int, pad: int, right: bool,
                   base: RichStyle) -> list[Segment]:
    """One cell, ``width`` wide with its ``pad`` spaces: the text justified in its
    style (the justifying spaces take it too), cut with "…" if too long."""
    room = width - pad
    if room < 1:  # no room for the text: the table's cell is blank (zero-width too)
        return [Segment(" " * width, base)]
    if right:
        text = text.rstrip()
    if cell_len(text) > room:
        text = set_cell_size(text, room - 1) + "…"
    spaces = " " * (room - cell_len(text))
    cell = [Segment(spaces + text if right else text + spaces, style)]
    return cell + [Segment(" " * pad, base)] if pad else cell


class LayerGrads(Widget):
    """Shows the selected run's latest per-layer statistics."""

    DEFAULT_CSS = """
    LayerGrads { width: 1fr; height: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stats: list[LayerRecord] = []
        self.first: list[LayerRecord] | None = None
        self.run_label = ""

    def show(self, layers: list[LayerRecord], run_label: str,
             first: list[LayerRecord] | None = None) -> None:
        """The run's latest layers; ``first``: its layers after step 1 (for the verdict)."""
        self.stats = layers
        self.first = first
        self.run_label = run_label
        self.refresh()

    @safe_render
    def render(self) -> Any:
        var = self.app.theme_variables
        ok_c, bad_c, warn_c = var.get("success", "green"), var.get("error", "red"), \
            var.get("warning", "yellow")
        if not self.stats:
            return Text("No gradients yet — take a step (space).", style="dim")
        wide = self.size.width >= 60
        tiny = self.size.width < 40
        ncols = 6 if wide else (3 if tiny else 4)
        fixed = 5 + 7 + (0 if tiny else 4) + (7 + 7 if wide else 0) + 2 * (ncols - 1) + 1
        bw = max(6, self.size.width - fixed)
        # columns: name, bar, |grad| (and |w|, upd/w when wide; dead/sat. unless tiny)
        right = [False, False, True] + [True, True] * wide + [True] * (not tiny)
        scale = ("1e-10" + "1e-3".center(max(0, bw - 8)) + "1e4")[:bw] if bw >= 14 \
            else "log |grad|".ljust(bw)[:bw]
        head = [("layer" if not tiny else "", "bold"), (scale, "dim"), ("|grad|", "bold")]
        if wide:
            head += [("|w|", "bold"), ("upd/w", "bold")]
        if not tiny:
            relu = any(layer.dead_frac is not None for layer in self.stats)
            head += [("dead" if relu else "sat.", "bold")]
        # what a low panel keeps: layer 1 and the last layer first, then the verdict
        # (its first clause if the whole one does not fit), then the column heads
        ends = min(2, len(self.stats))
        summary = self._verdict(ok_c, bad_c, warn_c, short=False)
        lines = len(summary.wrap(self.app.console, max(1, self.size.width)))
        if self.size.height - 1 - lines < ends:
            summary = self._verdict(ok_c, bad_c, warn_c, short=True)
            lines = len(summary.wrap(self.app.console, max(1, self.size.width)))
        heads = 1 if self.size.height - 1 - lines >= ends else 0
        rows = [head] if heads else []
        colours = {"ok": ok_c, "bad": bad_c, "warn": warn_c}
        for layer in _visible(self.stats, self.size.height - heads - lines):
            if layer is None:  # the elided middle of a deep stack
                rows.append([("⋮", ""), ("", "dim")] + [("", "")] * (len(right) - 2))
            else:
                rows.append(_layer_row(layer, bw, wide, tiny, colours))
        return GridLines(rows, right, summary)

    def _verdict(self, ok_c: str, bad_c: str, warn_c: str, *, short: bool) -> Text:
        """The verdict line in its colour (bold when something is wrong); ``short``: its
        first clause only, for a panel too low for the whole sentence and both ends."""
        verdict, style = verdict_of(self.stats, self.first)
        if short:
            verdict = verdict.split(" · ")[0].split(": the whole")[0]
        color = {"bad": bad_c, "warn": warn_c, "ok": ok_c}[style]
        return Text(verdict, style=f"bold {color}" if style != "ok" else color)


def _layer_row(layer: Any, bw: int, wide: bool, tiny: bool, colours: dict[str, str]
               ) -> list[Cell]:
    """One layer's cells: name, bar, |grad| (and |w|, upd/w when wide; dead/sat. unless tiny)."""
    g = float(layer.grad_norm)
    text, verdict = bar(g, bw)
    color = colours["ok"] if verdict == "ok" else colours["bad"]
    frac = layer.dead_frac if layer.dead_frac is not None else layer.saturated_frac
    frac_s = "—" if frac is None else f"{100 * float(frac):.0f}%"
    frac_style = colours["bad"] if (frac is not None and float(frac) > 0.5) else ""
    row = [(layer.name.replace("layer ", "L"), ""), (text, color), (_fmt(g), color)]
    if wide:
        row += [(_fmt(layer.weight_norm), ""),
                (_fmt(layer.update_ratio), colours["warn"] if _big_ratio(layer.update_ratio) else "")]
    if not tiny:
        row += [(frac_s, frac_style)]
    return row


def _visible(stats: list, rows: int) -> list:
    """All layers if they fit; else the first and last ones around a ⋮ row.

    The lesson is in the comparison of layer 1 with layer N, so both ends stay.
    """
    if rows >= len(stats):
        return stats
    if rows < 3:  # no room for the ⋮: layer 1 and the last layer only
        return [stats[0], stats[-1]][:max(1, rows)]
    head = (rows - 1 + 1) // 2
    tail = rows - 1 - head
    return stats[:head] + [None] + (stats[-tail:] if tail else [])


def _vanishing_ratio(stats: list | None) -> float | None:
    """|g| of layer 1 over |g| of the last layer, if it is below 1e-2 (else None)."""
    if not stats or len(stats) < 2:
        return None
    first, last = float(stats[0].grad_norm), float(stats[-1].grad_norm)
    if last > 0 and math.isfinite(first / last) and first / last < 1e-2:
        return first / last
    return None


def verdict_of(stats: list, first: list | None = None) -> tuple[str, str]:
    """One line on what the bars say: (text, 'bad' | 'warn' | 'ok').

    ``first`` is the run's layers after its first step. The checks are independent,
    so the line stays right for the whole run: a stack whose layer 1 gets 1e-6 of
    the last layer's gradient is VANISHING, and says also when every gradient has
    become tiny (the whole stack has stalled). Once the last layers have stalled
    too, the ratio is no longer small; the line then recalls the ratio at step 1,
    the cause of the stall.
    """
    norms = [float(layer.grad_norm) for layer in stats]
    if any(not math.isfinite(g) for g in norms):
        return "▲ NON-FINITE gradients: the run has blown up", "bad"
    if any(g > EXPLODE for g in norms):
        return f"▲ EXPLODING gradients (largest {max(norms):.1e})", "bad"
    n = len(norms)
    tiny = max(norms) < VANISH
    stalled = f" · all |g| < {VANISH:.0e}: the whole stack stalled" if tiny else ""
    if n > 1 and norms[0] == 0 and norms[-1] > 0:
        return "▼ layer 1 gets no gradient at all" + stalled, "bad"
    ratio = _vanishing_ratio(stats)
    if ratio is not None:
        return f"▼ VANISHING: |g| L1/L{n} = {ratio:.0e}" + stalled, "bad"
    if tiny:
        then = _vanishing_ratio(first)
        if then is not None:
            return (f"▼ STALLED: all |g| < {VANISH:.0e} · at step 1 VANISHING, "
                    f"L1/L{n} = {then:.0e}"), "bad"
        return "▼ all gradients tiny: saturated or settled", "warn"
    return "gradients healthy", "ok"


def _big_ratio(v: Any) -> bool:
    try:
        return float(v) > 1e-1
    except (TypeError, ValueError):
        return False
