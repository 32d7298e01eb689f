"""``ember.nn.attention.flex_attention``: attention with a user-defined score and mask, as
``torch.nn.attention.flex_attention``.

``flex_attention(q, k, v, score_mod, block_mask)`` computes ``softmax(mod(q k^T * scale)) v``
where ``score_mod(score, b, h, q_idx, kv_idx)`` rewrites each score and the block mask keeps
or drops each (query, key) pair. ember computes it densely: the mods are called once, with
index tensors shaped to broadcast over (batch, head, query, key):

    b: (B, 1, 1, 1)   h: (1, H, 1, 1)   q_idx: (1, 1, L, 1)   kv_idx: (1, 1, 1, S)

so a mod written with tensor ops and indexing (``q_idx >= kv_idx``, ``bias[h]``,
``lengths[b] > kv_idx``) is evaluated for every position at once. The result is the same as
PyTorch's vmapped mods; Python control flow on the indices does not work here (nor under
PyTorch's vmap).

Departure from PyTorch: no fused kernel, and no skipping of empty blocks: the cost and memory
are those of dense attention ((B, H, L, S) scores), whatever the block sparsity. ``BlockMask``
keeps PyTorch's block tables (``kv_num_blocks``, ``kv_indices``, ...) alongside the dense
element mask. Rows whose keys are all masked give a zero output and an LSE of -inf, as in
PyTorch.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import NamedTuple

from ... import _dtype
from ..._tensor import Tensor

__all__ = ["flex_attention", "create_block_mask", "create_mask", "BlockMask", "AuxRequest",
           "AuxOutput", "noop_mask", "and_masks", "or_masks"]

_DEFAULT_SPARSE_BLOCK_SIZE = 128
_LARGE_SPARSE_BLOCK_SIZE = 1 << 30
_score_mod_signature = Callable[[Tensor, Tensor, Tensor, Tensor, Tensor], Tensor]
_mask_mod_signature = Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]


# ---------------------------------------------------------------------------- mask mods
def noop_mask(batch, head, token_q, token_kv):
    """The mask that keeps every position."""
    import ember

    return ember.ones((), dtype=_dtype.bool, device=batch.device)


def and_masks(*mask_mods: Callable) -> Callable:
    """A mask mod keeping the positions every one of ``mask_mods`` keeps."""
    if not all(callable(m) for m in mask_mods):
        raise RuntimeError(f"All inputs should be callable mask_mods: {mask_mods}")

    def both(b, h, q_idx, kv_idx):
        keep = None
        for m in mask_mods:
            r = m(b, h, q_idx, kv_idx)
            keep = r if keep is None else keep & r
        return noop_mask(b, h, q_idx, kv_idx) if keep is None else keep

    return both


def or_masks(*mask_mods: Callable) -> Callable:
    """A mask mod keeping the positions any one of ``mask_mods`` keeps."""
    if not all(callable(m) for m in mask_mods):
        raise RuntimeError(f"All inputs should be callable mask_mods: {mask_mods}")

    def either(b, h, q_idx, kv_idx):
        import ember

        keep = ember.zeros((), dtype=_dtype.bool, device=b.device)
        for m in mask_mods:
            keep = keep | m(b, h, q_idx, kv_idx)
        return keep

    return either


def _index_grids(B: int, H: int, L: int, S: int, device):
    """The broadcasting (b, h, q_idx, kv_idx) index tensors of a (B, H, L, S) grid."""
    import ember

    def ar(n, shape):
        return ember.arange(n, device=device).reshape(shape)

    return (ar(B, (B, 1, 1, 1)), ar(H, (1, H, 1, 1)), ar(L, (1, 1, L, 1)),
            ar(S, (1, 1, 1, S)))


def create_mask(mod_fn: Callable, B: int | None, H: int | None, Q_LEN: int, KV_LEN: int,
                device=None) -> Tensor:
    """The dense (B, H, Q_LEN, KV_LEN) boolean mask of the mask mod ``mod_fn`` (None for B or
    H means 1)."""
    B, H = B or 1, H or 1
    keep = mod_fn(*_index_grids(B, H, Q_LEN, KV_LEN, device or "cpu"))
    if not isinstance(keep, Tensor):
        raise TypeError(f"create_mask: the mask mod must return a tensor, got "
                        f"{type(keep).__name__}")
    return keep.to(_dtype.bool).expand(B, H, Q_LEN, KV_LEN)


# ---------------------------------------------------------------------------- block tables
def _dense_to_ordered(flags: Tensor):
    """``(num, indices)`` of a (..., rows, cols) block-flag tensor: per row the number of set
    blocks, and the column indices with the set ones first (each group ascending)."""
    import ember

    cols = flags.shape[-1]
    key = (~flags).to(_dtype.int64) * cols + ember.arange(cols, device=flags.device)
    order = key.argsort(dim=-1)
    return flags.sum(-1).to(_dtype.int32), order.to(_dtype.int32)


def _ordered_to_dense(num: Tensor, indices: Tensor, cols: int) -> Tensor:
    """The (..., rows, cols) boolean block flags described by ``(num, indices)``."""
    import ember

    slots = ember.arange(indices.shape[-1], device=indices.device)
    valid = slots < num.unsqueeze(-1)
    target = ember.where(valid, indices.to(_dtype.int64), cols)
    dense = ember.zeros(tuple(indices.shape[:-1]) + (cols + 1,), dtype=_dtype.int32,
                        device=indices.device)
    return dense.scatter_(-1, target, 1)[..., :cols].to(_dtype.bool)


def _blocks_of(elements: Tensor, bq: int, bk: int):
    """``(partial, full)`` block flags of a (B, H, L, S) element mask: blocks holding some
    kept position but not only kept positions, and blocks holding only kept ones (positions
    past L and S count as dropped)."""
    import ember

    B, H, L, S = elements.shape
    nq, nk = -(-L // bq), -(-S // bk)
    padded = ember.zeros((B, H, nq * bq, nk * bk), dtype=_dtype.bool, device=elements.device)
    padded[:, :, :L, :S] = elements
    tiles = padded.reshape(B, H, nq, bq, nk, bk)  # (B, H, nq, bq, nk, bk)
    anyk = tiles.any(5).any(3)
    allk = tiles.all(5).all(3)
    return anyk & ~allk, allk


class BlockMask:
    """A (B, H, Q_LEN, KV_LEN) attention mask kept as PyTorch's block tables: per block row,
    the partially kept key blocks (``kv_num_blocks``, ``kv_indices``: their mask comes from
    ``mask_mod``) and the fully kept ones (``full_kv_num_blocks``, ``full_kv_indices``); the
    ``q_*`` tables are the same per block column. Make one with ``create_block_mask``.
    """

    def __init__(self, seq_lengths, kv_num_blocks, kv_indices, full_kv_num_blocks,
                 full_kv_indices, q_num_blocks=None, q_indices=None, full_q_num_blocks=None,
                 full_q_indices=None, BLOCK_SIZE=(_DEFAULT_SPARSE_BLOCK_SIZE,) * 2,
                 mask_mod=None, **kwargs):
        if kv_indices.dim() < 2:
            raise RuntimeError("BlockMask must have at least 2 dimensions")
        self.seq_lengths = tuple(int(n) for n in seq_lengths)
        self.kv_num_blocks, self.kv_indices = kv_num_blocks, kv_indices
        self.full_kv_num_blocks, self.full_kv_indices = full_kv_num_blocks, full_kv_indices
        self.q_num_blocks, self.q_indices = q_num_blocks, q_indices
        self.full_q_num_blocks, self.full_q_indices = full_q_num_blocks, full_q_indices
        self.BLOCK_SIZE = (BLOCK_SIZE, BLOCK_SIZE) if isinstance(BLOCK_SIZE, int) else tuple(
            BLOCK_SIZE)
        self.mask_mod = mask_mod if mask_mod is not None else noop_mask
        self._elements = None  # the dense element mask, once computed

    @classmethod
    def from_kv_blocks(cls, kv_num_blocks: Tensor, kv_indices: Tensor,
                       full_kv_num_blocks: Tensor | None = None,
                       full_kv_indices: Tensor | None = None,
                       BLOCK_SIZE=_DEFAULT_SPARSE_BLOCK_SIZE, mask_mod=None, seq_lengths=None,
                       compute_q_blocks: bool = True, **kwargs) -> BlockMask:
        """A BlockMask from its key-side tables (the query-side ones are derived)."""
        bs = (BLOCK_SIZE, BLOCK_SIZE) if isinstance(BLOCK_SIZE, int) else tuple(BLOCK_SIZE)
        if seq_lengths is None:
            seq_lengths = (kv_indices.shape[-2] * bs[0], kv_indices.shape[-1] * bs[1])
        nk = kv_indices.shape[-1]
        tabs = [None] * 4
        if compute_q_blocks:
            tabs[:2] = _dense_to_ordered(
                _ordered_to_dense(kv_num_blocks, kv_indices, nk).transpose(-2, -1))
            if full_kv_num_blocks is not None:
                tabs[2:] = _dense_to_ordered(_ordered_to_dense(
                    full_kv_num_blocks, full_kv_indices, nk).transpose(-2, -1))
        return cls(seq_lengths, kv_num_blocks, kv_indices, full_kv_num_blocks, full_kv_indices,
                   *tabs, BLOCK_SIZE=bs, mask_mod=mask_mod)

    @classmethod
    def _from_elements(cls, elements: Tensor, bq: int, bk: int, mask_mod,
                       separate_full_blocks: bool = True) -> BlockMask:
        partial, full = _blocks_of(elements, bq, bk)
        if not separate_full_blocks:
            partial, full = partial | full, None
        kv = _dense_to_ordered(partial)
        qq = _dense_to_ordered(partial.transpose(-2, -1))
        fkv = _dense_to_ordered(full) if full is not None else (None, None)
        fq = _dense_to_ordered(full.transpose(-2, -1)) if full is not None else (None, None)
        out = cls(tuple(elements.shape[-2:]), *kv, *fkv, *qq, *fq, BLOCK_SIZE=(bq, bk),
                  mask_mod=mask_mod)
        out._elements = elements
        return out

    # ------------------------------------------------------------------------ views
    @property
    def shape(self) -> tuple:
        """``(B, H, Q_LEN, KV_LEN)``."""
        return tuple(self.kv_num_blocks.shape[:-1]) + self.seq_lengths

    def as_tuple(self, flatten: bool = True) -> tuple:
        """The tables, sizes and mask mod as one tuple (PyTorch's order)."""
        return (*self.seq_lengths, self.kv_num_blocks, self.kv_indices,
                self.full_kv_num_blocks, self.full_kv_indices, self.q_num_blocks,
                self.q_indices, self.full_q_num_blocks, self.full_q_indices,
                *self.BLOCK_SIZE, self.mask_mod)

    def _block_flags(self) -> tuple:
        nk = self.kv_indices.shape[-1]
        partial = _ordered_to_dense(self.kv_num_blocks, self.kv_indices, nk)
        full = None
        if self.full_kv_num_blocks is not None:
            full = _ordered_to_dense(self.full_kv_num_blocks, self.full_kv_indices, nk)
        return partial, full

    def to_dense(self) -> Tensor:
        """The (B, H, num_q_blocks, num_kv_blocks) int32 map of blocks that are computed."""
        partial, full = self._block_flags()
        kept = partial if full is None else partial | full
        return kept.to(_dtype.int32)

    def sparsity(self) -> float:
        """Percent of the (Q_LEN, KV_LEN) area whose blocks are skipped."""
        B, H, L, S = self.shape
        blocks = self.to_dense().sum().item()
        area = blocks * self.BLOCK_SIZE[0] * self.BLOCK_SIZE[1]
        return 100.0 * (1.0 - area / (B * H * L * S))

    def _element_mask(self) -> Tensor:
        """The dense (B, H, Q_LEN, KV_LEN) boolean mask this BlockMask stands for."""
        if self._elements is None:
            B, H, L, S = self.shape
            bq, bk = self.BLOCK_SIZE
            partial, full = self._block_flags()

            def spread(flags):  # (B, H, nq, nk) -> (B, H, L, S)
                e = flags.repeat_interleave(bq, dim=2).repeat_interleave(bk, dim=3)
                return e[:, :, :L, :S]

            keep = spread(partial) & create_mask(self.mask_mod, B, H, L, S,
                                                 self.kv_indices.device)
            self._elements = keep if full is None else keep | spread(full)
        return self._elements

    # ------------------------------------------------------------------------ edits
    def __getitem__(self, index) -> BlockMask:
        """Selects batches / heads (integers keep their dimension, as slices of one)."""
        import ember

        index = index if isinstance(index, tuple) else (index,)
        if len(index) > 2:
            raise IndexError("BlockMask can only be indexed over its batch and head dims")
        index = tuple(slice(i, i + 1 if i != -1 else None) if isinstance(i, int) else i
                      for i in index)
        B, H = self.shape[:2]
        b_map = ember.arange(B)[index[0]]
        h_map = ember.arange(H)[index[1]] if len(index) > 1 else ember.arange(H)
        old = self.mask_mod

        def sliced(b, h, q_idx, kv_idx):
            return old(b_map.to(b.device)[b], h_map.to(h.device)[h], q_idx, kv_idx)

        def pick(t):
            return None if t is None else t[index]

        out = BlockMask(self.seq_lengths, *[pick(t) for t in self.as_tuple()[2:10]],
                        BLOCK_SIZE=self.BLOCK_SIZE, mask_mod=sliced)
        if self._elements is not None:
            out._elements = self._elements.expand(B, H, *self.seq_lengths)[index]
        return out

    def _adjust(self, new_q_len: int, new_kv_len: int) -> BlockMask:
        """The mask cut (or extended, with the mask mod) to new sequence lengths."""
        B, H = self.shape[:2]
        bq, bk = self.BLOCK_SIZE
        return BlockMask._from_elements(
            create_mask(self.mask_mod, B, H, new_q_len, new_kv_len, self.kv_indices.device),
            bq, bk, self.mask_mod, self.full_kv_num_blocks is not None)

    def to(self, device) -> BlockMask:
        """A copy with its tables on ``device``."""
        moved = [None if t is None else t.to(device) for t in self.as_tuple()[2:10]]
        out = BlockMask(self.seq_lengths, *moved, BLOCK_SIZE=self.BLOCK_SIZE,
                        mask_mod=self.mask_mod)
        if self._elements is not None:
            out._elements = self._elements.to(device)
        return out

    def __repr__(self) -> str:
        return f"BlockMask(shape={self.shape}, sparsity={self.sparsity():.2f}%)"


def create_block_mask(mask_mod: Callable, B: int | None, H: int | None, Q_LEN: int,
                      KV_LEN: int, device=None, BLOCK_SIZE=_DEFAULT_SPARSE_BLOCK_SIZE,
                      _compile: bool = False, separate_full_blocks: bool = True,
                      **kwargs) -> BlockMask:
    """The BlockMask of ``mask_mod(b, h, q_idx, kv_idx) -> bool`` over a (B, H, Q_LEN,
    KV_LEN) grid (B or H None: 1, broadcast over the batch or heads). ``_compile`` has no
    effect: the mask mod is evaluated once, vectorized."""
    bq, bk = (BLOCK_SIZE, BLOCK_SIZE) if isinstance(BLOCK_SIZE, int) else tuple(BLOCK_SIZE)
    elements = create_mask(mask_mod, B, H, Q_LEN, KV_LEN, device)
    return BlockMask._from_elements(elements, bq, bk, mask_mod, separate_full_blocks)


# ---------------------------------------------------------------------------- attention
@dataclasses.dataclass(frozen=True)
class AuxRequest:
    """Which extra outputs ``flex_attention(..., return_aux=...)`` returns."""

    lse: bool = False
    max_scores: bool = False


class AuxOutput(NamedTuple):
    """The extra outputs: ``lse`` (B, H, L) log-sum-exp of the scores, ``max_scores``
    (B, H, L) the largest kept score per query (None where not requested)."""

    lse: Tensor | None = None
    max_scores: Tensor | None = None


def _check_inputs(query, key, value, block_mask, enable_gqa):
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor) or t.dim() != 4:
            raise ValueError(f"flex_attention: {name} must be a 4-D (B, H, L, E) tensor, got "
                             f"{getattr(t, 'shape', type(t).__name__)}")
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"Expect query and key/value to have the same embedding dimension "
                         f"but got E={query.shape[-1]} and E={key.shape[-1]}.")
    if key.shape[-2] != value.shape[-2] or key.shape[1] != value.shape[1]:
        raise ValueError(f"flex_attention: key {tuple(key.shape)} and value "
                         f"{tuple(value.shape)} must have the same heads and length")
    hq, hkv = query.shape[1], key.shape[1]
    if hq != hkv:
        if not enable_gqa:
            raise ValueError(f"Expect query and key/value to have the same number of heads but "
                             f"got Hq={hq} and Hkv={hkv}. Try setting enable_gqa=True for GQA.")
        if hq % hkv:
            raise ValueError(f"Expect number of query heads to be a multiple of kv heads for "
                             f"GQA but got Hq={hq} and Hkv={hkv}.")
    if block_mask is not None:
        bm, hm = block_mask.shape[:2]
        if bm not in (1, query.shape[0]) or hm not in (1, hq):
            raise ValueError(f"flex_attention: block_mask of shape {block_mask.shape} does not "
                             f"broadcast to query batch {query.shape[0]} and heads {hq}")
        lq, lkv = query.shape[-2], key.shape[-2]
        if tuple(block_mask.seq_lengths) != (lq, lkv):
            raise ValueError(f"block_mask was created for block_mask.shape={block_mask.shape} "
                             f"but got q_len={lq} and kv_len={lkv}. Create a new block mask "
                             f"for these lengths (or call block_mask._adjust(q_len, kv_len)).")


