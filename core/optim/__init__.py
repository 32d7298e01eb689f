"""Optimization algorithms, as ``torch.optim``: the ``Optimizer`` base class, one module per
algorithm (``ember.optim.adam`` holds ``Adam`` and its update function ``adam``), and the
learning-rate schedulers in ``ember.optim.lr_scheduler``.

Optimizers follow PyTorch's trajectories step for step, and their ``state_dict()`` has
PyTorch's layout, so optimizer checkpoints move between the two.
"""

from . import lr_scheduler, swa_utils
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .asgd import ASGD
from .lbfgs import LBFGS
from .muon import Muon
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = ["ASGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "LBFGS",
           "Muon", "NAdam", "Optimizer", "RAdam", "RMSprop", "Rprop", "SGD", "SparseAdam",
           "lr_scheduler", "swa_utils"]
