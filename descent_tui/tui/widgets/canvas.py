"""A half-block canvas: cells of two pixels each, drawn with Rich segments.

Every cell holds the half block ``▀``: its foreground colour is the upper pixel,
its background the lower one, so a widget of ``h`` rows has ``2h`` pixel rows.
An empty cell is a space on the fill colour (it becomes a half block when a pixel
is drawn on it). A cell may instead hold a glyph (a marker, a letter of a label);
drawing a pixel on such a cell changes only its background (the lower half).

Coordinates: ``col`` counts cells from the left; ``prow`` counts pixel rows from
the top (cell row ``prow // 2``).
"""

from __future__ import annotations

import math

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

__all__ = ["HALF", "Canvas", "clip_segment"]

HALF = "▀"


class Canvas:
    """``width × height`` cells ``[char, fg, bg, bold]``; colours are ``#rrggbb`` or None."""

    def __init__(self, width: int, height: int, fill: str | None = None) -> None:
        self.width, self.height = width, height
        self.fill = fill
        self.cells = [[[" ", fill, fill, False] for _ in range(width)] for _ in range(height)]

    def inside(self, col: int, prow: int) -> bool:
        return 0 <= col < self.width and 0 <= prow < 2 * self.height

    def pixel(self, col: int, prow: int, colour: str | None) -> None:
        """Paint one pixel (upper or lower half of its cell)."""
        if not self.inside(col, prow):
            return
        cell = self.cells[prow // 2][col]
        if cell[0] == " ":  # an empty cell becomes a half block of its background
            cell[0], cell[1] = HALF, cell[2]
        if prow % 2 == 0 and cell[0] == HALF:
            cell[1] = colour
        elif prow % 2 == 1:
            cell[2] = colour

    def pixel_colour(self, col: int, prow: int) -> str | None:
        cell = self.cells[prow // 2][col]
        return cell[1] if prow % 2 == 0 and cell[0] == HALF else cell[2]

    def line(self, a: tuple[float, float], b: tuple[float, float], colour: str) -> None:
        """Bresenham's line between two pixel points (clip them first: see clip_segment)."""
        c0, r0 = int(round(a[0])), int(round(a[1]))
        c1, r1 = int(round(b[0])), int(round(b[1]))
        dc, dr = abs(c1 - c0), -abs(r1 - r0)
        sc, sr = (1 if c1 > c0 else -1), (1 if r1 > r0 else -1)
        err = dc + dr
        while True:
            self.pixel(c0, r0, colour)
            if c0 == c1 and r0 == r1:
                return
            e2 = 2 * err
            if e2 >= dr:
                err += dr
                c0 += sc
            if e2 <= dc:
                err += dc
                r0 += sr

    def glyph(self, col: int, row: int, char: str, fg: str | None, bold: bool = True) -> None:
        """Put a character in a cell; the cell keeps its lower pixel as background."""
        if 0 <= col < self.width and 0 <= row < self.height:
            cell = self.cells[row][col]
            cell[0], cell[1], cell[3] = char, fg, bold

    def text(self, col: int, row: int, s: str, fg: str | None, bg: str | None = None,
             bold: bool = False) -> None:
        """Write ``s`` from ``col`` on (cut at the right edge); ``bg`` None keeps each cell's."""
        for k, ch in enumerate(s):
            if 0 <= col + k < self.width and 0 <= row < self.height:
                cell = self.cells[row][col + k]
                cell[0], cell[1], cell[3] = ch, fg, bold
                if bg is not None:
                    cell[2] = bg

    def toned(self, col: int, row: int, factor: float) -> str | None:
        """The cell's background scaled by ``factor`` (< 1 darker; > 1 towards white)."""
        bg = self.cells[row][col][2] if 0 <= row < self.height and 0 <= col < self.width \
            else None
        if bg is None or not bg.startswith("#") or len(bg) != 7:
            return bg
        rgb = [int(bg[i:i + 2], 16) for i in (1, 3, 5)]
        if factor <= 1:
            rgb = [int(v * factor) for v in rgb]
        else:
            rgb = [int(255 - (255 - v) / factor) for v in rgb]
        return "#{:02x}{:02x}{:02x}".format(*rgb)

    def strips(self) -> list[Strip]:
        """The cells as Textual strips (one Rich style per distinct colour pair, reused)."""
        styles: dict[tuple, Style] = {}
        out = []
        for line in self.cells:
            segs = []
            for ch, fg, bg, bold in line:
                key = (fg, bg, bold)
                style = styles.get(key)
                if style is None:
                    style = styles[key] = Style(color=fg, bgcolor=bg, bold=bold)
                segs.append(Segment(ch, style))
            out.append(Strip(segs, self.width))
        return out


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
