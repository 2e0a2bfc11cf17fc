"""Scenario text in the app is text: markup in it is shown literally (never parsed, never
an action), control characters are shown as visible escapes (never sent to the terminal).

The mission ``tests/hostile/hostile-bowl.toml`` is validate-clean and carries Rich
markup (``[/b]``, ``[link=…]``, ``[@click=app.quit]``) and ESC/OSC/BEL/NUL/CSI in its
title, briefing, watch-for note, debrief, run labels, questions, choices and
explanations; one of its runs diverges.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _tui_helpers import asyncrun, rendered_text

HOSTILE = Path(__file__).resolve().parent / "hostile" / "hostile-bowl.toml"
#: raw control characters the file carries (TOML escapes); none may reach the screen
RAW_CONTROLS = ("\x1b", "\x07", "\x00", "\x9b")


@pytest.fixture(autouse=True)
def _home(descent_home):
    return descent_home


def _no_controls(shown: str) -> None:
    for ch in RAW_CONTROLS:
        assert ch not in shown, f"raw {ch!r} reached the screen"


def _plain(content) -> str:
    return getattr(content, "plain", str(content))


async def _settle(pilot, n=3):
    await pilot.app.workers.wait_for_complete()
    for _ in range(n):
        await pilot.pause()


def test_safe_text_makes_controls_visible_and_escapes_markup():
    from textual.content import Content

    from descent_tui.tui.safe_text import clean, content, escape

    assert clean("a\x1b]0;x\x07b\tc\n") == "a\\x1b]0;x\\x07b c\n"
    assert clean("x\ny", one_line=True) == "x y"
    assert clean("\u202eevil\x9b") == "\\u202eevil\\x9b"
    assert content("[@click=app.quit]q[/]").plain == "[@click=app.quit]q[/]"
    assert Content.from_markup(escape("[/b][link=x]y")).plain == "[/b][link=x]y"


@asyncrun
async def test_hostile_text_is_shown_literally_through_a_whole_mission():
    from textual.widgets import RadioButton, RadioSet

    from descent_tui.scenario.loader import load_scenario
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.screens.mission import SPEEDS, MissionScreen
    from descent_tui.tui.widgets.briefing import Briefing, Debrief
    from descent_tui.tui.widgets.quiz_panel import QuizPanel

    loaded = load_scenario(HOSTILE)
    app = DescentApp(initial=loaded)
    async with app.run_test(size=(140, 45)) as pilot:
        await _settle(pilot)
        screen = app.screen
        assert isinstance(screen, MissionScreen)
        assert "[@click=app.quit]Bowl[/]" in screen.title
        _no_controls(screen.title)
        briefing = rendered_text(screen.query_one(Briefing))
        assert "[link=https://evil.example]link[/link]" in briefing
        assert "[@click=app.quit]me[/]" in briefing and "\\x1b[31mred" in briefing
        _no_controls(briefing)
        # the quiz: question, choices (RadioButton labels) and, later, explanations
        await pilot.press("3")
        await _settle(pilot)
        quiz = screen.query_one(QuizPanel)
        shown = "\n".join(rendered_text(s) for s in quiz.query(".question-text"))
        assert "Which [/b] [@click=app.quit]first[/]?\\x1b[2J" in shown
        labels = [_plain(b.label) for b in quiz.query(RadioButton)]
        assert "[@click=app.quit]boom[/]\\x07" in labels and "[b]steep[/b" in labels
        _no_controls(shown + "".join(labels))
        await pilot.click(quiz.query_one("#prediction-0", RadioSet).query(RadioButton)[1])
        screen.set_focus(None)
        # play it to the end; one run diverges
        screen.speed_index = len(SPEEDS) - 1
        screen.auto_pause = False  # straight to the end
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        await _settle(pilot)
        assert screen.sim.done and any(r.diverged for r in screen.sim.runs)
        subtitle = _plain(screen.query_one("Landscape")._border_subtitle)
        assert "slow [/b]\\x1b[31m" in subtitle or "[@click=app.quit]boom[/]" in subtitle
        _no_controls(subtitle)
        concept = quiz.query_one("#concept-0", RadioSet)
        concept.focus()
        await pilot.press("down", "enter")
        await _settle(pilot)
        explanations = "\n".join(rendered_text(s) for s in quiz.query(".explanation"))
        assert "Curv [/u] [@click=app.quit]q[/]\\x9b31m" in explanations
        assert "Because [/b] [link=https://x]x[/link]" in explanations
        _no_controls(explanations)
        # the debrief: the engineer's text and the run log, the diverged run in words
        await pilot.press("4")
        await _settle(pilot)
        debrief = rendered_text(screen.query_one(Debrief))
        assert "Debrief [/b] [@click=app.quit]x[/]" in debrief
        assert "diverged" in debrief and "[b red]" not in debrief and "[/]  —" not in debrief
        assert "[@click=app.quit]boom[/]\\x07: diverged" in debrief
        _no_controls(debrief)
        for r in screen.sim.runs:
            screen.selected = r.index
            screen._dirty = True
            screen._tick()
            await _settle(pilot)
        # still alive: no MarkupError, no [@click=app.quit] fired
        assert app.is_running and app.screen is screen
        await pilot.press("escape")
        await _settle(pilot)
        assert app.is_running and app.screen.__class__.__name__ == "SelectScreen"


def test_escape_round_trips_through_the_markup_parser():
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from textual.content import Content

    from descent_tui.tui.safe_text import clean, escape

    alphabet = st.sampled_from(list("[]/\\@=ab =\n\x1b\x07") + ["[b]", "[/]", "[@click=x]"])

    @settings(max_examples=300, deadline=None)
    @given(st.lists(alphabet, max_size=30).map("".join))
    def round_trip(s):
        assert Content.from_markup(escape(s)).plain == clean(s)

    round_trip()


@asyncrun
async def test_hostile_mission_on_the_board_is_listed_and_previewed_literally(tmp_path,
                                                                             monkeypatch):
    import shutil

    from descent_tui.scenario import catalog
    from descent_tui.tui.app import DescentApp

    shipped = tmp_path / "missions"
    shipped.mkdir()
    shutil.copyfile(HOSTILE, shipped / HOSTILE.name)
    monkeypatch.setattr(catalog, "shipped_dir", lambda: shipped)
    app = DescentApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        screen = app.screen
        assert [getattr(e, "id", None) for e in screen.entries] == ["hostile-bowl"]
        box_title = _plain(screen.query_one("#preview-box")._border_title)
        assert "[@CLICK=APP.QUIT]BOWL[/]" in box_title
        preview = rendered_text(screen.query_one("#preview"))
        assert "runs: slow [/b]\\x1b[31m, [@click=app.quit]boom[/]\\x07" in preview
        _no_controls(box_title + preview)
        assert app.is_running
