"""ember.nn.attention.flex_attention against torch.nn.attention.flex_attention (CPU)."""

import warnings

import ember
import numpy as np
import pytest
from ember.nn.attention import flex_attention as EF

torch = pytest.importorskip("torch")
TF = pytest.importorskip("torch.nn.attention.flex_attention")
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(autouse=True)
def _keep_torch_distribution_validation():
    # torch's CPU flex_attention compiles through dynamo, which turns torch.distributions'
    # argument validation off for the rest of the process; later tests compare against it
    before = torch.distributions.Distribution._validate_args
    yield
    torch.distributions.Distribution.set_default_validate_args(before)

TABLES = ["kv_num_blocks", "kv_indices", "full_kv_num_blocks", "full_kv_indices",
          "q_num_blocks", "q_indices", "full_q_num_blocks", "full_q_indices"]


def _arrays(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def _mask_mod(lib, lengths):
    lens = lib.tensor(lengths)

    def mod(b, h, q, kv):  # causal with a window, padded keys, head 3 sees everything
        return ((q + 16 >= kv) & (kv <= q + 2) & (kv < lens[b])) | (h == 3)
    return mod


def _score_mod(lib):
    bias = lib.arange(4) * 0.1

    def mod(score, b, h, q, kv):
        return score + bias[h] - 0.01 * (q - kv).abs()
    return mod


@pytest.mark.parametrize("block", [128, 16, (8, 32)])
def test_create_block_mask_tables_match_torch(block):
    t = TF.create_block_mask(_mask_mod(torch, [30, 53]), 2, 4, 37, 53, device="cpu",
                             BLOCK_SIZE=block)
    e = EF.create_block_mask(_mask_mod(ember, [30, 53]), 2, 4, 37, 53, device="cpu",
                             BLOCK_SIZE=block)
    for name in TABLES:
        np.testing.assert_array_equal(getattr(e, name).numpy(), getattr(t, name).numpy(), name)
    np.testing.assert_array_equal(e.to_dense().numpy(), t.to_dense().numpy())
    assert e.shape == t.shape and e.BLOCK_SIZE == t.BLOCK_SIZE
    assert e.sparsity() == pytest.approx(t.sparsity())
    dense = TF.create_mask(_mask_mod(torch, [30, 53]), 2, 4, 37, 53, device="cpu")
    np.testing.assert_array_equal(e._element_mask().numpy(), dense.numpy())


@pytest.mark.parametrize("gqa", [False, True])
def test_flex_attention_output_and_lse_match_torch(gqa):
    hkv = 2 if gqa else 4
    q, k, v = _arrays((2, 4, 37, 16), (2, hkv, 53, 16), (2, hkv, 53, 8))
    tb = TF.create_block_mask(_mask_mod(torch, [30, 53]), 2, 4, 37, 53, device="cpu",
                              BLOCK_SIZE=16)
    eb = EF.create_block_mask(_mask_mod(ember, [30, 53]), 2, 4, 37, 53, device="cpu",
                              BLOCK_SIZE=16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        to, ta = TF.flex_attention(*map(torch.tensor, (q, k, v)), score_mod=_score_mod(torch),
                                   block_mask=tb, enable_gqa=gqa,
                                   return_aux=TF.AuxRequest(lse=True))
    eo, ea = EF.flex_attention(*map(ember.tensor, (q, k, v)), score_mod=_score_mod(ember),
                               block_mask=eb, enable_gqa=gqa,
                               return_aux=EF.AuxRequest(lse=True))
    np.testing.assert_allclose(eo.numpy(), to.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ea.lse.numpy(), ta.lse.numpy(), rtol=1e-5, atol=1e-5)
    assert ea.max_scores is None


def test_fully_masked_rows_and_gradients_match_torch():
    # torch's flex_attention has no CPU backward: gradients are checked against torch's
    # scaled_dot_product_attention with the same dense mask (which zeroes empty rows too)
    q, k, v = _arrays((1, 2, 6, 8), (1, 2, 5, 8), (1, 2, 5, 8), seed=1)

    def mod(b, h, qi, kv):
        return (kv <= qi) & (qi > 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        to, tl = TF.flex_attention(*map(torch.tensor, (q, k, v)), block_mask=TF.create_block_mask(
            mod, 1, 2, 6, 5, device="cpu"), scale=0.3, return_lse=True)
    eq, ek, ev = (ember.tensor(a, requires_grad=True) for a in (q, k, v))
    eo, el = EF.flex_attention(eq, ek, ev, block_mask=EF.create_block_mask(
        mod, 1, 2, 6, 5), scale=0.3, return_lse=True)
    np.testing.assert_allclose(eo.detach().numpy(), to.numpy(), atol=1e-6)
    assert np.isneginf(el.detach().numpy()[:, :, :2]).all()
    np.testing.assert_allclose(el.detach().numpy(), tl.numpy(), atol=1e-6)
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    dense = TF.create_mask(mod, 1, 2, 6, 5, device="cpu")
    ref = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=dense,
                                                           scale=0.3)
    np.testing.assert_allclose(eo.detach().numpy(), ref.detach().numpy(), atol=1e-6)
    (ref * torch.arange(8.0)).sum().backward()
    (eo * ember.arange(8.0)).sum().backward()
    for t, e in ((tq, eq), (tk, ek), (tv, ev)):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_no_mask_and_default_scale_match_torch():
    q, k, v = _arrays((2, 2, 5, 16), (2, 2, 7, 16), (2, 2, 7, 4), seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = TF.flex_attention(*map(torch.tensor, (q, k, v)))
    out = EF.flex_attention(*map(ember.tensor, (q, k, v)))
    assert tuple(out.shape) == (2, 2, 5, 4)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)


def test_block_mask_indexing_from_kv_blocks_and_adjust():
    e = EF.create_block_mask(_mask_mod(ember, [30, 53]), 2, 4, 37, 53, BLOCK_SIZE=16)
    assert e[1].shape == (1, 4, 37, 53) and e[:, 2].shape == (2, 1, 37, 53)
    again = EF.BlockMask(e[1].seq_lengths, *e[1].as_tuple()[2:10], BLOCK_SIZE=16,
                         mask_mod=e[1].mask_mod)
    assert bool((again._element_mask() == e._element_mask()[1:2]).all())
    rebuilt = EF.BlockMask.from_kv_blocks(e.kv_num_blocks, e.kv_indices, e.full_kv_num_blocks,
                                          e.full_kv_indices, BLOCK_SIZE=16,
                                          mask_mod=e.mask_mod, seq_lengths=(37, 53))
    assert bool((rebuilt._element_mask() == e._element_mask()).all())
    for name in TABLES[4:]:
        np.testing.assert_array_equal(getattr(rebuilt, name).numpy(), getattr(e, name).numpy())
    small = e._adjust(20, 30)
    assert small.shape == (2, 4, 20, 30)
    assert bool((small._element_mask() == e._element_mask()[:, :, :20, :30]).all())


def test_errors():
    q, k = ember.randn(1, 4, 5, 8), ember.randn(1, 2, 6, 8)
    with pytest.raises(ValueError, match="enable_gqa"):
        EF.flex_attention(q, k, k)
    with pytest.raises(ValueError, match="block_mask was created"):
        EF.flex_attention(q, k, k, enable_gqa=True,
                          block_mask=EF.create_block_mask(EF.noop_mask, 1, 1, 5, 5))
    with pytest.raises(ValueError, match="does not broadcast"):
        EF.flex_attention(q, k, k, enable_gqa=True,
                          block_mask=EF.create_block_mask(EF.noop_mask, 3, 1, 5, 6))
    with pytest.raises(ValueError, match="return_lse"):
        EF.flex_attention(q, k, k, enable_gqa=True, return_lse=True,
                          return_aux=EF.AuxRequest(lse=True))


def test_and_or_masks():
    causal = lambda b, h, q, kv: kv <= q  # noqa: E731
    even = lambda b, h, q, kv: kv % 2 == 0  # noqa: E731
    both = EF.create_mask(EF.and_masks(causal, even), 1, 1, 4, 4)
    either = EF.create_mask(EF.or_masks(causal, even), 1, 1, 4, 4)
    t_both = TF.create_mask(TF.and_masks(causal, even), 1, 1, 4, 4, device="cpu")
    t_either = TF.create_mask(TF.or_masks(causal, even), 1, 1, 4, 4, device="cpu")
    np.testing.assert_array_equal(both.numpy(), t_both.numpy())
    np.testing.assert_array_equal(either.numpy(), t_either.numpy())
    assert EF._DEFAULT_SPARSE_BLOCK_SIZE == TF._DEFAULT_SPARSE_BLOCK_SIZE
