"""The backprop inspector: Pilot + snapshot tests; the numbers on screen are the engine's."""

from __future__ import annotations

import re

import numpy as np
import pytest
from _tui_helpers import asyncrun, install_missions, rendered_text


@pytest.fixture(autouse=True)
def _home(descent_home):
    return descent_home


async def settle(pilot, n=3):
    for _ in range(n):
        await pilot.pause()


async def open_inspector(pilot, app, **kw):
    """Push the inspector on top of the open mission, with the mission's sim and lock."""
    from descent_tui.tui.screens.inspector import InspectorScreen

    await settle(pilot)
    mission = app.screen
    app.push_screen(InspectorScreen(mission.sim, mission.selected, mission._lock, **kw))
    await settle(pilot)
    return mission, app.screen


def detail_text(screen) -> str:
    return str(screen.query_one("#step-detail").render())


def plain(screen, wid) -> str:
    """Widget ``wid``'s content as plain text (Rich renderables printed wide, without wrapping)."""
    return rendered_text(screen.query_one(wid))


def graph_rows(screen) -> dict[str, list[str]]:
    """The graph table as {node label: columns} (parsed from the rendered text)."""
    rows = {}
    for line in screen.query_one("#graph-view").text.splitlines()[1:]:
        cols = line[2:].split()
        rows[cols[1]] = cols[2:]
    return rows


def make_app(mission):
    from descent_tui.tui.app import DescentApp

    return DescentApp(initial=mission)


# ---------------------------------------------------------------- first-descent
@asyncrun
async def test_first_descent_example_every_number_by_hand():
    """y = 2x, z = y² at x = 1: y = 2, z = 4; dz/dy = 4, dy/dx = 2, dz/dx = 8."""
    app = make_app("first-descent")
    async with app.run_test(size=(120, 40)) as pilot:
        _, screen = await open_inspector(pilot, app, example=True)
        assert screen.model.graph.kind == "example"
        assert "forward 1/3" in screen.query_one("#graph-view").border_subtitle
        await pilot.press("n", "n")  # forward: x, y, z all computed
        rows = graph_rows(screen)
        assert [rows[k][2] for k in "xyz"] == ["1", "2", "4"]
        await pilot.press("n")  # backward step 1: z hands dz/dy = 2y = 4 to y
        d = detail_text(screen)
        assert "BACKWARD STEP 1 of 2" in d and "dL/dnode = 1" in d
        assert "d(z)/d(y) = 4" in d and "dL/d(y) = 1 × 4 = 4" in d
        await pilot.press("right")  # step 2: y hands dy/dx = 2, dL/dx = 4 · 2 = 8
        d = detail_text(screen)
        assert "BACKWARD STEP 2 of 2" in d and "dL/dnode = 4" in d
        assert "d(y)/d(x) = 2" in d and "dL/d(x) = 4 × 2 = 8" in d
        await pilot.press("n")  # done: every parameter holds its gradient
        assert "dL/d(x) = 8" in detail_text(screen)
        rows = graph_rows(screen)
        assert [rows[k][3] for k in "xyz"] == ["8", "4", "1"]
        # the same numbers as a real backward()
        g = screen.model.graph
        g.root.backward()
        assert g.params[0][1].grad == 8.0
        await pilot.press("left", "p")
        assert screen.model.at().phase == "backward" and screen.model.at().step == 0


