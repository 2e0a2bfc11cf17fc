"""The Lab screen, driven from the keyboard the way a learner would (Pilot tests).

Controls get the focus (as tab gives it), fields cleared with ctrl+u and typed into, menus
opened with enter and walked with the arrow keys, sliders moved with ← / →.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from _tui_helpers import press_while_busy

from descent_tui.scenario.lab import from_scenario
from descent_tui.tui.app import DescentApp
from descent_tui.tui.screens.lab import SETTLE, LabScreen
from descent_tui.tui.screens.select import SelectScreen
from descent_tui.tui.widgets.lab_controls import SELECTS

SIZE = (160, 50)


# ---------------------------------------------------------------- keyboard helpers
async def focus(pilot, widget_id: str) -> None:
    """Give control ``widget_id`` the focus (what tab reaches; a tab press repaints the
    whole screen, about 0.8 s under Pilot, so the walk itself is skipped)."""
    pilot.app.screen.query_one(f"#{widget_id}").focus()
    await pilot.pause()


async def type_in(pilot, name: str, text: str) -> None:
    """Replace the text of input ``lab-<name>``."""
    await focus(pilot, f"lab-{name}")
    await pilot.press("end", "ctrl+u", *list(text) if text else [])


async def choose(pilot, name: str, option: str) -> None:
    """Pick ``option`` in menu ``lab-<name>``: enter opens it, arrows walk, enter picks."""
    await focus(pilot, f"lab-{name}")
    options = ("auto", *SELECTS[name][1][1:]) if name == "loss" else SELECTS[name][1]
    await pilot.press("enter", "home", *["down"] * options.index(option), "enter")


async def layers(pilot, spec: list[tuple[int, str]]) -> None:
    """Build hidden layers ``[(units, activation), …]`` with the layer editor's keys: ✕ on
    every row, then + add layer, ← / → on each units counter, enter/arrows on each menu."""
    from descent_tui.scenario.schema import ACTIVATIONS
    from descent_tui.tui.widgets.lab_layers import LayerEditor

    editor = pilot.app.screen.query_one(LayerEditor)
    while editor.hidden:
        await focus(pilot, "lab-drop-0")
        await pilot.press("enter")
        await pilot.pause()
    for i, (units, act) in enumerate(spec):
        await focus(pilot, "lab-add-layer")
        await pilot.press("enter")
        await pilot.pause()
        await focus(pilot, f"lab-units-{i}")
        await pilot.press("home", *["right"] * (units - 1))
        await focus(pilot, f"lab-act-{i}")
        await pilot.press("enter", "home", *["down"] * ACTIVATIONS.index(act), "enter")
    await pilot.pause()


async def toggle(pilot, feature_id: str) -> None:
    await focus(pilot, f"lab-f-{feature_id}")
    await pilot.press("space")


async def until(pilot, condition, seconds: float = 10.0) -> None:
    """Wait (in short pauses) until ``condition()`` holds."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition never held")


async def settle(pilot, wait: bool = False) -> LabScreen:
    """Let the Lab apply what was typed.

    The Lab applies once the typing has stopped for :data:`SETTLE` seconds. With ``wait``
    the test sits that pause out, as a learner would; otherwise the pending apply runs
    at once, as the timer would run it (Pilot types faster than SETTLE, so nothing was
    applied half-typed), which spares the suite a third of a second a call."""
    screen = pilot.app.screen
    assert isinstance(screen, LabScreen)
    if wait:
        await pilot.pause(SETTLE + 0.15)
    elif screen._settle is not None:
        screen._settle.stop()
        screen.apply_controls()
    await pilot.pause()
    assert screen._settle is None, "the Lab still has typing to apply"
    return screen


async def open_lab(pilot) -> LabScreen:
    await pilot.pause()
    await pilot.press("L")
    return await settle(pilot)


def trains(screen: LabScreen, steps: int = 20) -> None:
    """The Lab's runs take ``steps`` steps to finite losses."""
    screen.action_step(steps)
    for run in screen.sim.runs:
        assert run.step == steps and np.isfinite(run.last.loss)


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("DESCENT_HOME", str(tmp_path))


def run(coro):
    return asyncio.run(coro)


