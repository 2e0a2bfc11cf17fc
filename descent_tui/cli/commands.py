"""What each ``descent`` command does; each returns the exit status.

``descent run`` is :func:`run_command`: train a scenario without the app and
print what happened. It reads ``args.steps`` (None: the scenario's),
``args.every`` (None: about 10 rows per run), ``args.format`` ("table" | "csv"
| "json") and the ``--set KEY=VALUE`` list (``args.overrides``, or
``args.set``), and returns 0, or 2 for a bad ``--set`` (one line
``--set KEY: what is wrong`` on stderr).

Keys of ``--set``: a run setting for every run (``lr=0.1``, ``optimizer=adam``,
``beta1=0.8`` ...), one run's (``runs.SGD.lr=0.05`` or ``runs[0].lr=0.05``), the
scenario's ``steps`` / ``seed`` / ``diverge_above``, or any other dotted path into
the document (``network.data.noise=0.3``, ``landscape.start=[1, 2]``).

Rows are printed for step 0, every ``every``-th step and the last one, plus the
step at which each run diverged; csv and json keep stdout parseable by sending
the progress bar and the divergence summary to stderr. Row ``k`` is the state
after ``k`` updates (row 0: the start); docs/cli.md says what each column means.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from descent_tui.cli.parser import EXIT_OK, EXIT_USAGE
from descent_tui.cli.printing import REPORTS, Progress, one_line, row, safe_text

__all__ = ["HANDLERS", "PROGRESS_MIN_WORK", "run_command"]

#: show a progress bar (on a TTY) when the run does more run-steps than this
PROGRESS_MIN_WORK = 20_000


def _err(message: str) -> None:
    sys.stderr.write(one_line(message) + "\n")


def cmd_validate(args: argparse.Namespace) -> int:
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
        print(f"ok: {safe_text(f)} ({loaded.id})")
    return EXIT_USAGE if bad else EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from descent_tui.scenario.catalog import discover

    good, broken = discover(args.scenarios)
    rows = [("ID", "TITLE", "KIND", "SOURCE")]
    rows += [(g.id, safe_text(g.title), g.kind, g.source) for g in good]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    if not good:
        print("(no scenarios found)")
    if broken:
        print()
        print(f"broken ({len(broken)}):")
        for b in broken:
            print(f"  [{b.source}] {one_line(b.message)}")  # the message starts with the file
    return EXIT_OK


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line if line.strip() else "" for line in text.strip().splitlines())


def cmd_show(args: argparse.Namespace) -> int:
    from descent_tui.scenario.catalog import find

    loaded = find(args.target, args.scenarios)
    spec = loaded.spec
    t = safe_text  # every text the scenario supplies is printed through it
    out = [f"{t(spec.title)}  [{spec.id}]",
           (f"chapter {spec.chapter}.{spec.order} - {spec.kind} - {spec.steps} steps"
           f" - {t(loaded.path or '(no file)')}")]
    if spec.briefing.strip():
        out += ["", "BRIEFING", _indent(t(spec.briefing, multiline=True))]
    if spec.landscape is not None:
        land = spec.landscape
        out += ["", "LANDSCAPE", f"  loss({', '.join(land.params)}) = {t(land.loss)}",
                f"  start = {list(land.start)}"]
    if spec.network is not None:
        net = spec.network
        batch = "full batch" if net.batch_size == 0 else f"batch {net.batch_size}"
        out += ["", "NETWORK",
                f"  data: {net.data.kind} (n = {net.data.n}), loss: {net.loss}, {batch}",
                (f"  layers: {net.model.layers}, activation: {net.model.activation},"
                f" init: {net.model.init}")]
    if spec.watch_for:
        out += ["", "WATCH FOR"] + [f"  - {t(w)}" for w in spec.watch_notes]
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
        out.append(f"  - {t(run.label)}: {run.optimizer}, lr {run.lr:g}{tail}")
    knobs = spec.knobs.present()
    if knobs:
        out += ["", "KNOBS"]
        for name, k in knobs.items():
            rng = t(", ".join(k.choices)) if k.choices else f"{k.min:g} .. {k.max:g}"
            out.append(f"  {name}: {rng}")
    questions = [(q.question, q.choices) for q in spec.quiz.prediction]
    questions += [(q.question, q.choices) for q in spec.quiz.concept]
    if questions:
        out += ["", "QUIZ"]
        for i, (question, choices) in enumerate(questions, 1):
            out.append(f"  {i}. {t(question.strip())}")
            out += [f"     {chr(ord('a') + j)}) {t(c)}" for j, c in enumerate(choices)]
    print("\n".join(out))
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from descent_tui.scenario.catalog import find

    scenario = find(args.target, args.scenarios)
    # run_command checks --set itself: one line per problem, exit 2
    return int(run_command(scenario, args) or 0)


def cmd_play(args: argparse.Namespace) -> int:
    from descent_tui.classroom import ClassroomError
    from descent_tui.cli.classroom import class_options

    try:
        opts = class_options(args)  # --class, --call-sign, --missions, --lock-knobs
    except ClassroomError as e:
        _err(f"descent: {e}")
        return EXIT_USAGE
    extra = opts.pack if opts.pack is not None else list(args.scenarios)
    initial: Any = None
    target = getattr(args, "target", None)
    if target:
        from descent_tui.scenario.catalog import find

        initial = find(target, extra)
    try:
        from descent_tui.tui.app import run_app
    except ImportError as e:
        _err(f"descent: the app is not available ({e}); try 'descent list' or 'descent run'")
        return EXIT_USAGE
    in_class = {"classroom": opts} if opts.class_name or opts.pack or opts.lock_knobs else {}
    return int(run_app(initial=initial, extra_paths=extra, **in_class) or 0)


def cmd_report(args: argparse.Namespace) -> int:
    from descent_tui.cli.classroom import cmd_report as report

    return report(args)


def cmd_serve(args: argparse.Namespace) -> int:
    from descent_tui.cli.classroom import cmd_serve as serve

    return serve(args)


def cmd_export(args: argparse.Namespace) -> int:
    """``descent export``: the runs as a script (one run with --run); exit 2 on bad input."""
    from descent_tui.export import ExportError, export_script, run_plans
    from descent_tui.scenario.catalog import find
    from descent_tui.scenario.overrides import OverrideError, parse_assignment

    loaded = find(args.target, args.scenarios)
    where = loaded.path or loaded.id
    try:
        changes = [parse_assignment(item) for item in args.overrides]
        if args.steps is not None:
            changes.append(("steps", int(args.steps)))
        plans = _chosen_runs(run_plans(loaded, changes), args.run, where)
        text = "\n\n".join(export_script(p, args.to) for p in plans)
    except OverrideError as e:
        key, message = e.items[0]
        _err(f"{safe_text(str(where))}: --set {key}: {message}")
        return EXIT_USAGE
    except ExportError as e:
        _err(f"{safe_text(str(where))}: {e}")
        return EXIT_USAGE
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _chosen_runs(plans: list[Any], run: str | None, where: Any) -> list[Any]:
    """All runs, or the one ``--run`` names (its label or its number from 1)."""
    from descent_tui.export import ExportError

    if run is None:
        return plans
    for i, p in enumerate(plans, 1):
        if run in (p.label, str(i)):
            return [p]
    labels = ", ".join(repr(p.label) for p in plans)
    raise ExportError(f"--run {run}: no such run (runs: {labels})")


HANDLERS = {
    "validate": cmd_validate,
    "list": cmd_list,
    "show": cmd_show,
    "run": cmd_run,
    "export": cmd_export,
    "play": cmd_play,
    "report": cmd_report,
    "serve": cmd_serve,
}


# ------------------------------------------------------------------ descent run


def run_command(loaded: Any, args: Any) -> int:
    """Run ``loaded`` headless as ``descent run`` asks; return the exit status."""
    sim = _simulation(loaded, args)
    if isinstance(sim, int):
        return sim
    if getattr(args, "fork_at", None) is not None:
        return _run_with_forks(sim, args)
    total = sim.total_steps
    every = getattr(args, "every", None) or max(1, total // 10)
    report = REPORTS[getattr(args, "format", None) or "table"](sim, sys.stdout)
    progress = Progress(total, enabled=sys.stderr.isatty()
                        and total * len(sim.runs) >= PROGRESS_MIN_WORK)
    report.header()
    _train_and_print(sim, every, report, progress)
    report.finish(every)
    _print_divergence(sim, sys.stderr if report.summary_to_stderr else sys.stdout)
    return 0


def _simulation(loaded: Any, args: Any) -> Any:
    """The Simulation ``args`` asks for, or the exit status 2 after a one-line error."""
    from descent_tui.scenario.errors import MAX_PROBLEMS, more_line
    from descent_tui.scenario.overrides import OverrideError, apply, parse_assignment
    from descent_tui.sim import Simulation

    items = list(getattr(args, "overrides", None) or getattr(args, "set", None) or [])
    if getattr(args, "fork_at", None) is not None:
        items = []  # with --fork-at, --set changes the forks (cli/fork.py)
    steps = getattr(args, "steps", None)
    try:
        changes = [parse_assignment(item) for item in items]
        if steps is not None:
            changes.append(("steps", int(steps)))
        loaded = apply(loaded, changes)
    except OverrideError as e:
        for key, message in e.items[:MAX_PROBLEMS]:
            shown = key if len(key) <= 80 else key[:77] + "..."
            flag = "--steps" if key == "steps" and steps is not None else f"--set {shown}"
            _err(f"{flag}: {message}")
        if len(e.items) > MAX_PROBLEMS:
            _err(more_line("--set", len(e.items) - MAX_PROBLEMS, "problems"))
        return EXIT_USAGE
    try:
        return Simulation(loaded)
    except ValueError as e:
        _err(f"--set: {e}")
        return EXIT_USAGE


def _train_and_print(sim: Any, every: int, report: Any, progress: Progress) -> None:
    """Step ``sim`` to the end, handing ``report`` the starting rows, then each printed step's."""
    out = sys.stdout
    total = sim.total_steps

    def emit(batch: list[dict[str, Any]]) -> None:
        if not batch:
            return
        progress.clear()
        report.rows(batch)
        out.flush()

    emit([row(0, rs) for rs in sim.runs])  # step 0: the starting point
    reported: set[int] = set()  # runs whose divergence row was emitted
    chunk = every if not progress.enabled else max(1, min(every, 200))
    while not sim.done and sim.step_count < total:
        target = min(total, sim.step_count + chunk)
        sim.step(target - sim.step_count)
        emit(_rows_now(sim, every, reported))
        progress.draw(sim.step_count)
    progress.clear()


