"""Edge cases where ember once departed from PyTorch (found by differential testing): 3-D
input to ``dropout2d`` (read as (N, C, L)), NaN through ``threshold``/``softshrink``/
``hardshrink``, a ``PackedSequence`` built without ``unsorted_indices`` (derived from
``sorted_indices``, so an RNN's final state comes back in batch order), lazy norms with
``bias=False``, ``modules(remove_duplicate=False)``, and the error for matmul batch dims that
don't broadcast under ``no_grad``."""

import warnings

import ember
import numpy as np
import pytest
import torch


def test_dropout2d_on_3d_input_drops_per_sample_channel_as_torch():
    masks = []
    for fw in (ember, torch):
        fw.manual_seed(0)
        with pytest.warns(UserWarning, match="3D input to dropout2d"):
            y = fw.nn.Dropout2d(0.5)(fw.ones(4, 2, 3))
        masks.append((y != 0).numpy())
    np.testing.assert_array_equal(masks[0], masks[1])
    assert (masks[0] == masks[0][:, :, :1]).all()  # one decision per (sample, channel)


def test_threshold_and_shrinks_keep_nan_as_torch():
    x = [float("nan"), 2.0, -0.3, 0.7, -2.0, 0.5, float("inf")]
    outs = []
    for fw in (ember, torch):
        F, t = fw.nn.functional, fw.tensor(x)
        outs.append([F.threshold(t, 1.0, 0.0).numpy(), F.softshrink(t, 0.5).numpy(),
                     F.hardshrink(t, 0.5).numpy(), fw.nn.Threshold(0.5, -1.0)(t).numpy()])
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)


def test_packed_sequence_derives_unsorted_indices_and_rnn_order():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((3, 1)).astype(np.float32)
    states = []
    for fw in (ember, torch):
        R = fw.nn.utils.rnn
        p = R.PackedSequence(fw.tensor(data), fw.tensor([2, 1]), fw.tensor([1, 0]))
        assert p.unsorted_indices.tolist() == [1, 0]
        assert R.PackedSequence((fw.tensor(data), fw.tensor([3]))).batch_sizes.tolist() == [3]
        fw.manual_seed(0)
        gru = fw.nn.GRU(1, 2)
        states.append(gru(p)[1].detach().numpy())
    np.testing.assert_allclose(states[0], states[1], rtol=1e-6)


@pytest.mark.parametrize("name", ["LazyBatchNorm1d", "LazyInstanceNorm1d"])
def test_lazy_norms_take_bias_false(name):
    keys = []
    for fw in (ember, torch):
        m = getattr(fw.nn, name)(affine=True, bias=False)
        m(fw.ones(3, 4, 5))
        assert m.bias is None and tuple(m.weight.shape) == (4,)
        keys.append(sorted(m.state_dict()))
    assert keys[0] == keys[1]
    assert ember.nn.SyncBatchNorm(3, bias=False).bias is None


def test_modules_can_keep_duplicates():
    for fw in (ember, torch):
        lin = fw.nn.Linear(2, 2)
        seq = fw.nn.Sequential(lin, lin)
        assert len(list(seq.modules())) == 2
        assert len(list(seq.modules(remove_duplicate=False))) == 3


def test_matmul_batch_mismatch_under_no_grad_raises_runtime_error():
    for fw in (ember, torch):
        with fw.no_grad(), pytest.raises(RuntimeError, match="must match the size"):
            fw.ones(1, 4, 2, 4) @ fw.ones(1, 2, 4, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with ember.no_grad():
            assert (ember.ones(3, 2, 4) @ ember.ones(4, 5)).shape == (3, 2, 5)


@pytest.mark.parametrize("call", [
    lambda fw, x, w: fw.nn.functional.conv2d(x, w, padding=(1,)),
    lambda fw, x, w: fw.nn.functional.conv2d(x, w, stride=(2,), dilation=[1]),
    lambda fw, x, w: fw.nn.functional.conv_transpose2d(x, w, stride=(2,)),
    lambda fw, x, w: fw.nn.functional.max_pool2d(x, (2,)),
    lambda fw, x, w: fw.nn.functional.avg_pool2d(x, [2], stride=(1,)),
    lambda fw, x, w: fw.nn.Conv2d(1, 1, 3, padding=(1,))(x),
])
def test_one_element_spatial_arguments_expand_as_in_torch(call):
    x = np.arange(16.0, dtype=np.float32).reshape(1, 1, 4, 4)
    w = np.ones((1, 1, 3, 3), np.float32)
    shapes = [tuple(call(fw, fw.tensor(x), fw.tensor(w)).shape) for fw in (ember, torch)]
    assert shapes[0] == shapes[1]
    assert str(ember.nn.Conv2d(1, 1, 3, padding=(1,))) == str(torch.nn.Conv2d(1, 1, 3,
                                                                               padding=(1,)))


@pytest.mark.parametrize("fill", [
    lambda fw, t: fw.nn.init.uniform_(t, -1.0, 2.0),
    lambda fw, t: fw.nn.init.normal_(t, 0.5, 2.0),
    lambda fw, t: fw.nn.init.kaiming_uniform_(t),
    lambda fw, t: fw.nn.init.xavier_normal_(t),
])
@pytest.mark.parametrize("layout", ["transposed", "channels_last"])
def test_init_fills_strided_tensors_in_memory_order_as_torch(fill, layout):
    values = []
    for fw in (ember, torch):
        if layout == "transposed":
            base = fw.zeros(3, 5)
            view = base.t()
        else:
            base = view = fw.zeros(2, 3, 4, 5).to(memory_format=fw.channels_last)
        fw.manual_seed(7)
        fill(fw, view)
        values.append(base.numpy())
    np.testing.assert_allclose(values[0], values[1], rtol=1e-6, atol=1e-7)


def test_triplet_with_distance_loss_keeps_a_pairwise_distance_module():
    rng = np.random.default_rng(1)
    a, p, n = (rng.standard_normal((4, 5)).astype(np.float32) for _ in range(3))
    seen = []
    for fw in (ember, torch):
        m = fw.nn.TripletMarginWithDistanceLoss()
        seen.append((repr(m), [k for k, _ in m.named_children()],
                     float(m(fw.tensor(a), fw.tensor(p), fw.tensor(n)))))
    assert seen[0][:2] == seen[1][:2]
    assert seen[0][2] == pytest.approx(seen[1][2], rel=1e-6)


@pytest.mark.parametrize("norm", [float("inf"), -float("inf"), 2])
def test_lp_pool_infinite_norms_match_torch(norm):
    x = np.array([[[1.0, -3.0, 2.0, 0.5, -0.25, 4.0]]], np.float32)
    outs = []
    for fw in (ember, torch):
        F = fw.nn.functional
        outs.append((F.lp_pool1d(fw.tensor(x), norm, 2).numpy(),
                     F.lp_pool2d(fw.tensor(x.reshape(1, 1, 2, 3)), norm, (2, 1)).numpy(),
                     fw.nn.LPPool1d(norm, 3, stride=1)(fw.tensor(x)).numpy()))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-6)
