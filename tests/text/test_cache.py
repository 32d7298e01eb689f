"""DynamicCache: appends, grows geometrically without copying the past every step, and
keeps autograd working when gradients are needed."""

import ember
import numpy as np
import pytest
from ember.text.models import DynamicCache
from ember.text.models import cache as cache_module


def _kv(t, seed, b=2, nh=3, hs=4):
    rng = np.random.default_rng(seed)
    return (ember.from_numpy(rng.standard_normal((b, nh, t, hs), dtype=np.float32)),
            ember.from_numpy(rng.standard_normal((b, nh, t, hs), dtype=np.float32)))


def test_update_returns_everything_seen():
    cache = DynamicCache()
    ks, vs = [], []
    for step, t in enumerate([5, 1, 1, 3]):
        k, v = _kv(t, step)
        ks.append(k.numpy())
        vs.append(v.numpy())
        with ember.no_grad():
            k_all, v_all = cache.update(k, v, 0)
        np.testing.assert_array_equal(k_all.numpy(), np.concatenate(ks, axis=2))
        np.testing.assert_array_equal(v_all.numpy(), np.concatenate(vs, axis=2))
    assert cache.get_seq_length() == 10 and cache.get_seq_length(5) == 0 and len(cache) == 1


def test_buffers_grow_geometrically():
    cache = DynamicCache()
    capacities = []
    with ember.no_grad():
        for step in range(100):
            cache.update(*_kv(1, step), 0)
            capacities.append(cache.layers[0].keys.shape[2])
    grows = sorted(set(capacities))
    assert grows == [16, 32, 64, 128]  # log2 reallocations, not one per token
    assert capacities.count(16) == 16


def test_grad_path_keeps_graph():
    cache = DynamicCache()
    k1, v1 = _kv(2, 0)
    k1.requires_grad_(True)
    k_all, _ = cache.update(k1, v1, 0)
    k2, v2 = _kv(1, 1)
    k_all, _ = cache.update(k2, v2, 0)
    k_all.sum().backward()
    np.testing.assert_array_equal(k1.grad.numpy(), np.ones((2, 3, 2, 4)))


def test_crop_select_and_legacy_round_trip():
    cache = DynamicCache()
    with ember.no_grad():
        for layer in range(2):
            cache.update(*_kv(6, layer), layer)
    cache.crop(4)
    assert cache.get_seq_length() == 4 and cache[1][0].shape == (2, 3, 4, 4)
    cache.batch_select_indices(ember.tensor([1]))
    assert cache[0][0].shape == (1, 3, 4, 4)
    legacy = cache.to_legacy_cache()
    again = DynamicCache.from_legacy_cache(legacy)
    np.testing.assert_array_equal(again[1][1].numpy(), cache[1][1].numpy())
    with pytest.raises(KeyError):
        cache[7]


def test_min_capacity_is_a_module_constant():
    assert cache_module.MIN_CAPACITY == 16
