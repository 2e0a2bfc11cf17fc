"""The timeline: replay is bitwise the first pass, forks start from exactly that state.

Every comparison here is between two runs of the same code path (the first pass
and its replay from a checkpoint), which may be compared bit for bit.
"""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

from descent_tui.scenario.catalog import find
from descent_tui.sim import Simulation
from descent_tui.sim.checkpoints import SpacingPolicy
from descent_tui.sim.timeline import Timeline

MISSIONS = ["first-descent", "the-bowl", "the-ravine", "optimizer-zoo", "learning-rate-schedules",
            "zero-init-symmetry", "vanishing-gradients", "exploding-weights", "forgot-zero-grad",
            "batch-sizes", "gradient-accumulation", "newton-vs-gradient",
            "local-minima-and-saddles", "adam-bias-correction", "double-applied-update",
            "compute-and-carbon"]


def fingerprint(run) -> bytes:
    """Everything a view reads of a run, as bytes: record, flags, arrays, optimizer, history."""
    arrays = [p.data.tobytes() for p in run.params]
    arrays += [b"-" if p.grad is None else p.grad.tobytes() for p in run.params]
    opt = run.optimizer.state_dict()
    state = sorted((i, sorted((k, v.tobytes() if isinstance(v, np.ndarray) else v)
                              for k, v in st.items())) for i, st in opt["state"].items())
    extra = [getattr(run, "epoch", None), getattr(run, "_pos", None),
             repr(getattr(run, "layers", None))]
    rng = getattr(run, "_shuffle_rng", None)
    if rng is not None:
        extra.append(repr(rng.bit_generator.state))
    h = run.history
    return pickle.dumps((run.step, run.diverged, run.diverged_at, run.reason, repr(run.last),
                         run.min_loss, run.min_loss_step, dict(run.first_below), arrays, state,
                         opt["param_groups"], h.to_rows(), h.names, h.latest, h.latest_step,
                         h.stride, extra))


@pytest.mark.parametrize("mission", MISSIONS)
def test_replay_is_the_first_pass_bitwise(mission: str) -> None:
    sim = Simulation(find(mission, []))
    timeline = Timeline(sim, budget=4)
    seen = {}
    for k in range(1, 25):
        sim.step(1)
        for i, run in enumerate(sim.runs):
            if run.step == k:
                seen[i, k] = fingerprint(run)
    assert timeline.checkpoint_count() <= 4 * len(sim.runs)
    for (i, k), first in seen.items():
        assert fingerprint(timeline.state_at(i, k)) == first, (mission, i, k)
    runs = list(sim.runs)
    for k in (17, 16, 15, 3, 9, 8, 10):  # rewound in place: the same run objects, in their
        # state at k (a step back from a rewound step: from the states kept near it)
        timeline.rewind(k)
        assert sim.runs == runs
        for i, run in enumerate(sim.runs):
            if (i, k) in seen:
                assert fingerprint(run) == seen[i, k], (mission, i, k)
    sim.step(24 - sim.step_count)  # and stepping on retraces the first pass
    for i, run in enumerate(sim.runs):
        if (i, 24) in seen:
            assert fingerprint(run) == seen[i, 24], (mission, i)


@pytest.mark.parametrize("mission", MISSIONS)
def test_every_attribute_of_a_run_is_in_its_state_or_fixed(mission: str) -> None:
    """What a checkpoint keeps is the run's state_dict(); an attribute a step may change
    that is in neither it nor the class's FIXED list would not be restored."""
    sim = Simulation(find(mission, []))
    timeline = Timeline(sim)
    sim.step(3)
    for run in [*sim.runs, timeline.fork(0, 2, {})]:
        missing = set(vars(run)) - type(run).FIXED - set(run.state_dict())
        assert not missing, (mission, type(run).__name__, missing)


