"""ember.audio.datasets against tiny fake archives with the real folder layouts, served from
a local HTTP server (no network), plus pre-made folders."""

import hashlib
import io
import os
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("soundfile")

import ember  # noqa: E402
import ember.audio as torchaudio  # noqa: E402
from ember.audio import datasets  # noqa: E402
from ember.audio.datasets import (  # noqa: E402
    cmuarctic,
    librispeech,
    ljspeech,
    speechcommands,
    vctk,
    yesno,
)
from ember.datasets import UnsafeArchiveError  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/http_server.py
from http_server import isolate_environment, running_server  # noqa: E402


@pytest.fixture
def server(monkeypatch, tmp_path):
    """A running local file server, with EMBER_HOME under tmp_path."""
    isolate_environment(monkeypatch, tmp_path)
    with running_server() as srv:
        yield srv


def audio_bytes(seed: int, frames: int = 20, sample_rate: int = 16000, fmt: str = "wav"):
    """(encoded file bytes, the float32 (1, frames) waveform it decodes to)."""
    rng = np.random.default_rng(seed)
    x = (rng.integers(-32768, 32768, (1, frames)) / 32768).astype(np.float32)
    buf = io.BytesIO()
    torchaudio.save(buf, ember.from_numpy(x), sample_rate, format=fmt, bits_per_sample=16)
    return buf.getvalue(), x


def make_archive(members: dict[str, bytes], kind: str) -> bytes:
    """A tar (``"w:gz"``, ``"w:bz2"``) or zip (``"zip"``) archive holding ``members``."""
    buf = io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(buf, "w") as z:
            for name, data in members.items():
                z.writestr(name, data)
    else:
        with tarfile.open(fileobj=buf, mode=kind) as t:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def serve(server, monkeypatch, module, filename: str, data: bytes, path: str = "/") -> str:
    """Serve ``data`` as ``path + filename`` and register its sha256 with ``module``."""
    monkeypatch.setitem(module._CHECKSUMS, filename, hashlib.sha256(data).hexdigest())
    return server.add(path + filename, data)


def write(root: Path, members: dict[str, bytes]) -> None:
    for name, data in members.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


# ----------------------------------------------------------------------------- YESNO

def yesno_members():
    names = ["0_0_1_1_0_1_0_0", "1_1_1_1_0_0_0_0", "0_1_0_0_1_0_1_1"]
    files = {n: audio_bytes(i, sample_rate=8000) for i, n in enumerate(names)}
    members = {f"waves_yesno/{n}.wav": data for n, (data, _) in files.items()}
    members["waves_yesno/README"] = b"not audio"
    return members, {n: x for n, (_, x) in files.items()}


def test_yesno_download(server, monkeypatch, tmp_path):
    members, waves = yesno_members()
    url = serve(server, monkeypatch, yesno, "waves_yesno.tar.gz",
                make_archive(members, "w:gz"))
    ds = datasets.YESNO(tmp_path / "data", url=url, download=True)
    assert len(ds) == 3
    for i, name in enumerate(sorted(waves)):
        wav, sr, labels = ds[i]
        assert sr == 8000 and labels == [int(c) for c in name.split("_")]
        np.testing.assert_array_equal(wav.numpy(), waves[name])
    again = datasets.YESNO(tmp_path / "data", url=url, download=True)  # already there
    assert len(again) == 3 and len(server.hits("/waves_yesno.tar.gz")) == 1


def test_yesno_checksum_mismatch(server, monkeypatch, tmp_path):
    members, _ = yesno_members()
    url = serve(server, monkeypatch, yesno, "waves_yesno.tar.gz",
                make_archive(members, "w:gz"))
    monkeypatch.setitem(yesno._CHECKSUMS, "waves_yesno.tar.gz", "0" * 64)
    with pytest.raises(RuntimeError):
        datasets.YESNO(tmp_path, url=url, download=True)
    assert not (tmp_path / "waves_yesno").exists()
    assert not (tmp_path / "waves_yesno.tar.gz").exists()


