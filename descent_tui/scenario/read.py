"""From a file (or bytes, or text) to a TOML tree, with guards.

``read_file(path)`` returns the raw bytes of a scenario file; ``parse_text``
decodes bytes or text and parses it as TOML.  Both refuse, with a
:class:`~descent_tui.scenario.errors.ScenarioError` of one line
``name[:line]: what is wrong``, whatever is not a reasonable scenario
document: missing, a directory, a FIFO or device, larger than
:data:`MAX_BYTES`, binary, not UTF-8, empty, bad TOML.  :func:`depth` measures how deeply a tree nests, so the
rules can refuse one deeper than :data:`MAX_DEPTH` before walking it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from descent_tui.data.files import Unreadable, read_regular
from descent_tui.scenario.errors import ScenarioError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "depth", "parse_text", "read_file"]

MAX_BYTES = 1_000_000
MAX_DEPTH = 20

_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def _fail(name: str, message: str) -> ScenarioError:
    return ScenarioError([f"{name}: {message}"], name)


def read_file(path: Path, name: str) -> bytes:
    """The bytes of the scenario file ``path`` (``name`` is how problems call it).

    Only a regular file is opened, without blocking (a FIFO named ``x.toml``
    is refused, not waited on), and never more than :data:`MAX_BYTES` is read.
    """
    try:
        return read_regular(path, MAX_BYTES)
    except Unreadable as e:
        reason = "is a directory, not a scenario file" if e.kind == "directory" else e.reason
        raise _fail(name, reason) from None


def _decode(raw: bytes, name: str) -> str:
    if len(raw) > MAX_BYTES:
        raise _fail(name, f"file too large ({len(raw)} bytes, max {MAX_BYTES})")
    if b"\x00" in raw:
        raise _fail(name, "binary file, not TOML text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise _fail(name, f"not UTF-8 text (bad byte 0x{raw[e.start]:02x} at offset {e.start})"
                    ) from None


def _parse_toml(text: str, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = _TOML_POS.search(msg)
        if m:
            msg = _TOML_POS.sub("", msg)
            raise ScenarioError([(f"{name}:{m.group(1)}: TOML syntax error: {msg}"
                                 f" (column {m.group(2)})")], name) from None
        msg = msg.replace(" (at end of document)", "")
        line = text.count("\n") + 1
        raise ScenarioError([f"{name}:{line}: TOML syntax error: {msg} (at end of file)"],
                            name) from None
    except RecursionError:
        raise _fail(name, "document nested too deeply") from None
    except MemoryError:
        raise _fail(name, "document too large to parse") from None
    except Exception as e:
        raise _fail(name, f"TOML error: {type(e).__name__}: {e}") from None


def parse_text(text: str | bytes, name: str) -> tuple[str, dict[str, Any]]:
    """Decode (bytes) and parse scenario text; return ``(text, TOML tree)``."""
    if isinstance(text, (bytes, bytearray)):
        text = _decode(bytes(text), name)
    if not isinstance(text, str):
        raise _fail(name, "expected TOML text")
    if len(text) > MAX_BYTES:
        raise _fail(name, f"file too large (max {MAX_BYTES} bytes)")
    if "\x00" in text:
        raise _fail(name, "binary file, not TOML text")
    if not text.strip():
        raise _fail(name, "empty file (expected a TOML scenario)")
    return text, _parse_toml(text, name)


def depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of a TOML tree, iteratively (stops counting past ``limit``)."""
    best = 0
    stack: list[tuple[Any, int]] = [(value, 0)] if isinstance(value, (dict, list)) else []
    while stack:
        v, d = stack.pop()
        if d > best:
            best = d
            if best > limit:
                return best
        children = list(v.values() if isinstance(v, dict) else v)
        if children and d + 1 > best:  # a child, container or not, stands one deeper
            best = d + 1
            if best > limit:
                return best
        stack.extend((c, d + 1) for c in children if isinstance(c, (dict, list)))
    return best
