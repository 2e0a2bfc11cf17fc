"""The views area of the mission screen: which panels each mission gets, and their numbers.

Private missions (tests/missions/): ``panel-parabola`` (f = x² from x = 3, like
first-descent), ``panel-ravine`` (SGD, Adam and a step-decayed SGD on a ravine),
``panel-zero-init`` (XOR with zero, constant and random initialisation), ``tiny-net``.
"""

from __future__ import annotations

import numpy as np
import pytest
from _tui_helpers import asyncrun

MISSION_FILES = ["panel-parabola.toml", "panel-ravine.toml", "panel-zero-init.toml",
                 "tiny-net.toml", "tiny-bowl.toml"]


@pytest.fixture(autouse=True)
def _home(descent_home):
    return descent_home


async def opened(app, pilot):
    await app.workers.wait_for_complete()
    for _ in range(3):
        await pilot.pause()
    return app.screen


async def stepped(screen, pilot, n):
    screen.action_step(n)
    await screen.app.workers.wait_for_complete()
    for _ in range(2):
        await pilot.pause()


def strip_text(widget) -> str:
    """A line-API widget's picture as plain text."""
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


def table_text(widget) -> str:
    """A widget whose render() gives a Rich renderable, printed as plain text."""
    import io

    from rich.console import Console

    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(widget.render())
    return console.file.getvalue()


def make_app(mission):
    from descent_tui.tui.app import DescentApp

    return DescentApp(initial=mission)


def shown(screen) -> list[str]:
    return [w.id for w in screen.query(".view") if w.display and w.parent.display
            and screen.query_one("#views").display]


# ------------------------------------------------------------------ which panels
@pytest.mark.parametrize(("mission", "keys"), [
    ("panel-parabola", ["grad", "lr"]),
    ("panel-ravine", ["lr", "steps"]),  # a schedule: the lr panel comes first
    ("panel-zero-init", ["acc", "units"]),  # every run at the same lr: no lr panel
    ("tiny-bowl", ["steps", "lr"]),
])
@asyncrun
async def test_each_mission_gets_the_panels_that_apply(missions, mission, keys):
    app = make_app(mission)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await opened(app, pilot)
        assert screen.query_one("#views").keys == keys
        assert sorted(shown(screen)) == sorted(f"view-{k}" for k in keys)  # roomy: all


@asyncrun
async def test_v_cycles_one_panel_at_a_time_at_80x24(missions):
    app = make_app("panel-parabola")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot)
        assert shown(screen) == []  # 24 rows: folded, the plots keep their rows
        for want in (["view-grad"], ["view-lr"], [], ["view-grad"]):
            await pilot.press("v")
            await pilot.pause()
            assert shown(screen) == want


# ------------------------------------------------------------------ gradient value
@asyncrun
async def test_gradient_panel_says_6_at_x_3_and_the_step_it_causes(missions):
    from descent_tui.tui.widgets.gradient_value import GradientValue

    app = make_app("panel-parabola")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(app, pilot)
        assert shown(screen) == ["view-grad"]  # not roomy: one panel, the lesson's first
        panel = screen.query_one(GradientValue)
        careful = panel.rows[0]
        assert (careful.point, careful.grad) == (3.0, 6.0)
        line = next(t for t in table_text(panel).splitlines() if "careful" in t)
        assert line.split()[2:6] == ["3", "+6", "−0.6", "2.4"]
        await stepped(screen, pilot, 1)
        careful, bold = panel.rows
        assert careful.point == pytest.approx(2.4) and careful.grad == pytest.approx(4.8)
        assert bold.point == pytest.approx(0.3) and bold.grad == pytest.approx(0.6)