def test_flat_state_is_the_same_plain_data_back() -> None:
    from descent_tui.sim.flat import flatten, unflatten

    tree = {"a": np.arange(6, dtype=np.int64).reshape(2, 3), "b": [np.float64(1.5), None, True],
            "c": (np.zeros(0), np.array(2.5), np.array([True, False])), 0.01: {"k": 2**100},
            "d": [("x", -0.0, float("nan")), np.array([[1e-300, np.inf]], dtype=np.float32)]}
    layout, buffer, scalars = flatten(tree)
    back = unflatten(layout, buffer, scalars)
    assert flatten(back)[0] == layout and flatten(back)[2][:5] == scalars[:5]
    assert flatten(back)[1].tobytes() == buffer.tobytes()
    assert type(back["c"]) is tuple and type(back["b"]) is list and back[0.01]["k"] == 2**100
    assert back["a"].dtype == np.int64 and back["a"].shape == (2, 3)
    assert back["d"][1].dtype == np.float32 and back["c"][1].shape == ()
    back["a"][0, 0] = 99  # new arrays, not views of the buffer
    assert unflatten(layout, buffer, scalars)["a"][0, 0] == 0
    other = {**tree, "a": tree["a"] + 1}
    assert flatten(other)[0] == layout  # the same shape: the same layout
    with pytest.raises(TypeError, match=r"state\['b'\]\[1\]"):
        flatten({"b": [1, object()]})
    with pytest.raises(TypeError):
        flatten({"s": {1, 2}})


@pytest.mark.parametrize("mission", ["batch-sizes", "the-ravine", "optimizer-zoo"])
def test_checkpoints_are_not_containers_the_garbage_collector_walks(mission: str) -> None:
    """A checkpoint adds two gc-tracked objects (itself and its history mark), not the
    fifty of a copied run: a full collection no longer walks every checkpoint's tree."""
    import gc

    from descent_tui.scenario.overrides import apply

    sim = Simulation(apply(find(mission, []), [("steps", 400)]))
    sim.step(1)
    gc.collect()
    before = len(gc.get_objects())
    timeline = Timeline(sim, budget=1000)
    sim.step(399)
    gc.collect()
    added = len(gc.get_objects()) - before
    assert timeline.checkpoint_count() == 400 * len(sim.runs)
    assert added < 2.5 * timeline.checkpoint_count()


def test_replay_follows_learning_rate_changes_and_rewind() -> None:
    sim = Simulation(find("batch-sizes", []))
    timeline = Timeline(sim, budget=3)
    sim.step(7)
    sim.set_lr(0.02, 0)
    sim.step(9)
    at_12 = fingerprint(timeline.state_at(0, 12))
    end = fingerprint(sim.runs[0])
    timeline.rewind(12)
    assert fingerprint(sim.runs[0]) == at_12 and sim.step_count == 12
    sim.step(4)
    assert fingerprint(sim.runs[0]) == end


def test_a_change_after_a_rewind_is_the_same_change_made_on_the_first_pass() -> None:
    """Rewound to 12 (the states near 12 kept), an lr set there rewrites the future:
    stepping on gives what a simulation that set it at 12 the first time gives, and
    stepping back and forth around 12 finds the new future, not the old one."""
    first = Simulation(find("batch-sizes", []))
    first.step(7)
    first.set_lr(0.02, 0)
    first.step(5)
    first.set_lr(0.05)
    first.step(4)
    sim = Simulation(find("batch-sizes", []))
    timeline = Timeline(sim, budget=3)
    sim.step(7)
    sim.set_lr(0.02, 0)
    sim.step(9)
    timeline.rewind(12)
    timeline.rewind(11)
    timeline.rewind(12)
    sim.set_lr(0.05)
    sim.step(4)
    assert [fingerprint(r) for r in sim.runs] == [fingerprint(r) for r in first.runs]
    end = [fingerprint(r) for r in sim.runs]
    timeline.rewind(13)
    timeline.rewind(12)
    sim.step(4)
    assert [fingerprint(r) for r in sim.runs] == end


