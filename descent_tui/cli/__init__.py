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

:mod:`~descent_tui.cli.parser` reads the arguments, :mod:`~descent_tui.cli.commands`
carries them out, :mod:`~descent_tui.cli.printing` formats ``descent run``'s output.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from descent_tui.cli.blas import pin_blas_threads

pin_blas_threads()  # before anything imports NumPy: see descent_tui.cli.blas

from descent_tui.cli.parser import EXIT_OK, EXIT_USAGE, build_parser, normalise  # noqa: E402

__all__ = ["build_parser", "main"]


def _err(message: str) -> None:
    from descent_tui.cli.printing import one_line

    sys.stderr.write(one_line(message) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    from descent_tui.cli import commands
    from descent_tui.scenario.errors import ScenarioError

    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(normalise(args_list))
        args.scenarios = [*args.scenarios, *getattr(args, "sub_scenarios", [])]
        return commands.HANDLERS[args.command or "play"](args)
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
