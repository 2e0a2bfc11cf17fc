"""Progress survives two windows, killed saves, FIFOs, deep nesting and wrong types."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from descent_tui.progress import FILENAME, LOCKNAME, MAX_BYTES, Progress, merge_missions

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("DESCENT_HOME", str(tmp_path))


def _aside(directory: Path) -> list[Path]:
    return list(directory.glob(f"{FILENAME}.corrupt-*"))


# ------------------------------------------------------------------ two windows


def test_two_windows_saving_keep_both_sets_of_missions(tmp_path):
    a, b = Progress.load(), Progress.load()
    for i in range(50):
        a.mark_done(f"a-{i}", 10)
        b.mark_started(f"b-{i}", 3)
    assert a.save() and b.save()  # b saves last; a's missions must survive
    final = Progress.load()
    assert {f"a-{i}" for i in range(50)} <= set(final.missions)
    assert {f"b-{i}" for i in range(50)} <= set(final.missions)
    assert final.status("a-7") == "done"
    assert set(b.missions) == set(final.missions)  # the saver now sees everyone's work


def test_merge_keeps_best_score_latest_attempt_and_furthest_status():
    ours = {"m": {"status": "in_progress", "steps": 50,
                  "quiz": {"correct": 1, "total": 4}, "best": {"correct": 1, "total": 4},
                  "quiz_at": 200.0, "answers": {"concept.0": 2}}}
    theirs = {"m": {"status": "done", "steps": 200,
                    "quiz": {"correct": 4, "total": 4}, "best": {"correct": 4, "total": 4},
                    "quiz_at": 100.0, "answers": {"concept.0": 1}},
              "other": {"status": "done"}}
    merged = merge_missions(ours, theirs)
    assert set(merged) == {"m", "other"}
    m = merged["m"]
    assert m["status"] == "done" and m["steps"] == 200
    assert m["best"] == {"correct": 4, "total": 4}
    assert m["quiz"] == {"correct": 1, "total": 4} and m["answers"] == {"concept.0": 2}
    assert merge_missions(theirs, ours)["m"] == m  # order of the windows does not matter


def test_record_quiz_keeps_the_best(tmp_path):
    p = Progress.load()
    p.record_quiz("m", 3, 3)
    p.record_quiz("m", 1, 3)
    assert p.quiz_score("m") == (1, 3) and p.best_score("m") == (3, 3)
    assert p.save()
    assert Progress.load().best_score("m") == (3, 3)


def _window(directory: str, tag: str, n: int, barrier) -> None:
    os.environ["DESCENT_HOME"] = directory
    prog = Progress.load()
    barrier.wait(timeout=30)
    for i in range(n):
        prog.mark_done(f"{tag}-{i}", i)
        if not prog.save():
            raise SystemExit(f"save failed: {prog.notice}")


def test_two_processes_saving_at_once_lose_nothing(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    n = 60
    procs = [ctx.Process(target=_window, args=(str(tmp_path), tag, n, barrier))
             for tag in ("left", "right")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=90)
    for p in procs:
        if p.is_alive():
            p.kill()
            pytest.fail("a saving process did not finish in 90 s")
        assert p.exitcode == 0
    missions = json.loads((tmp_path / FILENAME).read_text())["missions"]
    assert len(missions) == 2 * n
    assert not list(tmp_path.glob(".progress-*.tmp"))


# ------------------------------------------------------------------ killed saves


def test_orphaned_temp_files_are_removed_at_start(tmp_path):
    for i in range(5):
        (tmp_path / f".progress-{i}abc.tmp").write_text("{half a")
    (tmp_path / "keep-me.tmp").write_text("not ours")
    Progress.load()
    assert not list(tmp_path.glob(".progress-*.tmp"))
    assert (tmp_path / "keep-me.tmp").exists()


def test_while_another_save_holds_the_lock_only_old_temp_files_go(tmp_path):
    fresh, old = tmp_path / ".progress-fresh.tmp", tmp_path / ".progress-old.tmp"
    fresh.write_text("{")
    old.write_text("{")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    with open(tmp_path / LOCKNAME, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # another window is mid-save
        Progress.load()
    assert fresh.exists() and not old.exists()


# ------------------------------------------------------------------ odd files


def test_fifo_in_place_of_progress_does_not_block(tmp_path):
    os.mkfifo(tmp_path / FILENAME)
    code = ("from descent_tui.progress import Progress; p = Progress.load();"
            " print(p.notice); p.mark_started('a'); print(p.save())")
    env = {**os.environ, "PYTHONPATH": str(REPO), "DESCENT_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    assert "not a regular file" in out.stdout and out.stdout.strip().endswith("True")
    assert (tmp_path / FILENAME).is_file()
    assert len(_aside(tmp_path)) == 1


def test_deeply_nested_progress_is_moved_aside(tmp_path):
    depth = 100_000
    (tmp_path / FILENAME).write_text('{"missions": {"a": ' + "[" * depth + "]" * depth + "}}")
    p = Progress.load()
    assert p.notice and "corrupt" in p.notice
    assert p.missions == {}
    assert len(_aside(tmp_path)) == 1


def test_progress_file_over_the_size_limit_is_moved_aside(tmp_path):
    (tmp_path / FILENAME).write_bytes(b" " * (MAX_BYTES + 1))
    p = Progress.load()
    assert p.notice and "larger than" in p.notice
    assert len(_aside(tmp_path)) == 1


@pytest.mark.parametrize("record", [
    {"quiz": {"correct": True, "total": True}},
    {"quiz": {"correct": 1.5, "total": 2}},
    {"steps": "12"},
    {"steps": True},
    {"status": 3},
    {"answers": {"concept.0": True}},
    {"quiz": {"correct": 1, "total": 2, "extra": {}}},
])
def test_wrong_types_are_refused_and_the_rest_kept(tmp_path, record):
    (tmp_path / FILENAME).write_text(json.dumps(
        {"version": 1, "missions": {"bad": record, "good": {"status": "done", "steps": 5}}}))
    p = Progress.load()
    assert p.notice and "bad record" in p.notice and "bad" in p.notice
    assert "bad" not in p.missions
    assert p.status("good") == "done"
    assert len(_aside(tmp_path)) == 1
    assert Progress.load().status("good") == "done"