# ------------------------------------------------------------------ step sizes
@asyncrun
async def test_step_sizes_are_the_history_updates(missions):
    from descent_tui.tui.widgets.step_sizes import StepSizes

    app = make_app("panel-ravine")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await opened(app, pilot)
        panel = screen.query_one(StepSizes)
        assert all(r.delta is None for r in panel.rows)  # no update yet
        await stepped(screen, pilot, 3)
        for run, row in zip(screen.sim.runs, panel.rows, strict=True):
            h = run.history
            # row k is the state after k updates: the last update left row -2's point
            # using the gradient measured there
            before = np.array([h.series("param.x")[-2], h.series("param.y")[-2]])
            grad = np.array([h.series("grad.x")[-2], h.series("grad.y")[-2]])
            np.testing.assert_allclose(row.delta, run.point - before, rtol=1e-9)
            np.testing.assert_allclose(row.effective, -(run.point - before) / grad, rtol=1e-9)
        sgd, adam, _ = panel.rows
        np.testing.assert_allclose(sgd.effective, [0.19, 0.19], rtol=1e-9)  # lr everywhere
        assert adam.effective[0] > 3 * adam.effective[1]  # Adam: longer steps on the flat axis
        text = table_text(panel)
        assert "|Δx|" in text and "−Δy/g" in text
        assert f"{abs(sgd.delta[1]):.3g}" in next(t for t in text.splitlines() if "SGD" in t)


# ------------------------------------------------------------------ lr schedule
@asyncrun
async def test_lr_panel_draws_each_runs_schedule(missions):
    from descent_tui.tui.widgets.lr_panel import LrPanel

    app = make_app("panel-ravine")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await opened(app, pilot)
        await stepped(screen, pilot, 12)
        panel = screen.query_one(LrPanel)
        stepped_curve = panel.curves[2]
        want = [0.19 * 0.5 ** (s // 5) for s in stepped_curve.steps]  # the lr update s + 1 uses
        np.testing.assert_allclose(stepped_curve.values, want, rtol=1e-12)
        np.testing.assert_allclose(panel.curves[1].values, 0.5)
        assert [k.value for k in panel.legend] == ["0.19", "0.5", "0.0475"]  # the next step's
        assert "stepped 0.0475" in strip_text(panel)


# ------------------------------------------------------------------ accuracy
@asyncrun
async def test_accuracy_panel_shows_train_and_validation(missions):
    from descent_tui.tui.widgets.accuracy import AccuracyPanel

    app = make_app("panel-zero-init")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await opened(app, pilot)
        await stepped(screen, pilot, 30)
        panel = screen.query_one(AccuracyPanel)
        runs = screen.sim.runs
        assert len(panel.curves) == 6  # train and validation of three runs
        for run, curve in zip(runs, panel.curves[:3], strict=True):
            np.testing.assert_array_equal(curve.values, run.history.series("accuracy"))
        assert all(c.dotted for c in panel.curves[3:])
        random = panel.legend[2]
        assert random.value == (f"{100 * runs[2].last.accuracy:.0f}% "
                                f"val {100 * runs[2].last.val_accuracy:.0f}%")
        assert runs[2].last.accuracy > 0.75  # the random crew learns XOR
        assert "random" in strip_text(panel)


# ------------------------------------------------------------------ units
@asyncrun
async def test_unit_view_shows_identical_units_under_constant_init(missions):
    from descent_tui.tui.widgets.units import UnitView, duplicates

    app = make_app("panel-zero-init")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await opened(app, pilot)
        await stepped(screen, pilot, 20)
        view = screen.query_one(UnitView)
        for run_index, identical in ((0, True), (1, True), (2, False)):
            while screen.selected != run_index:
                await pilot.press("s")
                await pilot.pause()
            await pilot.pause()
            assert view.run_label == screen.sim.runs[run_index].label
            (layer,) = view.unit_layers
            assert layer.values.shape == (6, view.wanted_n(), view.wanted_n())
            same = all(np.allclose(v, layer.values[0], rtol=1e-9, atol=1e-12)
                       for v in layer.values)
            assert same is identical
            assert (duplicates(layer)[1:] == [0] * 5) is identical
            assert ("ALL IDENTICAL" in strip_text(view)) is identical
        # the random run's units differ, and its weights are what the model holds
        lin = screen.sim.runs[2].linears[0]
        np.testing.assert_array_equal(view.unit_layers[0].weights, lin.weight.data)


def test_unit_grids_mark_dead_relu_units_and_read_batches_without_a_plane():
    from _tui_helpers import MISSIONS as MISSIONS_DIR

    from descent_tui.scenario.loader import load_scenario
    from descent_tui.sim import Simulation
    from descent_tui.sim.units import unit_grids

    sim = Simulation(load_scenario(MISSIONS_DIR / "tiny-net.toml"), {"activation": "relu"})
    run = sim.runs[0]
    run.linears[0].bias.data[2] = -1e6  # unit 3 of layer 1 never fires
    layers = unit_grids(run, 10)
    assert [layer.dead[2] for layer in layers] == [True, False]
    assert not layers[0].dead[[0, 1, 3]].any()
    # inputs that are not 2-D: each unit's outputs on (up to n) training samples
    run.problem.data["X"] = np.column_stack([run.problem.data["X"], run.problem.data["X"][:, 0]])
    run.linears[0].weight.data = np.hstack([run.linears[0].weight.data,
                                            np.zeros((8, 1))])
    (first, _second) = unit_grids(run, 10)
    assert first.over == "batch" and first.values.shape == (8, 10)


def test_duplicates_names_the_first_earlier_twin_up_to_rounding():
    from descent_tui.sim.units import UnitLayer
    from descent_tui.tui.widgets.units import duplicates

    values = np.zeros((4, 3, 3))
    weights = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 0.0], [1.0, 2.0 + 1e-13]])
    flags = np.zeros(4, dtype=bool)
    layer = UnitLayer("layer 1", "tanh", "plane", values, weights, np.zeros(4), flags, flags)
    assert duplicates(layer) == [None, 0, None, 0]
    weights[1, 0] = 1.001
    assert duplicates(layer) == [None, None, None, 0]


