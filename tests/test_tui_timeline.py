"""The timeline in the app (issue 16), driven with Pilot: ``[`` back one step is
exactly the state recorded then, ``]`` retraces the first pass, ``f`` forks the
selected run (shown in the loss plot and the status line), ``d`` drops it.

Each comparison is between two passes of the same code (a step and its replay),
so bitwise equality is the contract, not an accident of the CPU.
"""

from __future__ import annotations

import numpy as np
import pytest
from _tui_helpers import asyncrun, rendered_text, skip_predictions

#: the private missions (tests/missions/) the `missions` fixture installs
MISSION_FILES = ["tiny-bowl.toml", "tiny-net.toml", "diverge-bowl.toml"]


@pytest.fixture(autouse=True)
def _home(descent_home):
    return descent_home


async def settle(pilot, n=3):
    await pilot.app.workers.wait_for_complete()
    for _ in range(n):
        await pilot.pause()


async def open_mission(pilot, app):
    await settle(pilot)
    screen = app.screen
    skip_predictions(screen)
    screen.set_focus(None)
    return screen


def state(screen):
    """Every run's parameters, gradients and step, as bytes (copies)."""
    return [(rs.step, [p.data.tobytes() for p in rs.params],
             [b"-" if p.grad is None else p.grad.tobytes() for p in rs.params],
             repr(rs.last)) for rs in screen.sim.runs]


def notes(app):
    return [n.message for n in app._notifications]


@asyncrun
async def test_back_is_the_recorded_step_and_forward_retraces_it(missions):
    from descent_tui.tui.app import DescentApp

    app = DescentApp(initial="tiny-bowl")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_mission(pilot, app)
        seen = {}
        for k in range(1, 6):
            await pilot.press("space")
            await settle(pilot)
            seen[k] = state(screen)
            seen[k, "point"] = [rs.point.copy() for rs in screen.sim.runs]
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.sim.step_count == 4
        assert state(screen) == seen[4]
        for rs, point in zip(screen.sim.runs, seen[4, "point"], strict=True):
            assert np.array_equal(rs.point, point)
        assert any("Back to step 4" in m for m in notes(app))
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert screen.sim.step_count == 5
        assert state(screen) == seen[5]
        for _ in range(6):  # back to 0, then once more: it stays
            await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.sim.step_count == 0
        assert any("Already at step 0" in m for m in notes(app))


@asyncrun
async def test_back_while_running_pauses_first(missions):
    from descent_tui.tui.app import DescentApp

    app = DescentApp(initial="tiny-bowl")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_mission(pilot, app)
        screen.auto_pause = False
        await pilot.press("r")
        await pilot.pause(0.3)
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert not screen.running
        at = screen.sim.step_count
        assert all(rs.step == at for rs in screen.sim.runs)
        await pilot.pause(0.3)
        assert screen.sim.step_count == at  # paused: nothing steps on


@asyncrun
async def test_a_fork_is_drawn_beside_the_runs_and_dropped(missions):
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.loss_plot import LossPlot
    from descent_tui.tui.widgets.status import StatusLine

    app = DescentApp(initial="tiny-bowl")
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_mission(pilot, app)
        for _ in range(3):
            await pilot.press("space")
        await settle(pilot)
        await pilot.press("f")  # no lr typed in the knobs: half the selected run's lr
        await settle(pilot)
        (fork,) = screen.timeline.forks
        assert fork.label == "slow ⑂ step 3, lr 0.005"
        assert any("Forked 'slow' at step 3 with lr 0.005" in m for m in notes(app))
        await pilot.press("space")
        await settle(pilot)
        assert fork.step == 4
        plot = screen.query_one(LossPlot)
        assert [(k.label, k.index) for k in plot.legend] == [("slow", 0), ("fast", 1), (fork.label, 2)]
        (drawn,) = [c for c in plot.curves if c.index == 2]
        assert list(drawn.steps)[-1] == 4
        assert fork.label in rendered_text(screen.query_one(StatusLine))
        assert len(screen.sim.runs) == 2  # the quiz grades the runs as first trained
        await pilot.press("d")
        await settle(pilot)
        assert screen.timeline.forks == []
        assert [k.label for k in screen.query_one(LossPlot).legend] == ["slow", "fast"]
        assert fork.label not in rendered_text(screen.query_one(StatusLine))
        assert any(f"Dropped '{fork.label}'" in m for m in notes(app))
        await pilot.press("d")
        await settle(pilot)
        assert any("No fork to drop" in m for m in notes(app))


