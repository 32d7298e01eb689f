"""Optimization algorithms, as ``torch.optim``: the ``Optimizer`` base class, one module per
algorithm (``ember.optim.adam`` holds ``Adam`` and its update function ``adam``), and the
learning-rate schedulers in ``ember.optim.lr_scheduler``.

Optimizers follow PyTorch's trajectories step for step, and their ``state_dict()`` has
PyTorch's layout, so optimizer checkpoints move between the two.
"""

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "LBFGS", "NAdam", "Optimizer",
           "RAdam", "RMSprop", "SGD", "lr_scheduler"]
