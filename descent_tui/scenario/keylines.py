"""Where each key of a TOML document stands in its text.

A key path names one place in a scenario the way problems report it:
``runs[1].optimizer``, ``network.data.kind``, ``quiz.concept[0].answer``
(tables joined by dots, array elements by a 0-based ``[i]``).
``key_lines(text)`` maps every path it can see to its 1-based line number;
``lookup_line(lines, path)`` finds the line of a path or, failing that, of the
nearest enclosing table or element.  The map is best effort (a line-by-line
scan, not a second TOML parser): it serves only to point a reader at the right
line.
"""

from __future__ import annotations

import re

__all__ = ["join_path", "key_lines", "lookup_line", "split_key"]

_KEY = r"""(?:[A-Za-z0-9_\-]+|"[^"]*"|'[^']*')"""
_KEYLINE = re.compile(rf"^\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*=")
_PART = re.compile(r"""[A-Za-z0-9_\-]+|"[^"]*"|'[^']*'""")
_TRAIL = re.compile(r"(\[\d+\]|\.[^.\[\]]+)$")
#: a key longer than this is not looked for (its line is still found via its table)
_KEY_SPAN = 400


def join_path(path: str, key: str | int) -> str:
    """``path`` extended by a table key (``a.b``) or an array index (``a[2]``)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def split_key(key: str) -> list[str]:
    """The parts of a dotted TOML key, quotes removed: ``a."b.c"`` -> ``['a', 'b.c']``."""
    return [p.strip("\"'") for p in _PART.findall(key)]


def _header_path(parts: list[str], arrays: dict[str, int], is_array: bool) -> str:
    """The key path of a ``[table]`` / ``[[array]]`` header; updates ``arrays``.

    ``arrays`` maps each array-of-tables (written without indices) to the index of
    its current element, so ``[runs.schedule]`` under the second ``[[runs]]``
    becomes ``runs[1].schedule``.
    """
    path = ""
    raw = ""
    for part in parts:
        raw = f"{raw}.{part}" if raw else part
        path = join_path(path, part)
        if raw in arrays and raw != ".".join(parts):
            path = join_path(path, arrays[raw])
    if is_array:
        arrays[raw] = arrays.get(raw, -1) + 1
        path = join_path(path, arrays[raw])
        # a new element resets the indices of arrays nested in it
        for other in list(arrays):
            if other.startswith(raw + "."):
                del arrays[other]
    return path


def _header(line: str) -> tuple[str, bool] | None:
    """``(key, is_array)`` of a ``[table]`` / ``[[array]]`` header line, else None."""
    s = line.strip()
    is_array = s.startswith("[[")
    if not s.startswith("["):
        return None
    body = s[2:] if is_array else s[1:]
    end = body.find("]")
    close = "]]" if is_array else "]"
    if end < 0 or not body.startswith(close, end) or body.startswith("]]", end) != is_array:
        return None
    key, rest = body[:end].strip(), body[end + len(close):].lstrip()
    if not key or "[" in key or (rest and not rest.startswith("#")):
        return None
    return key, is_array


def _opens_multiline(rest: str) -> str | None:
    """The quote that starts a multi-line string left open on this line, if any."""
    for quote in ('"""', "'''"):
        if rest.count(quote) % 2 == 1:
            return quote
    return None


def key_lines(text: str, wanted: set[str] | None = None) -> dict[str, int]:
    """Best-effort map from key path (``runs[1].optimizer``) to 1-based line number.

    With ``wanted``, the scan stops as soon as every path in it has been seen.
    """
    found: dict[str, int] = {}
    left = set(wanted) if wanted is not None else None
    arrays: dict[str, int] = {}
    prefix = ""
    in_multiline: str | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        header = _header(line) if line.lstrip().startswith("[") else None
        if header is not None:
            path = prefix = _header_path(split_key(header[0]), arrays, header[1])
            if header[1]:  # the array itself stands where its first element does
                array = path[:path.rindex("[")]
                found.setdefault(array, lineno)
                if left is not None:
                    left.discard(array)
        else:
            m = _KEYLINE.match(line[:_KEY_SPAN])
            if not m:
                continue
            path = prefix
            for part in split_key(m.group(1)):
                path = join_path(path, part)
            in_multiline = _opens_multiline(line[m.end():])
        found.setdefault(path, lineno)
        if left is not None:
            left.discard(path)
            if not left:
                break
    return found


def lookup_line(lines: dict[str, int], path: str) -> int | None:
    """The line of ``path``, else of its nearest enclosing key that has one."""
    while path:
        if path in lines:
            return lines[path]
        new = _TRAIL.sub("", path)
        if new == path:
            return None
        path = new
    return None
