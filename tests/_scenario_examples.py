"""Two small valid scenario documents used by the scenario tests."""

LANDSCAPE = '''\
id = "ex-ravine"
title = "The Ravine"
chapter = 2
order = 1
briefing = """
A long, narrow valley.
"""
watch_for = ["zig-zag across the valley"]
steps = 50

[landscape]
params = ["x", "y"]
loss = "0.05*x**2 + 5*y**2"
start = [-8.0, 1.0]
bounds = [[-10.0, 10.0], [-3.0, 3.0]]

[[runs]]
label = "SGD"
optimizer = "sgd"
lr = 0.1

[[runs]]
label = "Momentum"
optimizer = "momentum"
lr = 0.05

[knobs]
lr = { min = 1e-4, max = 2.0, log = true }
optimizer = { choices = ["sgd", "momentum", "adam"] }

[[quiz.concept]]
question = "Why does SGD zig-zag?"
choices = ["curvature differs by direction", "the lr is too small"]
answer = 0

[[quiz.prediction]]
question = "Which run first reaches loss < 0.01?"
metric = "first_below"
threshold = 0.01
choices = ["SGD", "Momentum", "none"]
'''

NETWORK = '''\
id = "ex-spiral"
title = "Spiral"
steps = 20

[network]
loss = "cross_entropy"
batch_size = 32
val_split = 0.2

[network.data]
kind = "spiral"
n = 90
classes = 3

[network.model]
layers = [2, 8, 3]
activation = "tanh"
init = "xavier_uniform"

[[runs]]
label = "Adam"
optimizer = "adam"
lr = 0.01
[runs.schedule]
kind = "cosine"

[[quiz.prediction]]
question = "Which layer has the smallest gradient?"
metric = "smallest_grad_layer"
choices = ["layer 1", "layer 2"]
'''
