"""Quiz grading: each prediction metric on tiny scenarios, and concept scoring."""

from __future__ import annotations

import textwrap

from descent_tui.quiz import correct_answer, grade_prediction, score, score_concepts
from descent_tui.scenario import load_scenario
from descent_tui.scenario.schema import ConceptQuestion, PredictionQuestion
from descent_tui.sim import Simulation

BOWL = """
id = "bowl"
title = "Bowl"
steps = 60
diverge_above = 1e6
[landscape]
params = ["x"]
loss = "x**2"
start = [4.0]
bounds = [[-5.0, 5.0]]
[[runs]]
label = "Slow"
lr = 0.01
[[runs]]
label = "Fast"
lr = 0.3
[[runs]]
label = "Boom"
lr = 1.5
[[runs]]
label = "Boom2"
lr = 3.0
"""


def load(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return load_scenario(p)


def q(metric, choices, threshold=None, run=None):
    return PredictionQuestion(question="?", metric=metric, choices=choices,
                              threshold=threshold, run=run)


def test_first_below(tmp_path):
    sim = Simulation(load(tmp_path, BOWL))
    question = q("first_below", ["Slow", "Fast", "Boom", "none"], threshold=1.0)
    assert grade_prediction(question, sim) is None
    sim.step(60)
    assert grade_prediction(question, sim) == 1
    assert score(question, 1, sim) is True and score(question, 0, sim) is False
    nobody = q("first_below", ["Slow", "Fast", "none"], threshold=-1.0)
    assert grade_prediction(nobody, sim) == 2


def test_first_below_is_decided_early(tmp_path):
    sim = Simulation(load(tmp_path, BOWL))
    question = q("first_below", ["Slow", "Fast", "none"], threshold=1.0)
    sim.step(5)  # Fast: 4 * 0.4^k -> below 1 at the 3rd recorded loss
    assert not sim.done
    assert grade_prediction(question, sim) == 1


def test_lowest_and_largest_final_loss(tmp_path):
    sim = Simulation(load(tmp_path, BOWL))
    low = q("lowest_final_loss", ["Slow", "Fast", "Boom"])
    high = q("largest_final_loss", ["Slow", "Fast", "Boom", "Boom2"])
    sim.step(10)
    assert grade_prediction(low, sim) is None  # not done yet
    sim.step(60)
    assert sim.done
    assert grade_prediction(low, sim) == 1
    # both Boom runs diverge; Boom2 (lr 3) gets there first
    assert sim.runs[3].diverged_at < sim.runs[2].diverged_at
    assert grade_prediction(high, sim) == 3


def test_largest_final_loss_without_divergence(tmp_path):
    text = BOWL.split("[[runs]]\nlabel = \"Boom\"")[0]
    sim = Simulation(load(tmp_path, text))
    sim.step(60)
    assert grade_prediction(q("largest_final_loss", ["Fast", "Slow"]), sim) == 1


def test_diverges(tmp_path):
    sim = Simulation(load(tmp_path, BOWL))
    question = q("diverges", ["none", "Slow", "Boom", "Boom2"])
    assert grade_prediction(question, sim) is None
    sim.step(60)
    assert grade_prediction(question, sim) == 3
    calm = BOWL.replace("lr = 1.5", "lr = 0.5").replace("lr = 3.0", "lr = 0.2")
    sim = Simulation(load(tmp_path, calm, "calm.toml"))
    sim.step(60)
    assert grade_prediction(q("diverges", ["Slow", "Fast", "none"]), sim) == 2


NET = """
id = "deep"
title = "Deep sigmoid"
steps = 3
[network]
loss = "bce"
[network.data]
kind = "xor"
n = 64
[network.model]
layers = [2, 16, 16, 16, 16, 1]
activation = "sigmoid"
init = "normal"
init_std = 1.0
[[runs]]
label = "A"
lr = 0.1
[[runs]]
label = "B"
lr = 0.1
activation = "relu"
init = "kaiming_normal"
[[quiz.prediction]]
question = "Which layer learns slowest?"
metric = "smallest_grad_layer"
choices = ["layer 1", "layer 2", "layer 3", "layer 4", "layer 5"]
"""


def test_smallest_grad_layer(tmp_path):
    loaded = load(tmp_path, NET)
    sim = Simulation(loaded)
    question = loaded.spec.quiz.prediction[0]
    assert grade_prediction(question, sim) is None
    sim.step(1)
    norms = [lay.grad_norm for lay in sim.runs[0].first_layers]
    expected = min(range(len(norms)), key=norms.__getitem__)
    assert grade_prediction(question, sim) == expected
    assert expected == 0  # vanishing gradients in a deep sigmoid net
    sim.step(2)  # later steps don't change the answer
    assert grade_prediction(question, sim) == expected
    other = q("smallest_grad_layer", question.choices, run="B")
    normsb = [lay.grad_norm for lay in sim.runs[1].first_layers]
    assert grade_prediction(other, sim) == min(range(len(normsb)), key=normsb.__getitem__)
    assert correct_answer(other, sim).startswith("layer ")


def test_answer_not_among_choices_is_none(tmp_path):
    sim = Simulation(load(tmp_path, BOWL))
    sim.step(60)
    assert grade_prediction(q("lowest_final_loss", ["Slow", "Boom"]), sim) is None


def test_concept_scoring():
    c = ConceptQuestion(question="?", choices=["a", "b", "c"], answer=2)
    assert score(c, 2) is True
    assert score(c, 0) is False
    assert score(c, None) is False
    assert score_concepts([c, c, c], [2, 1, None]) == (1, 3)


def test_prediction_without_sim_is_undecided():
    assert score(q("diverges", ["A", "none"]), 0) is None
