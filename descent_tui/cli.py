"""The ``descent`` command line.

    descent                       open the app (mission list)
    descent ID|FILE               open the app on one scenario
    descent validate FILE...      check scenario files (exit 2 if any is bad)
    descent list                  list the scenarios found
    descent show ID|FILE          print a scenario's briefing, runs and quiz
    descent run ID|FILE [...]     train headless and print the losses

Every user error is one line on stderr and exit status 2, never a traceback.
Set DESCENT_DEBUG=1 to see tracebacks of internal errors.
Imports are lazy so ``--help``, ``--version``, ``validate`` and ``list`` start fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from descent_tui import __version__

__all__ = ["build_parser", "main"]

EXIT_OK = 0
EXIT_USAGE = 2

_COMMANDS = ("validate", "list", "show", "run", "play")


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

    r = sub.add_parser("run", parents=[common],
                       help="train a scenario without the app and print the losses")
    r.add_argument("target", metavar="ID|FILE")
    r.add_argument("--steps", type=_positive_int, default=None, help="training steps")
    r.add_argument("--every", type=_positive_int, default=None, metavar="K",
                   help="print every K-th step")
    r.add_argument("--format", choices=("table", "csv", "json"), default="table")
    r.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="KEY=VALUE", help="override a setting, e.g. lr=0.1 or runs[0].lr=0.5")

    a = sub.add_parser("play", parents=[common], help="open the app (the default command)")
    a.add_argument("target", nargs="?", metavar="ID|FILE")
    return p


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _err(message: str) -> None:
    sys.stderr.write(message.rstrip("\n") + "\n")


# ------------------------------------------------------------------- commands


def _cmd_validate(args: argparse.Namespace) -> int:
    from descent_tui.scenario.errors import ScenarioError
    from descent_tui.scenario.loader import load_scenario

    bad = 0
    for f in args.files:
        try:
            loaded = load_scenario(f)
        except ScenarioError as e:
            bad += 1
            for problem in e.problems:
                _err(problem)
            continue
        print(f"ok: {f} ({loaded.id})")
    return EXIT_USAGE if bad else EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    from descent_tui.scenario.catalog import discover

    good, broken = discover(args.scenarios)
    rows = [("ID", "TITLE", "KIND", "SOURCE")]
    rows += [(g.id, g.title, g.kind, g.source) for g in good]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    if not good:
        print("(no scenarios found)")
    if broken:
        print()
        print(f"broken ({len(broken)}):")
        for b in broken:
            print(f"  [{b.source}] {b.message}")  # the message starts with the file
    return EXIT_OK


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line if line.strip() else "" for line in text.strip().splitlines())


def _cmd_show(args: argparse.Namespace) -> int:
    from descent_tui.scenario.catalog import find

    loaded = find(args.target, args.scenarios)
    spec = loaded.spec
    out = [f"{spec.title}  [{spec.id}]",
           (f"chapter {spec.chapter}.{spec.order} - {spec.kind} - {spec.steps} steps"
           f" - {loaded.path or '(no file)'}")]
    if spec.briefing.strip():
        out += ["", "BRIEFING", _indent(spec.briefing)]
    if spec.landscape is not None:
        land = spec.landscape
        out += ["", "LANDSCAPE", f"  loss({', '.join(land.params)}) = {land.loss}",
                f"  start = {list(land.start)}"]
    if spec.network is not None:
        net = spec.network
        batch = "full batch" if net.batch_size == 0 else f"batch {net.batch_size}"
        out += ["", "NETWORK",
                f"  data: {net.data.kind} (n = {net.data.n}), loss: {net.loss}, {batch}",
                (f"  layers: {net.model.layers}, activation: {net.model.activation},"
                f" init: {net.model.init}")]
    if spec.watch_for:
        out += ["", "WATCH FOR"] + [f"  - {w}" for w in spec.watch_for]
    out += ["", "RUNS"]
    for run in spec.runs:
        extra = []
        if run.effective_momentum:
            extra.append(f"momentum {run.effective_momentum:g}")
        if run.schedule is not None and run.schedule.kind != "constant":
            extra.append(f"schedule {run.schedule.kind}")
        if run.clip_norm is not None:
            extra.append(f"clip_norm {run.clip_norm:g}")
        if run.forget_zero_grad:
            extra.append("forgets zero_grad")
        tail = f" ({', '.join(extra)})" if extra else ""
        out.append(f"  - {run.label}: {run.optimizer}, lr {run.lr:g}{tail}")
    knobs = spec.knobs.present()
    if knobs:
        out += ["", "KNOBS"]
        for name, k in knobs.items():
            rng = ", ".join(k.choices) if k.choices else f"{k.min:g} .. {k.max:g}"
            out.append(f"  {name}: {rng}")
    questions = [(q.question, q.choices) for q in spec.quiz.prediction]
    questions += [(q.question, q.choices) for q in spec.quiz.concept]
    if questions:
        out += ["", "QUIZ"]
        for i, (question, choices) in enumerate(questions, 1):
            out.append(f"  {i}. {question.strip()}")
            out += [f"     {chr(ord('a') + j)}) {c}" for j, c in enumerate(choices)]
    print("\n".join(out))
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    from descent_tui.scenario.catalog import find

    scenario = find(args.target, args.scenarios)
    try:  # run_command checks --set itself: one line per problem, exit 2
        from descent_tui.sim.headless import run_command
    except ImportError as e:
        _err(f"descent: headless runs are not available ({e})")
        return EXIT_USAGE
    return int(run_command(scenario, args) or 0)


def _cmd_play(args: argparse.Namespace) -> int:
    initial: Any = None
    if args.target:
        from descent_tui.scenario.catalog import find

        initial = find(args.target, args.scenarios)
    try:
        from descent_tui.tui.app import run_app
    except ImportError as e:
        _err(f"descent: the app is not available ({e}); try 'descent list' or 'descent run'")
        return EXIT_USAGE
    return int(run_app(initial=initial, extra_paths=list(args.scenarios)) or 0)


_HANDLERS = {
    "validate": _cmd_validate,
    "list": _cmd_list,
    "show": _cmd_show,
    "run": _cmd_run,
    "play": _cmd_play,
}


def _normalise(argv: list[str]) -> list[str]:
    """``descent [opts] TARGET`` -> ``descent [opts] play TARGET``; no command -> play."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-p", "--scenarios"):
            i += 2
            continue
        if a.startswith("--scenarios=") or (a.startswith("-p") and len(a) > 2):
            i += 1
            continue
        if a.startswith("-"):
            return argv  # --help / --version / unknown option: let argparse handle it
        if a in _COMMANDS:
            return argv
        return argv[:i] + ["play"] + argv[i:]
    return argv + ["play"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    from descent_tui.scenario.errors import ScenarioError

    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(_normalise(args_list))
        args.scenarios = [*args.scenarios, *getattr(args, "sub_scenarios", [])]
        return _HANDLERS[args.command](args)
    except SystemExit as e:
        code = e.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_USAGE)
    except ScenarioError as e:
        for problem in e.problems:
            _err(problem)
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("descent: interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as e:
        _err(f"descent: {e.filename + ': ' if e.filename else ''}{e.strerror or e}")
        return EXIT_USAGE
    except Exception as e:  # one line, never a traceback
        import os

        if os.environ.get("DESCENT_DEBUG"):
            raise
        _err(f"descent: internal error: {type(e).__name__}: {e}")
        return 1