@asyncrun
async def test_first_descent_training_step_matches_hand_and_sim():
    app = make_app("first-descent")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        mission = app.screen
        mission.sim.step(2)
        x = float(mission.sim.runs[0].theta.data[0])  # 3 · 0.8² = 1.92
        _, screen = await open_inspector(pilot, app)
        assert "step 3" in plain(screen, "#inspector-info")
        assert "loss = x**2" in plain(screen, "#inspector-info")
        await pilot.press("b")
        d = detail_text(screen)
        assert f"d(loss)/d(x) = {2 * x:.6g}" in d
        assert f"dL/d(x) = 1 × {2 * x:.6g} = {2 * x:.6g}" in d
        await pilot.press("end")
        shown = float(graph_rows(screen)["x"][3])
        mission.sim.step(1)  # the step the inspector showed
        # row -2: the point before this update, whose gradient the update used
        assert shown == pytest.approx(mission.sim.runs[0].history.series("grad.x")[-2])
        assert shown == pytest.approx(2 * x)
        # c: analytic vs numerical side by side
        await pilot.press("c")
        await settle(pilot)
        text = plain(screen, "#chain-check")
        assert "all agree" in text
        row = next(line for line in text.splitlines() if line.startswith("x "))
        backprop, numerical = (float(v) for v in row.split()[1:3])
        assert backprop == pytest.approx(2 * x) and numerical == pytest.approx(2 * x)
        # s: the next run's step; e: the worked example and back
        await pilot.press("s")
        assert screen.run_index == 1 and screen.check is None
        await pilot.press("e")
        assert screen.model.graph.kind == "example"
        await pilot.press("e")
        assert screen.model.graph.kind == "landscape"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is mission


# ---------------------------------------------------------------- vanishing gradients
@asyncrun
async def test_vanishing_gradients_blame_equals_sim_grad_norms():
    app = make_app("vanishing-gradients")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        mission = app.screen
        mission.sim.step(3)
        _, screen = await open_inspector(pilot, app)
        model = screen.model
        assert len(model.trace.nodes) == 42 and len(model.groups) == 10
        assert "step 4" in plain(screen, "#inspector-info")
        await pilot.press("end")
        blame = plain(screen, "#layer-blame")
        shown = {int(m.group(1)): float(m.group(2))
                 for m in re.finditer(r"^L(\d+)\s+([0-9.e+-]+)", blame, re.MULTILINE)}
        assert sorted(shown) == list(range(1, 11))
        exact = [g.grad_norm(model.trace.grads) for g in model.groups]
        # the engine: a real backward() on the same graph
        model.graph.root.backward()
        for g, v in zip(model.groups, exact):
            ps = [model.trace.nodes[i].tensor.grad for i in g.params]
            assert v == pytest.approx(np.sqrt(sum(np.sum(p * p) for p in ps)), rel=1e-12)
        # the simulation: step it once and read what it recorded for that step
        mission.sim.step(1)
        rs = mission.sim.runs[0]
        recorded = [rs.history.series(f"layer {k}.grad_norm")[-1] for k in range(1, 11)]
        assert rs.history.steps[-1] == model.graph.step
        assert exact == pytest.approx(recorded, rel=1e-12)
        assert [shown[k] for k in range(1, 11)] == pytest.approx(recorded, rel=6e-3)
        # the sigmoid stack: the blame shrinks towards the input
        assert recorded[0] < recorded[9] / 3


@asyncrun
async def test_vanishing_walk_keys_jump_and_check():
    from descent_tui.tui.screens.inspector import JumpScreen

    app = make_app("vanishing-gradients")
    async with app.run_test(size=(120, 40)) as pilot:
        _, screen = await open_inspector(pilot, app)
        m = screen.model
        await pilot.press("b")
        assert m.at().phase == "backward" and m.at().node == 41  # the loss first
        assert "(dL/dL = 1: where the walk starts)" in detail_text(screen)
        for _ in range(5):
            await pilot.press("n")
        step = m.current_step()
        d = detail_text(screen)
        assert f"BACKWARD STEP 6 of {m.n_backward}" in d
        assert m.trace.nodes[step.node].label in d
        # every hand-off shown is the chain-rule product the engine computes
        for h in step.handoffs:
            assert f"{np.sqrt(np.sum(h.grad ** 2)):.4g}" in d
        # j: pick 'layer 1 · weight'
        await pilot.press("j")
        await settle(pilot)
        assert isinstance(app.screen, JumpScreen)
        from textual.widgets import OptionList

        ol = app.screen.query_one(OptionList)
        target = next(n.index for n in m.trace.nodes if n.label == "layer 1 · weight")
        ol.highlighted = target
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        step = m.current_step()
        assert any(h.parent == target for h in step.handoffs)  # the step that feeds it
        assert "layer 1 · weight" in detail_text(screen)
        await pilot.press("j")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        # c: gradcheck per parameter tensor, sampled and said so
        await pilot.press("c")
        await settle(pilot)
        text = plain(screen, "#chain-check")
        assert "all agree" in text and "a sample of 6 entries" in text
        assert "L1 W" in text and "6/32" in text and "L10 b" in text
        await pilot.press("home")
        assert m.pos == 0 and m.at().phase == "forward"


