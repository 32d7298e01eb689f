"""``torch.utils.data._utils.worker``: re-exports ``ember.utils.data.worker``."""

from ..worker import POLL_INTERVAL, ExceptionWrapper, WorkerInfo, get_worker_info

# PyTorch's name for how often a waiting worker checks on its parent (seconds)
MP_STATUS_CHECK_INTERVAL = POLL_INTERVAL

__all__ = ["ExceptionWrapper", "MP_STATUS_CHECK_INTERVAL", "WorkerInfo", "get_worker_info"]