def _rows_now(sim: Any, every: int, reported: set[int]) -> list[dict[str, Any]]:
    """The rows to print after a chunk: each live run at a printed step, new divergences."""
    batch = []
    at_print = sim.step_count % every == 0 or sim.step_count >= sim.total_steps
    for rs in sim.runs:
        if rs.diverged:
            if rs.index not in reported:
                reported.add(rs.index)
                batch.append(row(rs.diverged_at, rs))
        elif at_print:
            batch.append(row(sim.step_count, rs))
    batch.sort(key=lambda r: r["step"])
    return batch


def _run_with_forks(sim: Any, args: Any) -> int:
    """``descent run --fork-at STEP``: the runs and their forks (see :mod:`descent_tui.cli.fork`)."""
    from descent_tui.cli.fork import Race, fork_runs, race_rows

    items = list(getattr(args, "overrides", None) or getattr(args, "set", None) or [])
    at = int(args.fork_at)
    timeline = fork_runs(sim, items, at, _err)
    if isinstance(timeline, int):
        return timeline
    race = Race(sim, timeline)
    total = sim.total_steps
    every = getattr(args, "every", None) or max(1, total // 10)
    report = REPORTS[getattr(args, "format", None) or "table"](race, sys.stdout)
    report.header()
    reported: set[int] = set()
    report.rows(race_rows(race, every, reported, row))  # step 0 (and forks made there)
    while not sim.done and sim.step_count < total:
        target = min(total, sim.step_count + every)
        if sim.step_count < at < target:
            target = at
        sim.step(target - sim.step_count)
        report.rows(race_rows(race, every, reported, row))
    report.finish(every)
    _print_divergence(race, sys.stderr if report.summary_to_stderr else sys.stdout)
    return 0


def _print_divergence(sim: Any, out: TextIO) -> None:
    diverged = [rs for rs in sim.runs if rs.diverged]
    if diverged:
        print(f"{len(diverged)} of {len(sim.runs)} runs diverged:", file=out)
        for rs in diverged:
            print(f"  {safe_text(rs.label)}: {safe_text(rs.reason)}", file=out)