def test_a_fork_with_nothing_changed_is_its_parent_bitwise() -> None:
    sim = Simulation(find("optimizer-zoo", []))
    timeline = Timeline(sim, budget=4)
    sim.step(10)
    forks = [timeline.fork(i, 6, {}) for i in range(len(sim.runs))]
    forks.append(timeline.fork(2, 6, {"momentum": sim.runs[2].config.momentum}))
    sim.step(12)
    for fork in forks:
        timeline.catch_up(fork)
    for fork, parent in zip(forks, [*sim.runs, sim.runs[2]], strict=True):
        assert fork.label.startswith(parent.label + " ⑂ step 6")
        assert fingerprint(fork) == fingerprint(parent)  # labels are not in the fingerprint


def test_a_fork_changes_its_knobs_not_its_parent_and_can_be_dropped() -> None:
    sim = Simulation(find("the-ravine", []))
    timeline = Timeline(sim)
    sim.step(5)
    before = fingerprint(sim.runs[0])
    fork = timeline.fork(0, 3, {"lr": 0.001, "optimizer": "adam"})
    assert fork.label.endswith("⑂ step 3, lr 0.001, optimizer adam")
    assert fork.step == 3 and fork.lr == 0.001 and fingerprint(sim.runs[0]) == before
    sim.step(4)
    assert fork.step == 7 and fork.last.loss != sim.runs[0].last.loss
    grandchild = timeline.fork(fork, 5, {"clip_norm": 1.0})
    assert "⑂ step 3" in grandchild.label and grandchild.step == 5
    assert fork not in sim.runs and grandchild not in sim.runs  # quizzes never see forks
    timeline.drop(fork)
    assert timeline.forks == [grandchild]
    with pytest.raises(ValueError):
        timeline.drop(sim.runs[0])


@pytest.mark.parametrize("changes", [{"seed": 3}, {"lr": -1.0}, {"optimizer": "nope"}])
def test_a_bad_fork_setting_is_refused(changes) -> None:
    from descent_tui.scenario.overrides import OverrideError

    sim = Simulation(find("the-bowl", []))
    timeline = Timeline(sim)
    sim.step(2)
    with pytest.raises(OverrideError) as e:
        timeline.fork(0, 1, changes)
    assert e.value.items[0][0] == next(iter(changes))
    with pytest.raises(ValueError):
        timeline.state_at(0, 3)


def test_the_spacing_keeps_a_million_steps_within_the_budget() -> None:
    policy = SpacingPolicy(budget=128)
    kept: list[int] = []
    most = 0
    for s in range(1, 1_000_001):
        if policy.wants(s):
            kept.append(s)
            gone = set(policy.thin(kept))
            if gone:
                kept = [k for k in kept if k not in gone]
        most = max(most, len(kept))
    assert most <= 128
    gaps = np.diff([0, *kept, 1_000_000])
    assert gaps.max() <= 2 * 1_000_000 // 128  # any step is a short replay away


def test_a_mission_network_of_10000_steps_keeps_a_checkpoint_every_3_steps() -> None:
    """The budget the checkpoints module states: a 2-16-16-1 network's checkpoint
    (measured, about 14 kB) fits 4095 a run beside step 0, and a run planned for
    10,000 steps keeps every step until the budget is full, then every third (any
    step at most 2 replayed steps away; doubling from 1 would end at 4), all of them
    in under 64 MiB."""
    from descent_tui.scenario.overrides import apply
    from descent_tui.sim.checkpoints import CHECKPOINT_BYTES, budget_for

    sim = Simulation(apply(find("batch-sizes", []), [("steps", 10_000)]))
    timeline = Timeline(sim)
    sim.step(40)
    for track in timeline.tracks:
        size = track.checkpoint_bytes
        assert 8_000 < size < 16_384
        assert track.policy.budget == budget_for(size) - 1 == 4095
        assert sorted(track.checkpoints) == list(range(41))  # every step, so far
        policy = track.policy  # the track's own plan, carried on to step 10,000
        kept = sorted(track.checkpoints)[1:]
        for s in range(41, 10_001):
            if policy.wants(s):
                kept.append(s)
                gone = set(policy.thin(kept))
                kept = [k for k in kept if k not in gone]
        assert policy.spacing == 3 and kept == list(range(3, 10_001, 3))
        assert (len(kept) + 1) * size < CHECKPOINT_BYTES


