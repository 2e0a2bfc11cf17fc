"""Optimizers and learning-rate schedulers with PyTorch's names and update rules.

    from descent_tui.engine import optim
    opt = optim.Adam(model.parameters(), lr=1e-3)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
    for step in range(100):
        opt.zero_grad()
        loss = loss_fn(model)
        loss.backward()
        opt.step()
        sched.step()
    opt.inspect_state(param)   # {"velocity", "sq_avg", "step_size", "update", "step"}
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .newton import Newton
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Newton",
    "Optimizer",
    "RMSprop",
    "lr_scheduler",
]
