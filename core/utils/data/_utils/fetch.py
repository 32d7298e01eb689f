"""``torch.utils.data._utils.fetch``: the fetchers that turn sampler indices into
collated batches, re-exported from ``ember.utils.data.dataloader``."""

from ..dataloader import _IterableDatasetFetcher, _MapDatasetFetcher

__all__ = ["_IterableDatasetFetcher", "_MapDatasetFetcher"]