def test_a_run_longer_than_planned_doubles_its_spacing_within_the_budget() -> None:
    """The first thinning goes to the planned spacing; past the planned steps the
    doubling goes on: the checkpoints stay within the budget, every multiple of the
    spacing kept. A plan that the spacing is no divisor of is not taken."""
    policy = SpacingPolicy(budget=100)
    policy.plan(1000)
    assert policy.planned == 10 and policy.spacing == 1
    kept: list[int] = []
    spacings = []
    for s in range(1, 5001):
        if policy.wants(s):
            kept.append(s)
            gone = set(policy.thin(kept))
            kept = [k for k in kept if k not in gone]
            spacings.append(policy.spacing)
    assert sorted(set(spacings)) == [1, 10, 20, 40, 80] and len(kept) <= 100
    assert kept == list(range(80, 5001, 80))
    policy = SpacingPolicy(budget=4, spacing=2)
    policy.plan(15)  # 4: a multiple of 2, taken
    assert policy.thin([2, 4, 6, 8, 10]) == [2, 6, 10] and policy.spacing == 4
    policy = SpacingPolicy(budget=4, spacing=2)
    policy.plan(12)  # 3: not a multiple of 2 (multiples of 3 were never all kept)
    assert policy.thin([2, 4, 6, 8, 10]) == [2, 6, 10] and policy.spacing == 4


def test_the_quickest_step_of_a_cell_is_one_every_run_kept(monkeypatch) -> None:
    """Timeline.quickest_step (what a click on a wide cell of the scrub bar goes to):
    of the steps within the spread, one every run kept, so the rewind replays nothing,
    the nearest such to the cell's step; with no spread, the step itself. A step the
    runs did not all keep costs a replay."""
    from descent_tui.scenario.overrides import apply
    from descent_tui.sim.network import NetworkRun

    sim = Simulation(apply(find("batch-sizes", []), [("steps", 10_000)]))
    timeline = Timeline(sim, budget=50)  # 300 steps: one kept every 8
    sim.step(300)
    assert [t.policy.spacing for t in timeline.tracks] == [8, 8, 8]
    replayed = []
    advance = NetworkRun.advance
    monkeypatch.setattr(NetworkRun, "advance", lambda run: (replayed.append(run.step),
                                                            advance(run))[1])
    assert timeline.quickest_step(151) == 151 and timeline.quickest_step(100, 0) == 100
    for k, spread, want in ((151, 5, 152), (150, 5, 152), (147, 3, 144), (299, 5, 296),
                            (3, 40, 0), (11, 40, 8)):
        q = timeline.quickest_step(k, spread)
        assert q == want, (k, spread)
        kept = all(q in t.checkpoints or q in t.recent for t in timeline.tracks)
        assert kept or q == sim.step_count
        replayed.clear()
        timeline.rewind(q)
        assert replayed == [] and sim.step_count == q
    replayed.clear()
    timeline.rewind(151)  # (a step nobody kept: each run replays 7 from 144)
    assert len(replayed) == 3 * 7
    assert timeline.quickest_step(149, 5) == 150  # (a state that replay kept on its way)
    assert timeline.quickest_step(310, 20) == 296  # never past the step reached
    timeline.rewind(296)
    timeline.fork(0, 296, {"lr": 0.1})
    sim.step(40)  # the fork races on from 296: at 336, every step of it kept
    # before its birth a fork waits there (kept): the runs decide; after it, it must keep k
    assert timeline.quickest_step(150, 5) == 152
    assert timeline.quickest_step(321, 2) == 320
    del timeline.fork_tracks[0].checkpoints[320]  # 320: kept by every run but the fork,
    assert timeline.quickest_step(321, 2) == 321  # so none near is: the step itself


