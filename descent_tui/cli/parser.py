"""The ``descent`` command line's arguments (argparse), errors as one line and exit 2."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from descent_tui import __version__

__all__ = ["COMMANDS", "EXIT_OK", "EXIT_USAGE", "build_parser", "normalise"]

EXIT_OK = 0
EXIT_USAGE = 2

COMMANDS = ("validate", "list", "show", "run", "export", "play", "report", "serve")
#: options of the app that take a value (``descent --class 7b`` opens the app)
_APP_VALUE_OPTIONS = ("--class", "--call-sign", "--missions")


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"descent: error: {message} (see 'descent --help')\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="descent",
        description="Watch neural networks learn, one gradient step at a time.",
        epilog="With no command, or with just a scenario id or file, the app opens.",
    )
    p.add_argument("--version", action="version", version=f"descent {__version__}")
    p.add_argument("-p", "--scenarios", metavar="PATH", action="append", default=[],
                   help="extra scenario file or directory (repeatable)")
    _class_options(p, default=None)
    p.add_argument("--call-sign", dest="call_sign", default=None,
                   help="the student's call sign (with --class; asked for when not given)")
    common = _Parser(add_help=False)
    common.add_argument("-p", "--scenarios", dest="sub_scenarios", metavar="PATH",
                        action="append", default=[],
                        help="extra scenario file or directory (repeatable)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    v = sub.add_parser("validate", parents=[common], help="check scenario files")
    v.add_argument("files", nargs="+", metavar="FILE")

    sub.add_parser("list", parents=[common], help="list the available scenarios")

    s = sub.add_parser("show", parents=[common], help="print a scenario as text")
    s.add_argument("target", metavar="ID|FILE")

    _training_commands(sub, common)
    _class_commands(sub, common)
    return p


def _training_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """``run`` and ``export``: train a scenario headless, or write it out as a script."""
    r = sub.add_parser("run", parents=[common],
                       help="train a scenario without the app and print the losses")
    r.add_argument("target", metavar="ID|FILE")
    r.add_argument("--steps", type=_positive_int, default=None, help="training steps")
    r.add_argument("--every", type=_positive_int, default=None, metavar="K",
                   help="print every K-th step")
    r.add_argument("--format", choices=("table", "csv", "json"), default="table")
    r.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="KEY=VALUE", help="override a setting, e.g. lr=0.1 or runs[0].lr=0.5")
    r.add_argument("--fork-at", dest="fork_at", type=_step_number, default=None, metavar="STEP",
                   help="also fork the runs at STEP, with the --set changes applied to the forks")

    e = sub.add_parser("export", parents=[common],
                       help="write a standalone script that reproduces a scenario's runs")
    e.add_argument("target", metavar="ID|FILE")
    e.add_argument("--to", dest="to", choices=("numpy", "torch", "engine"), default="engine",
                   help="numpy (gradients by hand), torch (PyTorch) or engine (descent's)")
    e.add_argument("--run", default=None, metavar="LABEL|N",
                   help="export this run only (its label, or its number from 1)")
    e.add_argument("--steps", type=_positive_int, default=None, help="training steps")
    e.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="KEY=VALUE", help="override a setting, as for 'descent run'")
    e.add_argument("-o", "--output", default=None, metavar="FILE",
                   help="write the script here (default: standard output)")


def _class_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """``play``, ``report`` and ``serve``: the app, and the app for a class."""
    a = sub.add_parser("play", parents=[common], help="open the app (the default command)")
    a.add_argument("target", nargs="?", metavar="ID|FILE")
    _class_options(a, default=argparse.SUPPRESS)
    a.add_argument("--call-sign", dest="call_sign", default=argparse.SUPPRESS,
                   help="the student's call sign (with --class; asked for when not given)")

    g = sub.add_parser("report", help="the gradebook of a class (CSV or JSON)")
    g.add_argument("--class", dest="class_name", metavar="NAME", default=None,
                   help="the class (default: the only one there is)")
    g.add_argument("--format", choices=("csv", "json"), default="csv")
    g.add_argument("-o", "--output", metavar="FILE", default=None, help="write to FILE")

    w = sub.add_parser("serve", help="serve the app to a class in web browsers")
    w.add_argument("--host", default="localhost",
                   help="address to listen on (default: localhost, this machine only)")
    w.add_argument("--port", type=_port, default=8000, help="port (default: 8000)")
    _class_options(w, default=None)


def _class_options(p: argparse.ArgumentParser, default: object) -> None:
    """``--class``, ``--missions`` and ``--lock-knobs``: what a class is and may use."""
    p.add_argument("--class", dest="class_name", metavar="NAME", default=default,
                   help="keep progress per class and call sign")
    p.add_argument("--missions", metavar="DIR", default=default,
                   help="limit the class to the missions (*.toml) in DIR")
    p.add_argument("--lock-knobs", dest="lock_knobs", action="store_true", default=default,
                   help="fix every mission's settings (no knobs)")


def _whole_number(what: str, low: int, high: int | None = None) -> Any:
    """An argparse ``type=``: ``text`` as a whole number from ``low`` (to ``high``)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f">= {low}"
            raise argparse.ArgumentTypeError(f"expected {what} {bound}, got {value}")
        return value

    return parse


_port = _whole_number("a port number", 1, 65535)
_positive_int = _whole_number("a whole number", 1)
_step_number = _whole_number("a step number", 0)


def normalise(argv: list[str]) -> list[str]:
    """``descent [opts] TARGET`` -> ``descent [opts] play TARGET``; no command -> play."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-p", "--scenarios", *_APP_VALUE_OPTIONS):
            if i + 1 >= len(argv):
                return argv  # no path after it: argparse says so
            i += 2
            continue
        if a.startswith(("--scenarios=", *(o + "=" for o in _APP_VALUE_OPTIONS))) or (
                a.startswith("-p") and len(a) > 2) or a == "--lock-knobs":
            i += 1
            continue
        if a.startswith("-"):
            return argv  # --help / --version / unknown option: let argparse handle it
        if a in COMMANDS:
            return argv
        return argv[:i] + ["play"] + argv[i:]
    return argv + ["play"]