def test_yesno_unsafe_archive(server, monkeypatch, tmp_path):
    data = make_archive({"waves_yesno/0_0_0_0_0_0_0_0.wav": audio_bytes(0)[0],
                         "../escaped.wav": b"x"}, "w:gz")
    url = serve(server, monkeypatch, yesno, "waves_yesno.tar.gz", data)
    with pytest.raises(UnsafeArchiveError):
        datasets.YESNO(tmp_path / "root", url=url, download=True)
    assert not (tmp_path / "escaped.wav").exists()


def test_yesno_missing(tmp_path):
    with pytest.raises(RuntimeError, match="download=True"):
        datasets.YESNO(tmp_path)


# -------------------------------------------------------------------- SPEECHCOMMANDS

SC_FILES = ["yes/aaa_nohash_0.wav", "yes/bbb_nohash_1.wav", "no/aaa_nohash_0.wav",
            "no/ccc_nohash_2.wav", "up/ddd_nohash_0.wav"]


def speechcommands_members():
    members = {name: audio_bytes(i)[0] for i, name in enumerate(SC_FILES)}
    members["_background_noise_/white_noise.wav"] = audio_bytes(9)[0]
    members["validation_list.txt"] = b"yes/bbb_nohash_1.wav\n"
    members["testing_list.txt"] = b"no/ccc_nohash_2.wav\nup/ddd_nohash_0.wav\n"
    members["README.md"] = b"speech commands"
    return members


def test_speechcommands_download_and_subsets(server, monkeypatch, tmp_path):
    data = make_archive(speechcommands_members(), "w:gz")
    serve(server, monkeypatch, speechcommands, "speech_commands_v0.02.tar.gz", data,
          path="/data/")
    monkeypatch.setattr(speechcommands, "BASE_URL", server.url("/data/"))
    ds = datasets.SPEECHCOMMANDS(tmp_path, download=True)
    assert (tmp_path / "SpeechCommands" / "speech_commands_v0.02" / "yes").is_dir()
    assert len(ds) == 5
    wav, sr, label, speaker, utt = ds[0]
    assert (sr, label, speaker, utt) == (16000, "no", "aaa", 0)
    np.testing.assert_array_equal(wav.numpy(), audio_bytes(SC_FILES.index(
        "no/aaa_nohash_0.wav"))[1])
    assert ds.get_metadata(0)[0] == os.path.join("speech_commands_v0.02", "no",
                                                 "aaa_nohash_0.wav")

    def items(subset):
        d = datasets.SPEECHCOMMANDS(tmp_path, subset=subset)
        return [(d.get_metadata(i)[2], d.get_metadata(i)[3]) for i in range(len(d))]

    assert items("validation") == [("yes", "bbb")]
    assert items("testing") == [("no", "ccc"), ("up", "ddd")]
    assert items("training") == [("no", "aaa"), ("yes", "aaa")]


def test_speechcommands_errors(tmp_path):
    with pytest.raises(ValueError, match="subset"):
        datasets.SPEECHCOMMANDS(tmp_path, subset="train")
    with pytest.raises(RuntimeError, match="download=True"):
        datasets.SPEECHCOMMANDS(tmp_path)


def test_speechcommands_v001_folder(tmp_path):
    write(tmp_path / "SpeechCommands" / "speech_commands_v0.01", speechcommands_members())
    ds = datasets.SPEECHCOMMANDS(tmp_path, url="speech_commands_v0.01", subset="testing")
    assert [ds[i][2] for i in range(len(ds))] == ["no", "up"]


# ------------------------------------------------------------------------ LIBRISPEECH

