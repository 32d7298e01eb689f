"""Data-loader worker processes: ``get_worker_info`` and the loop each worker runs.

A worker receives ``(epoch, batch_index, indices)`` tasks on its own index queue, fetches
and collates the batch, and puts ``(epoch, batch_index, batch)``, pickled, on the shared
result queue; an exception is sent as an ``ExceptionWrapper`` carrying its traceback text. Each
worker seeds ``random``, numpy and ember from ``base_seed + worker_id`` at start, and exits
when it receives None or when its parent process is gone.
"""

from __future__ import annotations

import os
import pickle
import queue
import random
import sys
import traceback
from dataclasses import dataclass

import numpy as np

__all__ = ["WorkerInfo", "get_worker_info", "ExceptionWrapper"]

# how often a waiting worker checks that its parent is still alive (seconds)
POLL_INTERVAL = 1.0


class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: ``id``, ``num_workers``,
    ``seed`` and ``dataset`` (this worker's copy). The attributes are read-only."""

    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs.keys())
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} "
                               "objects")
        return super().__setattr__(key, val)

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={getattr(self, k)}" for k in self.__keys)
        return f"{self.__class__.__name__}({items})"


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """Inside a ``DataLoader`` worker process, its ``WorkerInfo``; None in the main process.

    Use it in ``IterableDataset.__iter__`` or ``worker_init_fn`` to give each worker its
    own share of the data (``info.id`` of ``info.num_workers``).
    """
    return _worker_info


class ExceptionWrapper:
    """An exception raised in a worker, with its traceback as text, to re-raise in the
    main process."""

    def __init__(self, exc_info=None, where: str = "in background"):
        exc_type, exc, tb = exc_info if exc_info is not None else sys.exc_info()
        self.exc_type = exc_type
        self.exc_msg = "".join(traceback.format_exception(exc_type, exc, tb))
        self.where = where
        try:  # the type travels by reference; a local class does not pickle
            pickle.dumps(exc_type)
        except Exception:
            self.exc_type = RuntimeError

    def reraise(self):
        """Raises the exception again, its message holding the worker's traceback."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exception = self.exc_type(msg)
        except Exception:  # the type needs other arguments: keep the text
            raise RuntimeError(msg) from None
        raise exception


class _KeyErrorMessage(str):
    """Keeps KeyError from quoting (and so escaping) a multi-line message."""

    def __repr__(self):
        return self


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    worker_id: int


def _seed_worker(seed: int, worker_id: int, base_seed: int) -> None:
    random.seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))
    from ... import _random

    _random.manual_seed(seed)


def worker_loop(dataset_kind, dataset, index_queue, data_queue, auto_collation,
                collate_fn, drop_last, base_seed, init_fn, worker_id, num_workers):
    """The body of one worker process (see the module docstring)."""
    global _worker_info
    from . import dataloader as dl

    parent = os.getppid()
    try:
        seed = base_seed + worker_id
        _seed_worker(seed, worker_id, base_seed)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        init_error = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
        except Exception:
            init_error = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
        fetcher = None
        exhausted = False
        epoch = None
        while True:
            try:
                task = index_queue.get(timeout=POLL_INTERVAL)
            except queue.Empty:
                if os.getppid() != parent:  # the main process died
                    break
                continue
            if task is None:
                break
            task_epoch, idx, index = task
            if task_epoch != epoch and dataset_kind == dl.ITERABLE:
                fetcher, exhausted = None, False  # a new epoch: restart the stream
            epoch = task_epoch
            data = init_error
            if data is None:
                data, fetcher, exhausted = _fetch(fetcher, exhausted, index, worker_id,
                                                  dataset_kind, dataset, auto_collation,
                                                  collate_fn, drop_last)
            data_queue.put(_dumps(task_epoch, idx, data, worker_id))
            del data, task, index
    except KeyboardInterrupt:
        pass
    finally:
        data_queue.cancel_join_thread()
        data_queue.close()


_PICKLER = pickle


def _dumps(epoch, idx, data, worker_id) -> bytes:
    """Pickles a result here, so that an unpicklable batch is reported (a queue's feeder
    thread would only print the error and drop the batch)."""
    try:
        return _PICKLER.dumps((epoch, idx, data), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        wrapped = ExceptionWrapper(where=f"in DataLoader worker process {worker_id} (the "
                                         "batch could not be pickled)")
        return _PICKLER.dumps((epoch, idx, wrapped), protocol=pickle.HIGHEST_PROTOCOL)


def _fetch(fetcher, exhausted, index, worker_id, dataset_kind, dataset, auto_collation,
           collate_fn, drop_last):
    """One batch (or the stop marker, or an ExceptionWrapper); returns (data, fetcher,
    exhausted)."""
    from . import dataloader as dl

    if exhausted:
        return _IterableDatasetStopIteration(worker_id), fetcher, True
    try:
        if fetcher is None:
            fetcher = dl.create_fetcher(dataset_kind, dataset, auto_collation, collate_fn,
                                        drop_last)
        return fetcher.fetch(index), fetcher, False
    except StopIteration:
        if dataset_kind == dl.ITERABLE:
            return _IterableDatasetStopIteration(worker_id), fetcher, True
        return ExceptionWrapper(where=f"in DataLoader worker process {worker_id}"), \
            fetcher, False
    except Exception:
        return ExceptionWrapper(where=f"in DataLoader worker process {worker_id}"), \
            fetcher, False
