"""ember.vision.datasets: each parser reads files the test writes in the official format
(idx, CIFAR pickle batches, SVHN .mat, STL-10 binaries, image folders, COCO json, VOC xml,
ImageNet archives); downloads go through a 127.0.0.1 HTTP server."""

import gzip
import hashlib
import io
import json
import os
import pickle
import tarfile

import ember
import numpy as np
import pytest
from ember.vision import datasets, transforms

PIL = pytest.importorskip("PIL.Image")


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def idx_bytes(arr: np.ndarray) -> bytes:
    """An idx (SN3 Pascal Vincent) file: magic (type code, ndim), big-endian sizes, data."""
    codes = {np.dtype(np.uint8): 8, np.dtype(np.int32): 12}
    header = bytes([0, 0, codes[arr.dtype], arr.ndim])
    header += b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def tar_bytes(members: dict, mode: str = "w:gz") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def png_bytes(arr: np.ndarray, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    PIL.fromarray(arr).save(buf, format=fmt)
    return buf.getvalue()


# -- MNIST family ---------------------------------------------------------------------------

def _mnist_files(rng, n_train=6, n_test=4):
    files = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        files[f"{split}-images-idx3-ubyte.gz"] = (gzip.compress(idx_bytes(images)), images)
        files[f"{split}-labels-idx1-ubyte.gz"] = (gzip.compress(idx_bytes(labels)), labels)
    return files


@pytest.mark.parametrize("cls", [datasets.MNIST, datasets.FashionMNIST, datasets.KMNIST])
def test_mnist_family_downloads_and_parses_idx(server, tmp_path, monkeypatch, cls):
    files = _mnist_files(np.random.default_rng(0))
    for name, (data, _) in files.items():
        server.add(f"/m/{name}", data)
    monkeypatch.setattr(cls, "mirrors", ["http://127.0.0.1:1/dead/", server.url("/m/")])
    monkeypatch.setattr(cls, "files", [(n, md5(d)) for n, (d, _) in files.items()])
    ds = cls(tmp_path / "data", train=True, download=True, transform=transforms.PILToTensor())
    assert len(ds) == 6
    img, target = ds[2]
    np.testing.assert_array_equal(img.numpy()[0], files["train-images-idx3-ubyte.gz"][1][2])
    assert target == int(files["train-labels-idx1-ubyte.gz"][1][2])
    assert isinstance(target, int)
    assert os.path.isdir(tmp_path / "data" / cls.__name__ / "raw")
    test = cls(tmp_path / "data", train=False)  # already there: no download needed
    assert len(test) == 4 and test.targets.dtype == ember.int64
    assert "Split: Test" in repr(test)


def test_mnist_missing_files_message(tmp_path):
    with pytest.raises(RuntimeError, match="download=True"):
        datasets.MNIST(tmp_path)


def test_mnist_rejects_bad_checksum(server, tmp_path, monkeypatch):
    files = _mnist_files(np.random.default_rng(1))
    for name, (data, _) in files.items():
        server.add(f"/m/{name}", data)
    monkeypatch.setattr(datasets.MNIST, "mirrors", [server.url("/m/")])
    monkeypatch.setattr(datasets.MNIST, "files", [(n, "0" * 32) for n in files])
    with pytest.raises(RuntimeError, match="every mirror failed"):
        datasets.MNIST(tmp_path, download=True)


def test_emnist_and_qmnist_parse_their_files(tmp_path):
    rng = np.random.default_rng(2)
    raw = tmp_path / "EMNIST" / "raw"
    raw.mkdir(parents=True)
    imgs = rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)
    (raw / "emnist-letters-train-images-idx3-ubyte").write_bytes(idx_bytes(imgs))
    (raw / "emnist-letters-train-labels-idx1-ubyte").write_bytes(
        idx_bytes(np.array([1, 2, 26], np.uint8)))
    ds = datasets.EMNIST(tmp_path, split="letters")
    assert len(ds) == 3 and ds.classes[26] == "z" and ds[2][1] == 26
    with pytest.raises(ValueError, match="split"):
        datasets.EMNIST(tmp_path, split="nope")
    qraw = tmp_path / "QMNIST" / "raw"
    qraw.mkdir(parents=True)
    (qraw / "qmnist-train-images-idx3-ubyte").write_bytes(idx_bytes(imgs))
    labels = rng.integers(0, 10, (3, 8)).astype(np.int32)
    (qraw / "qmnist-train-labels-idx2-int").write_bytes(idx_bytes(labels))
    q = datasets.QMNIST(tmp_path, what="train")
    assert q[1][1] == labels[1, 0]
    q2 = datasets.QMNIST(tmp_path, what="train", compat=False)
    assert q2[1][1].tolist() == labels[1].tolist()


