"""``PackedSequence``'s conversion methods against PyTorch: ``cpu``, ``float``,
``double``, ``half``, ``long``, ``int``, ``short``, ``char``, ``byte``, ``to``."""

import ember
import numpy as np
import pytest
import torch
from ember.nn.utils.rnn import pack_sequence
from nn_compare import em, randn, th


def _packed(mod, conv, device=None):
    seqs = [randn(4, 2), randn(2, 2, seed=1), randn(3, 2, seed=2)]
    seqs = [conv(s, device) for s in seqs] if device is not None else [conv(s) for s in seqs]
    return mod.nn.utils.rnn.pack_sequence(seqs, enforce_sorted=False)


@pytest.mark.parametrize("method", ["cpu", "float", "double", "half", "long", "int", "short",
                                    "char", "byte"])
def test_packed_sequence_conversions(device, method):
    ep = _packed(ember, em, device)
    tp = _packed(torch, th)
    eo, to = getattr(ep, method)(), getattr(tp, method)()
    assert type(eo) is type(ep)
    assert eo.data.dtype.name == str(to.data.dtype).split(".")[-1]
    np.testing.assert_array_equal(eo.data.cpu().numpy(), to.data.numpy())
    for a, b in ((eo.batch_sizes, to.batch_sizes), (eo.sorted_indices, to.sorted_indices),
                 (eo.unsorted_indices, to.unsorted_indices)):
        np.testing.assert_array_equal(a.cpu().numpy(), b.numpy())
    if method == "cpu":
        assert eo.data.device.type == "cpu" and eo.sorted_indices.device.type == "cpu"
    assert eo.is_pinned() is False and to.is_pinned() is False


def test_packed_sequence_cuda_moves_data_and_indices():
    if not ember.cuda.is_available():
        pytest.skip("CUDA is not available")
    ep = pack_sequence([ember.ones(3, 2), ember.ones(1, 2)], enforce_sorted=False).cuda()
    assert ep.is_cuda and ep.sorted_indices.is_cuda
    assert ep.batch_sizes.device.type == "cpu"
    assert ep.cpu().data.device.type == "cpu"