def flex_attention(query: Tensor, key: Tensor, value: Tensor, score_mod: Callable | None = None,
                   block_mask: BlockMask | None = None, scale: float | None = None,
                   enable_gqa: bool = False, return_lse: bool = False, kernel_options=None,
                   *, return_aux: AuxRequest | None = None):
    """Attention of (B, Hq, L, E) queries over (B, Hkv, S, E) keys and (B, Hkv, S, Ev)
    values: ``softmax(score_mod(q k^T * scale)) v`` with the positions ``block_mask`` drops
    removed. ``scale`` defaults to ``1/sqrt(E)``; ``enable_gqa`` lets each of Hkv key heads
    serve Hq/Hkv query heads. Returns the (B, Hq, L, Ev) output, with the (B, Hq, L)
    log-sum-exp if ``return_lse``, or with an ``AuxOutput`` if ``return_aux`` is given.
    ``kernel_options`` is accepted and ignored.
    """
    import ember

    if return_lse and return_aux is not None:
        raise ValueError("Cannot specify both return_lse and return_aux. return_lse is "
                         "deprecated, please use return_aux=AuxRequest(lse=True)")
    _check_inputs(query, key, value, block_mask, enable_gqa)
    B, hq, L, E = query.shape
    S = key.shape[-2]
    rep = hq // key.shape[1]
    if rep > 1:  # (B, Hkv, S, E) -> (B, Hq, S, E)
        key = key.repeat_interleave(rep, dim=1)
        value = value.repeat_interleave(rep, dim=1)
    work = query.dtype if query.dtype in (_dtype.float32, _dtype.float64) else _dtype.float32
    q, k, v = query.to(work), key.to(work), value.to(work)
    scale = 1.0 / math.sqrt(E) if scale is None else scale
    scores = q.matmul(k.transpose(-2, -1)) * scale  # (B, H, L, S)
    if score_mod is not None:
        scores = score_mod(scores, *_index_grids(B, hq, L, S, query.device))
        scores = scores.to(work).expand(B, hq, L, S)
    if block_mask is not None:
        keep = block_mask._element_mask().to(query.device)
        scores = ember.where(keep, scores, float("-inf"))
    peak = scores.detach().amax(-1, keepdim=True)  # (B, H, L, 1)
    empty = peak == float("-inf")  # rows with every key masked
    peak = ember.where(empty, 0.0, peak)
    weights = (scores - peak).exp()
    total = weights.sum(-1, keepdim=True)
    safe_total = ember.where(empty, 1.0, total)
    out = (weights / safe_total).matmul(v).to(query.dtype)  # (B, H, L, Ev)
    if not return_lse and return_aux is None:
        return out
    lse = ember.where(empty, float("-inf"), safe_total.log() + peak).squeeze(-1)  # (B, H, L)
    if return_lse:
        return out, lse
    max_scores = None
    if return_aux.max_scores:
        max_scores = scores.amax(-1)
    return out, AuxOutput(lse=lse if return_aux.lse else None, max_scores=max_scores)
