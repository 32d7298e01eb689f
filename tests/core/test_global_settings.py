"""Process-wide torch.* settings programs call at start-up, and DLPack/buffer sharing,
against torch 2.13's behaviour."""

import ember
import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _restore():
    yield
    ember.set_float32_matmul_precision("highest")
    ember.use_deterministic_algorithms(False)
    ember.set_warn_always(False)
    ember.set_anomaly_enabled(False)


def test_matmul_precision_and_determinism_round_trip_like_torch():
    for p in ("high", "medium", "highest"):
        ember.set_float32_matmul_precision(p)
        assert ember.get_float32_matmul_precision() == p
    for m in (torch, ember):  # an unknown level warns and keeps the last one
        with pytest.warns(UserWarning, match="has no effect"):
            m.set_float32_matmul_precision("low")
        assert m.get_float32_matmul_precision() == "highest"
    for mode in ("default", "warn", "error", 0, 1, 2):
        ember.set_deterministic_debug_mode(mode)
        torch.set_deterministic_debug_mode(mode)
        assert ember.get_deterministic_debug_mode() == torch.get_deterministic_debug_mode()
        assert ember.are_deterministic_algorithms_enabled() == \
            torch.are_deterministic_algorithms_enabled()
        assert ember.is_deterministic_algorithms_warn_only_enabled() == \
            torch.is_deterministic_algorithms_warn_only_enabled()
    torch.set_deterministic_debug_mode(0)
    ember.set_warn_always(True)
    assert ember.is_warn_always_enabled()
    ember.set_anomaly_enabled(True, check_nan=False)
    assert ember.is_anomaly_enabled() and not ember.is_anomaly_check_nan_enabled()


def test_device_helpers():
    assert ember.get_device(ember.zeros(1)) == torch.get_device(torch.zeros(1)) == -1
    assert ember.get_device_module("cpu") is ember.cpu
    assert not ember.is_storage(ember.zeros(1))
    with pytest.raises(RuntimeError, match="does not have a corresponding module"):
        ember.get_device_module("meta")


def test_frombuffer_shares_memory():
    buf = bytearray(np.arange(6, dtype=np.float32).tobytes())
    t = ember.frombuffer(buf, dtype=ember.float32, count=4, offset=4)
    assert t.tolist() == torch.frombuffer(bytearray(buf), dtype=torch.float32, count=4,
                                          offset=4).tolist()
    t[0] = 42.0
    assert np.frombuffer(buf, dtype=np.float32)[1] == 42.0


def test_dlpack_exchange_with_torch_shares_memory():
    from ember.utils.dlpack import from_dlpack, to_dlpack

    e = ember.arange(3.0)
    t = torch.from_dlpack(e)
    t[1] = 8.0
    assert e.tolist() == [0.0, 8.0, 2.0]
    x = torch.arange(4.0)
    y = ember.from_dlpack(x)
    x[0] = 5.0
    assert y.tolist() == [5.0, 1.0, 2.0, 3.0]
    assert from_dlpack(to_dlpack(e)).tolist() == [0.0, 8.0, 2.0]
    with pytest.raises(RuntimeError, match="require gradient"):
        torch.from_dlpack(ember.ones(2, requires_grad=True))


def test_private_samplers_torchvision_references_use():
    # references/classification/transforms.py (mixup/cutmix) calls torch._sample_dirichlet
    alpha = ember.tensor([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]])
    d = ember._sample_dirichlet(alpha)
    assert d.shape == (2, 3) and np.allclose(d.sum(-1).numpy(), 1.0)
    ember.manual_seed(0)
    g = ember._standard_gamma(ember.full((20000,), 3.0))
    assert abs(g.mean().item() - 3.0) < 0.1 and abs(g.var().item() - 3.0) < 0.2
    from ember.utils.model_zoo import tqdm  # references/detection imports it from here

    assert tqdm is ember.hub.tqdm