@asyncrun
async def test_a_fork_takes_the_lr_typed_in_the_knobs(missions):
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.knobs import KnobsPanel

    app = DescentApp(initial="tiny-bowl")
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_mission(pilot, app)
        await pilot.press("space")
        await settle(pilot)
        screen.query_one(KnobsPanel).state.edit(0, "lr", 0.05)  # typed, not applied
        await pilot.press("f")
        await settle(pilot)
        (fork,) = screen.timeline.forks
        assert fork.lr == 0.05 and fork.label == "slow ⑂ step 1, lr 0.05"
        assert screen.sim.runs[0].lr == 0.01  # the parent keeps its lr


@asyncrun
async def test_a_network_fork_steps_with_the_runs(missions):
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.loss_plot import LossPlot

    app = DescentApp(initial="tiny-net")
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_mission(pilot, app)
        await pilot.press("space", "f", "space", "space")
        await settle(pilot)
        (fork,) = screen.timeline.forks
        assert fork.step == screen.sim.step_count == 3
        assert fork.label in [k.label for k in screen.query_one(LossPlot).legend]
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.timeline.forks == [fork] and fork.step == 2  # rewound with the runs, in place


@asyncrun
async def test_the_scrub_keys_jump_every_run_and_end_returns(missions):
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.scrub_bar import ScrubBar

    app = DescentApp(initial="tiny-bowl")  # 40 steps: a tenth is 4
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_mission(pilot, app)
        seen = {}
        for k in range(1, 13):
            await pilot.press("space")
            await settle(pilot)
            seen[k] = state(screen)
        await pilot.press("left_curly_bracket")  # {: 12 -> 8
        await settle(pilot)
        assert screen.sim.step_count == 8 and state(screen) == seen[8]
        bar = screen.query_one(ScrubBar)
        assert (bar.step, bar.reached, bar.total) == (8, 12, 40)
        await pilot.press("home")
        await settle(pilot)
        assert screen.sim.step_count == 0 and all(rs.step == 0 for rs in screen.sim.runs)
        await pilot.press("right_curly_bracket")  # }: 0 -> 4
        await settle(pilot)
        assert state(screen) == seen[4]
        await pilot.press("end")  # back to the furthest step reached, as first trained
        await settle(pilot)
        assert state(screen) == seen[12]
        await pilot.press("right_curly_bracket")  # nothing beyond what was reached
        await settle(pilot)
        assert screen.sim.step_count == 12


@asyncrun
async def test_a_click_on_the_scrub_bar_jumps_there(missions):
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.scrub_bar import ScrubBar, cell_of

    app = DescentApp(initial="tiny-bowl")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_mission(pilot, app)
        seen = {}
        for k in range(1, 21):
            await pilot.press("space")
            await settle(pilot)
            seen[k] = state(screen)
        bar = screen.query_one(ScrubBar)
        x0, width = bar._bar_span()
        col = x0 + cell_of(10, width, 40)
        target = bar.step_at(col)
        assert 8 <= target <= 12
        await pilot.click(ScrubBar, offset=(col + bar.styles.padding.left, 0))
        await settle(pilot)
        assert screen.sim.step_count == target and state(screen) == seen[target]
        assert bar.step == target
        await pilot.click(ScrubBar, offset=(bar.size.width - 2, 0))  # past the bar's end:
        await settle(pilot)                                         # the reached step at most
        assert screen.sim.step_count <= 20


