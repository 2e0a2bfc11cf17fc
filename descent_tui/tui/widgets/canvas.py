"""A half-block canvas: cells of two pixels each, drawn with Rich segments.

Every cell holds the half block ``▀``: its foreground colour is the upper pixel,
its background the lower one, so a widget of ``h`` rows has ``2h`` pixel rows.
An empty cell is a space on the fill colour (it becomes a half block when a pixel
is drawn on it). A cell may instead hold a glyph (a marker, a letter of a label);
drawing a pixel on such a cell changes only its background (the lower half).

Coordinates: ``col`` counts cells from the left; ``prow`` counts pixel rows from
the top (cell row ``prow // 2``). The cells are kept in four flat lists (char,
foreground, background, bold; cell ``(col, row)`` at ``row * width + col``), not
one list per cell: a frame allocates four lists instead of thousands, so the
garbage collector has little to walk. :meth:`Canvas.strips` writes one segment
per run of cells of one style, with the Rich styles kept between frames.
"""

from __future__ import annotations

import math
from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

__all__ = ["HALF", "Canvas", "clip_segment", "nearest"]

HALF = "▀"


def nearest(v: float) -> int:
    """The pixel (or cell) a position falls in: halves round up, and so does anything
    within a millionth of a pixel below a half.

    One rule for every mark of the landscape, so a run that has reached the minimum
    to twelve digits lands in the minimum's cell (``17.49999999998`` and ``17.5``
    are both pixel 18) and a path ends in the same pixel as the point drawn at its
    end (the landscape hands :meth:`Canvas.line` pixels already rounded so).
    (``round`` rounds halves to even, ``int(v + 0.5)`` does not allow for rounding
    error: each alone puts such a pair in neighbouring rows or columns.)
    """
    return math.floor(v + 0.5 + 1e-6)


@lru_cache(maxsize=4096)
def _style(fg: str | None, bg: str | None, bold: bool) -> Style:
    """The Rich style of a cell (kept: the same few colours come back every frame)."""
    return Style(color=fg, bgcolor=bg, bold=bold)