@asyncrun
async def test_bindings_are_described_for_footer_help_and_palette():
    from descent_tui.tui.screens.inspector import InspectorScreen

    described = {b.key: b.description for b in InspectorScreen.BINDINGS}
    for key in ("n,right", "p,left", "j", "c", "escape"):
        assert described[key]
    app = make_app("first-descent")
    async with app.run_test(size=(120, 40)) as pilot:
        _, screen = await open_inspector(pilot, app)
        await pilot.press("question_mark")
        await settle(pilot)
        text = plain(app.screen, "#help-keys")
        assert "Check chain rule" in text and "Jump to node" in text
        cmds = [c.title for c in app.get_system_commands(screen)]
        assert any("Check chain rule" in t for t in cmds)


@asyncrun
async def test_small_terminal_stacks_panels():
    app = make_app("vanishing-gradients")
    async with app.run_test(size=(80, 24)) as pilot:
        _, screen = await open_inspector(pilot, app)
        assert screen.has_class("-narrow")
        await pilot.press("b", "n", "n")
        assert screen.model.at().step == 2


# ---------------------------------------------------------------- snapshots
# Private test missions (tests/missions/), never the shipped ones: editing a
# shipped mission must not change a snapshot.
@pytest.fixture
def snap_missions(tmp_path, monkeypatch):
    return install_missions(tmp_path / "missions", monkeypatch,
                            ["inspector-parabola.toml", "inspector-deep-sigmoid.toml"])


def _snap_app(mission, **kw):
    from descent_tui.tui.app import DescentApp
    from descent_tui.tui.screens.inspector import InspectorScreen

    app = DescentApp(initial=mission)

    async def run_before(pilot):
        await settle(pilot)
        m = app.screen
        app.push_screen(InspectorScreen(m.sim, m.selected, m._lock, **kw))
        await settle(pilot)

    return app, run_before


def test_snapshot_briefing_example_walk(snap_compare, snap_missions):
    app, before = _snap_app("inspector-parabola", example=True)
    assert snap_compare(app, terminal_size=(120, 40), run_before=before,
                        press=["n", "n", "n", "n"])


def test_snapshot_parabola_backward_step(snap_compare, snap_missions):
    app, before = _snap_app("inspector-parabola")
    assert snap_compare(app, terminal_size=(80, 24), run_before=before, press=["n", "n"])


def test_snapshot_deep_sigmoid_blame_per_layer(snap_compare, snap_missions):
    app, before = _snap_app("inspector-deep-sigmoid")
    assert snap_compare(app, terminal_size=(120, 40), run_before=before,
                        press=["b"] + ["n"] * 12)


@asyncrun
async def test_g_opens_the_inspector_from_a_mission():
    from descent_tui.tui.screens.inspector import InspectorScreen

    for mission_id in ("first-descent", "vanishing-gradients"):
        app = make_app(mission_id)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            mission = app.screen
            await pilot.press("s")  # the selected run is the one inspected
            await pilot.press("g")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, InspectorScreen)
            assert screen.sim is mission.sim and screen.run_index == mission.selected == 1
            assert screen.model.graph.run_label == mission.sim.runs[1].label
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is mission