@asyncrun
async def test_a_click_on_a_wide_cell_goes_to_a_step_every_run_kept(missions):
    """On a long run a cell of the scrub bar shows dozens of steps: a click goes to
    the one of them nearest the cell's own step that every run kept, so the jump
    replays nothing (tiny-net planned for 10,000 steps: past its first 4,095 steps,
    a checkpoint every 3)."""
    from descent_tui.scenario.catalog import find
    from descent_tui.scenario.overrides import apply
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.scrub_bar import ScrubBar, cell_of

    app = DescentApp(initial=apply(find("tiny-net", []), [("steps", 10_000)]))
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_mission(pilot, app)
        with screen._lock:
            screen.sim.step(4_300)
        screen._redraw_soon()
        await settle(pilot)
        assert screen.timeline.tracks[0].policy.spacing == 3
        bar = screen.query_one(ScrubBar)
        x0, width = bar._bar_span()
        # a cell before 4,095 whose own step was not kept (not a multiple of 3)
        col = next(x for x in range(x0 + 1, x0 + cell_of(4_000, width, 10_000))
                   if bar.jump_at(x).step % 3)
        jump = bar.jump_at(col)
        assert jump.spread >= 30 and jump.step not in screen.timeline.tracks[0].checkpoints
        await pilot.click(ScrubBar, offset=(col + bar.styles.padding.left, 0))
        await settle(pilot)
        k = screen.sim.step_count
        assert k % 3 == 0 and abs(k - jump.step) <= 2 and bar.step == k
        assert all(k in t.checkpoints for t in screen.timeline.tracks)
        assert all(rs.step == k for rs in screen.sim.runs)


@asyncrun
async def test_a_fork_shows_in_the_views_area_and_on_the_scrub_bar(missions):
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.lr_panel import LrPanel
    from descent_tui.tui.widgets.scrub_bar import ForkMark, ScrubBar
    from descent_tui.tui.widgets.step_sizes import StepSizes

    app = DescentApp(initial="tiny-bowl")
    async with app.run_test(size=(160, 50)) as pilot:  # roomy: every panel shows
        screen = await open_mission(pilot, app)
        for _ in range(3):
            await pilot.press("space")
        await pilot.press("f", "space")
        await settle(pilot)
        (fork,) = screen.timeline.forks
        lr_keys = [(k.label, k.index) for k in screen.query_one(LrPanel).legend]
        assert (fork.label, 2) in lr_keys
        assert [(r.label, r.index) for r in screen.query_one(StepSizes).rows][-1] == (fork.label, 2)
        assert screen.query_one(ScrubBar).forks == (ForkMark(3, 2),)
        await pilot.press("d")
        await settle(pilot)
        assert fork.label not in [k.label for k in screen.query_one(LrPanel).legend]
        assert screen.query_one(ScrubBar).forks == ()


def test_the_bar_marks_the_reached_stretch_the_cursor_and_the_forks():
    from descent_tui.tui.widgets.scrub_bar import ForkMark, bar_cells

    cells = bar_cells(11, total=100, step=30, reached=50, forks=(ForkMark(80, 3),))
    roles = [role for _, role in cells]
    assert roles[3] == "now" and roles[8] == "fork:3"
    assert roles[:3] == ["done"] * 3 and roles[4:6] == ["done"] * 2
    assert roles[6:8] == ["ahead"] * 2 and roles[9:] == ["ahead"] * 2
    assert bar_cells(0, 100, 0, 0) == []


def _layer_numbers(layers):
    return [(r.name, r.grad_norm, r.weight_norm) for r in layers]


