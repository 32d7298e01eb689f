"""BERT's masked-LM head with and without ``tie_word_embeddings`` against transformers 5.

Tied, ``cls.predictions.decoder`` shares its weight with the word embeddings and its bias
with ``cls.predictions.bias``; untied, it keeps both of its own. Checked both ways
(transformers' folders into ember, ember's into transformers) for BertForMaskedLM and
BertForPreTraining: which parameters are shared, the keys written, the loading reports
(missing / unexpected keys), and the values, including checkpoints that hold only some of
the tied keys, both of them (transformers 4 wrote both, equal) or both with different
values (transformers then unties the pair).
"""

import os
import warnings

import ember
import numpy as np
import pytest
from ember.serialization import load_safetensors
from ember.text import models as M
from text_helpers import random_batch, to_ember, to_torch

torch = pytest.importorskip("torch")

VOCAB = 50
CONFIG = dict(vocab_size=VOCAB, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
              intermediate_size=32, max_position_embeddings=32)
HEADS = ["BertForMaskedLM", "BertForPreTraining"]
EMB = "bert.embeddings.word_embeddings.weight"
DEC_W, DEC_B, BIAS = ("cls.predictions.decoder.weight", "cls.predictions.decoder.bias",
                      "cls.predictions.bias")


def _head(model):
    return model.cls.predictions


def _sharing(model):
    """Which of the head's parameters are the same object (torch or ember)."""
    head = _head(model)
    return (head.decoder.bias is head.bias,
            head.decoder.weight is model.bert.embeddings.word_embeddings.weight)


def _numpy_state(model):
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def _saved_keys(folder):
    return set(load_safetensors(os.path.join(folder, "model.safetensors")))


def _logits(model, ids, is_torch):
    if is_torch:
        with torch.no_grad():
            out = model(input_ids=to_torch(ids))
    else:
        out = model(input_ids=to_ember(ids))
    logits = out.logits if hasattr(out, "logits") else out.prediction_logits
    return logits.detach().numpy()


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _distinct_head(state, rng):
    """``state`` with the head's four tied-able tensors set to distinct random values, so
    that a wrong tie shows."""
    state = dict(state)
    for key in (EMB, DEC_W, DEC_B, BIAS):
        state[key] = torch.from_numpy(
            rng.standard_normal(tuple(state[key].shape)).astype(np.float32))
    return state


@pytest.mark.parametrize("name", HEADS)
@pytest.mark.parametrize("tie", [True, False])
def test_fresh_models_share_like_transformers(transformers, name, tie):
    ref = getattr(transformers, name)(transformers.BertConfig(**CONFIG,
                                                              tie_word_embeddings=tie))
    ours = getattr(M, name)(M.BertConfig(**CONFIG, tie_word_embeddings=tie))
    assert _sharing(ours) == _sharing(ref) == (tie, tie)
    assert list(ours.state_dict()) == list(ref.state_dict())
    # both biases start at zero
    assert not _head(ours).bias.detach().numpy().any()
    assert not _head(ours).decoder.bias.detach().numpy().any()