def librispeech_members(subset: str):
    members, waves = {}, {}
    for i, (spk, chap, utts) in enumerate([("103", "1240", [0, 1]), ("19", "198", [5])]):
        lines = []
        for u in utts:
            fileid = f"{spk}-{chap}-{u:04d}"
            data, x = audio_bytes(100 * i + u, fmt="flac")
            members[f"LibriSpeech/{subset}/{spk}/{chap}/{fileid}.flac"] = data
            waves[fileid] = x
            lines.append(f"{fileid} TRANSCRIPT OF {fileid}")
        members[f"LibriSpeech/{subset}/{spk}/{chap}/{spk}-{chap}.trans.txt"] = (
            "\n".join(lines[::-1]) + "\n").encode()
    members["LibriSpeech/README.TXT"] = b"readme"
    return members, waves


def test_librispeech_download(server, monkeypatch, tmp_path):
    members, waves = librispeech_members("dev-clean")
    serve(server, monkeypatch, librispeech, "dev-clean.tar.gz", make_archive(members, "w:gz"),
          path="/12/")
    monkeypatch.setattr(librispeech, "BASE_URL", server.url("/12/"))
    ds = datasets.LIBRISPEECH(tmp_path, url="dev-clean", download=True)
    assert len(ds) == 3
    expected = sorted(waves)  # ["103-1240-0000", "103-1240-0001", "19-198-0005"]
    for i, fileid in enumerate(expected):
        wav, sr, text, spk, chap, utt = ds[i]
        assert (sr, text) == (16000, f"TRANSCRIPT OF {fileid}")
        assert (spk, chap, utt) == tuple(int(p) for p in fileid.split("-"))
        np.testing.assert_array_equal(wav.numpy(), waves[fileid])
    assert ds.get_metadata(2)[0] == os.path.join("dev-clean", "19", "198", "19-198-0005.flac")


def test_librispeech_folder_and_errors(tmp_path):
    members, _ = librispeech_members("test-other")
    write(tmp_path, members)
    assert len(datasets.LIBRISPEECH(tmp_path, url="test-other")) == 3
    with pytest.raises(ValueError, match="Invalid url"):
        datasets.LIBRISPEECH(tmp_path, url="train-clean-1000")
    with pytest.raises(RuntimeError, match="download=True"):
        datasets.LIBRISPEECH(tmp_path, url="dev-clean")
    (tmp_path / "LibriSpeech/test-other/19/198/19-198.trans.txt").write_text("other line\n")
    ds = datasets.LIBRISPEECH(tmp_path, url="test-other")
    with pytest.raises(FileNotFoundError, match="19-198-0005"):
        ds[2]


def test_librispeech_sample_rate_check(tmp_path):
    members, _ = librispeech_members("dev-other")
    members["LibriSpeech/dev-other/19/198/19-198-0005.flac"] = audio_bytes(
        0, sample_rate=8000, fmt="flac")[0]
    write(tmp_path, members)
    with pytest.raises(ValueError, match="sample rate"):
        datasets.LIBRISPEECH(tmp_path, url="dev-other")[2]


# -------------------------------------------------------------------------- LJSPEECH

def test_ljspeech_download(server, monkeypatch, tmp_path):
    data0, x0 = audio_bytes(0, sample_rate=22050)
    data1, x1 = audio_bytes(1, sample_rate=22050)
    members = {
        "LJSpeech-1.1/wavs/LJ001-0001.wav": data0,
        "LJSpeech-1.1/wavs/LJ001-0002.wav": data1,
        "LJSpeech-1.1/metadata.csv": (b'LJ001-0001|Printing, in 1st "sense"|Printing, in '
                                      b'first "sense"\nLJ001-0002|in being|in being\n'),
        "LJSpeech-1.1/README": b"LJ",
    }
    url = serve(server, monkeypatch, ljspeech, "LJSpeech-1.1.tar.bz2",
                make_archive(members, "w:bz2"))
    ds = datasets.LJSPEECH(tmp_path, url=url, download=True)
    assert len(ds) == 2
    wav, sr, text, norm = ds[0]
    assert (sr, text, norm) == (22050, 'Printing, in 1st "sense"', 'Printing, in first "sense"')
    np.testing.assert_array_equal(wav.numpy(), x0)
    np.testing.assert_array_equal(ds[1][0].numpy(), x1)
    with pytest.raises(RuntimeError, match="download=True"):
        datasets.LJSPEECH(tmp_path / "elsewhere")


