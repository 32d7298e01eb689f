"""Text data sets read files written here in the official formats, downloaded from a local
server; LM batching and the padding collator."""

import csv
import io
import tarfile
import zipfile

import ember
import numpy as np
import pytest
from ember.text import datasets as D
from ember.text.datasets import _resources as R


def _zip(files: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


def _serve(server, monkeypatch, attr, key, data, module=R):
    """Serve ``data`` and point resource ``attr`` (or ``attr[key]``) at it, checksum off."""
    res = getattr(module, attr)
    url, filename, _ = res[key] if key else res
    local = server.add("/" + filename, data)
    new = (local, filename, None)
    if key:
        monkeypatch.setitem(res, key, new)
    else:
        monkeypatch.setattr(module, attr, new)
    return url


WIKI = " = Valkyria Chronicles III = \n \n Senjō no Valkyria 3 : <unk> Chronicles \n"


@pytest.mark.parametrize("cls,attr,sub", [(D.WikiText2, "WIKITEXT2", "wikitext-2"),
                                          (D.WikiText103, "WIKITEXT103", "wikitext-103")])
def test_wikitext(server, monkeypatch, tmp_path, cls, attr, sub):
    data = _zip({f"{sub}/wiki.{s}.tokens": WIKI + s for s in ("train", "valid", "test")})
    _serve(server, monkeypatch, attr, None, data)
    monkeypatch.setattr(cls, "resources", [getattr(R, attr)])
    ds = cls(root=tmp_path, split="valid", download=True)
    assert len(ds) == 4 and ds[0] == " = Valkyria Chronicles III = " and ds[3] == "valid"
    assert list(ds)[2].startswith(" Senjō")
    with pytest.raises(ValueError, match="split"):
        cls(root=tmp_path, split="dev")


def test_penn_treebank_downloads_one_split(server, monkeypatch, tmp_path):
    _serve(server, monkeypatch, "PENN_TREEBANK", "test",
           b" no it was n't black monday \n the <unk> rose \n")
    ds = D.PennTreebank(root=tmp_path, split="test", download=True)
    assert len(ds) == 2
    assert ds[1] == " the <unk> rose "
    with pytest.raises(RuntimeError, match="ptb.train.txt"):
        D.PennTreebank(root=tmp_path, split="train")  # missing file: says where it goes


def test_ag_news(server, monkeypatch, tmp_path):
    buf = io.StringIO()
    w = csv.writer(buf, quoting=csv.QUOTE_ALL)
    w.writerow(["3", "Wall St. Bears Claw Back", "Reuters - Short-sellers, \"quoted\", x"])
    w.writerow(["4", "Space", "NASA, again"])
    _serve(server, monkeypatch, "AG_NEWS", "train", buf.getvalue().encode())
    ds = D.AG_NEWS(root=tmp_path, split="train", download=True)
    assert len(ds) == 2
    assert ds[0] == (3, 'Wall St. Bears Claw Back Reuters - Short-sellers, "quoted", x')


def test_imdb(server, monkeypatch, tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for split in ("train", "test"):
            for label, text in (("pos", "Great film!"), ("neg", "Awful <br />film.")):
                data = f"{split} {text}".encode()
                info = tarfile.TarInfo(f"aclImdb/{split}/{label}/0_7.txt")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    _serve(server, monkeypatch, "IMDB", None, buf.getvalue())
    monkeypatch.setattr(D.IMDB, "resources", [R.IMDB])
    ds = D.IMDB(root=tmp_path, split="test", download=True)
    assert sorted(ds[i] for i in range(len(ds))) == [(1, "test Awful <br />film."),
                                                     (2, "test Great film!")]


def test_sst2(server, monkeypatch, tmp_path):
    data = _zip({"SST-2/train.tsv": "sentence\tlabel\nhide new secretions \t0\ngreat \t1\n",
                 "SST-2/dev.tsv": "sentence\tlabel\nit 's a charming trip . \t1\n",
                 "SST-2/test.tsv": "index\tsentence\n0\tuneasy mishmash .\n"})
    _serve(server, monkeypatch, "SST2", None, data)
    monkeypatch.setattr(D.SST2, "resources", [R.SST2])
    train = D.SST2(root=tmp_path, split="train", download=True)
    assert [train[i] for i in range(len(train))] == [("hide new secretions ", 0),
                                                     ("great ", 1)]
    assert D.SST2(root=tmp_path, split="test")[0] == ("uneasy mishmash .",)


def test_resources_are_declared_in_one_place():
    for res in (R.WIKITEXT2, R.WIKITEXT103, R.IMDB, R.SST2, *R.PENN_TREEBANK.values(),
                *R.AG_NEWS.values()):
        urls, name, md5 = res
        urls = [urls] if isinstance(urls, str) else urls
        assert all(u.startswith("http") and u.endswith(name) for u in urls)
        assert name and len(md5) == 32
    # WikiText's original S3 address answers 403: the author's mirror comes first
    assert R.WIKITEXT2[0][0] == "https://wikitext.smerity.com/wikitext-2-v1.zip"
    assert R.WIKITEXT103[0][0] == "https://wikitext.smerity.com/wikitext-103-v1.zip"


def test_wikitext_falls_back_to_the_next_mirror(server, monkeypatch, tmp_path):
    """A mirror answering 403 (as WikiText's old S3 bucket does) is skipped; the digest is
    checked on the file the next mirror serves."""
    import hashlib

    data = _zip({f"wikitext-2/wiki.{s}.tokens": WIKI + s for s in ("train", "valid", "test")})
    dead = server.add("/dead/wikitext-2-v1.zip", status=403)
    good = server.add("/good/wikitext-2-v1.zip", data)
    monkeypatch.setattr(D.WikiText2, "resources",
                        [([dead, good], "wikitext-2-v1.zip", hashlib.md5(data).hexdigest())])
    ds = D.WikiText2(root=tmp_path, split="test", download=True)
    assert ds[3] == "test" and len(server.hits("/dead/wikitext-2-v1.zip")) == 1


def test_batchify_and_bptt():
    stream = ember.arange(26)
    data = D.batchify(stream, 4)  # 24 tokens kept, 4 columns of 6
    assert data.shape == (6, 4)
    np.testing.assert_array_equal(data[:, 1].numpy(), np.arange(6, 12))
    x, y = D.get_batch(data, 0, bptt=2)
    np.testing.assert_array_equal(x.numpy(), data[:2].numpy())
    np.testing.assert_array_equal(y.numpy(), data[1:3].reshape(-1).numpy())
    windows = list(D.bptt_batches(data, bptt=2))
    assert [w[0].shape[0] for w in windows] == [2, 2, 1]
    with pytest.raises(ValueError):
        D.batchify(ember.arange(3), 4)


def test_padding_collator_builds_masks():
    collate = D.PaddingCollator(pad_token_id=9)
    batch = collate([([1, 2, 3], 1), ([4], 0)])
    np.testing.assert_array_equal(batch["input_ids"].numpy(), [[1, 2, 3], [4, 9, 9]])
    np.testing.assert_array_equal(batch["attention_mask"].numpy(), [[1, 1, 1], [1, 0, 0]])
    np.testing.assert_array_equal(batch["labels"].numpy(), [1, 0])
    left = D.PaddingCollator(pad_token_id=0, padding_side="left")(
        [{"input_ids": [5, 6], "labels": [5, 6]}, {"input_ids": [7], "labels": [7]}])
    np.testing.assert_array_equal(left["input_ids"].numpy(), [[5, 6], [0, 7]])
    np.testing.assert_array_equal(left["labels"].numpy(), [[5, 6], [-100, 7]])
    loader = ember.utils.data.DataLoader([[1, 2], [3], [4, 5, 6]], batch_size=3,
                                         collate_fn=D.PaddingCollator())
    (only,) = list(loader)
    assert only["input_ids"].shape == (3, 3)
