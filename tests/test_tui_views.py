"""The views' logic: run styles, the status line's packing, the layer verdict, the
decision map's kinds and the fitted curve, zoom-to-fit."""

from __future__ import annotations

import numpy as np
import pytest
from _tui_helpers import asyncrun
from rich.text import Text

from descent_tui.tui.run_style import RUN_GLYPHS, run_style
from descent_tui.tui.widgets.layer_grads import verdict_of
from descent_tui.tui.widgets.status import abbreviate, pack


@pytest.fixture(autouse=True)
def _home(descent_home):
    return descent_home


#: the private missions (tests/missions/) the `missions` fixture installs
MISSION_FILES = ["five-runs.toml", "tiny-sine.toml", "tiny-net.toml", "asym-basin.toml",
                 "inspector-deep-sigmoid.toml"]


def test_every_run_has_its_own_glyph_and_colour_on_both_themes():
    for dark in (True, False):
        styles = [run_style(i, dark) for i in range(len(RUN_GLYPHS))]
        assert len({s.glyph for s in styles}) == len(RUN_GLYPHS)
        assert len({s.color for s in styles}) == len(RUN_GLYPHS)
        assert all(Text(s.glyph).cell_len == 1 for s in styles)
    assert run_style(1, True).glyph == run_style(1, False).glyph  # the shape is the run's


def test_abbreviations_keep_both_ends_so_similar_labels_stay_apart():
    a, b = abbreviate("constant 0.5", 7), abbreviate("constant 0.02", 7)
    assert len(a) == len(b) == 7 and a != b
    assert abbreviate("sgd", 7) == "sgd" and abbreviate("momentum", 0) == ""


def _status_pieces(labels):
    def build(short):
        return Text(f" ● {short} 0.1234")
    return [(label, build) for label in labels]


def test_the_status_line_shows_every_run_on_one_or_two_rows():
    labels = ["constant 0.5", "constant 0.02", "step decay", "cosine", "warm-up + cosine"]
    head, tail = Text(" ❚❚ PAUSE  step 30/200 10/tick │"), Text(" │ lr 0.5")
    for width in (80, 120, 160):
        rows = pack(head, _status_pieces(labels), tail, width)
        assert 1 <= len(rows) <= 2
        assert all(r.cell_len <= width for r in rows)
        assert sum(r.plain.count("●") for r in rows) == len(labels)
        assert "lr 0.5" in rows[-1].plain
    assert len(pack(head, _status_pieces(labels), tail, 160)) == 1


class _Layer:
    def __init__(self, g):
        self.grad_norm = g


def _stack(*norms):
    return [_Layer(g) for g in norms]


def test_the_layer_verdict_stays_right_for_the_whole_run():
    """vanishing-gradients' sigmoid stack: at step 1 L1/L10 = 6e-06, by step 13 every
    |g| is ~1e-6 (loss settled at ln 2) and L1 is no smaller than L10."""
    step1 = _stack(1.9e-6, 5.7e-6, 2.7e-5, 1.3e-4, 5.9e-4, 1.7e-3, 7.1e-3, 2.2e-2, 9.4e-2, 3.2e-1)
    step7 = _stack(2.1e-6, 2.2e-6, 2.0e-6, 1.3e-6, 1.4e-6, 1.5e-6, 5.6e-6, 1.8e-5, 7.3e-5, 2.5e-4)
    step11 = _stack(2.1e-6, 2.2e-6, 2.0e-6, 1.3e-6, 1.2e-6, 7.5e-7, 6.5e-7, 6.1e-7, 9.4e-7,
                    2.1e-6)
    step20 = _stack(2.1e-6, 2.2e-6, 2.0e-6, 1.3e-6, 1.2e-6, 7.5e-7, 6.6e-7, 6.3e-7, 7.7e-7,
                    5.9e-7)
    text, kind = verdict_of(step1, step1)
    assert kind == "bad" and "VANISHING" in text and "6e-06" in text and "stalled" not in text
    text, kind = verdict_of(step7, step1)
    assert kind == "bad" and "VANISHING" in text and "8e-03" in text
    for late in (step11, step20):
        text, kind = verdict_of(late, step1)
        assert kind == "bad" and "STALLED" in text and "6e-06" in text, text
    # a healthy stack that has settled is not called vanishing
    settled = _stack(3e-6, 2e-6, 4e-6)
    assert verdict_of(settled, _stack(0.1, 0.2, 0.3)) == (
        "▼ all gradients tiny: saturated or settled", "warn")
    # both at once: the ratio and the stall
    text, _ = verdict_of(_stack(1e-9, 1e-7, 2e-6), None)
    assert "VANISHING" in text and "stalled" in text


