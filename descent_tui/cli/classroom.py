"""The classroom's commands: ``descent serve`` (the teacher starts a class) and
``descent report`` (the teacher collects the results), and the class options of
``descent play`` (``--class``, ``--call-sign``, ``--missions``, ``--lock-knobs``).

Every user error is one line on stderr and exit status 2: a bad class name or call
sign, a missing or broken mission pack, an unknown class, a port already in use,
textual-serve not installed.
"""

from __future__ import annotations

import argparse
import errno
import shlex
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from descent_tui.cli.parser import EXIT_OK, EXIT_USAGE
from descent_tui.cli.printing import one_line

__all__ = ["ClassOptions", "class_options", "cmd_report", "cmd_serve", "serve_command"]

LOOPBACK = ("localhost", "127.0.0.1", "::1")


def _err(message: str) -> None:
    sys.stderr.write(one_line(message) + "\n")


@dataclass(frozen=True)
class ClassOptions:
    """What ``--class`` / ``--call-sign`` / ``--missions`` / ``--lock-knobs`` asked for."""

    class_name: str | None = None
    call_sign: str | None = None
    pack: Any = None  # a MissionPack, or None: every mission
    lock_knobs: bool = False


def class_options(args: argparse.Namespace) -> ClassOptions:
    """The validated class options of ``args``; ClassroomError (one line) if one is bad."""
    from descent_tui.classroom import (
        ClassroomError,
        mission_pack,
        validate_call_sign,
        validate_class_name,
    )

    name = getattr(args, "class_name", None)
    sign = getattr(args, "call_sign", None)
    if name is not None:
        validate_class_name(name)
    if sign is not None:
        if name is None:
            raise ClassroomError("--call-sign needs --class NAME (the class the student is in)")
        validate_call_sign(sign)
    missions = getattr(args, "missions", None)
    pack = mission_pack(missions) if missions is not None else None
    return ClassOptions(name, sign, pack, bool(getattr(args, "lock_knobs", False)))


# ------------------------------------------------------------------ descent report


def cmd_report(args: argparse.Namespace) -> int:
    """Print (or write to ``-o FILE``) the gradebook of ``--class`` as CSV or JSON."""
    from descent_tui.classroom import ClassroomError, classes
    from descent_tui.gradebook import class_rows, to_csv, to_json

    name = args.class_name
    try:
        if name is None:
            found = classes()
            if len(found) != 1:
                listed = ", ".join(found[:10]) if found else "none yet (start one: descent serve)"
                _err(f"descent report: which class? use --class NAME; classes: {listed}")
                return EXIT_USAGE
            name = found[0]
        rows = class_rows(name)
    except ClassroomError as e:
        _err(f"descent report: {e}")
        return EXIT_USAGE
    text = to_csv(rows) if args.format == "csv" else to_json(rows, name)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"{len(rows)} row(s) of class {name} written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


# ------------------------------------------------------------------ descent serve


def serve_command(opts: ClassOptions) -> str:
    """The shell command textual-serve runs for each browser tab: ``descent play`` in the class."""
    parts = [sys.executable, "-m", "descent_tui", "play", "--class", str(opts.class_name)]
    if opts.pack is not None:
        parts += ["--missions", str(opts.pack[0])]
    if opts.lock_knobs:
        parts.append("--lock-knobs")
    return shlex.join(parts)


def port_free(host: str, port: int) -> str | None:
    """None if ``host:port`` can be listened on, else the reason (one line)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as e:
        return f"--host {host}: cannot resolve it ({e.strerror or e})"
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        try:
            sock.bind(address)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                return f"--port {port}: already in use on {host} (stop the other server or pick --port)"
            return f"--host {host} --port {port}: cannot listen there ({e.strerror or e})"
    return None


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the app on ``--host``:``--port``: every browser tab its own ``descent play``."""
    from descent_tui.classroom import DEFAULT_CLASS, ClassroomError, open_class

    try:
        opts = class_options(args)
        if opts.class_name is None:
            opts = ClassOptions(DEFAULT_CLASS, None, opts.pack, opts.lock_knobs)
        where = open_class(opts.class_name or DEFAULT_CLASS)
    except ClassroomError as e:
        _err(f"descent serve: {e}")
        return EXIT_USAGE
    try:
        from textual_serve.server import Server
    except ImportError:
        _err('descent serve: textual-serve is not installed; pip install "descent-tui[serve]"')
        return EXIT_USAGE
    problem = port_free(args.host, args.port)
    if problem:
        _err(f"descent serve: {problem}")
        return EXIT_USAGE
    if args.host not in LOOPBACK:
        _err(f"descent serve: warning: listening on {args.host}: anyone who can reach this"
             f" machine on port {args.port} can use it (no passwords)")
    print(f"class {opts.class_name}: progress in {where}; gradebook: descent report --class"
          f" {opts.class_name}", file=sys.stderr)
    Server(serve_command(opts), host=args.host, port=args.port, title="descent").serve()
    return EXIT_OK