@asyncrun
async def test_a_failing_read_out_shows_in_place_and_the_screen_keeps_working(missions,
                                                                             monkeypatch):
    import descent_tui.sim.steps as steps

    def broken(run):
        raise RuntimeError("no gradient here")

    monkeypatch.setattr(steps, "gradient_here", broken)
    app = make_app("panel-parabola")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await opened(app, pilot)
        await stepped(screen, pilot, 2)
        assert "no gradient here" in str(screen.query_one("#view-grad").border_subtitle)
        assert screen.sim.step_count == 2 and app.is_running


@pytest.mark.parametrize("units", [12, 32])
@asyncrun
async def test_unit_labels_are_whole_or_left_out(missions, tmp_path, units):
    """In a narrow tile ``u10`` was cut to ``u1``, so a 32-unit layer read u1 … u9 u1 u1
    u1: every label shown must name its own unit, whole."""
    import re

    from _tui_helpers import MISSIONS as MISSIONS_DIR

    from descent_tui.tui.widgets.units import UnitView

    src = (MISSIONS_DIR / "panel-zero-init.toml").read_text(encoding="utf-8")
    wide = tmp_path / "wide-layer.toml"
    wide.write_text(src.replace('id = "panel-zero-init"', 'id = "wide-layer"')
                    .replace("layers = [2, 6, 1]", f"layers = [2, {units}, 1]"), encoding="utf-8")
    app = make_app(str(wide))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(app, pilot)
        await stepped(screen, pilot, 3)
        view = screen.query_one(UnitView)
        while not (view.display and view.parent.display and view.size.width):
            await pilot.press("v")
            await pilot.pause()
        await pilot.press("s", "s")  # the random run: its units differ
        for _ in range(3):
            await pilot.pause()
        rows = strip_text(view).splitlines()
        (label_row,) = [r for r in rows if re.match(r"\s*▸?u1\b", r)]
        numbers = [int(t) for t in re.findall(r"u?(\d+)", label_row)]
        assert numbers == sorted(set(numbers)) and numbers[0] == 1, label_row
        assert len(numbers) >= min(units, 9), label_row


@asyncrun
async def test_a_low_gradient_panel_keeps_both_ends_and_a_whole_verdict(missions):
    """At 80×24 the verdict "layer 1 gets no gradient at all · all |g| < 1e-05: the whole
    stack stalled" took the output layer's row and was still cut ("· all"): a low panel
    shows L1 and the last layer and the verdict's first clause, whole."""
    from descent_tui.tui.widgets.layer_grads import LayerGrads

    app = make_app("panel-zero-init")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot)
        await stepped(screen, pilot, 5)
        await pilot.press("v")  # a views panel opens under the plot: the top row gets lower
        for _ in range(3):
            await pilot.pause()
        panel = screen.query_one(LayerGrads)
        assert panel.run_label == "all zeros" and panel.size.height <= 5, panel.size
        text = strip_text(panel)
        flat = " ".join(text.split())
        assert "L1" in text and "L2" in text, text
        assert "layer 1 gets no gradient at all" in flat and "· all" not in flat, text