def test_map_kinds_follow_the_network(missions):
    from descent_tui.scenario.catalog import find
    from descent_tui.tui.widgets.decision_map import map_kind

    assert map_kind(find("tiny-sine").spec.network) == "curve"
    assert map_kind(find("tiny-net").spec.network) == "probability"


def test_the_fitted_curve_is_the_networks_output_over_the_inputs(missions):
    from descent_tui.engine import no_grad
    from descent_tui.scenario.catalog import find
    from descent_tui.sim import Simulation

    sim = Simulation(find("tiny-sine"))
    sim.step(40)
    xs, fx = sim.fit_curve(0, 50)
    X = np.concatenate([sim.data["X"][:, 0], sim.data["X_val"][:, 0]])
    assert len(xs) == len(fx) == 50 and xs[0] < X.min() and xs[-1] > X.max()
    with no_grad():
        direct = sim.runs[0].forward(xs[:, None]).data[:, 0]
    assert fx == pytest.approx(direct)
    assert abs(np.interp(np.pi / 2, xs, fx) - 1.0) < 0.3  # adam has found the sine's top
    assert Simulation(find("tiny-net")).fit_curve(0) is None
    assert sim.decision_grid(0) is None


def test_decision_grid_takes_a_rectangle(missions):
    from descent_tui.scenario.catalog import find
    from descent_tui.sim import Simulation

    xs, ys, P = Simulation(find("tiny-net")).decision_grid(0, 30, 12)
    assert P.shape == (12, 30) and len(xs) == 30 and len(ys) == 12


def _cells(widget):
    return [[seg.text for seg in widget.render_line(y)] for y in range(widget.size.height)]