@pytest.mark.parametrize("name", HEADS)
@pytest.mark.parametrize("tie", [True, False])
def test_ember_saves_what_transformers_loads(transformers, tmp_path, name, tie):
    ours = getattr(M, name)(M.BertConfig(**CONFIG, tie_word_embeddings=tie)).eval()
    with ember.no_grad():  # distinct values everywhere in the head
        gen = ember.Generator().manual_seed(1)
        _head(ours).bias.copy_(ember.randn(VOCAB, generator=gen))
        if not tie:
            _head(ours).decoder.bias.copy_(ember.randn(VOCAB, generator=gen))
    ours.save_pretrained(tmp_path / "ours")
    ref_cls = getattr(transformers, name)
    ref_cls(transformers.BertConfig(**CONFIG, tie_word_embeddings=tie)).save_pretrained(
        tmp_path / "ref")
    assert _saved_keys(tmp_path / "ours") == _saved_keys(tmp_path / "ref")
    assert (DEC_B in _saved_keys(tmp_path / "ours")) is (not tie)

    ref, info = _quiet(ref_cls.from_pretrained, tmp_path / "ours", output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    assert _sharing(ref) == (tie, tie)
    theirs, mine = _numpy_state(ref), _numpy_state(ours)
    assert theirs.keys() == mine.keys()
    for key in mine:
        np.testing.assert_array_equal(theirs[key], mine[key], err_msg=key)
    ids = random_batch(2, 2, 6, VOCAB, low=1)
    np.testing.assert_allclose(_logits(ours, ids, False), _logits(ref.eval(), ids, True),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", HEADS)
@pytest.mark.parametrize("tie", [True, False])
def test_transformers_folders_load_into_ember(transformers, tmp_path, name, tie):
    torch.manual_seed(0)
    ref = getattr(transformers, name)(transformers.BertConfig(**CONFIG,
                                                              tie_word_embeddings=tie)).eval()
    with torch.no_grad():
        _head(ref).bias.normal_()
        if not tie:
            _head(ref).decoder.bias.normal_()
    ref.save_pretrained(tmp_path / "ref")
    ours, info = _quiet(getattr(M, name).from_pretrained, tmp_path / "ref",
                        output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    assert _sharing(ours) == (tie, tie)
    theirs, mine = _numpy_state(ref), _numpy_state(ours)
    for key in theirs:
        np.testing.assert_array_equal(mine[key], theirs[key], err_msg=key)
    ids = random_batch(3, 2, 6, VOCAB, low=1)
    np.testing.assert_allclose(_logits(ours, ids, False), _logits(ref, ids, True),
                               rtol=1e-4, atol=1e-5)
    ours.save_pretrained(tmp_path / "again")
    assert _saved_keys(tmp_path / "again") == _saved_keys(tmp_path / "ref")


# checkpoint variants: the head keys each one leaves out ("equal": transformers 4's layout,
# both keys of each tied pair, with equal values)
VARIANTS = {
    "all_distinct": [],
    "equal": [],
    "no_decoder_bias": [DEC_B],
    "no_head_bias": [BIAS],
    "no_decoder_weight": [DEC_W],
    "no_embeddings": [EMB],
    "ember_before": [DEC_B, DEC_W],  # what ember wrote before (tied layout, untied config)
    "no_biases": [DEC_B, BIAS],
}


# every layout as safetensors; the .bin format for three of them (the loader is shared)
FORMATS = [(v, "safetensors") for v in VARIANTS] + \
    [(v, "bin") for v in ("equal", "all_distinct", "ember_before")]


@pytest.mark.parametrize("variant,fmt", FORMATS)
@pytest.mark.parametrize("tie", [True, False])
@pytest.mark.parametrize("name", HEADS)
def test_partial_and_full_checkpoints_like_transformers(transformers, tmp_path, name, tie,
                                                         variant, fmt):
    torch.manual_seed(0)
    ref_cls = getattr(transformers, name)
    cfg = transformers.BertConfig(**CONFIG, tie_word_embeddings=tie)
    src = ref_cls(transformers.BertConfig(**CONFIG, tie_word_embeddings=False))
    state = _distinct_head({k: v.detach().clone() for k, v in src.state_dict().items()},
                           np.random.default_rng(4))
    if variant == "equal":
        state[DEC_W], state[DEC_B] = state[EMB], state[BIAS]  # shared storage, as torch saves
    state = {k: v for k, v in state.items() if k not in VARIANTS[variant]}
    folder = tmp_path / "ckpt"
    cfg.save_pretrained(folder)
    if fmt == "bin":
        torch.save(state, folder / "pytorch_model.bin")
    else:
        from safetensors.torch import save_file

        save_file({k: v.clone().contiguous() for k, v in state.items()},
                  str(folder / "model.safetensors"), metadata={"format": "pt"})

    ref, ref_info = _quiet(ref_cls.from_pretrained, folder, output_loading_info=True)
    ours, our_info = _quiet(getattr(M, name).from_pretrained, folder,
                            output_loading_info=True)
    assert sorted(our_info["missing_keys"]) == sorted(ref_info["missing_keys"])
    assert sorted(our_info["unexpected_keys"]) == sorted(ref_info["unexpected_keys"])
    assert _sharing(ours) == _sharing(ref)
    # every value that is not freshly drawn at random is transformers'
    theirs, mine = _numpy_state(ref), _numpy_state(ours)
    drawn = {k for k in ref_info["missing_keys"] if k.endswith("weight")}
    for key in theirs:
        if key not in drawn:
            np.testing.assert_array_equal(mine[key], theirs[key], err_msg=key)
    if not drawn:
        ids = random_batch(5, 2, 6, VOCAB, low=1)
        np.testing.assert_allclose(_logits(ours, ids, False), _logits(ref, ids, True),
                                   rtol=1e-4, atol=1e-5)
    ref.save_pretrained(tmp_path / "ref")
    ours.save_pretrained(tmp_path / "ours")
    if fmt == "bin" and variant == "equal" and not tie:
        # transformers' untied parameters still alias the .bin's shared storage, so its
        # save drops the decoder's keys (and its own reload then misses them); ember's
        # parameters are distinct and it writes every key
        assert _saved_keys(tmp_path / "ours") == _saved_keys(tmp_path / "ref") | {DEC_W, DEC_B}
    else:
        assert _saved_keys(tmp_path / "ours") == _saved_keys(tmp_path / "ref")


def test_untied_decoder_trains_its_own_bias():
    """Untied, a gradient step moves the decoder's bias and leaves the head's unused bias;
    tied, the two are one parameter."""
    ids = to_ember(random_batch(6, 2, 5, VOCAB, low=1))
    for tie in (False, True):
        model = M.BertForMaskedLM(M.BertConfig(**CONFIG, tie_word_embeddings=tie))
        head = _head(model)
        n_params = len(list(model.parameters()))
        model(input_ids=ids, labels=ids).loss.backward()
        assert head.decoder.bias.grad is not None
        if tie:
            assert head.bias.grad is head.decoder.bias.grad
        else:
            assert head.bias.grad is None
            assert n_params == len(list(M.BertForMaskedLM(
                M.BertConfig(**CONFIG)).parameters())) + 2