# -- CIFAR ----------------------------------------------------------------------------------

def _cifar_archive(rng, folder, train_names, test_names, meta_name, meta_key, label_key):
    members, data = {}, {}
    for name in train_names + test_names:
        arr = rng.integers(0, 256, (5, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, 5).tolist()
        members[f"{folder}/{name}"] = pickle.dumps({"data": arr, label_key: labels,
                                                    "batch_label": name})
        data[name] = (arr, labels)
    members[f"{folder}/{meta_name}"] = pickle.dumps({meta_key: [f"c{i}" for i in range(10)]})
    return members, data


@pytest.mark.parametrize("cls", [datasets.CIFAR10, datasets.CIFAR100])
def test_cifar_downloads_extracts_and_parses_pickles(server, tmp_path, monkeypatch, cls):
    rng = np.random.default_rng(3)
    train = [n for n, _ in cls.train_list]
    test = [n for n, _ in cls.test_list]
    label_key = "labels" if cls is datasets.CIFAR10 else "fine_labels"
    members, data = _cifar_archive(rng, cls.base_folder, train, test, cls.meta["filename"],
                                   cls.meta["key"], label_key)
    archive = tar_bytes(members)
    monkeypatch.setattr(cls, "url", server.add("/cifar.tar.gz", archive))
    monkeypatch.setattr(cls, "tgz_md5", md5(archive))
    monkeypatch.setattr(cls, "train_list", [[n, md5(members[f"{cls.base_folder}/{n}"])]
                                            for n in train])
    monkeypatch.setattr(cls, "test_list", [[n, md5(members[f"{cls.base_folder}/{n}"])]
                                           for n in test])
    meta = dict(cls.meta, md5=md5(members[f"{cls.base_folder}/{cls.meta['filename']}"]))
    monkeypatch.setattr(cls, "meta", meta)
    ds = cls(tmp_path, train=True, download=True)
    assert len(ds) == 5 * len(train)
    idx = 6 if len(train) > 1 else 3  # batch 2, item 1 (CIFAR-10); item 3 (CIFAR-100)
    img, target = ds[idx]
    arr, labels = data[train[idx // 5]]
    k = idx % 5
    np.testing.assert_array_equal(np.asarray(img), arr[k].reshape(3, 32, 32).transpose(1, 2, 0))
    assert target == labels[k]
    assert ds.classes[3] == "c3" and ds.class_to_idx["c9"] == 9
    assert len(cls(tmp_path, train=False)) == 5


def test_cifar_batch_unpickler_refuses_code(tmp_path, monkeypatch):
    from ember.vision.datasets import cifar

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps({"data": Evil()}))
    with pytest.raises(pickle.UnpicklingError, match="not allowed"):
        cifar._load_batch(str(path))


# -- SVHN and STL-10 --------------------------------------------------------------------------

def test_svhn_downloads_and_parses_mat(server, tmp_path, monkeypatch):
    import scipy.io as sio

    rng = np.random.default_rng(4)
    X = rng.integers(0, 256, (32, 32, 3, 4), dtype=np.uint8)
    y = np.array([[10], [1], [5], [10]], dtype=np.uint8)
    buf = io.BytesIO()
    sio.savemat(buf, {"X": X, "y": y})
    data = buf.getvalue()
    url = server.add("/svhn/test_32x32.mat", data)
    monkeypatch.setitem(datasets.SVHN.split_list, "test", [url, "test_32x32.mat", md5(data)])
    ds = datasets.SVHN(tmp_path, split="test", download=True)
    assert len(ds) == 4 and [ds[i][1] for i in range(4)] == [0, 1, 5, 0]
    np.testing.assert_array_equal(np.asarray(ds[1][0]), X[:, :, :, 1])


def test_stl10_parses_binaries(tmp_path, monkeypatch):
    rng = np.random.default_rng(5)
    folder = tmp_path / "stl10_binary"
    folder.mkdir()
    imgs = rng.integers(0, 256, (3, 3, 96, 96), dtype=np.uint8)
    files = {"train_X.bin": imgs.transpose(0, 1, 3, 2).tobytes(),  # column-major images
             "train_y.bin": np.array([1, 10, 4], np.uint8).tobytes(),
             "unlabeled_X.bin": imgs[:1].transpose(0, 1, 3, 2).tobytes(),
             "test_X.bin": imgs[:2].transpose(0, 1, 3, 2).tobytes(),
             "test_y.bin": np.array([2, 3], np.uint8).tobytes()}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / "class_names.txt").write_text("\n".join(f"k{i}" for i in range(10)))
    monkeypatch.setattr(datasets.STL10, "train_list",
                        [[n, md5(files[n])] for n in ("train_X.bin", "train_y.bin",
                                                      "unlabeled_X.bin")])
    monkeypatch.setattr(datasets.STL10, "test_list",
                        [[n, md5(files[n])] for n in ("test_X.bin", "test_y.bin")])
    ds = datasets.STL10(tmp_path, split="train")
    assert [ds[i][1] for i in range(3)] == [0, 9, 3]
    np.testing.assert_array_equal(np.asarray(ds[1][0]), imgs[1].transpose(1, 2, 0))
    both = datasets.STL10(tmp_path, split="train+unlabeled")
    assert len(both) == 4 and both[3][1] == -1
    assert datasets.STL10(tmp_path, split="test").classes[9] == "k9"


# -- folders and fake data --------------------------------------------------------------------

def _image_tree(root, rng, layout):
    for cls, n in layout.items():
        d = root / cls
        d.mkdir(parents=True)
        for i in range(n):
            (d / f"img{i}.png").write_bytes(png_bytes(rng.integers(0, 256, (8, 9, 3),
                                                                   dtype=np.uint8)))
    (root / "cat" / "notes.txt").write_text("not an image")


def test_image_folder_classes_samples_and_loading(tmp_path):
    rng = np.random.default_rng(6)
    _image_tree(tmp_path, rng, {"dog": 2, "cat": 3})
    ds = datasets.ImageFolder(tmp_path, transform=transforms.ToTensor(),
                              target_transform=lambda t: t * 10)
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert len(ds) == 5 and ds.targets == [0, 0, 0, 1, 1]
    img, target = ds[4]
    assert img.shape == (3, 8, 9) and target == 10
    assert ds.imgs[0][0].endswith(os.path.join("cat", "img0.png"))
    folder = datasets.DatasetFolder(tmp_path, loader=lambda p: open(p).read(),
                                    extensions=(".txt",), allow_empty=True)
    assert len(folder) == 1 and folder[0] == ("not an image", 0)
    with pytest.raises(FileNotFoundError, match="no valid file"):
        datasets.DatasetFolder(tmp_path, loader=open, extensions=(".txt",))


def test_fake_data_is_deterministic_per_index():
    ds = datasets.FakeData(size=4, image_size=(3, 6, 5), num_classes=3,
                           transform=transforms.PILToTensor())
    a, ta = ds[1]
    b, tb = ds[1]
    assert a.shape == (3, 6, 5) and a.dtype == ember.uint8 and 0 <= ta < 3
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert ta == tb
    with pytest.raises(IndexError):
        ds[4]


# -- COCO and VOC -------------------------------------------------------------------------------

def test_coco_detection_and_captions(tmp_path):
    rng = np.random.default_rng(7)
    (tmp_path / "imgs").mkdir()
    for name in ("a.png", "b.png"):
        (tmp_path / "imgs" / name).write_bytes(png_bytes(rng.integers(0, 256, (6, 7, 3),
                                                                      dtype=np.uint8)))
    ann = {
        "images": [{"id": 9, "file_name": "b.png", "height": 6, "width": 7},
                   {"id": 3, "file_name": "a.png", "height": 6, "width": 7}],
        "annotations": [
            {"id": 1, "image_id": 3, "bbox": [1, 1, 2, 3], "category_id": 5, "area": 6,
             "iscrowd": 0, "caption": "a thing"},
            {"id": 2, "image_id": 9, "bbox": [0, 0, 4, 4], "category_id": 1, "area": 16,
             "iscrowd": 0, "caption": "b one"},
            {"id": 4, "image_id": 3, "bbox": [2, 2, 1, 1], "category_id": 1, "area": 1,
             "iscrowd": 1, "caption": "a other"}],
        "categories": [{"id": 1, "name": "x"}, {"id": 5, "name": "y"}],
    }
    ann_file = tmp_path / "ann.json"
    ann_file.write_text(json.dumps(ann))
    ds = datasets.CocoDetection(tmp_path / "imgs", str(ann_file))
    assert len(ds) == 2 and ds.ids == [3, 9]
    img, target = ds[0]
    assert img.size == (7, 6)
    assert [t["id"] for t in target] == [1, 4] and target[0]["bbox"] == [1, 1, 2, 3]
    caps = datasets.CocoCaptions(tmp_path / "imgs", str(ann_file))
    assert caps[1][1] == ["b one"]
    both = datasets.CocoDetection(tmp_path / "imgs", str(ann_file),
                                  transforms=lambda i, t: (i.size, len(t)))
    assert both[0] == ((7, 6), 2)


VOC_XML = """<annotation>
  <folder>VOC2012</folder><filename>{name}.jpg</filename>
  <size><width>9</width><height>8</height><depth>3</depth></size>
  <object><name>dog</name><difficult>0</difficult>
    <bndbox><xmin>1</xmin><ymin>2</ymin><xmax>5</xmax><ymax>7</ymax></bndbox></object>
  {extra}
</annotation>"""


def test_voc_detection_downloads_and_parses_xml(server, tmp_path, monkeypatch):
    rng = np.random.default_rng(8)
    base = "VOCdevkit/VOC2012/"
    members = {base + "ImageSets/Main/train.txt": b"2008_000001\n2008_000002\n"}
    for name, extra in (("2008_000001", ""), ("2008_000002",
                                              "<object><name>cat</name><bndbox><xmin>0</xmin>"
                                              "<ymin>0</ymin><xmax>3</xmax><ymax>3</ymax>"
                                              "</bndbox></object>")):
        members[base + f"JPEGImages/{name}.jpg"] = png_bytes(
            rng.integers(0, 256, (8, 9, 3), dtype=np.uint8), "JPEG")
        members[base + f"Annotations/{name}.xml"] = VOC_XML.format(name=name,
                                                                   extra=extra).encode()
    archive = tar_bytes(members, "w")
    url = server.add("/voc/VOCtrainval_11-May-2012.tar", archive)
    monkeypatch.setitem(datasets.voc.DATASET_YEAR_DICT, "2012",
                        dict(datasets.voc.DATASET_YEAR_DICT["2012"], url=url, md5=md5(archive)))
    ds = datasets.VOCDetection(tmp_path, year="2012", image_set="train", download=True)
    assert len(ds) == 2
    img, target = ds[0]
    assert img.size == (9, 8)
    ann = target["annotation"]
    assert ann["filename"] == "2008_000001.jpg" and ann["size"]["width"] == "9"
    assert isinstance(ann["object"], list) and ann["object"][0]["bndbox"]["xmax"] == "5"
    objs = ds[1][1]["annotation"]["object"]
    assert [o["name"] for o in objs] == ["dog", "cat"]
    with pytest.raises(ValueError, match="image_set"):
        datasets.VOCDetection(tmp_path, image_set="test")


# -- ImageNet from the user's archives ------------------------------------------------------------

def test_imagenet_parses_devkit_train_and_val_archives(tmp_path, monkeypatch):
    import scipy.io as sio

    rng = np.random.default_rng(9)
    wnids = ["n01440764", "n01443537"]
    synsets = np.array([(1, wnids[0], "tench, Tinca tinca", "", 0),
                        (2, wnids[1], "goldfish, Carassius auratus", "", 0),
                        (3, "n0000", "fish", "", 2)],
                       dtype=[("ILSVRC2012_ID", "O"), ("WNID", "O"), ("words", "O"),
                              ("gloss", "O"), ("num_children", "O")])
    buf = io.BytesIO()
    sio.savemat(buf, {"synsets": synsets})
    devkit = tar_bytes({"ILSVRC2012_devkit_t12/data/meta.mat": buf.getvalue(),
                        "ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt":
                        b"2\n1\n2\n"})
    jpg = lambda: png_bytes(rng.integers(0, 256, (5, 6, 3), dtype=np.uint8), "JPEG")  # noqa
    inner = {w: tar_bytes({f"{w}_{i}.JPEG": jpg() for i in range(2)}, "w") for w in wnids}
    train = tar_bytes({f"{w}.tar": data for w, data in inner.items()}, "w")
    val = tar_bytes({f"ILSVRC2012_val_0000000{i}.JPEG": jpg() for i in range(1, 4)}, "w")
    from ember.vision.datasets import imagenet

    meta = {}
    for key, data in (("devkit", devkit), ("train", train), ("val", val)):
        name = imagenet.ARCHIVE_META[key][0]
        (tmp_path / name).write_bytes(data)
        meta[key] = (name, md5(data))
    monkeypatch.setattr(imagenet, "ARCHIVE_META", meta)
    ds = datasets.ImageNet(tmp_path, split="val")
    assert ds.wnids == wnids
    assert ds.classes == [("tench", "Tinca tinca"), ("goldfish", "Carassius auratus")]
    assert ds.class_to_idx["goldfish"] == 1
    assert ds.targets == [0, 1, 1]  # image 2 -> class 1, images 1, 3 -> class 2
    assert ds[0][0].size == (6, 5)
    tr = datasets.ImageNet(tmp_path, split="train")
    assert len(tr) == 4 and tr.targets == [0, 0, 1, 1]
    (tmp_path / "ILSVRC2012_img_train.tar").write_bytes(b"corrupt")
    import shutil

    shutil.rmtree(tmp_path / "train")
    with pytest.raises(RuntimeError, match="corrupted"):
        datasets.ImageNet(tmp_path, split="train")
