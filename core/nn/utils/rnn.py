"""Sequence helpers of ``torch.nn.utils.rnn``: ``pad_sequence``, ``unpad_sequence``,
``pack_padded_sequence``/``pad_packed_sequence``, ``pack_sequence``/``unpack_sequence``
and ``PackedSequence``."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..._dtype import float16, float32, float64, int8, int16, int32, int64, uint8
from ..._tensor import Tensor

__all__ = ["PackedSequence", "pad_sequence", "unpad_sequence", "pack_padded_sequence",
           "pad_packed_sequence", "pack_sequence", "unpack_sequence"]


class _PackedFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None


class PackedSequence(_PackedFields):
    """A batch of variable-length sequences packed time-step by time-step: ``data`` holds
    the steps of every sequence still running at each time, ``batch_sizes`` how many run
    at each step (sequences sorted by decreasing length). ``unsorted_indices`` defaults to
    the inverse of ``sorted_indices``; ``PackedSequence((data, batch_sizes))`` also works,
    as in PyTorch."""

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not isinstance(data, (list, tuple)) or len(data) != 2:
                raise TypeError("PackedSequence: expected (data, batch_sizes) when "
                                "batch_sizes is not given")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """The packed sequence with ``data`` moved/cast (indices follow the device)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        dev = data.device
        return PackedSequence(data, self.batch_sizes,
                              None if self.sorted_indices is None else
                              self.sorted_indices.to(dev),
                              None if self.unsorted_indices is None else
                              self.unsorted_indices.to(dev))

    def cuda(self, *args, **kwargs) -> PackedSequence:
        """The packed sequence with ``data`` on a CUDA device."""
        from ..._creation import empty

        probe = empty(0, dtype=self.data.dtype, device=self.data.device).to(*args, **kwargs)
        if probe.is_cuda:
            return self.to(*args, **kwargs)
        return self.to(*args, device="cuda", **kwargs)

    def cpu(self, *args, **kwargs) -> PackedSequence:
        """The packed sequence with ``data`` on the CPU."""
        return self.to(*args, device="cpu", **kwargs)

    def double(self) -> PackedSequence:
        """The packed sequence with ``data`` cast to float64."""
        return self.to(dtype=float64)

    def float(self) -> PackedSequence:
        """The packed sequence with ``data`` cast to float32."""
        return self.to(dtype=float32)

    def half(self) -> PackedSequence:
        """The packed sequence with ``data`` cast to float16."""
        return self.to(dtype=float16)

    def long(self) -> PackedSequence:
        """The packed sequence with ``data`` cast to int64."""
        return self.to(dtype=int64)

    def int(self) -> PackedSequence:
        """The packed sequence with ``data`` cast to int32."""
        return self.to(dtype=int32)

    def short(self) -> PackedSequence:
        """The packed sequence with ``data`` cast to int16."""
        return self.to(dtype=int16)

    def char(self) -> PackedSequence:
        """The packed sequence with ``data`` cast to int8."""
        return self.to(dtype=int8)

    def byte(self) -> PackedSequence:
        """The packed sequence with ``data`` cast to uint8."""
        return self.to(dtype=uint8)

    @property
    def is_cuda(self) -> bool:
        """Whether ``data`` lives on a CUDA device."""
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        """Whether ``data`` is in pinned memory."""
        return self.data.is_pinned()

    def pin_memory(self) -> PackedSequence:
        """The packed sequence with ``data`` in pinned memory."""
        return PackedSequence(self.data.pin_memory(), self.batch_sizes, self.sorted_indices,
                              self.unsorted_indices)


def _invert_permutation(p: Tensor) -> Tensor:
    """The permutation that undoes ``p`` (``q[p[i]] = i``)."""
    from ..._creation import arange, empty_like

    return empty_like(p).scatter_(0, p, arange(p.numel(), device=p.device, dtype=p.dtype))


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stacks tensors of shape (L_i, *) into (L_max, B, *) (or (B, L_max, *) with
    ``batch_first``), padding with ``padding_value``."""
    from ...ops.shape import stack
    from ..functional import pad

    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    sequences = list(sequences)
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    lmax = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        extra = lmax - s.shape[0]
        if extra:
            spec = [0, 0] * (s.ndim - 1) + ([extra, 0] if padding_side == "left"
                                            else [0, extra])
            s = pad(s, spec, value=padding_value)
        padded.append(s)
    out = stack(padded, 0)
    return out if batch_first else out.transpose(0, 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False
                   ) -> list:
    """The list of unpadded sequences of a padded batch."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :int(n)] for i, n in enumerate(lengths.tolist())]


def _invert_permutation(perm: Tensor | None):
    if perm is None:
        return None
    from ..._creation import tensor

    inv = np.empty(perm.numel(), dtype=np.int64)
    inv[np.asarray(perm.tolist())] = np.arange(perm.numel())
    return tensor(inv.tolist(), dtype=perm.dtype, device=perm.device)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Packs a padded batch of sequences of the given ``lengths``."""
    from ..._creation import tensor

    lens = [int(n) for n in (lengths.tolist() if isinstance(lengths, Tensor) else lengths)]
    if enforce_sorted:
        if any(lens[i] < lens[i + 1] for i in range(len(lens) - 1)):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                               "to pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
        sorted_idx = None
        order = list(range(len(lens)))
    else:
        order = sorted(range(len(lens)), key=lambda i: -lens[i])
        sorted_idx = tensor(order, device=input.device)
    if any(n <= 0 for n in lens):
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    x = input if not batch_first else input.transpose(0, 1)  # (T, B, *)
    slens = [lens[i] for i in order]
    batch_sizes = [sum(1 for n in slens if n > t) for t in range(slens[0])]
    # gather (t, b) pairs in time-major order, batches sorted by length
    ts, bs = [], []
    for t, nb in enumerate(batch_sizes):
        ts.extend([t] * nb)
        bs.extend(order[:nb])
    xp_idx_t = tensor(ts, device=input.device)
    xp_idx_b = tensor(bs, device=input.device)
    data = x[xp_idx_t, xp_idx_b]
    return PackedSequence(data, tensor(batch_sizes), sorted_idx,
                          _invert_permutation(sorted_idx))


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None):
    """Unpacks a ``PackedSequence`` into (padded batch, lengths)."""
    from ..._creation import tensor

    data, batch_sizes = sequence.data, [int(b) for b in sequence.batch_sizes.tolist()]
    b = batch_sizes[0]
    t_max = len(batch_sizes)
    if total_length is not None:
        if total_length < t_max:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {t_max}")
        t_max = total_length
    out = data.new_full((t_max, b) + tuple(data.shape[1:]), padding_value)
    ts, bs = [], []
    for t, nb in enumerate(batch_sizes):
        ts.extend([t] * nb)
        bs.extend(range(nb))
    out = out.index_put((tensor(ts, device=data.device), tensor(bs, device=data.device)), data)
    lengths = [sum(1 for nb in batch_sizes if nb > i) for i in range(b)]
    lengths_t = tensor(lengths)
    if sequence.unsorted_indices is not None:
        out = out.index_select(1, sequence.unsorted_indices)
        lengths_t = lengths_t[sequence.unsorted_indices.to("cpu")]
    if batch_first:
        out = out.transpose(0, 1)
    return out, lengths_t


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Packs a list of variable-length tensors."""
    from ..._creation import tensor

    lengths = tensor([s.shape[0] for s in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of tensors packed in ``packed_sequences``."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