def test_a_replay_starts_from_the_latest_state_kept_at_or_before_its_step() -> None:
    """Track._nearest (a walk back of at most the spacing) finds, for every step of a
    run that was thinned, rewound, changed (an lr set mid-run) and forked, the latest
    checkpoint or recent state at or before it."""
    from descent_tui.scenario.overrides import apply

    sim = Simulation(apply(find("the-ravine", []), [("steps", 3000)]))
    timeline = Timeline(sim, budget=17)
    sim.step(1500)
    timeline.rewind(700)
    sim.set_lr(0.02, 0)  # the future of run 0 after 700 is rewritten
    sim.step(900)
    timeline.fork(0, 1111, {"lr": 0.01})
    timeline.rewind(1203)
    sim.step(5)
    for track in timeline.tracks + timeline.fork_tracks:
        kept = sorted({*track.checkpoints, *track.recent})
        for k in range(track.first_step, track.reached + 1):
            assert track._nearest(k) == max(s for s in kept if s <= k), (track.run.label, k)


def test_a_track_keeps_the_checkpoints_its_spacing_names() -> None:
    """The steps a run's track keeps are the spacing policy's, applied on its own, and
    its history archive keeps only the strides those checkpoints use."""
    from descent_tui.scenario.overrides import apply

    sim = Simulation(apply(find("the-ravine", []), [("steps", 3000)]))
    timeline = Timeline(sim, budget=17)
    sim.step(3000)
    policy = SpacingPolicy(budget=16)
    kept: list[int] = []
    for s in range(1, 3001):
        if policy.wants(s):
            kept.append(s)
            gone = set(policy.thin(kept))
            kept = [k for k in kept if k not in gone]
    for track in timeline.tracks:
        assert sorted(track.checkpoints) == [0, *kept]
        assert track.first_step == 0
        assert set(track.archive._by_stride) == {c.history.stride
                                                 for c in track.checkpoints.values()}


def _cli(*args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "descent_tui", "run", *args], capture_output=True,
                         text=True, check=True)
    return out.stdout


def test_cli_fork_numbers_are_the_api_fork() -> None:
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(_cli(
        "batch-sizes", "--steps", "20", "--every", "5", "--fork-at", "8", "--set",
        "runs[0].lr=0.3", "--format", "csv"))))
    label = [r["run"] for r in rows if "⑂" in r["run"]]
    sim = Simulation(find("batch-sizes", []).__class__(
        spec=__import__("descent_tui.scenario.overrides", fromlist=["apply"]).apply(
            find("batch-sizes", []), [("steps", 20)]).spec, path=None, source="test"))
    timeline = Timeline(sim)
    sim.step(8)
    fork = timeline.fork(0, 8, {"lr": 0.3})
    assert set(label) == {fork.label}
    sim.step(12)
    final = [r for r in rows if r["run"] == fork.label][-1]
    assert final["step"] == "20" and float(final["loss"]) == fork.last.loss


@pytest.mark.parametrize("args", [["--fork-at", "999"], ["--fork-at", "-1"],
                                  ["--fork-at", "3", "--set", "seed=1"],
                                  ["--fork-at", "3", "--set", "lr=oops"]])
def test_cli_bad_fork_is_one_line_and_exit_2(args) -> None:
    out = subprocess.run([sys.executable, "-m", "descent_tui", "run", "the-bowl", "--steps", "10",
                          *args], capture_output=True, text=True)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
