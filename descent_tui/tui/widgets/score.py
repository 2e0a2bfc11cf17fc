"""A quiz score on screen: ``5/7`` coloured by how good it is (board and quiz panel)."""

from __future__ import annotations

from rich.text import Text

__all__ = ["score_style", "score_text"]

#: (smallest fraction right, style), best first; below the last: red
GRADES: tuple[tuple[float, str], ...] = ((1.0, "bold green"), (0.7, "green"), (0.4, "yellow"))


def score_style(correct: int, total: int) -> str:
    """Green for all or most right (>= 70 %), yellow for some (>= 40 %), red below."""
    if total <= 0:
        return "dim"
    fraction = correct / total
    for least, style in GRADES:
        if fraction >= least:
            return style
    return "bold red"


def score_text(correct: int, total: int, prefix: str = "") -> Text:
    """``prefix`` + ``correct/total`` in :func:`score_style`."""
    return Text(f"{prefix}{correct}/{total}", style=score_style(correct, total))
