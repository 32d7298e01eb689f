"""``ember.utils.tensorboard``: write TensorBoard logs, as ``torch.utils.tensorboard``.

``SummaryWriter`` writes event files itself (no ``tensorboard`` package needed to write;
install ``tensorboard`` to view them). Images need Pillow; ``add_figure`` needs matplotlib.
"""

from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