@asyncrun
async def test_a_selected_fork_is_what_the_run_views_show(missions):
    """``s`` walks the runs then the forks; the decision map, the layer panel, the unit
    view and the inspector then show the fork's state at the step shown (not its parent's)."""
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.screens.inspector import InspectorScreen
    from descent_tui.tui.widgets.layer_grads import LayerGrads
    from descent_tui.tui.widgets.status import StatusLine
    from descent_tui.tui.widgets.units import UnitView

    app = DescentApp(initial="tiny-net")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_mission(pilot, app)
        await pilot.press("space", "space", "space", "f", "space", "space", "space")
        await settle(pilot)
        (fork,) = screen.timeline.forks
        parent = screen.sim.runs[0]
        assert fork.step == parent.step == 6 and fork.lr != parent.lr
        await pilot.press("s")
        await settle(pilot)
        assert screen.selected == 1
        status = rendered_text(screen.query_one(StatusLine))
        assert "⑂ fork selected" in status and f"lr {fork.lr:g}" in status
        dm = screen.query_one("#decision")
        _, _, shown = dm.grid
        _, _, theirs = fork.decision_grid(*shown.shape[::-1])
        _, _, parents = parent.decision_grid(*shown.shape[::-1])
        assert dm.view.label == fork.label
        assert np.allclose(shown, theirs) and not np.allclose(shown, parents)
        grads = screen.query_one(LayerGrads)
        assert grads.run_label == fork.label
        assert _layer_numbers(grads.stats) == _layer_numbers(fork.layers)
        assert _layer_numbers(grads.stats) != _layer_numbers(parent.layers)
        assert screen.query_one(UnitView).run_label == fork.label

        await pilot.press("left_square_bracket")  # the fork's state one step back
        await settle(pilot)
        then = screen.timeline.state_at(screen.timeline.forks[0], 5)
        live = screen.timeline.forks[0]
        assert live.step == 5 and screen.selected == 1
        assert _layer_numbers(grads.stats) == _layer_numbers(then.layers)
        _, _, shown = dm.grid
        assert np.allclose(shown, then.decision_grid(*shown.shape[::-1])[2])

        await pilot.press("g")
        await settle(pilot)
        inspector = app.screen
        assert isinstance(inspector, InspectorScreen)
        assert inspector.model.graph.run_label == live.label
        assert inspector.model.graph.step == 6  # the update it is about to take
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("s")  # past the last fork: the first run again
        await settle(pilot)
        assert screen.selected == 0 and dm.view.label == parent.label


@asyncrun
async def test_dropping_the_selected_fork_selects_its_parent(missions):
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.status import StatusLine

    app = DescentApp(initial="tiny-bowl")  # runs 'slow' (0) and 'fast' (1)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_mission(pilot, app)
        await pilot.press("space", "space", "s", "f", "f")  # two forks of 'fast'
        await settle(pilot)
        first, second = screen.timeline.forks
        await pilot.press("s", "s")
        await settle(pilot)
        assert screen.selected == 3
        await pilot.press("f")  # a fork of the selected fork
        await settle(pilot)
        assert screen.timeline.forks[-1].label.startswith(second.label + " ⑂ step 2")
        await pilot.press("d")  # drops the selected fork (not the newest)
        await settle(pilot)
        assert [f.label for f in screen.timeline.forks][:1] == [first.label]
        assert second not in screen.timeline.forks
        assert screen.selected == 1  # 'fast', the dropped fork's parent
        assert "fork selected" not in rendered_text(screen.query_one(StatusLine))
        await pilot.press("s", "s")  # 'fast' -> the first fork -> the fork of the dropped one
        await settle(pilot)
        assert screen.selected == 4
        assert "⑂ fork selected" in rendered_text(screen.query_one(StatusLine))
        screen.action_reset()  # a reset drops the forks: the selection falls back
        await settle(pilot)
        assert screen.timeline.forks == [] and screen.selected == 0
        assert "fork selected" not in rendered_text(screen.query_one(StatusLine))
        land = screen.query_one("Landscape")
        assert land.selected == screen.selected
        assert screen.sim.runs[screen.selected].label in str(land.border_subtitle)


@asyncrun
async def test_a_selected_network_fork_with_no_layers_view_falls_back_after_reset(missions):
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.layer_grads import LayerGrads

    app = DescentApp(initial="tiny-net")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_mission(pilot, app)
        await pilot.press("space", "f", "s")
        await settle(pilot)
        assert screen.selected == 1
        screen.action_reset()
        await settle(pilot)
        assert screen.selected == 0
        grads = screen.query_one(LayerGrads)
        assert grads.run_label == screen.sim.runs[0].label
        assert screen.query_one("#decision").view.label == screen.sim.runs[0].label


