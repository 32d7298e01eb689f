"""``ember.nn.parallel``: ``DataParallel``, ``data_parallel``, ``DistributedDataParallel``
and the ``scatter`` / ``gather`` helpers, as ``torch.nn.parallel``."""

from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel
from .scatter_gather import gather, scatter

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel", "gather", "scatter"]
