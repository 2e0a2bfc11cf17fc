"""Playing a mission (issue 14), driven with Pilot: the prediction prompt, answers
restored, the best score kept across a replay, knobs aimed at one run, refusals
shown in place, optimizer changes relabelling a run, the board, the palette."""

from __future__ import annotations

import pytest
from _tui_helpers import asyncrun, rendered_text, skip_predictions

#: the private missions (tests/missions/) the `missions` fixture installs
MISSION_FILES = ["tiny-bowl.toml", "two-runs-long-choices.toml"]
TWO = "two-runs-long-choices"


@pytest.fixture(autouse=True)
def _home(descent_home):
    return descent_home


def make_app(**kw):
    from descent_tui.tui.app import DescentApp

    return DescentApp(**kw)


async def settle(pilot, n=3):
    await pilot.app.workers.wait_for_complete()
    for _ in range(n):
        await pilot.pause()


async def run_to_end(pilot, screen):
    from descent_tui.tui.screens.mission import SPEEDS

    screen.speed_index = len(SPEEDS) - 1
    screen.set_focus(None)
    await pilot.press("r")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.3)
    await settle(pilot)
    assert screen.sim.done


def quiz(screen):
    from descent_tui.tui.widgets.quiz_panel import QuizPanel

    return screen.query_one(QuizPanel)


def choose(screen, kind, i, index):
    from textual.widgets import RadioSet

    rs = screen.query_one(f"#{kind}-{i}", RadioSet)
    rs.query("RadioButton")[index].value = True


# ---------------------------------------------------------------------- predictions
@asyncrun
async def test_unanswered_predictions_are_asked_for_before_the_run(missions):
    from textual.widgets import RadioSet, TabbedContent

    app = make_app(initial=TWO)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("space")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "PredictPrompt"
        await pilot.press("a")  # answer now: to the quiz, nothing ran, nothing locked
        await settle(pilot)
        assert app.screen is screen and screen.sim.step_count == 0
        assert screen.query_one(TabbedContent).active == "tab-quiz"
        assert app.focused is screen.query_one("#prediction-0", RadioSet)
        assert not quiz(screen).locked
        choose(screen, "prediction", 0, 1)
        await settle(pilot)
        assert quiz(screen).unanswered_predictions() == [1]
        screen.set_focus(None)
        await pilot.press("space")  # one still open: asked again; escape does nothing
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert screen.sim.step_count == 0 and not quiz(screen).locked
        choose(screen, "prediction", 1, 0)
        await settle(pilot)
        screen.set_focus(None)
        await pilot.press("space")  # all answered: no prompt, the step is taken and they lock
        await settle(pilot)
        assert app.screen is screen and screen.sim.step_count == 1
        assert quiz(screen).locked
        assert any("Predictions locked" in n.message for n in app._notifications)
        await pilot.press("x")  # a reset: predict again for the new run
        await settle(pilot)
        assert not quiz(screen).locked
        assert not screen.query_one("#prediction-0", RadioSet).disabled
        assert quiz(screen).answers["prediction.0"] == 1  # the earlier answer stays chosen


@asyncrun
async def test_skip_runs_without_the_predictions_and_grades_them_unanswered(missions):
    app = make_app(initial=TWO)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        from descent_tui.tui.screens.mission import SPEEDS

        screen.speed_index = len(SPEEDS) - 1  # not the mission's 10-second pace
        await pilot.press("r")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "PredictPrompt"
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await run_to_end(pilot, screen)
        text = rendered_text(screen.query_one("#q-prediction-0 .explanation"))
        assert "unanswered" in text


@asyncrun
async def test_answers_are_restored_when_the_mission_is_reopened(missions):
    from textual.widgets import RadioSet

    app = make_app(initial=TWO)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        choose(app.screen, "prediction", 1, 1)
        await settle(pilot)
    again = make_app(initial=TWO)
    async with again.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = again.screen
        assert quiz(screen).answers == {"prediction.1": 1}
        assert screen.query_one("#prediction-1", RadioSet).pressed_index == 1
        assert screen.query_one("#prediction-0", RadioSet).pressed_index == -1


