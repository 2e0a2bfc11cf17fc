"""Progress file: atomic writes, corrupt files moved aside, DESCENT_HOME."""

from __future__ import annotations

import json

import pytest

from descent_tui.progress import FILENAME, Progress, data_dir


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("DESCENT_HOME", str(tmp_path))


def test_data_dir_env(tmp_path):
    assert data_dir() == tmp_path


def test_missing_file_is_empty(tmp_path):
    p = Progress.load()
    assert p.missions == {} and p.notice is None
    assert p.status_text("x") == "new"


def test_roundtrip(tmp_path):
    p = Progress.load()
    p.mark_started("alpha", 10)
    p.record_quiz("beta", 2, 3, {"concept.0": 1})
    p.mark_done("gamma", 200)
    assert p.save()
    q = Progress.load()
    assert q.status("alpha") == "in_progress"
    assert q.status_text("alpha") == "in progress"
    assert q.quiz_score("beta") == (2, 3)
    assert q.status_text("beta") == "quiz 2/3"
    assert q.status_text("gamma") == "done"
    assert not list(tmp_path.glob(".progress-*"))  # temp file cleaned up
    assert json.loads((tmp_path / FILENAME).read_text())["version"] == 2


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe\x00", b"[1, 2]",
                                     b'{"missions": 3}'])
def test_corrupt_file_moved_aside(tmp_path, content):
    (tmp_path / FILENAME).write_bytes(content)
    p = Progress.load()
    assert p.missions == {}
    assert p.notice and "corrupt" in p.notice
    aside = list(tmp_path.glob(f"{FILENAME}.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == content
    assert not (tmp_path / FILENAME).exists()
    p.mark_started("a")
    assert p.save()
    assert Progress.load().status("a") == "in_progress"


def test_bad_records_are_moved_aside_and_the_rest_kept(tmp_path):
    (tmp_path / FILENAME).write_text(json.dumps({"missions": {
        "a": {"status": "weird", "steps": -3, "quiz": {"correct": 5, "total": 2}},
        "b": "nonsense",
        "c": {"status": "done", "steps": 7}}}))
    p = Progress.load()
    assert p.notice and "corrupt" in p.notice and "2 bad record" in p.notice
    assert p.status("a") == "new" and p.quiz_score("a") is None
    assert p.status("b") == "new"
    assert p.status("c") == "done"
    assert len(list(tmp_path.glob(f"{FILENAME}.corrupt-*"))) == 1
    assert Progress.load().status("c") == "done"  # the valid rest is still on disk


def test_unwritable_dir_sets_notice(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    p = Progress.load(blocker / "sub")
    p.mark_started("a")
    assert p.save() is False
    assert p.notice


def test_a_version_1_file_loads_and_its_score_becomes_the_best(tmp_path):
    """Migration: a file from before ``best`` existed keeps its score as the best."""
    (tmp_path / FILENAME).write_text(json.dumps({"version": 1, "missions": {
        "m": {"status": "done", "steps": 40, "quiz": {"correct": 5, "total": 7},
              "quiz_at": 10.0, "answers": {"concept.0": 1}}}}))
    p = Progress.load()
    assert p.notice is None
    assert p.best_score("m") == (5, 7) and p.missions["m"]["best"] == {"correct": 5, "total": 7}
    assert p.answers("m", "any-signature") == {"concept.0": 1}  # no signature saved: kept


def test_a_replay_keeps_the_best_score_and_shows_it(tmp_path):
    p = Progress.load()
    p.record_quiz("m", 5, 7, {"concept.0": 1}, signature="s1")
    p.record_quiz("m", 0, 7, {}, signature="s1")  # replayed, answered nothing
    assert p.save()
    q = Progress.load()
    assert q.quiz_score("m") == (0, 7)  # the last attempt
    assert q.best_score("m") == (5, 7)
    assert q.status_text("m") == "quiz 5/7"


def test_answers_are_kept_as_given_and_restored_only_for_the_same_quiz(tmp_path):
    p = Progress.load()
    p.record_answers("m", {"prediction.0": 2}, signature="s1")
    assert p.save()
    q = Progress.load()
    assert q.status("m") == "in_progress"
    assert q.answers("m", "s1") == {"prediction.0": 2}
    assert q.answers("m", "s2") == {}  # the mission's quiz was edited since
    assert q.quiz_score("m") is None  # answers are not a score