# ---------------------------------------------------------------- data sets
def test_each_data_set_from_the_controls():
    """Every data set in turn, in one Lab: picked from the menu, sized and noised by
    typing, and trained; each one's loss and input width follow the data set."""
    expected_loss = {"sine": "mse", "linear": "mse", "spiral": "cross_entropy",
                     "blobs": "cross_entropy"}

    async def go():
        async with DescentApp().run_test(size=SIZE) as pilot:
            await open_lab(pilot)
            for n, kind in enumerate(["xor", "circles", "moons", "spiral", "blobs", "sine",
                                      "linear"]):
                samples = 120 + n  # a new size each time: a stale data set cannot pass
                await choose(pilot, "dataset", kind)
                if kind in ("spiral", "blobs"):
                    await type_in(pilot, "classes", "3")
                await type_in(pilot, "samples", str(samples))
                await type_in(pilot, "noise", "0.05")
                screen = await settle(pilot)
                assert screen.problem == "", kind
                data = screen.sim.spec.network.data
                assert (data.kind, data.n, data.noise) == (kind, samples, 0.05)
                assert screen.sim.spec.network.loss == expected_loss.get(kind, "bce"), kind
                width = 1 if kind in ("sine", "linear") else 2
                assert screen.sim.spec.network.model.layers[0] == width, kind
                assert len(screen.sim.data["X"]) + len(screen.sim.data["X_val"]) == samples
                trains(screen)
    run(go())


