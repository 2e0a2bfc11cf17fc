"""Lesson moments read off a simulation (descent_tui.sim.events) and watch-for triggers."""

from __future__ import annotations

from pathlib import Path

import pytest

from descent_tui.scenario import load_scenario
from descent_tui.scenario.errors import ScenarioError
from descent_tui.scenario.triggers import Trigger, parse_trigger
from descent_tui.sim import Simulation
from descent_tui.sim.events import events, new_events
from descent_tui.tui.pacing import SPEEDS, default_speed_index, round_seconds, steps_per_round

PACED = Path(__file__).resolve().parent / "missions" / "paced-bowl.toml"
SHIPPED = Path(__file__).resolve().parents[1] / "scenarios"


def test_triggers_parse():
    assert parse_trigger("diverged") == Trigger("diverged")
    assert parse_trigger("diverged:too large") == Trigger("diverged", run="too large")
    assert parse_trigger("below:1e-3:Adam") == Trigger("below", 1e-3, "Adam")
    assert parse_trigger("above:9") == Trigger("above", 9.0)
    assert parse_trigger("step:40") == Trigger("step", 40.0)
    assert parse_trigger("done") == Trigger("done")
    for bad, why in (("dne", "unknown trigger"), ("below:abc", "needs a number"),
                     ("below:inf", "finite"), ("step:2.5", "whole number"), ("done:x", "unknown")):
        with pytest.raises(ValueError, match=why):
            parse_trigger(bad)


def _with_watch(tmp_path, item: str, name: str = "w.toml") -> Path:
    text = PACED.read_text().replace('{ text = "steady drops below 1", when = "below:1:steady" }',
                                     item)
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("item, key, message", [
    ('{ text = "x", when = "below:1:stedy" }', "watch_for[1].when",
     "'stedy' is not a run label (did you mean 'steady'?)"),
    ('{ text = "x", when = "sooner" }', "watch_for[1].when", "unknown trigger 'sooner'"),
    ('{ text = "x", when = "step:31" }', "watch_for[1].when", "after the last step (30)"),
    ('{ txt = "x" }', "watch_for[1]", "txt"),
])
def test_a_bad_trigger_is_one_line_naming_file_and_key(tmp_path, item, key, message):
    with pytest.raises(ScenarioError) as e:
        load_scenario(_with_watch(tmp_path, item))
    (line,) = [p for p in e.value.problems if key in p]
    assert line.startswith(str(tmp_path / "w.toml")) and f" {key}: " in line
    assert message in line and "\n" not in line


def test_plain_notes_stay_valid_and_tables_carry_their_trigger():
    spec = load_scenario(PACED).spec
    assert spec.watch_notes == ["a plain note: never ticked", "steady drops below 1"]
    assert [w.when for w in spec.watch_items] == [None, "below:1:steady"]


def test_events_of_a_whole_run_in_step_order_each_once():
    sim = Simulation(load_scenario(PACED))
    seen: set = set()
    got = []
    while not sim.done:
        sim.step(1)
        got += [(e.kind, e.step, sim.step_count) for e in new_events(sim, seen)]
    # each event is reported at the step it happened, exactly once
    assert got == [("watch", 5, 5), ("diverged", 8, 8), ("target", 16, 16), ("done", 30, 30)]
    assert new_events(sim, seen) == []
    notes = [e.note for e in events(sim)]
    assert notes[0] == "Watch for: steady drops below 1"
    assert notes[1].startswith("'boom' diverged: loss ") and "at step 8" in notes[1]
    assert notes[2] == "'steady' is the first run below loss 0.01 (step 16)."
    assert notes[3] == "The end: step 30 of 30, 1 of 2 runs diverged."
    assert [e.watch for e in events(sim)] == [1, None, None, None]


def test_events_are_pure_and_a_reset_arms_them_again():
    sim = Simulation(load_scenario(PACED))
    sim.step(10)
    first = events(sim)
    assert events(sim) == first  # reading changes nothing
    sim.reset()
    assert events(sim) == []


@pytest.mark.parametrize("when, step", [("above:9:boom", 1), ("step:12", 12), ("diverged", 8),
                                        ("done", 30), ("below:0.5", 7)])
def test_each_trigger_fires_at_its_step(tmp_path, when, step):
    sim = Simulation(load_scenario(_with_watch(tmp_path, f'{{ text = "x", when = "{when}" }}')))
    seen: set = set()
    fired = None
    while not sim.done and fired is None:
        sim.step(1)
        fired = next((sim.step_count for e in new_events(sim, seen) if e.kind == "watch"), None)
    assert fired == step


def test_the_shipped_triggers_fire_in_their_missions():
    for path in sorted(SHIPPED.glob("*.toml")):
        loaded = load_scenario(path)
        wanted = {i for i, w in enumerate(loaded.spec.watch_items) if w.when is not None}
        if not wanted:
            continue
        sim = Simulation(loaded)
        sim.step(sim.total_steps)
        fired = {e.watch for e in events(sim) if e.kind == "watch"}
        assert fired == wanted, path.name


def test_speeds_go_from_one_a_second_and_the_default_pace_is_watchable():
    assert SPEEDS[0] == 1 and SPEEDS[-1] is None
    assert steps_per_round(1) == 1 and round_seconds(1) == 1.0
    assert steps_per_round(500) == 25 and round_seconds(500) == pytest.approx(0.05)
    for path in sorted(SHIPPED.glob("*.toml")):
        spec = load_scenario(path).spec
        seconds = spec.steps / SPEEDS[default_speed_index(spec)]
        assert 10 <= seconds <= 25, (path.name, seconds)
    assert SPEEDS[default_speed_index(load_scenario(PACED).spec)] == 20  # its own pace
