"""``ember.utils.data._utils``, as ``torch.utils.data._utils``: the module paths programs
import the collation helpers and the worker state from (``_utils.collate.collate`` with
``default_collate_fn_map``, ``_utils.worker.get_worker_info``); each re-exports the
implementation in ``ember.utils.data``."""

from . import collate, fetch, worker

# how often a waiting worker checks that its parent is still alive (seconds)
MP_STATUS_CHECK_INTERVAL = worker.MP_STATUS_CHECK_INTERVAL

__all__ = ["MP_STATUS_CHECK_INTERVAL", "collate", "fetch", "worker"]
