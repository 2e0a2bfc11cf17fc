"""The flat-list Canvas draws the same cells (character and style) as a canvas of one
list per cell, the way it was first written (:class:`Reference`, below), on random
drawing: pixels, lines, glyphs, text, maps of half blocks, at many sizes."""

from __future__ import annotations

import random

from rich.style import Style

from descent_tui.tui.widgets.canvas import HALF, Canvas

COLOURS = [None, "#000000", "#102030", "#ff8800", "#40c0ff", "#e8f0ff", "#7f8fa8"]


class Reference:
    """The canvas as it was: ``cells[row][col] = [char, fg, bg, bold]``."""

    def __init__(self, width: int, height: int, fill: str | None = None) -> None:
        self.width, self.height = width, height
        self.cells = [[[" ", fill, fill, False] for _ in range(width)] for _ in range(height)]

    def pixel(self, col: int, prow: int, colour: str | None) -> None:
        if not (0 <= col < self.width and 0 <= prow < 2 * self.height):
            return
        cell = self.cells[prow // 2][col]
        if cell[0] == " ":
            cell[0], cell[1] = HALF, cell[2]
        if prow % 2 == 0 and cell[0] == HALF:
            cell[1] = colour
        elif prow % 2 == 1:
            cell[2] = colour

    def line(self, a: tuple[float, float], b: tuple[float, float], colour: str) -> None:
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
        if 0 <= col < self.width and 0 <= row < self.height:
            cell = self.cells[row][col]
            cell[0], cell[1], cell[3] = char, fg, bold

    def text(self, col: int, row: int, s: str, fg: str | None, bg: str | None = None,
             bold: bool = False) -> None:
        for k, ch in enumerate(s):
            if 0 <= col + k < self.width and 0 <= row < self.height:
                cell = self.cells[row][col + k]
                cell[0], cell[1], cell[3] = ch, fg, bold
                if bg is not None:
                    cell[2] = bg

    def half_blocks(self, col: int, row: int, uppers: list, lowers: list) -> None:
        if 0 <= row < self.height:
            for c in range(min(len(uppers), self.width - col)):
                self.cells[row][col + c] = [HALF, uppers[c], lowers[c], False]

    def drawn(self) -> list[list[tuple[str, Style]]]:
        return [[(ch, Style(color=fg, bgcolor=bg, bold=bold)) for ch, fg, bg, bold in line]
                for line in self.cells]


def drawn(canvas: Canvas) -> list[list[tuple[str, Style]]]:
    """Each cell of the canvas's strips as (character, style)."""
    rows = []
    for strip in canvas.strips():
        assert strip.cell_length == canvas.width
        rows.append([(ch, seg.style) for seg in strip for ch in seg.text])
    return rows


def _scribble(rng: random.Random, w: int, h: int, canvases: tuple) -> None:
    """The same random drawing on every canvas (coordinates partly off the edges)."""
    for _ in range(rng.randrange(1, 60)):
        op = rng.choice(("pixel", "line", "line", "upright", "steep", "glyph", "text", "map"))
        colour = rng.choice(COLOURS)
        col, prow = rng.randrange(-3, w + 3), rng.randrange(-3, 2 * h + 3)
        seed = rng.random()
        for c in canvases:
            r = random.Random(seed)  # each canvas gets the same further draws
            if op == "pixel":
                c.pixel(col, prow, colour)
            elif op == "line":
                c.line((r.uniform(0, w - 1), r.uniform(0, 2 * h - 1)),
                       (r.uniform(0, w - 1), r.uniform(0, 2 * h - 1)), colour)
            elif op == "upright":  # a vertical line (or one pixel), ends partly off
                x = r.uniform(-2, w + 1)
                c.line((x, r.uniform(-3, 2 * h + 2)), (x + r.uniform(-0.4, 0.4),
                                                       r.uniform(-3, 2 * h + 2)), colour)
            elif op == "steep":  # to the next column (either side), partly off
                x = r.uniform(-2, w + 1)
                c.line((x, r.uniform(-3, 2 * h + 2)), (x + r.choice((-1, 1)),
                                                       r.uniform(-3, 2 * h + 2)), colour)
            elif op == "glyph":
                c.glyph(col, prow // 2, r.choice("●▲✚x"), colour, r.random() < 0.5)
            elif op == "text":
                c.text(col, prow // 2, "".join(r.choice("ab┈│ 1.") for _ in range(r.randrange(8))),
                       colour, r.choice(COLOURS), r.random() < 0.5)
            else:
                n = r.randrange(0, w + 2)
                c.half_blocks(max(0, col), prow // 2, [r.choice(COLOURS) for _ in range(n)],
                              [r.choice(COLOURS) for _ in range(n)])


def test_flat_canvas_draws_what_one_list_per_cell_drew():
    rng = random.Random(13)
    for _ in range(300):
        w, h = rng.randrange(1, 40), rng.randrange(1, 14)
        fill = rng.choice(COLOURS)
        new, ref = Canvas(w, h, fill), Reference(w, h, fill)
        _scribble(rng, w, h, (new, ref))
        assert drawn(new) == ref.drawn(), (w, h, fill)
        for _ in range(20):
            col, row = rng.randrange(w), rng.randrange(h)
            assert new.char(col, row) == ref.cells[row][col][0]
            prow = 2 * row + rng.randrange(2)
            cell = ref.cells[row][col]
            assert new.pixel_colour(col, prow) == (cell[1] if prow % 2 == 0 and cell[0] == HALF
                                                   else cell[2])


def test_a_strip_has_one_segment_per_run_of_a_style():
    canvas = Canvas(10, 1, "#000000")
    canvas.text(2, 0, "abc", "#ff8800")
    canvas.text(5, 0, "de", "#ff8800", bold=True)
    segments = [(seg.text, seg.style) for seg in canvas.strips()[0]]
    assert [text for text, _ in segments] == ["  ", "abc", "de", "   "]