@asyncrun
async def test_a_fork_does_not_exist_before_its_birth_step(missions):
    """Stepped back to before a fork was made, no view shows the fork (not its later
    state): the loss plot, the status line, the landscape, the views area; its mark
    stays on the scrub bar, ``d`` does not drop it, a selected fork hands the selection
    to its parent. Stepping on to its birth step shows it again, in the state it was
    born in, and it retraces its first steps."""
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.widgets.loss_plot import LossPlot
    from descent_tui.tui.widgets.lr_panel import LrPanel
    from descent_tui.tui.widgets.scrub_bar import ForkMark, ScrubBar
    from descent_tui.tui.widgets.status import StatusLine
    from descent_tui.tui.widgets.step_sizes import StepSizes

    app = DescentApp(initial="tiny-bowl")  # runs 'slow' (0) and 'fast' (1); 40 steps
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_mission(pilot, app)
        await pilot.press(*["space"] * 6, "s", "f", "s")  # a fork of 'fast' at 6, selected
        await settle(pilot)
        (fork,) = screen.timeline.forks
        assert screen.selected == 2
        born = [p.data.tobytes() for p in fork.params]
        await pilot.press("space", "space")
        await settle(pilot)
        later = [p.data.tobytes() for p in fork.params]
        plot, status, land = screen.query_one(LossPlot), screen.query_one(StatusLine), \
            screen.query_one("Landscape")
        assert fork.label in [k.label for k in plot.legend]

        await pilot.press("left_curly_bracket")  # {: 8 -> 4, before the fork's birth
        await settle(pilot)
        assert screen.sim.step_count == 4
        assert fork.label not in [k.label for k in plot.legend]
        assert all(c.index != 2 for c in plot.curves)
        assert fork.label not in rendered_text(status)
        assert [r["label"] for r in land.runs] == ["slow", "fast"]
        assert fork.label not in [k.label for k in screen.query_one(LrPanel).legend]
        assert fork.label not in [r.label for r in screen.query_one(StepSizes).rows]
        assert screen.query_one(ScrubBar).forks == (ForkMark(6, 2),)
        assert screen.selected == 1 and land.selected == 1  # 'fast', the fork's parent
        assert fork.step == 6 and [p.data.tobytes() for p in fork.params] == born
        await pilot.press("d")
        await settle(pilot)
        assert screen.timeline.forks == [fork]
        assert any("No fork to drop" in m for m in notes(app))

        await pilot.press("space", "space")  # step 6: born again, as it was born
        await settle(pilot)
        assert fork.label in [k.label for k in plot.legend]
        assert fork.label in rendered_text(status)
        assert [p.data.tobytes() for p in fork.params] == born
        await pilot.press("space", "space")
        await settle(pilot)
        assert fork.step == 8 and [p.data.tobytes() for p in fork.params] == later


@asyncrun
async def test_a_diverged_run_is_forked_before_it_diverged_and_every_run_goes_back(missions):
    """``f`` on a run that has diverged forks its last state before the divergence
    (a fork of the diverged state would be diverged from birth, and never step), and
    every run goes back to that step, so the fork races them from there."""
    from descent_tui.tui.app import DescentApp

    app = DescentApp(initial="diverge-bowl")
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_mission(pilot, app)
        screen.action_step(15)  # "wild" (lr 1.2) trips diverge_above at step 11
        await settle(pilot)
        wild = screen.sim.runs[1]
        assert wild.diverged and wild.step == 11
        screen.selected = 1
        await pilot.press("f")  # half its lr: 0.6, which converges on x² + y²
        await settle(pilot)
        (fork,) = screen.timeline.forks
        assert screen.sim.step_count == 10 and fork.step == 10 and not fork.diverged
        assert not wild.diverged and wild.step == 10  # back before its divergence
        assert any("Forked 'wild' at step 10, the last before it diverged" in m
                   for m in notes(app))
        start = fork.last.loss
        await pilot.press("space", "space")
        await settle(pilot)
        assert wild.diverged and wild.step == 11  # it diverges again, as first trained
        # with lr 0.6 each step multiplies x and y by -0.2: the loss by 0.04
        assert fork.step == 12 and not fork.diverged and fork.last.loss < start / 100
