"""The classroom: call signs, one progress file per student, the gradebook, serve's checks."""

from __future__ import annotations

import json
import shutil
import socket
import threading
from pathlib import Path

import pytest

from descent_tui.classroom import (
    MAX_NAME,
    ClassroomError,
    load_student,
    locked,
    mission_pack,
    open_class,
    student_dir,
    validate_call_sign,
)
from descent_tui.cli import main
from descent_tui.gradebook import class_rows
from descent_tui.tui.app import MissionClock

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("DESCENT_HOME", str(tmp_path))


@pytest.mark.parametrize("bad", ["", " ", "../etc", "a/b", "a\\b", "..", ".hidden", "-x",
                                 "a b", "a\x00b", "a\x1b[31m", "x" * (MAX_NAME + 1), "a:b",
                                 "a\u202eb", "ﬀ" * MAX_NAME])
def test_odd_call_signs_are_refused_in_one_line(bad):
    with pytest.raises(ClassroomError) as e:
        validate_call_sign(bad)
    message = str(e.value)
    assert "\n" not in message and "\x1b" not in message and message.startswith("call sign")


def test_call_signs_are_case_folded_names():
    assert validate_call_sign("Ada-7") == "ada-7"
    assert validate_call_sign("Zoë.B_2") == "zoë.b_2"
    assert student_dir("7B", "ADA").parts[-3:] == ("7b", "students", "ada")


def test_two_students_never_share_a_file(tmp_path):
    ada, bob = load_student("7b", "ada"), load_student("7b", "bob")
    ada.record_quiz("the-bowl", 4, 4)
    bob.record_quiz("the-bowl", 1, 4)
    assert ada.save() and bob.save()
    assert ada.path != bob.path
    assert load_student("7b", "ADA").best_score("the-bowl") == (4, 4)
    assert load_student("7b", "bob").best_score("the-bowl") == (1, 4)


def test_many_students_saving_at_once_lose_nothing():
    def play(i: int) -> None:
        for step in range(5):
            p = load_student("7b", f"s{i}")
            p.record_quiz(f"m{step}", i % 5, 4)
            p.add_seconds(f"m{step}", 1.5)
            assert p.save()

    threads = [threading.Thread(target=play, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = class_rows("7b")
    assert len(rows) == 12 * 5
    for row in rows:
        i = int(row["call_sign"][1:])
        assert (row["last_correct"], row["last_total"], row["seconds"]) == (i % 5, 4, 1.5)


def test_the_gradebook_reports_scores_predictions_and_time(capsys):
    p = load_student("7b", "ada")
    p.mark_started("the-bowl")
    p.record_quiz("the-bowl", 3, 4, {"prediction.0": 1}, predictions=(1, 2))
    p.record_quiz("the-bowl", 2, 4, predictions=(0, 2))
    p.add_seconds("the-bowl", 61.0)
    p.mark_done("the-bowl", 100)
    p.save()
    assert main(["report", "--class", "7b", "--format", "json"]) == 0
    row = json.loads(capsys.readouterr().out)["rows"][0]
    assert (row["best_correct"], row["last_correct"], row["predictions_right"]) == (3, 2, 0)
    assert row["status"] == "done" and row["seconds"] == 61.0 and row["finished_at"]
    assert main(["report", "--class", "7b"]) == 0  # csv, the only class by default too
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("call_sign,mission,status") and lines[1].startswith("ada,the-bowl,done")


def test_report_bad_or_missing_class_is_one_line_exit_2(capsys):
    assert main(["report"]) == 2  # no class yet
    assert main(["report", "--class", "nope"]) == 2
    assert main(["report", "--class", "../x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("descent report: ") for line in err)


def test_play_refuses_bad_class_options_in_one_line(capsys, tmp_path):
    assert main(["--class", "7b", "--call-sign", "a/b"]) == 2
    assert main(["--call-sign", "ada"]) == 2  # no class
    assert main(["--class", "7b", "--missions", str(tmp_path / "none")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 3


def test_a_missing_or_broken_pack_is_one_line(tmp_path):
    with pytest.raises(ClassroomError, match="no such folder"):
        mission_pack(tmp_path / "none")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ClassroomError, match="no mission files"):
        mission_pack(tmp_path / "empty")
    pack = tmp_path / "pack"
    pack.mkdir()
    shutil.copy(ROOT / "scenarios" / "the-bowl.toml", pack)
    assert [g.id for g in __import__("descent_tui.scenario.catalog", fromlist=["x"])
            .discover(mission_pack(pack))[0]] == ["the-bowl"]  # the pack is the whole catalog
    (pack / "broken.toml").write_text("id = [\n")
    with pytest.raises(ClassroomError, match="broken mission pack: .*broken.toml") as e:
        mission_pack(pack)
    assert "\n" not in str(e.value)


def test_serve_refuses_a_port_in_use_and_a_broken_pack(capsys, tmp_path):
    pytest.importorskip("textual_serve")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    assert main(["serve", "--missions", str(tmp_path / "none")]) == 2
    assert main(["serve", "--port", "0"]) == 2  # argparse: not a port
    err = capsys.readouterr().err.strip().splitlines()
    assert "already in use" in err[0] and "no such folder" in err[1] and len(err) == 3


def test_locked_knobs_show_no_controls():
    from descent_tui.scenario.catalog import find
    from descent_tui.scenario.loader import load_scenario

    bowl = find("the-bowl")
    assert bowl.spec.knobs.present() and not bowl.spec.knobs.locked
    assert locked(bowl).spec.knobs.locked and not bowl.spec.knobs.locked
    from descent_tui.tui.widgets.knobs import KnobsPanel

    assert KnobsPanel(locked(bowl).spec).knobs == {}
    text = (ROOT / "scenarios" / "the-bowl.toml").read_text().replace("[knobs]\n",
                                                                      "[knobs]\nlocked = true\n")
    path = open_class("x") / "bowl.toml"
    path.write_text(text)
    assert load_scenario(path).spec.knobs.locked


def test_the_mission_clock_counts_only_the_mission_on_screen(monkeypatch):
    now = [100.0]
    monkeypatch.setattr("descent_tui.tui.app.time.monotonic", lambda: now[0])
    clock = MissionClock()
    assert clock.tick("a") == (0.0, False)  # just opened
    now[0] += 1.0
    assert clock.tick("a") == (1.0, False)
    now[0] += 600.0  # a laptop asleep counts at most MAX_GAP
    assert clock.tick("a") == (MissionClock.MAX_GAP, False)
    now[0] += 1.0
    assert clock.tick(None) == (0.0, True)  # left the mission: save what was counted
