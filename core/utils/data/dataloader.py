"""``DataLoader``: batches from a dataset, in the main process or in worker processes, as
``torch.utils.data.DataLoader``.

With ``num_workers > 0`` the main process walks the sampler and hands batches of indices
to the workers round-robin, at most ``prefetch_factor`` per worker ahead; results come back
on one queue and are delivered in sampler order (a reorder buffer keyed by batch index).
While it waits, the main process checks that every worker is alive, so a worker that dies
is reported within a fraction of a second; ``timeout`` bounds each wait. Workers stop when
the iterator is exhausted, deleted or garbage-collected (``persistent_workers`` keeps
them for the next epoch).
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import pickle
import queue
import signal
import time
import warnings
from typing import Generic, TypeVar

from ... import _random
from . import worker as _worker
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

_T_co = TypeVar("_T_co", covariant=True)

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]

get_worker_info = _worker.get_worker_info

MAP, ITERABLE = 0, 1
# how often the main process checks its workers while waiting for a batch (seconds)
LIVENESS_INTERVAL = 0.1
# how long shutdown waits for a worker to exit before terminating it (seconds)
JOIN_TIMEOUT = 2.0


class _DatasetKind:
    Map = MAP
    Iterable = ITERABLE


class _MapDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset, self.auto_collation = dataset, auto_collation
        self.collate_fn, self.drop_last = collate_fn, drop_last

    def fetch(self, index):
        """The collated samples at ``index`` (a list of indices when batching)."""
        if self.auto_collation:
            getitems = getattr(self.dataset, "__getitems__", None)
            data = getitems(index) if getitems else [self.dataset[i] for i in index]
        else:
            data = self.dataset[index]
        return self.collate_fn(data)


class _IterableDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset_iter = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn, self.drop_last = collate_fn, drop_last
        self.ended = False

    def fetch(self, index):
        """The next collated batch (``len(index)`` samples) of the stream."""
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        data = []
        for _ in index:
            try:
                data.append(next(self.dataset_iter))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < len(index)):
            raise StopIteration
        return self.collate_fn(data)


def create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last):
    """The object that turns indices into collated batches."""
    cls = _MapDatasetFetcher if kind == MAP else _IterableDatasetFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)


class _InfiniteConstantSampler(Sampler):
    """The sampler of iterable datasets: None forever (the dataset decides the data)."""

    def __iter__(self):
        while True:
            yield None


def _default_context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class DataLoader(Generic[_T_co]):
    """Iterates over a dataset in batches, as ``torch.utils.data.DataLoader``.

    Args:
        dataset: a map-style ``Dataset`` or an ``IterableDataset``.
        batch_size: samples per batch (default 1); None disables batching.
        shuffle: reshuffle the indices at each epoch (map-style datasets only).
        sampler: the indices to draw (exclusive with ``shuffle``).
        batch_sampler: lists of indices, one per batch (exclusive with ``batch_size``,
            ``shuffle``, ``sampler`` and ``drop_last``).
        num_workers: worker processes (0: load in the main process). Workers use the
            'fork' start method where available, else 'spawn'.
        collate_fn: builds a batch from a list of samples (default ``default_collate``,
            or ``default_convert`` without batching).
        pin_memory: accepted for compatibility; a no-op (ember does not pin host memory).
        drop_last: drop the last incomplete batch.
        timeout: seconds to wait for a batch from the workers (0: no limit); raises
            RuntimeError when exceeded.
        worker_init_fn: called as ``fn(worker_id)`` in each worker after seeding.
        multiprocessing_context: a start method name or a multiprocessing context.
        generator: an ``ember.Generator`` for the shuffle and the workers' base seed.
        prefetch_factor: batches loaded ahead per worker (default 2 with workers).
        persistent_workers: keep the workers alive between epochs.
        in_order: deliver batches in sampler order (default); False delivers each as soon
            as it is ready.

    Each worker seeds ``random``, numpy and ember from ``base_seed + worker_id``, where
    ``base_seed`` is drawn from ``generator`` (or the global generator) per epoch.
    Departure from PyTorch: workers keep the BLAS thread settings they inherit (PyTorch
    sets one intra-op thread per worker); call ``ember.set_num_threads(1)`` in
    ``worker_init_fn`` if per-sample work is BLAS-heavy.
    A worker's exception is re-raised in the main process with the worker's traceback in
    its message; a worker that dies raises RuntimeError naming its exit code or signal.
    """

    _initialized = False
    _FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
               "persistent_workers")

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 "
                             "to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = ITERABLE
            if isinstance(shuffle, bool) and shuffle:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = MAP
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            if self._dataset_kind == ITERABLE:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self.multiprocessing_context = multiprocessing_context
        self._IterableDataset_len_called = None
        self._iterator = None
        self._initialized = True

    def __setattr__(self, attr, val):
        if self._initialized and attr in self._FROZEN:
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def multiprocessing_context(self):
        """The multiprocessing context the workers start from (None: the default)."""
        return self._mp_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, ctx):
        if isinstance(ctx, str):
            if ctx not in multiprocessing.get_all_start_methods():
                raise ValueError("multiprocessing_context option should specify a valid "
                                 "start method in "
                                 f"{multiprocessing.get_all_start_methods()!r}, but got "
                                 f"multiprocessing_context={ctx!r}")
            ctx = multiprocessing.get_context(ctx)
        self._mp_context = ctx

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        return _MultiProcessingDataLoaderIter(self)

    def __iter__(self):
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None or self._iterator._shutdown:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    def __len__(self) -> int:
        if self._dataset_kind == ITERABLE:
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                length = (length // self.batch_size if self.drop_last
                          else math.ceil(length / self.batch_size))
            return length
        return len(self._index_sampler)

    def _get_shared_seed(self) -> int:
        gen = self.generator if self.generator is not None else _random.default_generator
        return int(gen.rng.integers(0, 2**63))  # as random_() of an int64 tensor

    def __del__(self):
        it = self.__dict__.get("_iterator")
        if it is not None:
            it._shutdown_workers()


class _BaseDataLoaderIter:
    def __init__(self, loader: DataLoader):
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._prefetch_factor = loader.prefetch_factor
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._persistent_workers = loader.persistent_workers
        self._in_order = loader.in_order
        self._base_seed = loader._get_shared_seed()
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._shutdown = False

    def __iter__(self):
        return self

    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self):
        return next(self._sampler_iter)

    def _next_data(self):
        raise NotImplementedError

    def __next__(self):
        if self._sampler_iter is None:
            raise StopIteration
        data = self._next_data()
        self._num_yielded += 1
        n = self._IterableDataset_len_called
        if self._dataset_kind == ITERABLE and n is not None and self._num_yielded > n:
            warnings.warn(f"Length of IterableDataset {self._dataset} was reported to be {n} "
                          f"(when accessing len(dataloader)), but {self._num_yielded} samples "
                          "have been fetched. ", stacklevel=2)
        return data

    def __len__(self) -> int:
        return len(self._index_sampler)

    def _shutdown_workers(self) -> None:
        self._shutdown = True


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader: DataLoader):
        super().__init__(loader)
        self._fetcher = create_fetcher(self._dataset_kind, self._dataset,
                                       self._auto_collation, self._collate_fn, self._drop_last)

    def _next_data(self):
        index = self._next_index()
        return self._fetcher.fetch(index)


def _describe_exit(code: int) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return f"was killed by signal {name}"
    return f"exited unexpectedly with exit code {code}"


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader: DataLoader):
        super().__init__(loader)
        ctx = loader.multiprocessing_context or _default_context()
        self._workers: list = []
        self._index_queues: list = []
        self._data_queue = None
        self._epoch = 0
        try:
            self._data_queue = ctx.Queue()
            for i in range(self._num_workers):
                iq = ctx.Queue()
                iq.cancel_join_thread()
                w = ctx.Process(
                    target=_worker.worker_loop,
                    args=(self._dataset_kind, self._dataset, iq, self._data_queue,
                          self._auto_collation, self._collate_fn, self._drop_last,
                          self._base_seed, loader.worker_init_fn, i, self._num_workers),
                    daemon=True)
                w.start()
                self._index_queues.append(iq)
                self._workers.append(w)
        except BaseException:
            self._shutdown_workers()
            raise
        self._reset(loader, first_iter=True)

    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:
        super()._reset(loader, first_iter)
        if not first_iter:
            self._epoch += 1  # results of the previous epoch still in flight are dropped
        self._send_idx = 0
        self._rcvd_idx = 0
        self._task_info: dict = {}  # batch index -> (worker,) or (worker, data)
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _try_put_index(self) -> None:
        if self._tasks_outstanding >= self._prefetch_factor * self._num_workers:
            return
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker_id = next(self._worker_cycle)
            if self._workers_status[worker_id]:
                break
        else:
            return  # every worker's stream has ended
        self._index_queues[worker_id].put((self._epoch, self._send_idx, index))
        self._task_info[self._send_idx] = (worker_id,)
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _next_data(self):
        while True:
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is not None and (len(info) == 2 or self._workers_status[info[0]]):
                    break
                self._task_info.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            info = self._task_info[self._rcvd_idx]
            if len(info) == 2:
                del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._process_data(info[1])
            idx, data = self._get_data()
            self._tasks_outstanding -= 1
            if isinstance(data, _worker._IterableDatasetStopIteration):
                self._workers_status[data.worker_id] = False
                self._try_put_index()
                continue
            if idx == self._rcvd_idx:
                del self._task_info[idx]
                self._rcvd_idx += 1
                return self._process_data(data)
            if not self._in_order:
                del self._task_info[idx]
                return self._process_data(data)
            self._task_info[idx] += (data,)

    def _process_data(self, data):
        self._try_put_index()
        if isinstance(data, _worker.ExceptionWrapper):
            self._shutdown_workers()
            data.reraise()
        return data

    def _get_data(self):
        """The next result of this epoch, checking the workers while waiting."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = LIVENESS_INTERVAL
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    self._shutdown_workers(graceful=False)
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
            try:
                payload = self._data_queue.get(timeout=wait)
            except queue.Empty:
                self._check_workers()
                continue
            epoch, idx, data = pickle.loads(payload)
            if epoch == self._epoch:
                return idx, data

    def _check_workers(self) -> None:
        for w in self._workers:
            if not w.is_alive():
                pid, code = w.pid, w.exitcode
                self._shutdown_workers(graceful=False)
                raise RuntimeError(f"DataLoader worker (pid {pid}) {_describe_exit(code)}. "
                                   "Details are lost due to multiprocessing. Rerunning with "
                                   "num_workers=0 may give better error trace.")

    def _shutdown_workers(self, graceful: bool = True) -> None:
        """Stops the workers: asks them to exit, waits up to ``JOIN_TIMEOUT`` (not at all
        unless ``graceful``: after a timeout or a death, workers may be stuck), then
        terminates those still running."""
        if getattr(self, "_shutdown", True):
            return
        self._shutdown = True
        try:
            for w, q in zip(self._workers, self._index_queues):
                if w.is_alive():
                    try:
                        q.put(None)
                    except (OSError, ValueError):
                        pass
            deadline = time.monotonic() + (JOIN_TIMEOUT if graceful else 0.0)
            for w in self._workers:
                w.join(timeout=max(0.0, deadline - time.monotonic()))
            for w in self._workers:
                if w.is_alive():
                    w.terminate()
                    w.join(timeout=JOIN_TIMEOUT)
        finally:
            for q in self._index_queues + [self._data_queue]:
                if q is not None:
                    q.cancel_join_thread()
                    q.close()

    def __del__(self):
        self._shutdown_workers()
