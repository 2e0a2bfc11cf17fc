"""Hostile inputs: a mission file from a stranger can't touch the terminal, read the
machine, hang, or crash descent (issue 12, the loader / data / CLI side).

The corpus is in ``tests/hostile/`` (see its README); the cases that need a FIFO,
a symlink or a megabyte are made here in a temporary directory.  Every case runs
under a 2 s deadline (a SIGALRM turns a hang into a failure) and every message
must be a short printable line.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from _scenario_examples import LANDSCAPE, NETWORK

from descent_tui.cli import main
from descent_tui.cli.printing import JsonReport
from descent_tui.scenario import ScenarioError
from descent_tui.scenario.keylines import key_lines
from descent_tui.scenario.loader import MAX_BYTES, load_scenario

HOSTILE = Path(__file__).resolve().parent / "hostile"
REFUSED = sorted((HOSTILE / "refused").glob("*.toml"))
ESCAPES = sorted((HOSTILE / "escapes").glob("*.toml"))
CSV_NET = NETWORK.replace('kind = "spiral"\nn = 90\nclasses = 3',
                          'kind = "csv"\npath = "data.csv"\nfeatures = ["a", "b"]\nlabel = "y"'
                          ).replace("batch_size = 32", "batch_size = 2")
#: what must never reach a terminal raw (newline and tab are fine between lines)
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
LIMIT_S = 2.0
MAX_MESSAGE = 600


class Hung(BaseException):
    """Raised by the deadline's alarm; a BaseException so that no ``except Exception``
    in the code under test can turn a hang into an ordinary error."""


@contextmanager
def deadline(seconds: float = LIMIT_S) -> Iterator[None]:
    """Fail when the block uses more than ``seconds`` of CPU time, and fail (not
    hang) when it waits: a wall-clock alarm a few seconds later interrupts it.
    CPU time, not wall time, so a busy machine does not fail a fast test."""
    def expire(signum, frame):
        raise Hung(f"still waiting after {seconds + 3} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds + 3.0)
    t0 = time.process_time()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert time.process_time() - t0 < seconds


def assert_printable(text: str) -> None:
    bad = CONTROL.search(text)
    assert bad is None, f"raw control character {bad.group()!r} in {text[:200]!r}"


def assert_short_lines(lines: list[str], max_lines: int = 21) -> None:
    assert 1 <= len(lines) <= max_lines, len(lines)
    for line in lines:
        assert len(line) <= MAX_MESSAGE and "\n" not in line, line[:200]
        assert_printable(line)


def refused(path: Path) -> list[str]:
    """The problems of a file that must be refused, within the deadline."""
    with deadline(), pytest.raises(ScenarioError) as e:
        load_scenario(path)
    assert_short_lines(e.value.problems)
    assert not any("internal error" in p for p in e.value.problems), e.value.problems
    return e.value.problems


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    with deadline(10.0 if "run" in argv else LIMIT_S):
        code = main(list(argv))
    out, err = capsys.readouterr()
    assert_printable(out.replace("\n", "").replace("\t", ""))
    assert_printable(err.replace("\n", ""))
    assert "internal error" not in err and "Traceback" not in err
    return code, out, err


# ------------------------------------------------------------- the corpus


@pytest.mark.parametrize("path", REFUSED, ids=lambda p: p.stem)
def test_corpus_file_is_refused_naming_its_key(path):
    key, says = (line.split(":", 1)[1].strip() for line in path.read_text().splitlines()[:2])
    problems = refused(path)
    assert any(f": {key}:" in p and says in p for p in problems), problems
    text = "\n".join(problems)
    assert "root:" not in text and os.environ.get("PATH", "@@") not in text


def test_every_refused_file_is_one_line_each_and_exit_2(capsys):
    code, out, err = cli(capsys, "validate", *map(str, REFUSED))
    assert code == 2 and not out
    assert len(err.splitlines()) >= len(REFUSED)


@pytest.mark.parametrize("path", ESCAPES, ids=lambda p: p.stem)
@pytest.mark.parametrize("argv", [
    ["show", "{f}"], ["list", "-p", "{f}"], ["validate", "{f}"],
    ["run", "{f}", "--steps", "3"], ["run", "{f}", "--steps", "3", "--format", "csv"],
    ["run", "{f}", "--steps", "3", "--format", "json"],
], ids=" ".join)
def test_scenario_text_never_reaches_the_terminal_raw(capsys, descent_home, path, argv):
    code, out, _ = cli(capsys, *(a.format(f=path) for a in argv))
    assert code == 0
    # the texts are printed, their control characters shown as escapes
    assert "ok: " in out if argv[0] == "validate" else ("\\x" in out or "\\u" in out)


def test_a_file_name_with_escapes_is_printed_escaped(capsys, tmp_path):
    path = tmp_path / "evil\x1b]0;pwned\x07.toml"
    path.write_text(LANDSCAPE)
    code, out, _ = cli(capsys, "validate", str(path))
    assert code == 0 and "evil\\x1b" in out


def test_a_broken_file_in_the_list_is_printed_escaped(capsys, descent_home, tmp_path):
    (tmp_path / "a.toml").write_text(LANDSCAPE)
    (tmp_path / "b\x1b[2J.toml").write_text(LANDSCAPE)  # the same id: broken, named by path
    code, out, _ = cli(capsys, "list", "-p", str(tmp_path))
    assert code == 0 and "broken (1)" in out


# ------------------------------------------------------- other files' contents


def csv_mission(tmp_path: Path, csv_text: str | None = None, **replace: str) -> Path:
    text = CSV_NET
    for old, new in replace.items():
        text = text.replace(old, new)
    if csv_text is not None:
        (tmp_path / "data.csv").write_text(csv_text)
    path = tmp_path / "m.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("target", ["/etc/passwd", "/etc/hostname", "/proc/self/environ"])
def test_a_symlink_leading_out_of_the_folder_is_not_followed(tmp_path, target):
    if not os.path.exists(target):
        pytest.skip(f"no {target} on this machine")
    (tmp_path / "data.csv").symlink_to(target)
    problems = refused(csv_mission(tmp_path))
    assert "outside the scenario's folder" in problems[0]


def test_a_folder_the_user_names_may_hold_the_data(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "d.csv").write_text("a,b,y\n1,2,0\n3,4,1\n5,6,2\n")
    mission = tmp_path / "mission"
    mission.mkdir()
    path = csv_mission(mission, **{'"data.csv"': f'"{shared / "d.csv"}"'})
    assert "outside" in refused(path)[0]
    monkeypatch.setenv("DESCENT_DATA_DIRS", str(shared))
    assert load_scenario(path).spec.network.data.features == ["a", "b"]


@pytest.mark.parametrize("n_columns", [9_999, 1_000_000])
def test_a_wide_csv_is_not_listed_in_full(tmp_path, n_columns):
    header = ",".join(f"c{i}" for i in range(n_columns))
    problems = refused(csv_mission(tmp_path, header + "\n" + ",".join("0" * n_columns) + "\n"))
    assert "more" in problems[0] or "too many columns" in problems[0]


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_csv_that_is_not_a_regular_file_is_refused(tmp_path, kind):
    if kind == "fifo":
        os.mkfifo(tmp_path / "data.csv")
    else:
        (tmp_path / "data.csv").symlink_to("/dev/zero")
    assert refused(csv_mission(tmp_path))


# ------------------------------------------------------------- never hang


@pytest.mark.parametrize("argv", [["validate", "{f}"], ["run", "{f}"], ["show", "{f}"],
                                  ["list", "-p", "{f}"]], ids=" ".join)
def test_a_fifo_named_toml_is_refused_not_waited_on(capsys, descent_home, tmp_path, argv):
    fifo = tmp_path / "x.toml"
    os.mkfifo(fifo)
    code, out, err = cli(capsys, *(a.format(f=fifo) for a in argv))
    assert "not a regular file (a FIFO)" in out + err
    assert code == (0 if argv[0] == "list" else 2)


def test_a_symlink_to_dev_zero_is_refused(tmp_path):
    (tmp_path / "z.toml").symlink_to("/dev/zero")
    assert "not a regular file" in refused(tmp_path / "z.toml")[0]


def _fill(head: str, unit: str, tail: str = "") -> str:
    """``head`` + ``unit`` repeated to just under the size limit + ``tail``."""
    n = (MAX_BYTES - 1000 - len(head) - len(tail)) // len(unit)
    return head + unit * n + tail


#: one megabyte of each kind of trouble; each must be refused in under 2 s
BIG: dict[str, Callable[[], str]] = {
    "spaces-in-array-line": lambda: LANDSCAPE.replace(
        "bounds = [[-10.0, 10.0], [-3.0, 3.0]]",
        "bounds = [\n[" + " " * (MAX_BYTES - 3000) + "-10.0, 10.0], [-3.0, 3.0]]"
    ) + "\nunknown_key = 1\n",
    "empty-runs-tables": lambda: _fill(LANDSCAPE, "[[runs]]\n"),
    "unknown-keys": lambda: "".join(f"k{i} = 1\n" for i in range(85_000)) + LANDSCAPE,
    "long-title": lambda: LANDSCAPE.replace('"The Ravine"', '"' + "x" * (MAX_BYTES - 2000) + '"'),
    "long-key": lambda: '"' + "k" * (MAX_BYTES - 2000) + '" = 1\n' + LANDSCAPE,
    "deep-array": lambda: LANDSCAPE + "x = " + "[" * 400_000 + "]" * 400_000 + "\n",
    "long-number-list": lambda: LANDSCAPE.replace("start = [-8.0, 1.0]",
                                                  _fill("start = [", "0.5, ", "0.5]")),
    "many-quiz-questions": lambda: _fill(LANDSCAPE, '[[quiz.concept]]\nquestion = "q"\n'),
    "long-unknown-lines": lambda: LANDSCAPE + ("bad " * 200 + "\n") * 1200,
}


@pytest.mark.parametrize("name", BIG)
def test_a_megabyte_of_trouble_is_refused_fast_and_briefly(tmp_path, name):
    path = tmp_path / f"{name}.toml"
    path.write_text(BIG[name]())
    assert path.stat().st_size <= MAX_BYTES
    refused(path)


def test_key_lines_is_linear_on_a_long_line_of_spaces():
    line = "[" + " " * 200_000 + "1, 2], [3, 4]]"
    with deadline(0.5):
        lines = key_lines(f"a = [\n{line}\n[t]\nb = 1\n")
    assert lines == {"a": 1, "t": 3, "t.b": 4}


def test_thousands_of_problems_are_counted_not_printed(tmp_path, capsys):
    path = tmp_path / "keys.toml"
    path.write_text(BIG["unknown-keys"]())
    code, _, err = cli(capsys, "validate", str(path))
    lines = err.splitlines()
    assert code == 2 and len(lines) <= 21 and re.search(r"… and [\d,]+ more problems", lines[-1])


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize("setting", ["init_std=1e308", "init_std=inf", "init_value=nan",
                                     "runs[0].init_std=1e300", "weight_decay=inf"])
def test_set_refuses_numbers_a_file_could_not_hold(capsys, setting):
    code, _, err = cli(capsys, "run", "vanishing-gradients", "--steps", "1", "--set",
                       "init=uniform", "--set", setting)
    key = setting.partition("=")[0]
    assert code == 2 and f"--set {key}:" in err


# -------------------------------------------------------------------- CLI


@pytest.mark.parametrize("argv", [["-p"], ["--scenarios"], ["list", "-p"], ["run", "-p"]])
def test_a_path_option_without_a_path_is_a_one_line_error(capsys, argv):
    code, _, err = cli(capsys, *argv)
    assert code == 2 and len(err.splitlines()) == 1


@pytest.mark.parametrize("setting", [
    "lr=" + "[" * 5000 + "1" + "]" * 5000,
    "landscape.start=" + "[" * 5000 + "]" * 5000,
    "watch_for=" + "{a=" * 3000 + "1" + "}" * 3000,
    "landscape" + ".a" * 5000 + "=1",
], ids=["deep-list", "deep-start", "deep-table", "deep-key"])
def test_a_deep_set_is_a_one_line_error(capsys, setting):
    code, _, err = cli(capsys, "run", "the-bowl", "--set", setting)
    assert code == 2 and len(err.splitlines()) == 1 and "nested too deeply" in err


@pytest.mark.parametrize("setting, says", [
    ("activation=relu", "only used by network scenarios"),
    ("batch_size=4", "only used by network scenarios"),
    ("init=zeros", "only used by network scenarios"),
    ("landscape.start=[nan, 1]", "finite"),
    ("landscape.start=[1e200, 1e200]", "not finite"),
])
def test_set_obeys_the_files_rules(capsys, setting, says):
    code, _, err = cli(capsys, "run", "the-bowl", "--set", setting)
    assert code == 2 and says in err


def test_a_file_named_like_an_id_does_not_shadow_the_mission(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("the-bowl").write_text("not a mission")
    code, out, _ = cli(capsys, "show", "the-bowl")
    assert code == 0 and "[the-bowl]" in out
    code, _, err = cli(capsys, "show", "./the-bowl")
    assert code == 2 and err.startswith("the-bowl:")


# ------------------------------------------------------------ json streaming


def _fake_sim(n_runs: int, steps: int) -> SimpleNamespace:
    last = SimpleNamespace(step=steps, loss=0.5, val_loss=None, accuracy=None, lr=0.1,
                           grad_norm=1.0, val_accuracy=None)
    runs = [SimpleNamespace(label=f"run {i}", config=SimpleNamespace(optimizer="sgd"),
                            diverged_at=None, reason=None, last=last, min_loss=0.5,
                            min_loss_step=1) for i in range(n_runs)]
    return SimpleNamespace(spec=SimpleNamespace(id="fake", title="Fake"), kind="landscape",
                           step_count=steps, runs=runs)


def test_json_rows_are_not_kept_in_memory(tmp_path):
    sim, n = _fake_sim(1, 8_000), 8_000
    with open(tmp_path / "out.json", "w") as out:
        report = JsonReport(sim, out)
        tracemalloc.start()
        for step in range(n):
            report.rows([{"step": step, "run": rs.label, "loss": 1.0 / (step + 1),
                          "val_loss": None, "accuracy": None, "lr": 0.1, "grad_norm": 2.0}
                         for rs in sim.runs])
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        report.finish(1)
    assert peak < 1_500_000, peak  # kept, the 8000 rows would take about 4 MB
    doc = json.loads((tmp_path / "out.json").read_text())
    assert [len(r["history"]) for r in doc["runs"]] == [n]


def test_json_output_is_exactly_what_json_dumps_writes(capsys):
    assert main(["run", "optimizer-zoo", "--steps", "30", "--every", "3", "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert out == json.dumps(json.loads(out)) + "\n"