@asyncrun
async def test_the_regression_view_draws_curve_data_and_baseline(missions):
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.decision_map import DecisionMap

    app = DescentApp(initial="tiny-sine")
    async with app.run_test(size=(160, 50)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.screen.action_step(40)
        await pilot.pause()
        dm = app.screen.query_one(DecisionMap)
        assert dm.view is not None and dm.view.kind == "curve"
        text = "\n".join("".join(row) for row in _cells(dm))
        assert "•" in text and "○" in text  # training and validation points
        assert "fit" in text and "mean" in text  # the legend names curve and baseline
        colour = run_style(0, app.current_theme.dark).color
        painted = {seg.style.color.triplet.hex for y in range(dm.size.height)
                   for seg in dm.render_line(y) if seg.style and seg.style.color
                   and seg.style.color.triplet}
        assert colour in painted  # the fit in the run's colour


@asyncrun
async def test_zoom_fits_the_runs_and_returns(missions):
    from descent_tui.tui.app import DescentApp

    app = DescentApp(initial="asym-basin")
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        screen.action_step(12)
        await pilot.pause()
        land = screen.query_one("Landscape")
        mission = land.bounds
        await pilot.press("z")
        await pilot.pause()
        await pilot.pause()
        paths = np.concatenate([rs.path for rs in screen.sim.runs])
        (x0, x1), (y0, y1) = land.bounds
        assert land.zoom is not None and land.bounds != mission  # momentum overshoots: wider
        assert x0 < paths[:, 0].min() and paths[:, 0].max() < x1
        assert y0 < paths[:, 1].min() and paths[:, 1].max() < y1
        assert land.shading is not None and land.grid_size == land.wanted_grid()
        await pilot.press("z")
        await pilot.pause()
        await pilot.pause()
        assert land.zoom is None and land.bounds == mission


@asyncrun
async def test_every_run_is_in_the_status_line_and_the_legend_at_80x24(missions):
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.loss_plot import LossPlot
    from descent_tui.tui.widgets.status import StatusLine

    app = DescentApp(initial="five-runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.screen.action_step(30)
        await pilot.pause()
        status = app.screen.query_one(StatusLine)
        shown = str(status.render())
        assert all(run_style(i).glyph in shown for i in range(5)), shown
        assert "lr " in shown and all(len(row) <= 80 for row in shown.splitlines())
        plot = app.screen.query_one(LossPlot)
        rows = [plot.render_line(y).text for y in range(plot.size.height)]
        first_plot_row = next(y for y, row in enumerate(rows) if row[5:6] == "│")  # y axis
        legend = "".join(rows[:first_plot_row])
        assert all(run_style(i).glyph in legend for i in range(5)), legend


@asyncrun
async def test_at_80x24_the_folded_views_are_named_above_the_footer(missions):
    """The footer cuts `v` at 80 columns: the loss plot's border names the hidden panels."""
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.loss_plot import LossPlot
    from descent_tui.tui.widgets.views import ViewsArea

    app = DescentApp(initial="tiny-net")
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        plot, views = app.screen.query_one(LossPlot), app.screen.query_one(ViewsArea)
        assert not views.display and views.keys
        assert str(plot.border_subtitle).startswith("v: more views (")
        assert "accuracy" in str(plot.border_subtitle)
        await pilot.press("v")
        await pilot.pause()
        assert views.display and not plot.border_subtitle  # a panel shows: no hint


@pytest.mark.parametrize("md, body", [
    ("## Debrief\n\nThe bowl is round.", "The bowl is round."),
    ("# DEBRIEF ##\nOne line.", "One line."),
    ("## Debrief notes\n\nKept.", "## Debrief notes\n\nKept."),  # another heading stays
    ("Text first.\n\n## Debrief", "Text first.\n\n## Debrief"),  # only a leading one goes
    ("## Debrief", "## Debrief"),  # nothing else: keep what the author wrote
    (None, "Run complete. Log your observations."),
])
def test_the_debrief_panel_does_not_repeat_its_title(md, body):
    """The panel is titled "… — DEBRIEF"; a mission's leading "## Debrief" heading
    would say it twice (every shipped mission has one)."""
    from descent_tui.tui.widgets.briefing import debrief_body

    assert debrief_body(md) == body


@pytest.mark.parametrize("width", [24, 30, 40, 60, 120])
def test_legend_labels_shortened_in_the_middle_stay_apart(width):
    """gradient-accumulation at 80×24 read "● batch… ▲ 4x8 a… ■ batch…": two runs with
    one label. Shortened in the middle, as the status line does, they stay distinct."""
    from descent_tui.tui.widgets.step_chart import Key, pack_keys

    keys = [Key(g, label, i, "avg 0.0373") for i, (g, label) in
            enumerate((("●", "batch 32"), ("▲", "4x8 accumulated"), ("■", "batch 8")))]
    lines = pack_keys(keys, width, 2)
    shown = [label for line in lines for _k, label, _v in line]
    assert len(shown) == 3
    if all(len(s) > 3 for s in shown):  # at 3 characters nothing can tell them apart
        assert len(set(shown)) == 3, shown


def _status_heights(status, labels, frames):
    """Show the status line for each ``(step, loss, lr, running, speed, log)`` of
    ``frames`` (every run the same loss; the last one a fork, selected): its heights
    and texts."""
    heights, texts = [], []
    for step, loss, lr, running, speed, log in frames:
        runs = [{"index": i, "label": label, "loss": loss, "diverged": False,
                 "lr": lr, "fork": i == len(labels) - 1} for i, label in enumerate(labels)]
        status.show({"step": step, "total": 200, "done": False, "runs": runs},
                    running=running, speed=speed, log_scale=log, selected=len(labels) - 1,
                    widest_speed="speed 5000/s · no auto-pause")
        heights.append(status.styles.height.value)
        texts.append(str(status.render()))
    for shown in texts:
        rows = shown.splitlines()
        assert len(rows) <= 2
        assert all(len(row) <= 160 for row in rows)
        assert all(run_style(i).glyph in shown for i in range(len(labels))), shown
        assert "⑂ fork selected" in shown and "lr " in shown
    return heights, texts


async def _zoo_status(pilot):
    """optimizer-zoo's status line once open, and its six run labels and a fork's."""
    from descent_tui.tui.widgets.status import StatusLine

    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    screen = pilot.app.screen
    return (screen.query_one(StatusLine),
            [rs.label for rs in screen.sim.runs] + ["fork of Adam @ 12"])


#: optimizer-zoo's six runs and a fork at 160 columns: short losses fit one row, the
#: widest (``1.23e-04``) need two
_FRAMES = [(7, 0.5, 0.1, True, "speed MAX", False),
           (8, 1.234e-4, 0.001234, False, "speed MAX", False),
           (9, 12.5, 0.01, True, "speed MAX", False),
           (10, 0.0012345, 1e-4, True, "speed MAX", False),
           (11, 0.5, 0.1, True, "speed MAX", False)]


@asyncrun
async def test_on_a_short_screen_the_status_line_grows_once_and_stays():
    """160×30, where a row counts: one row while the losses are short, two once the
    widest need them, and then two while the same runs train, so the height does
    not flip back and forth (each flip laid the whole screen out again). Back at
    step 0 it starts afresh."""
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.status import ROOMY_ROWS

    assert ROOMY_ROWS > 30
    app = DescentApp(initial="optimizer-zoo")
    async with app.run_test(size=(160, 30)) as pilot:
        status, labels = await _zoo_status(pilot)
        heights, _ = _status_heights(status, labels, _FRAMES)
        assert heights == [1, 2, 2, 2, 2], heights  # grown once, never back
        heights, _ = _status_heights(status, labels, [(0, 0.5, 0.1, False, "speed MAX", False)])
        assert heights == [1]  # a reset starts afresh


@asyncrun
async def test_on_a_tall_screen_the_status_line_never_changes_height_in_a_run():
    """160×50, rows to spare: the height is the one the widest losses, log scale and the
    longest speed need, from step 0 on, so no loss, speed or log toggle lays the
    screen out again while the runs train (a layout costs 40-70 ms there)."""
    from descent_tui.tui.app import DescentApp

    app = DescentApp(initial="optimizer-zoo")
    async with app.run_test(size=(160, 50)) as pilot:
        status, labels = await _zoo_status(pilot)
        frames = [(0, 0.5, 0.1, False, "speed 2/s", False), *_FRAMES,
                  (12, 0.5, 0.1, True, "speed 5000/s · no auto-pause", True)]
        heights, _ = _status_heights(status, labels, frames)
        assert heights == [2] * len(frames), heights
        # two runs fit one row at their widest: one row, for the whole run
        heights, _ = _status_heights(status, labels[:1] + labels[-1:], frames)
        assert heights == [1] * len(frames), heights


# ---------------------------------------------------------------- footer rebuilds
def test_the_footer_is_rebuilt_only_when_its_keys_change():
    """A focus move that changes no shown key leaves the footer as it is (Textual rebuilt
    it on every move: the Lab's tab walk spent half its time there); a move to a widget
    with keys of its own shows them, and a move away takes them off again."""
    import asyncio

    from textual.app import App
    from textual.binding import Binding
    from textual.widgets import Button
    from textual.widgets._footer import FooterKey

    from descent_tui.tui.widgets.key_footer import KeyFooter

    class Keyed(Button):
        BINDINGS = [Binding("k", "noop", "Knock out")]

        def action_noop(self) -> None:
            pass

    class Tiny(App):
        BINDINGS = [Binding("question_mark", "help", "Help")]

        def compose(self):
            yield Button("one", id="one")
            yield Button("two", id="two")
            yield Keyed("keyed", id="keyed")
            yield KeyFooter()

    def shown(app) -> list[str]:
        return [k.key for k in app.screen.query(FooterKey)]

    async def go():
        app = Tiny()
        async with app.run_test(size=(80, 10)) as pilot:
            footer = app.screen.query_one(KeyFooter)
            builds = []
            real = footer.recompose

            async def counted():
                builds.append(1)
                await real()

            footer.recompose = counted
            for name in ("one", "two", "one", "two"):
                app.screen.query_one(f"#{name}").focus()
                await pilot.pause()
            assert builds == [] and "k" not in shown(app)
            app.screen.query_one("#keyed").focus()
            await pilot.pause()
            assert len(builds) == 1 and "k" in shown(app)
            app.screen.query_one("#one").focus()
            await pilot.pause()
            assert len(builds) == 2 and "k" not in shown(app)

    asyncio.run(go())
