"""The key/value cache of autoregressive decoding, defined once for every decoder model.

``DynamicCache`` keeps, per layer, the keys and values of every position seen so far, each
(B, nh, S, hs). ``update(key_states, value_states, layer_idx)`` appends the new positions
and returns the whole keys and values, so attention over the past costs one step per new
token. Under ``no_grad`` (inference) the cache writes into preallocated buffers whose
capacity grows geometrically (doubling), so a step copies only the new token's keys, never
the whole past; returned tensors are views of the filled part. When a gradient is needed the
cache concatenates instead, keeping the graph.

The interface is transformers' ``DynamicCache``: ``update``, ``get_seq_length``,
``crop``, ``batch_select_indices``, ``reorder_cache``, ``len(cache)``, ``cache[layer]`` ->
``(keys, values)``, and ``to_legacy_cache``/``from_legacy_cache`` for the old tuple form.
"""

from __future__ import annotations

import ember
from ember import Tensor

__all__ = ["Cache", "DynamicCache"]

MIN_CAPACITY = 16


class _Layer:
    """One layer's keys and values: a buffer and a fill level, or plain tensors."""

    __slots__ = ("keys", "values", "length")

    def __init__(self) -> None:
        self.keys: Tensor | None = None
        self.values: Tensor | None = None
        self.length = 0

    def filled(self) -> tuple[Tensor, Tensor]:
        if self.keys.shape[2] == self.length:
            return self.keys, self.values
        return self.keys[:, :, :self.length], self.values[:, :, :self.length]

    def append(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        t = k.shape[2]
        n = self.length + t
        needs_graph = k.requires_grad or v.requires_grad or (
            self.keys is not None and (self.keys.requires_grad or self.values.requires_grad))
        if needs_graph and ember.is_grad_enabled():
            if self.keys is None:
                self.keys, self.values = k, v
            else:
                old_k, old_v = self.filled()
                self.keys = ember.cat([old_k, k], dim=2)
                self.values = ember.cat([old_v, v], dim=2)
            self.length = n
            return self.keys, self.values
        with ember.no_grad():
            if self.keys is None or n > self.keys.shape[2] or needs_graph:
                self._grow(k, v, n)
            self.keys[:, :, self.length:n] = k
            self.values[:, :, self.length:n] = v
        self.length = n
        return self.filled()

    def _grow(self, k: Tensor, v: Tensor, needed: int) -> None:
        cap = MIN_CAPACITY if self.keys is None else self.keys.shape[2]
        while cap < needed:
            cap *= 2
        b, nh, _, hs = k.shape
        keys = k.new_empty((b, nh, cap, hs))
        values = v.new_empty((b, nh, cap, v.shape[3]))
        if self.keys is not None and self.length:
            old_k, old_v = self.filled()
            keys[:, :, :self.length] = old_k.detach()
            values[:, :, :self.length] = old_v.detach()
        self.keys, self.values = keys, values


class Cache:
    """Base class of key/value caches (transformers' ``Cache``)."""

    def update(self, key_states: Tensor, value_states: Tensor, layer_idx: int,
               cache_kwargs: dict | None = None) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def get_seq_length(self, layer_idx: int = 0) -> int:
        raise NotImplementedError


class DynamicCache(Cache):
    """A cache that grows with the sequence (see the module docstring).

    Example::

        cache = DynamicCache()
        k_all, v_all = cache.update(k, v, layer_idx)  # k, v: (B, nh, T_new, hs)
        cache.get_seq_length()                         # positions cached so far
    """

    def __init__(self) -> None:
        self.layers: list[_Layer] = []

    def update(self, key_states: Tensor, value_states: Tensor, layer_idx: int,
               cache_kwargs: dict | None = None) -> tuple[Tensor, Tensor]:
        """Append ``key_states``/``value_states`` (B, nh, T_new, hs) to layer ``layer_idx``
        and return all its keys and values (B, nh, S, hs)."""
        while len(self.layers) <= layer_idx:
            self.layers.append(_Layer())
        return self.layers[layer_idx].append(key_states, value_states)

    def get_seq_length(self, layer_idx: int = 0) -> int:
        """How many positions layer ``layer_idx`` holds (0 for an empty cache)."""
        if layer_idx >= len(self.layers):
            return 0
        return self.layers[layer_idx].length

    def get_max_cache_shape(self) -> int | None:
        return None  # a dynamic cache has no maximum length

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, layer_idx: int) -> tuple[Tensor, Tensor]:
        if layer_idx >= len(self.layers) or self.layers[layer_idx].keys is None:
            raise KeyError(f"Cache only has {len(self.layers)} layers, attempted to access "
                           f"layer with index {layer_idx}")
        return self.layers[layer_idx].filled()

    def __iter__(self):
        for i in range(len(self.layers)):
            yield self[i]

    def crop(self, max_length: int) -> None:
        """Keep only the first ``max_length`` positions (negative: drop that many)."""
        for layer in self.layers:
            n = max_length if max_length >= 0 else layer.length + max_length
            layer.length = max(0, min(layer.length, n))

    def batch_select_indices(self, indices: Tensor) -> None:
        """Keep only the batch rows ``indices`` (beam search, finished sequences)."""
        for layer in self.layers:
            if layer.keys is None:
                continue
            # the whole buffer, spare capacity included: the next append needs no regrowth
            k, v = layer.keys, layer.values
            layer.keys, layer.values = k.index_select(0, indices), v.index_select(0, indices)

    def reorder_cache(self, beam_idx: Tensor) -> None:
        self.batch_select_indices(beam_idx)

    def batch_repeat_interleave(self, repeats: int) -> None:
        """Repeat every batch row ``repeats`` times (sampling several sequences)."""
        for layer in self.layers:
            if layer.keys is None:
                continue
            b = layer.keys.shape[0]
            idx = ember.arange(b, device=layer.keys.device)[:, None].expand(b, repeats)
            k, v = layer.filled()
            flat = idx.reshape(-1)
            layer.keys, layer.values = k.index_select(0, flat), v.index_select(0, flat)

    def to_legacy_cache(self) -> tuple[tuple[Tensor, Tensor], ...]:
        """The old form: one ``(keys, values)`` tuple per layer."""
        return tuple(self[i] for i in range(len(self.layers)))

    @classmethod
    def from_legacy_cache(cls, past_key_values) -> DynamicCache:
        """A cache holding the given ``((keys, values), ...)`` tuples."""
        cache = cls()
        if past_key_values is not None:
            for i, (k, v) in enumerate(past_key_values):
                cache.update(k, v, i)
        return cache
