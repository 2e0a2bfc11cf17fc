"""Reading a file a stranger named, safely: only a regular file, never blocking,
never more than a size limit, never outside the folders it may come from.

* :func:`read_regular` returns the bytes of a regular file of at most
  ``max_bytes``.  A FIFO, a device (``/dev/zero``), a socket or a directory is
  refused from its ``stat`` before anything is opened, and the file is opened
  with ``O_NONBLOCK`` and checked again, so nothing can make it wait.
* :func:`inside` says whether a path, symlinks followed, lies in one of some
  folders: how a scenario's data file is kept within the scenario's folder.

Both raise :class:`Unreadable` (a ``ValueError``) whose ``reason`` is a short
phrase without the file's name or contents, for the caller to put after it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

__all__ = ["Unreadable", "inside", "read_regular"]

_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class Unreadable(ValueError):
    """A file that was refused; ``reason`` says why (``"file not found"``), ``kind``
    is one of ``missing``, ``directory``, ``special``, ``large``, ``error``."""

    def __init__(self, kind: str, reason: str) -> None:
        self.kind = kind
        self.reason = reason
        super().__init__(reason)


def _check_mode(mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise Unreadable("directory", "is a directory")
    if not stat.S_ISREG(mode):
        what = next((name for test, name in _KINDS if test(mode)), "a special file")
        raise Unreadable("special", f"not a regular file ({what})")


def _too_large(size: int, max_bytes: int) -> Unreadable:
    return Unreadable("large", f"file too large ({size} bytes, max {max_bytes})")


def read_regular(path: str | Path, max_bytes: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``max_bytes`` of them."""
    try:
        _check_mode(os.stat(path).st_mode)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise Unreadable("missing", "file not found") from None
    except OSError as e:
        raise Unreadable("error", f"cannot read: {e.strerror or e}") from None
    try:
        st = os.fstat(fd)
        _check_mode(st.st_mode)  # the same file as the one stat saw
        if st.st_size > max_bytes:
            raise _too_large(st.st_size, max_bytes)
        chunks, left = [], max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as e:
        raise Unreadable("error", f"cannot read: {e.strerror or e}") from None
    finally:
        os.close(fd)
    raw = b"".join(chunks)
    if len(raw) > max_bytes:  # it grew while we read
        raise _too_large(len(raw), max_bytes)
    return raw


def inside(path: Path, folders: Iterable[Path]) -> bool:
    """``path``, with ``..`` and every symlink resolved, lies in one of ``folders``."""
    try:
        real = path.resolve()
        return any(real.is_relative_to(folder.resolve()) for folder in folders)
    except (OSError, RuntimeError):  # a symlink loop
        return False