class Canvas:
    """``width × height`` cells: ``chars``, ``fgs``, ``bgs``, ``bolds`` (flat, row after row);
    colours are ``#rrggbb`` or None."""

    __slots__ = ("bgs", "bolds", "chars", "fgs", "fill", "height", "width")

    def __init__(self, width: int, height: int, fill: str | None = None) -> None:
        self.width, self.height = width, height
        self.fill = fill
        n = max(0, width) * max(0, height)
        self.chars = [" "] * n
        self.fgs: list[str | None] = [fill] * n
        self.bgs: list[str | None] = [fill] * n
        self.bolds = [False] * n

    def copy(self) -> Canvas:
        """A canvas with the same cells, drawn on independently."""
        new = Canvas.__new__(Canvas)
        new.width, new.height, new.fill = self.width, self.height, self.fill
        new.chars, new.fgs = self.chars.copy(), self.fgs.copy()
        new.bgs, new.bolds = self.bgs.copy(), self.bolds.copy()
        return new

    def inside(self, col: int, prow: int) -> bool:
        return 0 <= col < self.width and 0 <= prow < 2 * self.height

    def char(self, col: int, row: int) -> str:
        """The character in cell ``(col, row)``."""
        return self.chars[row * self.width + col]

    def pixel(self, col: int, prow: int, colour: str | None) -> None:
        """Paint one pixel (upper or lower half of its cell)."""
        w = self.width
        if not (0 <= col < w and 0 <= prow < 2 * self.height):
            return
        i = (prow >> 1) * w + col
        ch = self.chars[i]
        if ch == " ":  # an empty cell becomes a half block of its background
            ch = self.chars[i] = HALF
            self.fgs[i] = self.bgs[i]
        if prow & 1:
            self.bgs[i] = colour
        elif ch == HALF:
            self.fgs[i] = colour

    def pixel_colour(self, col: int, prow: int) -> str | None:
        i = (prow >> 1) * self.width + col
        return self.fgs[i] if prow % 2 == 0 and self.chars[i] == HALF else self.bgs[i]

    def half_blocks(self, col: int, row: int, uppers: list, lowers: list) -> None:
        """Cells from ``col`` on in ``row`` (cut at the right edge) become half blocks of
        ``uppers[k]`` over ``lowers[k]`` (a map drawn pixel for pixel)."""
        n = min(len(uppers), self.width - col)
        if n <= 0 or not 0 <= row < self.height or col < 0:
            return
        i = row * self.width + col
        self.chars[i:i + n] = [HALF] * n
        self.fgs[i:i + n] = uppers[:n]
        self.bgs[i:i + n] = lowers[:n]
        self.bolds[i:i + n] = [False] * n

    def line(self, a: tuple[float, float], b: tuple[float, float], colour: str) -> None:
        """Bresenham's line between two pixel points (clip them first: see clip_segment).

        A line within one column or between two neighbouring ones (most of a chart's)
        is painted as columns: the pixels the walk paints (within one column: all its
        rows; to the next: the first half of the rows, ``(k + 1) // 2`` of the ``k + 1``,
        then the rest), without a call a pixel.
        """
        c0, r0 = int(round(a[0])), int(round(a[1]))
        c1, r1 = int(round(b[0])), int(round(b[1]))
        if c0 == c1:
            self.column(c0, min(r0, r1), max(r0, r1), colour)
            return
        if abs(c1 - c0) == 1:
            k, sr = abs(r1 - r0), (1 if r1 > r0 else -1)
            m = (k + 1) // 2 if k else 1  # rows in the first column
            mid = r0 + sr * (m - 1)
            self.column(c0, min(r0, mid), max(r0, mid), colour)
            start = mid + sr if k else r0
            self.column(c1, min(start, r1), max(start, r1), colour)
            return
        dc, dr = abs(c1 - c0), -abs(r1 - r0)
        sc, sr = (1 if c1 > c0 else -1), (1 if r1 > r0 else -1)
        err = dc + dr
        pixel = self.pixel
        while True:
            pixel(c0, r0, colour)
            if c0 == c1 and r0 == r1:
                return
            e2 = 2 * err
            if e2 >= dr:
                err += dr
                c0 += sc
            if e2 <= dc:
                err += dc
                r0 += sr

    def column(self, col: int, lo: int, hi: int, colour: str | None) -> None:
        """Paint the pixels ``lo..hi`` (pixel rows, both included) of column ``col``: the
        same as :meth:`pixel` on each (one colour: the order does not matter)."""
        lo, hi = max(lo, 0), min(hi, 2 * self.height - 1)
        if 0 <= col < self.width and lo <= hi:
            self.pixels([col] * (hi - lo + 1), list(range(lo, hi + 1)), colour)

    def pixels(self, cols: list[int], prows: list[int], colour: str | None) -> None:
        """:meth:`pixel` at each ``(cols[k], prows[k])``, in one loop (one colour: the
        order does not matter)."""
        w, n = self.width, 2 * self.height
        chars, fgs, bgs = self.chars, self.fgs, self.bgs
        for col, prow in zip(cols, prows, strict=True):
            if not (0 <= col < w and 0 <= prow < n):
                continue
            i = (prow >> 1) * w + col
            ch = chars[i]
            if ch == " ":
                ch = chars[i] = HALF
                fgs[i] = bgs[i]
            if prow & 1:
                bgs[i] = colour
            elif ch == HALF:
                fgs[i] = colour

    def glyph(self, col: int, row: int, char: str, fg: str | None, bold: bool = True) -> None:
        """Put a character in a cell; the cell keeps its lower pixel as background."""
        if 0 <= col < self.width and 0 <= row < self.height:
            i = row * self.width + col
            self.chars[i], self.fgs[i], self.bolds[i] = char, fg, bold

    def text(self, col: int, row: int, s: str, fg: str | None, bg: str | None = None,
             bold: bool = False) -> None:
        """Write ``s`` from ``col`` on (cut at the right edge); ``bg`` None keeps each cell's."""
        w = self.width
        lo, hi = max(0, col), min(w, col + len(s))
        if not 0 <= row < self.height or lo >= hi:
            return
        i, j = row * w + lo, row * w + hi
        n = hi - lo
        self.chars[i:j] = s[lo - col:hi - col]
        self.fgs[i:j] = [fg] * n
        self.bolds[i:j] = [bold] * n
        if bg is not None:
            self.bgs[i:j] = [bg] * n

    def run(self, col: int, row: int, char: str, colours: list[str | None],
            bold: bool = False) -> None:
        """``char`` in the cells from ``col`` on in ``row`` (cut at the right edge), the
        ``k``-th in ``colours[k]``: :meth:`text` of one character a cell, in one call."""
        w = self.width
        lo, hi = max(0, col), min(w, col + len(colours))
        if not 0 <= row < self.height or lo >= hi:
            return
        i, j = row * w + lo, row * w + hi
        self.chars[i:j] = [char] * (hi - lo)
        self.fgs[i:j] = colours[lo - col:hi - col]
        self.bolds[i:j] = [bold] * (hi - lo)

    def toned(self, col: int, row: int, factor: float) -> str | None:
        """The cell's background scaled by ``factor`` (< 1 darker; > 1 towards white)."""
        bg = self.bgs[row * self.width + col] \
            if 0 <= row < self.height and 0 <= col < self.width else None
        if bg is None or not bg.startswith("#") or len(bg) != 7:
            return bg
        rgb = [int(bg[i:i + 2], 16) for i in (1, 3, 5)]
        if factor <= 1:
            rgb = [int(v * factor) for v in rgb]
        else:
            rgb = [int(255 - (255 - v) / factor) for v in rgb]
        return "#{:02x}{:02x}{:02x}".format(*rgb)

    def strips(self, before: tuple[Canvas, list[Strip]] | None = None) -> list[Strip]:
        """The cells as Textual strips: one segment per run of cells of one style.

        ``before``: an earlier canvas and its strips; a row whose cells are the same
        as that canvas's row gets its strip back (the same object), unbuilt.
        """
        w, chars, fgs, bgs, bolds = self.width, self.chars, self.fgs, self.bgs, self.bolds
        if w <= 0:
            return [Strip([], w) for _ in range(self.height)]
        old, old_strips = before if before is not None else (None, [])
        if old is not None and ((old.width, old.height) != (w, self.height)
                                or len(old_strips) != self.height):
            old = None
        out = []
        for start in range(0, w * self.height, w):
            if old is not None and self._same_row(old, start, start + w):
                out.append(old_strips[start // w])
                continue
            segs = []
            run = start
            fg, bg, bold = fgs[run], bgs[run], bolds[run]
            for i in range(start + 1, start + w):
                if fgs[i] != fg or bgs[i] != bg or bolds[i] != bold:
                    segs.append(Segment("".join(chars[run:i]), _style(fg, bg, bold)))
                    run = i
                    fg, bg, bold = fgs[i], bgs[i], bolds[i]
            segs.append(Segment("".join(chars[run:start + w]), _style(fg, bg, bold)))
            out.append(Strip(segs, w))
        return out

    def _same_row(self, other: Canvas, start: int, end: int) -> bool:
        """Whether cells ``start:end`` are the same here and in ``other``."""
        return (self.chars[start:end] == other.chars[start:end]
                and self.fgs[start:end] == other.fgs[start:end]
                and self.bgs[start:end] == other.bgs[start:end]
                and self.bolds[start:end] == other.bolds[start:end])


def clip_segment(a: tuple[float, float], b: tuple[float, float],
                 box: tuple[float, float, float, float]
                 ) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Liang–Barsky: the part of segment a→b inside ``box = (xmin, ymin, xmax, ymax)``."""
    if not all(math.isfinite(v) for v in (*a, *b)):
        return None
    (x0, y0), (x1, y1) = a, b
    dx, dy = x1 - x0, y1 - y0
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, x0 - box[0]), (dx, box[2] - x0), (-dy, y0 - box[1]), (dy, box[3] - y0)):
        if p == 0:
            if q < 0:
                return None
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return None
    return (x0 + t0 * dx, y0 + t0 * dy), (x0 + t1 * dx, y0 + t1 * dy)