# ---------------------------------------------------------------------------- VCTK

def test_vctk_download(server, monkeypatch, tmp_path):
    members = {}
    for spk, utts, mics in [("p225", ["001", "002"], ["mic1", "mic2"]),
                            ("p280", ["001"], ["mic1"]), ("p362", ["001", "002"], ["mic2"])]:
        for u in utts:
            members[f"txt/{spk}/{spk}_{u}.txt"] = f"Text {spk} {u}.\n".encode()
            for mic in mics:
                if spk == "p362" and u == "002":
                    continue  # missing audio: skipped
                members[f"wav48_silence_trimmed/{spk}/{spk}_{u}_{mic}.flac"] = audio_bytes(
                    int(u), sample_rate=48000, fmt="flac")[0]
    url = serve(server, monkeypatch, vctk, "VCTK-Corpus-0.92.zip", make_archive(members, "zip"))
    ds = datasets.VCTK_092(tmp_path, download=True, url=url)
    assert [tuple(s) for s in ds._sample_ids] == [("p225", "001"), ("p225", "002"),
                                                  ("p362", "001")]
    wav, sr, text, spk, utt = ds[1]
    assert (sr, text, spk, utt) == (48000, "Text p225 002.\n", "p225", "002")
    np.testing.assert_array_equal(wav.numpy(), audio_bytes(2, sample_rate=48000)[1])
    mic1 = datasets.VCTK_092(tmp_path, mic_id="mic1")  # p280 kept, p362 (no mic1) skipped
    assert [tuple(s) for s in mic1._sample_ids] == [("p225", "001"), ("p225", "002"),
                                                    ("p280", "001")]
    with pytest.raises(RuntimeError, match="mic_id"):
        datasets.VCTK_092(tmp_path, mic_id="mic3")


# ------------------------------------------------------------------------ CMUARCTIC

def test_cmuarctic_download(server, monkeypatch, tmp_path):
    data, x = audio_bytes(7)
    members = {
        "cmu_us_slt_arctic/etc/txt.done.data": (
            b'( arctic_a0001 "Author of the danger trail, Philip Steels, etc." )\n'
            b'( arctic_b0002 "Yes." )\n'),
        "cmu_us_slt_arctic/wav/arctic_a0001.wav": data,
        "cmu_us_slt_arctic/wav/arctic_b0002.wav": audio_bytes(8)[0],
    }
    serve(server, monkeypatch, cmuarctic, "cmu_us_slt_arctic.tar.bz2",
          make_archive(members, "w:bz2"), path="/packed/")
    monkeypatch.setattr(cmuarctic, "BASE_URL", server.url("/packed/"))
    ds = datasets.CMUARCTIC(tmp_path, url="slt", download=True)
    assert (tmp_path / "ARCTIC" / "cmu_us_slt_arctic.tar.bz2").is_file()
    assert len(ds) == 2
    wav, sr, text, utt = ds[0]
    assert (sr, text, utt) == (16000, "Author of the danger trail, Philip Steels, etc.",
                               "a0001")
    np.testing.assert_array_equal(wav.numpy(), x)
    assert ds[1][2:] == ("Yes.", "b0002")
    with pytest.raises(RuntimeError, match="download=True"):
        datasets.CMUARCTIC(tmp_path, url="aew")


def test_datasets_work_with_dataloader(tmp_path):
    members, _ = yesno_members()
    write(tmp_path, members)
    loader = ember.utils.data.DataLoader(datasets.YESNO(tmp_path), batch_size=1)
    batches = list(loader)
    assert len(batches) == 3 and tuple(batches[0][0].shape) == (1, 1, 20)
