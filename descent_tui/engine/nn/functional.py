"""``torch.nn.functional``'s place: the engine's :mod:`descent_tui.engine.functional`.

So that ``import descent_tui.engine.nn.functional as F`` works as
``import torch.nn.functional as F`` does.
"""

from ..functional import *  # noqa: F403
from ..functional import (  # noqa: F401  (the names, spelled out for readers and linters)
    binary_cross_entropy_with_logits,
    cross_entropy,
    leaky_relu,
    linear,
    log_softmax,
    mse_loss,
    relu,
    sigmoid,
    softmax,
    tanh,
)