@asyncrun
async def test_a_replay_keeps_the_best_score_and_the_board_shows_it(missions):
    app = make_app(initial=TWO)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        skip_predictions(screen)
        await run_to_end(pilot, screen)  # a first flight, to learn what the runs do
        truth = {k: min(v) for k, v in quiz(screen).truth.items()}  # one accepted answer each
        screen.set_focus(None)
        await pilot.press("x")
        await settle(pilot)
        for i in range(2):
            choose(screen, "prediction", i, truth[f"prediction.{i}"])
        await settle(pilot)
        await run_to_end(pilot, screen)
        choose(screen, "concept", 0, 0)  # the right answer
        await settle(pilot)
        assert quiz(screen).score() == (3, 3)
    replay = make_app(initial=TWO)
    async with replay.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = replay.screen
        assert quiz(screen).answers.get("concept.0") == 0  # restored: not back to 0/3
        for i in range(2):  # this time both predictions are wrong
            n = len(screen.spec.quiz.prediction[i].choices)
            choose(screen, "prediction", i, (truth[f"prediction.{i}"] + 1) % n)
        await settle(pilot)
        await run_to_end(pilot, screen)
        assert replay.progress.quiz_score(TWO) == (1, 3)
        assert replay.progress.best_score(TWO) == (3, 3)
        await pilot.press("escape")
        await settle(pilot)
        board = replay.screen
        row = [e.spec.id for e in board.entries].index(TWO)
        status = board.query_one("DataTable").get_row_at(row)[-1]
        assert str(status) == "quiz 3/3"
        board.query_one("DataTable").move_cursor(row=row)
        await settle(pilot)
        assert "last 1/3" in rendered_text(board.query_one("#preview"))


@asyncrun
async def test_every_choice_is_shown_in_full_on_a_narrow_screen(missions):
    from descent_tui.tui.widgets.quiz_panel import WrappedChoice

    app = make_app(initial=TWO)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        button = app.screen.query_one("#concept-0").query(WrappedChoice)[0]
        assert button.size.height > 1  # wrapped, not cut
        shown = " ".join(str(button.render()).split())
        assert "decayed by the momentum factor at every single step of the run" in shown
        assert "…" not in shown


# ---------------------------------------------------------------------- knobs
@asyncrun
async def test_knobs_show_and_change_only_the_run_they_apply_to(missions):
    from textual.widgets import Input, Select

    app = make_app(initial=TWO)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("2")
        await settle(pilot)
        lr = screen.query_one("#knob-lr", Input)
        assert lr.value == "0.05"  # run 0 ("plain")
        screen.query_one("#knob-target", Select).value = "1"
        await settle(pilot)
        assert lr.value == "0.01"  # the fields show run 1 ("momentum")
        assert screen.query_one("#knob-momentum", Input).value == "0.9"
        lr.value = "0.05"  # equal to the other run's value: still applied
        await settle(pilot)
        screen.query_one("#knob-target", Select).value = "0"
        await settle(pilot)
        assert lr.value == "0.05" and screen.query_one("#knob-momentum", Input).value == "0"
        screen.set_focus(None)
        await pilot.press("x")
        await settle(pilot)
        assert screen.sim.overrides == {"runs[1].lr": 0.05}  # nothing carried to run 0
        assert [r.config.lr for r in screen.sim.runs] == [0.05, 0.05]


@asyncrun
async def test_a_refused_value_says_why_beside_its_knob(missions):
    from textual.widgets import Input

    app = make_app(initial=TWO)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("2")
        await settle(pilot)
        mom = screen.query_one("#knob-momentum", Input)
        mom.value = "0.99"  # above the knob's range
        await settle(pilot)
        note = screen.query_one("#knob-note-momentum")
        assert note.display and "above 0.95" in rendered_text(note)
        screen.set_focus(None)
        await pilot.press("x")  # the reset happens; the refused value is said, not dropped
        await settle(pilot)
        assert "momentum" not in str(screen.sim.overrides)
        assert any("Not applied" in n.message for n in app._notifications)
        assert mom.value == "0.99" and note.display
        # a value the scenario's rules refuse: the OverrideError's message, in place
        mom.value = "0.5"
        await settle(pilot)
        screen._reset({"runs[0].momentum": 1.5})
        await settle(pilot)
        assert screen.sim.overrides == {}
        text = rendered_text(note)
        assert note.display and "1" in text and "✗" in text