def test_a_csv_file_from_the_controls(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    rows = ["a,b,label"] + [f"{x:.3f},{y:.3f},{int(x * y > 0)}"
                            for x, y in rng.uniform(-1, 1, (60, 2))]
    (tmp_path / "quad.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.chdir(tmp_path)

    async def go():
        async with DescentApp().run_test(size=SIZE) as pilot:
            await open_lab(pilot)
            await choose(pilot, "dataset", "csv")
            await type_in(pilot, "csv_path", "quad.csv")
            await type_in(pilot, "csv_features", "a, b")
            await type_in(pilot, "csv_label", "label")
            screen = await settle(pilot)
            assert screen.problem == ""
            data = screen.sim.spec.network.data
            assert (data.kind, data.features, data.label) == ("csv", ["a", "b"], "label")
            trains(screen)
    run(go())


def test_a_bad_value_is_named_and_the_runs_stay():
    async def go():
        async with DescentApp().run_test(size=SIZE) as pilot:
            screen = await open_lab(pilot)
            before = screen.sim
            await type_in(pilot, "samples", "many")
            screen = await settle(pilot)
            assert screen.problem == "samples: a whole number, not 'many'"
            await type_in(pilot, "batch_size", "5000")
            await type_in(pilot, "samples", "100")
            screen = await settle(pilot)
            assert "network.batch_size" in screen.problem
            assert screen.sim is before
    run(go())


# ---------------------------------------------------------------- architectures
@pytest.mark.parametrize("spec, sizes", [
    ([], [2, 1]),
    ([(8, "relu")], [2, 8, 1]),
    ([(8, "tanh"), (8, "relu"), (3, "sigmoid")], [2, 8, 8, 3, 1]),
])
def test_architectures_from_the_controls(spec, sizes):
    async def go():
        async with DescentApp().run_test(size=SIZE) as pilot:
            await open_lab(pilot)
            await layers(pilot, spec)
            await choose(pilot, "init", "kaiming_uniform")
            screen = await settle(pilot)
            assert screen.problem == ""
            model = screen.sim.spec.network.model
            acts = [a for _, a in spec]
            assert model.layers == sizes and model.hidden_activations == acts
            assert model.init == "kaiming_uniform"
            trains(screen)
            await pilot.pause(0.2)
            picture = screen.query_one("#lab-network").picture
            assert [c.title for c in picture.columns] == ["in", *acts, "out"]
    run(go())


def test_feature_crosses_feed_the_model():
    async def go():
        async with DescentApp().run_test(size=SIZE) as pilot:
            await open_lab(pilot)
            for feature in ("x1sq", "x2sq", "x1x2", "sin-x1", "sin-x2"):
                await toggle(pilot, feature)
            screen = await settle(pilot)
            net = screen.sim.spec.network
            assert net.inputs == ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]
            assert net.model.layers[0] == 7
            assert screen.sim.problem.data["X"].shape[1] == 7
            assert screen.sim.data["X"].shape[1] == 2  # the map still plots the plane
    run(go())


# ---------------------------------------------------------------- live changes
def test_lr_and_penalties_apply_live_without_a_rebuild():
    async def go():
        async with DescentApp().run_test(size=SIZE) as pilot:
            screen = await open_lab(pilot)
            screen.action_step(5)
            sim = screen.sim
            await focus(pilot, "lab-lr")
            await pilot.press("right")  # 0.03 → 0.1 on the log scale
            await focus(pilot, "lab-l2")
            await pilot.press("right", "right")  # 0 → 1e-4 → 1e-3
            await focus(pilot, "lab-l1")
            await pilot.press("right")
            screen = await settle(pilot)
            assert screen.sim is sim and sim.step_count == 5
            run0 = sim.runs[0]
            assert run0.lr == 0.1
            assert run0.optimizer.param_groups[0]["weight_decay"] == 1e-3
            assert run0.l1 == 1e-4
    run(go())


def test_two_optimizers_side_by_side():
    async def go():
        async with DescentApp().run_test(size=SIZE) as pilot:
            await open_lab(pilot)
            await choose(pilot, "compare", "adam")
            screen = await settle(pilot)
            assert [r.config.optimizer for r in screen.sim.runs] == ["sgd", "adam"]
            trains(screen)
            await pilot.press("escape", "s")
            assert screen.selected == 1
    run(go())


# ---------------------------------------------------------------- units
def test_select_a_unit_and_knock_it_out():
    async def go():
        async with DescentApp().run_test(size=SIZE) as pilot:
            screen = await open_lab(pilot)
            assert pilot.app.focused is None  # the Lab opens with its own keys live
            await pilot.press("space", "]", "]")
            assert screen.unit == (0, 2)
            await pilot.pause(0.2)
            text = str(screen.query_one("#lab-unit").render())
            assert "hidden layer 1, unit 3" in text and "w = [" in text and "b =" in text
            await pilot.press("k")
            screen.action_step(30)
            for run_ in screen.sim.runs:
                first, second = run_.linears[0], run_.linears[1]
                assert not first.weight.data[2].any() and first.bias.data[2] == 0
                assert not second.weight.data[:, 2].any()
                assert first.weight.data[1].any()
            await pilot.press("k")  # back in: no longer zeroed after each step
            assert screen.knocked == set()
            await pilot.pause(0.2)
            assert "KNOCKED OUT" not in str(screen.query_one("#lab-unit").render())
    run(go())


# ---------------------------------------------------------------- missions
def test_save_as_mission_and_find_it_on_the_board(tmp_path):
    async def go():
        async with DescentApp().run_test(size=SIZE) as pilot:
            screen = await open_lab(pilot)
            await layers(pilot, [(6, "tanh")])
            await settle(pilot)
            await pilot.press("escape", "ctrl+s")
            await pilot.pause()
            await pilot.press("ctrl+u", *list("Six Units"), "enter")
            await pilot.pause()
            path = tmp_path / "scenarios" / "six-units.toml"
            assert screen.saved_path == path and path.is_file()
            for _ in range(3):
                if not isinstance(pilot.app.screen, LabScreen):
                    break
                await pilot.press("escape")
            board = pilot.app.screen
            assert isinstance(board, SelectScreen)
            await pilot.press("f5")
            await until(pilot, lambda: board.entries)
            assert "six-units" in board.entries_by_id()
    run(go())


def test_a_mission_opens_in_the_lab_from_the_board():
    async def go():
        async with DescentApp().run_test(size=SIZE) as pilot:
            board = pilot.app.screen
            await until(pilot, lambda: board.entries)
            index = [getattr(e, "id", None) for e in board.entries].index("batch-sizes")
            board.query_one("#missions").move_cursor(row=index)
            screen = await open_lab(pilot)
            expected = from_scenario(board.entries[index].spec)
            assert screen.cfg == expected
            assert [r.label for r in screen.sim.runs] == ["full batch", "mini-batch 32",
                                                          "single sample"]
    run(go())


def test_the_palette_offers_the_lab():
    async def go():
        async with DescentApp().run_test(size=SIZE) as pilot:
            await pilot.pause()
            titles = [c.title for c in pilot.app.get_system_commands(pilot.app.screen)]
            assert "Open the Lab" in titles
            pilot.app.open_lab()
            await pilot.pause()
            assert isinstance(pilot.app.screen, LabScreen)
    run(go())


def test_playground_default_setup_from_the_keyboard():
    """TensorFlow Playground's opening screen: circles, x₁ x₂, 4-4 tanh, lr 0.03, batch 10."""
    async def go():
        async with DescentApp().run_test(size=SIZE) as pilot:
            await open_lab(pilot)
            await choose(pilot, "dataset", "circles")
            await layers(pilot, [(4, "tanh"), (4, "tanh")])
            await type_in(pilot, "batch_size", "10")
            screen = await settle(pilot, wait=True)  # applied by the Lab's own timer
            net = screen.sim.spec.network
            assert net.model.layers == [2, 4, 4, 1] and net.batch_size == 10
            assert screen.sim.runs[0].lr == 0.03
            await pilot.press("escape", "r")
            await until(pilot, lambda: screen.sim.step_count > 0)
            await press_while_busy(pilot, "r", lambda: not screen.running)
    run(go())



# ---------------------------------------------------------------- the layer editor
def test_layers_are_added_edited_and_removed_and_the_runs_follow():
    async def go():
        async with DescentApp().run_test(size=SIZE) as pilot:
            screen = await open_lab(pilot)  # the default: 4, 2 tanh
            await focus(pilot, "lab-add-layer")
            await pilot.press("enter")  # a copy of the last layer: 2 tanh
            screen = await settle(pilot)
            assert screen.sim.spec.network.model.layers == [2, 4, 2, 2, 1]
            assert pilot.app.focused.id == "lab-add-layer"
            await focus(pilot, "lab-units-2")
            await pilot.press("right", "right", "right", "minus")  # 2 → 5 → 4
            await focus(pilot, "lab-act-2")
            await pilot.press("enter", "home", "down", "down", "enter")  # relu, leaky, sigmoid
            screen = await settle(pilot)
            model = screen.sim.spec.network.model
            assert model.layers == [2, 4, 2, 4, 1]
            assert model.hidden_activations == ["tanh", "tanh", "sigmoid"]
            await focus(pilot, "lab-drop-0")
            await pilot.press("enter")
            screen = await settle(pilot)
            model = screen.sim.spec.network.model
            assert model.layers == [2, 2, 4, 1]
            assert model.hidden_activations == ["tanh", "sigmoid"]
            assert screen.cfg.hidden == [2, 4]
            trains(screen)
            await pilot.pause(0.2)
            columns = screen.query_one("#lab-network").picture.columns
            assert [len(c.names) for c in columns] == [2, 2, 4, 1]
    run(go())


def test_a_mission_with_per_layer_activations_fills_the_editor():
    from descent_tui.scenario.lab import LabConfig
    from descent_tui.tui.widgets.lab_layers import LayerEditor

    cfg = LabConfig(hidden=[3, 20], activations=["relu", "sigmoid"])

    async def go():
        async with DescentApp().run_test(size=SIZE) as pilot:
            await pilot.pause()
            pilot.app.push_screen(LabScreen(cfg))
            screen = await settle(pilot)
            editor = screen.query_one(LayerEditor)
            assert (editor.hidden, editor.activations) == ([3, 20], ["relu", "sigmoid"])
            assert screen.query_one("#lab-act-1").value == "sigmoid"
            assert screen.query_one("#lab-units-1").value == 20  # wider than the counter's 16
            assert screen.cfg.hidden == [3, 20]
    run(go())


# ---------------------------------------------------------------- the loss menu (a bug)
def test_the_loss_menu_shows_its_value():
    """The loss plot once had the loss menu's id (``lab-loss``), so the plot's CSS (a
    10-row box with a border) sized the menu too and its one row showed only a border."""
    from collections import Counter

    from textual.widgets import Select

    async def go():
        async with DescentApp().run_test(size=SIZE) as pilot:
            screen = await open_lab(pilot)
            ids = Counter(w.id for w in screen.query("*") if str(w.id).startswith("lab-"))
            assert [i for i, n in ids.items() if n > 1] == []
            menu = screen.query_one("#lab-loss", Select)
            await choose(pilot, "dataset", "sine")
            await settle(pilot)
            assert menu.value == "mse" and menu.size.height == 1
            label = menu.query_one("SelectCurrent #label")
            assert label.region.height == 1 and label.region.width >= 3
            assert "mse" in str(label.render())
    run(go())


# ---------------------------------------------------------------- connections
def test_connection_glyphs_grow_with_the_weight():
    from descent_tui.tui.widgets.lab_network import connection_glyph

    assert connection_glyph(0.9, 0.0) == ("━", True)
    assert connection_glyph(0.5, 0.0) == ("─", False)
    assert connection_glyph(0.1, 0.0)[0] == "┄"
    assert connection_glyph(0.9, 2.0)[0] == "╲" and connection_glyph(0.9, -2.0)[0] == "╱"


def _network_cells(screen):
    """{(x, y): (char, colour)} of the network picture as drawn."""
    view = screen.query_one("#lab-network")
    cells = {}
    for y in range(view.size.height):
        x = 0
        for seg in view.render_line(y):
            for ch in seg.text:
                colour = seg.style.color.get_truecolor() if seg.style and seg.style.color else None
                cells[x, y] = (ch, colour)
                x += 1
    return view, cells


@pytest.mark.parametrize("size", [(160, 50), (80, 24)])
def test_the_network_draws_each_weight_as_a_line_coloured_by_sign(size):
    from descent_tui.scenario.lab import LabConfig
    from descent_tui.tui.widgets.units import RAMPS

    cfg = LabConfig(hidden=[3], activations=["tanh"])

    async def go():
        async with DescentApp().run_test(size=size) as pilot:
            await pilot.pause()
            pilot.app.push_screen(LabScreen(cfg))
            screen = await settle(pilot)
            w = screen.sim.runs[0].linears[1].weight.data  # 1 × 3: hidden → output
            w[0] = [2.0, -2.0, 0.01]
            screen._dirty = True
            screen._tick()
            await pilot.pause(0.2)
            view, cells = _network_cells(screen)
            legend = "".join(cells[x, view.size.height - 1][0] for x in range(view.size.width))
            assert "━ +" in legend and "━ −" in legend
            assert ("strong" in legend) == (size == (160, 50))
            neg, _mid, pos = RAMPS[pilot.app.current_theme.dark]
            chars = {c for c, col in cells.values() if col is not None and
                     col.hex.lower() == pos}
            assert "━" in chars or "╲" in chars or "╱" in chars  # the strong positive weight
            assert any(col is not None and col.hex.lower() == neg and c in "━╲╱"
                       for c, col in cells.values())
            if size == (80, 24):
                assert view.size.width >= 12
    run(go())


# ---------------------------------------------------------------- tried as a new user
def _shot(pilot, name: str) -> None:
    """Save a screenshot when LAB_SHOTS names a folder (outside the repository)."""
    import os

    folder = os.environ.get("LAB_SHOTS")
    if folder:
        pilot.app.save_screenshot(f"{name}.svg", path=folder)


CLASSICS = {
    # TensorFlow Playground's opening: circles, x₁ x₂, 4-4 tanh, lr 0.03, batch 10
    "playground-default": ("circles", [], [(4, "tanh"), (4, "tanh")], 0, [2, 4, 4, 1]),
    # the spiral with the crosses: x₁² x₂² x₁x₂ sin x₁ sin x₂, 8-8 tanh, lr 0.03 → 0.01
    "spiral-crosses": ("spiral", ["x1sq", "x2sq", "x1x2", "sin-x1", "sin-x2"],
                       [(8, "tanh"), (8, "tanh")], -1, [7, 8, 8, 1]),
    # xor with one layer of 4 ReLUs, lr 0.1
    "xor-one-layer": ("xor", [], [(4, "relu")], 1, [2, 4, 1]),
}


@pytest.mark.parametrize("name", list(CLASSICS))
def test_classic_setups_from_the_keyboard(name):
    dataset, crosses, spec, lr_notches, sizes = CLASSICS[name]

    async def go():
        async with DescentApp().run_test(size=SIZE) as pilot:
            await open_lab(pilot)
            await choose(pilot, "dataset", dataset)
            for feature in crosses:
                await toggle(pilot, feature)
            await layers(pilot, spec)
            await type_in(pilot, "batch_size", "10")
            await focus(pilot, "lab-lr")
            await pilot.press(*["right" if lr_notches > 0 else "left"] * abs(lr_notches))
            screen = await settle(pilot)
            assert screen.problem == ""
            net = screen.sim.spec.network
            assert net.model.layers == sizes and net.batch_size == 10
            assert net.model.hidden_activations == [a for _, a in spec]
            assert screen.sim.runs[0].lr == {0: 0.03, -1: 0.01, 1: 0.1}[lr_notches]
            await pilot.press("escape", *["plus"] * 3, "r")
            await until(pilot, lambda: screen.sim.step_count >= 40, seconds=30)
            await press_while_busy(pilot, "r", lambda: not screen.running)
            await pilot.pause()
            assert np.isfinite(screen.sim.runs[0].last.loss)
            _shot(pilot, name)
    run(go())


# ---------------------------------------------------------------- 80×24
SMALL = (80, 24)


def _shown(screen, selector):
    """The widgets matching ``selector`` that are on screen (displayed, with a region)."""
    return [w for w in screen.query(selector) if w.display and all(
        a.display for a in w.ancestors_with_self if hasattr(a, "display"))
        and w.region.width > 0 and w.region.height > 0]


def _panels(screen):
    """Regions of the Lab's panels on screen (controls, views, unit line, status)."""
    ids = ("lab-controls", "lab-network", "lab-decision", "lab-grads", "lab-loss-plot",
           "lab-unit", "lab-status")
    return {w.id: w.region for w in _shown(screen, ", ".join(f"#{i}" for i in ids))}


def test_at_80x24_the_views_fold_and_nothing_overlaps():
    """One view at a time beside the controls; v walks all four; each fills its area."""
    from descent_tui.tui.screens.lab_layout import VIEWS

    async def go():
        async with DescentApp().run_test(size=SMALL) as pilot:
            screen = await open_lab(pilot)
            seen = []
            for _ in VIEWS:
                await pilot.pause(0.2)
                regions = _panels(screen)
                views = [i for i in regions if i in ("lab-network", "lab-decision",
                                                     "lab-grads", "lab-loss-plot")]
                assert len(views) == 1
                seen.append(views[0])
                whole = screen.region
                for name, r in regions.items():
                    assert whole.contains_region(r), name
                    assert r.width >= 10 and r.height >= 1, name
                names = list(regions)
                for i, a in enumerate(names):
                    for b in names[i + 1:]:
                        assert not regions[a].overlaps(regions[b]), (a, b)
                view = regions[views[0]]
                assert view.width >= 40 and view.height >= 15  # the view fills its area
                await pilot.press("v")
            assert sorted(seen) == sorted(f"lab-{i}" for i in
                                          ("network", "decision", "grads", "loss-plot"))
    run(go())


def test_at_160x50_every_view_shows_at_once():
    async def go():
        async with DescentApp().run_test(size=SIZE) as pilot:
            screen = await open_lab(pilot)
            await pilot.pause(0.2)
            regions = _panels(screen)
            assert len(regions) == 7
            names = list(regions)
            for i, a in enumerate(names):
                for b in names[i + 1:]:
                    assert not regions[a].overlaps(regions[b]), (a, b)
            await pilot.press("v")  # nothing to fold: says so, changes nothing
            await pilot.pause()
            assert _panels(screen) == regions
            from descent_tui.tui.widgets.loss_plot import LossPlot

            plot = screen.query_one(LossPlot)
            await pilot.press("y")  # the loss plot fits its latest steps, as on a mission
            screen.action_step(4)
            await pilot.pause(0.2)
            assert screen.loss_fit and plot.fit_recent
    run(go())


@pytest.mark.parametrize("size", [SMALL, (120, 40)])
def test_nothing_is_cut_mid_word(size):
    """Titles, the status line, the unit line and the footer keys fit whole."""
    from textual.widgets._footer import FooterKey

    async def go():
        async with DescentApp().run_test(size=size) as pilot:
            screen = await open_lab(pilot)
            screen.action_step(3)
            await pilot.pause(0.3)
            for view in _shown(screen, "#lab-network, #lab-decision, #lab-grads, "
                                       "#lab-loss-plot"):
                title = str(view.border_title)
                assert len(title) <= view.outer_size.width - 4, title
            # shortened only as far as it must be: both network panels are 39-44 wide
            network = str(screen.query_one("#lab-network").border_title)
            assert network == "NETWORK  each unit over the plane"
            for box in ("#lab-status", "#lab-unit"):
                widget = screen.query_one(box)
                lines = str(widget.render()).splitlines()
                assert lines and all(len(line) <= widget.content_size.width for line in lines)
            status = str(screen.query_one("#lab-status").render())
            assert "step 3/" in status and "loss" in status and "paused" in status
            unit = str(screen.query_one("#lab-unit").render())
            assert "b = " in unit and unit.rstrip().endswith("(k: knock out)")
            footer = screen.query_one("KeyFooter")
            keys = [k for k in footer.query(FooterKey) if k.display]
            assert any(k.key == "1" for k in keys) and any(k.key == "v" for k in keys)
            for key in keys:
                assert key.region.right <= footer.region.right, key.description
    run(go())


# ---------------------------------------------------------------- every control by keyboard
def _content_y(controls, widget) -> int:
    """Where ``widget`` sits in the control column's scrolled content (rows)."""
    return widget.region.y - controls.content_region.y + round(controls.scroll_y)


def test_tab_walks_every_control_in_the_order_they_show():
    """From nothing focused, tab reaches each control once, top to bottom and left to
    right, and each one it reaches is scrolled into the column's view, at 80×24."""
    from descent_tui.tui.widgets.lab_controls import LabControls

    async def go():
        async with DescentApp().run_test(size=SMALL) as pilot:
            screen = await open_lab(pilot)
            controls = screen.query_one(LabControls)
            expected = [w for w in _shown(controls, "*") if w.focusable]
            assert len(expected) >= 25
            walked, places = [], []
            for _ in expected:
                await pilot.press("tab")
                widget = pilot.app.focused
                walked.append(widget)
                box = controls.content_region
                assert box.contains_region(widget.region), widget.id
                places.append((_content_y(controls, widget), widget.region.x))
            assert walked == expected and len(set(map(id, walked))) == len(walked)
            assert places == sorted(places)
            await pilot.press("tab")
            assert pilot.app.focused is expected[0]  # round again
    run(go())


def test_keys_1_to_5_go_to_each_group_of_controls():
    from descent_tui.tui.widgets.lab_controls import SECTIONS, LabControls

    firsts = {"data": "lab-dataset", "features": "lab-f-x1", "network": "lab-units-0",
              "training": "lab-optimizer", "run": "lab-steps"}

    async def go():
        async with DescentApp().run_test(size=SMALL) as pilot:
            screen = await open_lab(pilot)
            controls = screen.query_one(LabControls)
            for key, section in zip("54321", reversed(SECTIONS), strict=True):
                await pilot.press(key)
                await pilot.pause()
                focused = pilot.app.focused
                assert focused.id == firsts[section]
                head = controls.query_one(f"#lab-sec-{section} .lab-head")
                assert controls.content_region.contains_region(head.region), section
                assert controls.content_region.contains_region(focused.region), section
                await pilot.press("escape")
                assert pilot.app.focused is None and pilot.app.screen is screen
    run(go())


def test_a_setup_built_from_key_presses_alone():
    """Spiral, 150 samples, a third hidden layer of 5 units, adam at lr 0.1, run: keys
    only (section keys, tab, enter, arrows, typing), at 80×24, no focus() call."""
    from descent_tui.scenario.schema import DATASET_KINDS, OPTIMIZERS

    async def go():
        async with DescentApp().run_test(size=SMALL) as pilot:
            screen = await open_lab(pilot)
            await pilot.press("1", "enter", "home",
                              *["down"] * DATASET_KINDS.index("spiral"), "enter")
            await pilot.press("tab", "end", "ctrl+u", *"150")  # samples
            await pilot.press("escape", "3", *["tab"] * 6)  # past layers 1 and 2: add layer
            assert pilot.app.focused.id == "lab-add-layer"
            await pilot.press("enter")
            await pilot.pause()
            await pilot.press("shift+tab", "shift+tab", "shift+tab")  # ✕, menu, counter
            assert pilot.app.focused.id == "lab-units-2"
            await pilot.press("right", "right", "right")  # 2 → 5 units
            await pilot.press("escape", "4", "enter", "home",
                              *["down"] * OPTIMIZERS.index("adam"), "enter")
            await pilot.press("tab", "right")  # lr 0.03 → 0.1
            screen = await settle(pilot)
            await pilot.press("escape", "r")
            await until(pilot, lambda: screen.sim.step_count >= 5)
            await pilot.press("r")
            assert screen.problem == ""
            net = screen.sim.spec.network
            assert (net.data.kind, net.data.n) == ("spiral", 150)
            assert net.model.layers == [2, 4, 2, 5, 1]
            run0 = screen.sim.runs[0]
            assert run0.config.optimizer == "adam" and run0.lr == 0.1
            assert np.isfinite(run0.last.loss)
    run(go())


def test_the_help_screen_lists_the_lab_keys():
    from rich.console import Console

    from descent_tui.tui.screens.help import HelpScreen, bindings_table

    async def go():
        async with DescentApp().run_test(size=SMALL) as pilot:
            screen = await open_lab(pilot)
            await pilot.press("question_mark")
            await pilot.pause()
            assert isinstance(pilot.app.screen, HelpScreen)
            console = Console(width=120, record=True)
            console.print(bindings_table(screen, list(pilot.app.BINDINGS)))
            text = console.export_text()
            for words in ("1 2 3 4 5", "data, features, network, training, run",
                          "tab / shift+tab", "Next view", "Save mission", "Knock out",
                          "Fit loss plot"):
                assert words in text, words
    run(go())


# ---------------------------------------------------------------- fitting text
def test_titles_lose_whole_parts_until_they_fit():
    from descent_tui.tui.screens.lab_layout import fit_title

    title = "NETWORK  each unit over the plane · lines: weights"
    assert fit_title(title, len(title) + 4) == title
    assert fit_title(title, len(title) + 3) == "NETWORK  each unit over the plane"
    assert fit_title(title, 20) == "NETWORK"
    assert fit_title(title, 5) == "NETWORK"  # the head stays (the border cuts it)


def test_a_line_drops_its_least_useful_parts_first():
    from descent_tui.tui.screens.lab_layout import pack_parts

    parts = [("step 3/500 ", 0), ("loss 0.5 ", 0), ("val 0.6 ", -2), ("· 5/chunk ", -3),
             ("· 2 → 4 → 1", -4)]
    assert pack_parts(parts, 100) == [0, 1, 2, 3, 4]
    assert pack_parts(parts, 30) == [0, 1, 2]
    assert pack_parts(parts, 5) == [0, 1]  # the must-haves stay even when too long


def test_wrapped_parts_are_never_split():
    from descent_tui.tui.screens.lab_layout import wrap_parts

    parts = ["▸ hidden layer 1, unit 3 (tanh):", "w = [+1.466, -0.589]", "b = -0.094",
             "(k: knock out)"]
    lines = wrap_parts(parts, 44)
    assert lines == ["▸ hidden layer 1, unit 3 (tanh):", "w = [+1.466, -0.589] b = -0.094",
                     "(k: knock out)"]
    assert wrap_parts(parts, 200) == [" ".join(parts)]


def test_a_narrow_network_picture_takes_room_from_the_gaps():
    from descent_tui.tui.widgets.lab_network import GAP, MIN_GAP, MIN_TILE, Column, NetworkPicture, layout

    def col(n):
        return Column("t", [f"u{i}" for i in range(n)], None, -1.0, 1.0)

    pic = NetworkPicture([col(2), col(4), col(2), col(1)])
    wide, narrow = layout(pic, 58, 33), layout(pic, 42, 17)
    assert wide.xs[1] - wide.xs[0] - wide.tile_w >= GAP
    assert narrow.tile_w == MIN_TILE  # not the 2 cells that GAP would leave
    assert narrow.xs[1] - narrow.xs[0] - narrow.tile_w >= MIN_GAP
    assert narrow.xs[-1] + narrow.tile_w <= 42


def test_the_network_draws_the_same_with_its_caches_cold_or_warm():
    """The picture keeps each line's cells and each tile's samples between frames; a
    frame drawn from those must match one drawn from nothing, after new weights and a
    new size too."""
    from descent_tui.scenario.lab import LabConfig
    from descent_tui.tui.widgets import lab_network

    cfg = LabConfig(hidden=[6, 5], activations=["tanh", "relu"])

    def cold(view):
        lab_network._line_cells.cache_clear()
        lab_network._samples.cache_clear()
        return _network_cells_of(view._build())

    async def go():
        async with DescentApp().run_test(size=SIZE) as pilot:
            await pilot.pause()
            pilot.app.push_screen(LabScreen(cfg))
            screen = await settle(pilot)
            view = screen.query_one("#lab-network")
            for _ in range(2):
                screen.action_step(40)  # new weights and maps
                await pilot.pause(0.2)
                warm = _network_cells_of(view._build())
                assert warm == cold(view)
                assert sum(c in "━─┄╲╱·" for c, _ in warm.values()) > 20  # lines drawn
                await pilot.resize_terminal(120, 40)
                await pilot.pause(0.3)
    run(go())


def _network_cells_of(strips):
    """{(x, y): (char, style)} of drawn strips."""
    return {(x, y): (c, seg.style) for y, strip in enumerate(strips)
            for x, (c, seg) in enumerate((c, seg) for seg in strip for c in seg.text)}
