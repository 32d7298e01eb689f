"""``ember.utils.benchmark``: ``Timer``, ``Measurement`` and ``Compare``, as
``torch.utils.benchmark`` (Python statements timed with ``timeit``; no Callgrind)."""

from ._compare import Compare
from ._timer import Language, Measurement, TaskSpec, Timer

__all__ = ["Timer", "Measurement", "Compare", "Language", "TaskSpec"]