@asyncrun
async def test_changing_a_runs_optimizer_relabels_it_and_disables_momentum(missions):
    from textual.widgets import Input, Select

    from descent_tui.tui.widgets.status import StatusLine

    app = make_app(initial=TWO)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("2")
        await settle(pilot)
        screen.query_one("#knob-target", Select).value = "1"
        await settle(pilot)
        mom = screen.query_one("#knob-momentum", Input)
        assert not mom.disabled
        screen.query_one("#knob-optimizer", Select).value = "adam"
        await settle(pilot)
        assert mom.disabled
        assert "adam has no momentum" in rendered_text(screen.query_one("#knob-note-momentum"))
        screen.set_focus(None)
        await pilot.press("x")
        await settle(pilot)
        assert screen.sim.runs[1].config.optimizer == "adam"
        assert screen.query_one("KnobsPanel").labels() == ["plain", "momentum → adam"]
        assert "momentum → adam" in rendered_text(screen.query_one(StatusLine))
        # the debrief says it describes the mission's default runs
        skip_predictions(screen)
        await run_to_end(pilot, screen)
        assert "default runs" in rendered_text(screen.query_one("#debrief"))


# ---------------------------------------------------------------------- board, palette
@asyncrun
async def test_the_board_at_80_columns(missions):
    from textual.widgets import DataTable

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        board = app.screen
        table = board.query_one(DataTable)
        assert "kind" not in table.columns  # the type is in the preview, the title has room
        await pilot.press("down")
        await settle(pilot)
        title = table.get_row_at(1)[1]
        width = table.columns["title"].width
        assert str(title).split("\n") == ["Two Runs", "A Test of the Quiz and the Knobs"]
        assert width >= len("A Test of the Quiz and the Knobs") - 10
        preview = rendered_text(board.query_one("#preview"))
        assert "A first sentence about the two crews." in preview
        assert "keeps going" not in preview  # cut at a sentence, before the long one
        hint = board.query_one("#preview-hint")
        assert "enter" in rendered_text(hint)
        assert hint.region.bottom <= 24 - 1 and hint.region.height >= 1  # not scrolled away
        footer_keys = [k.key_display for k in board.query("FooterKey")]
        assert "enter" in footer_keys and footer_keys[0] == "?"


@asyncrun
async def test_help_and_palette_keys_lead_the_footer_and_nothing_overlaps(missions):
    """At 80 columns the mission's keys overflow the footer; Textual docks the palette's
    key on the right, over the row, and the two were drawn into each other."""
    app = make_app(initial="tiny-bowl")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        keys = list(app.screen.query("FooterKey"))
        assert [k.key_display for k in keys[:2]] == ["?", "^p"]
        assert keys[1].description == "Palette"
        assert not any(k.styles.dock == "right" for k in keys)
        shown = [k.region for k in keys if k.region.width]
        assert all(a.right <= b.x for a, b in zip(shown, shown[1:]))  # side by side, in order
        # and none cut at the right edge ("Next run" read "S"): a key that does not fit
        # is left out (the help screen lists them all)
        footer = app.screen.query_one("KeyFooter")
        assert shown and all(r.right <= footer.region.right for r in shown)
        assert len(shown) >= 6  # the essential keys: help, palette, step, ×10, run, reset


@asyncrun
async def test_w_widens_the_side_panel_and_esc_narrows_it_again(missions):
    """At 80×24 the briefing column is a third of the screen; ``w`` gives it all."""
    from descent_tui.tui.screens.mission import MissionScreen

    app = make_app(initial="tiny-bowl")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        side = screen.query_one("#side")
        narrow = side.region.width
        assert narrow < 50
        await pilot.press("4", "w")
        await settle(pilot)
        assert screen.maximized is side and side.region.width >= 78
        await pilot.press("w")
        await settle(pilot)
        assert screen.maximized is None and side.region.width == narrow
        await pilot.press("w", "escape")
        await settle(pilot)
        assert isinstance(app.screen, MissionScreen) and screen.maximized is None
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, MissionScreen)


@asyncrun
async def test_the_palette_opens_a_mission_by_name(missions):
    from descent_tui.tui.screens.mission import MissionScreen

    app = make_app(initial="tiny-bowl")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"open mission two runs")
        await pilot.pause(0.5)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot, 6)
        assert isinstance(app.screen, MissionScreen) and app.screen.spec.id == TWO
        await pilot.press("escape")  # the mission left behind was closed, not stacked
        await settle(pilot)
        assert app.screen.__class__.__name__ == "SelectScreen"


@asyncrun
async def test_help_lists_the_keys_inside_the_panels(missions):
    import io

    from rich.console import Console

    from descent_tui.tui.screens.help import bindings_table

    app = make_app(initial="tiny-bowl")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        console = Console(width=120, record=True, file=io.StringIO())
        console.print(bindings_table(app.screen, list(app.BINDINGS)))
        text = console.export_text()
        for words in ("In the panels", "set the learning rate now", "choose an answer",
                      "Briefing", "open any mission"):
            assert words in text
