"""IDX parsing (and MNIST pairing), the caption tokenizer, and the verified FSDD download."""

import gzip
import io
import tarfile

import numpy as np
import pytest

from polymodal.cli import main
from polymodal.data.av_digits import AvDigitsDataModule
from polymodal.data.captions import WordTokenizer, digit_captions
from polymodal.data.download import download_fsdd, recordings_digest
from polymodal.data.idx import read_idx, read_mnist
from polymodal.errors import PolymodalError


def idx_bytes(array: np.ndarray, type_code: int) -> bytes:
    header = bytes([0, 0, type_code, array.ndim]) + np.asarray(array.shape, dtype=">i4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_mnist(directory, n_train=40, n_test=20, gz=False):
    rng = np.random.default_rng(0)
    directory.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = np.arange(n, dtype=np.uint8) % 10
        for stem, array in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
            raw = idx_bytes(array, 0x08)
            (directory / (stem + ".gz" if gz else stem)).write_bytes(gzip.compress(raw) if gz else raw)
    return directory


def test_read_idx_types_and_errors(tmp_path):
    values = np.arange(24, dtype=np.int32).reshape(2, 3, 4) - 5
    (tmp_path / "a.idx").write_bytes(idx_bytes(values, 0x0C))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx"), values)
    floats = np.linspace(0, 1, 5).astype(np.float32)
    (tmp_path / "f.idx.gz").write_bytes(gzip.compress(idx_bytes(floats, 0x0D)))
    np.testing.assert_array_equal(read_idx(tmp_path / "f.idx.gz"), floats)
    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01")
    with pytest.raises(PolymodalError, match="bad.*magic"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(idx_bytes(values, 0x0C)[:-3])
    with pytest.raises(PolymodalError, match="short.*needs"):
        read_idx(tmp_path / "short")


def test_read_mnist_plain_and_gzip(tmp_path):
    for gz in (False, True):
        images, labels = read_mnist(write_mnist(tmp_path / str(gz), gz=gz), "test")
        assert images.shape == (20, 28, 28) and images.dtype == np.uint8
        np.testing.assert_array_equal(labels, np.arange(20) % 10)
    with pytest.raises(PolymodalError, match="t10k-images"):
        read_mnist(tmp_path, "test")


def test_av_digits_with_mnist_images(fsdd_root, tmp_path):
    mnist = write_mnist(tmp_path / "mnist")
    data = AvDigitsDataModule(root=str(fsdd_root), mnist=str(mnist), max_per_class=1, n_fft=64, hop=32, seconds=0.25)
    assert data.info.shapes["image"] == (1, 28, 28)
    test_images = read_mnist(mnist, "test")[0].astype(np.float32) / 255
    batch = next(iter(data.test_dataloader()))
    contents = {image.tobytes() for image in test_images[:, None]}
    assert all(image.tobytes() in contents for image in batch["inputs"]["image"].numpy())


def test_word_tokenizer_and_captions():
    tokenizer = WordTokenizer(["an", "image", "of", "a", "7"])
    ids = tokenizer.encode(["An image, of a 7!", "a zebra"], length=6)
    np.testing.assert_array_equal(ids, [[2, 3, 4, 5, 6, 0], [5, 1, 0, 0, 0, 0]])
    one_hot = tokenizer.one_hot(ids)
    assert one_hot.shape == (2, 6, 7) and np.array_equal(one_hot.argmax(-1), ids)
    vocabulary, captions = digit_captions(np.array([0, 9]))
    assert [vocabulary.vocabulary[i] for i in captions[1].argmax(-1)] == ["an", "image", "of", "a", "9"]


def fsdd_archive(fsdd_root, path):
    with tarfile.open(path, "w:gz") as tar:
        for wav in sorted((fsdd_root / "recordings").glob("0_*.wav")):
            tar.add(wav, arcname=f"free-spoken-digit-dataset-abc/recordings/{wav.name}")
        data = b"not to be extracted"
        info = tarfile.TarInfo("free-spoken-digit-dataset-abc/../evil.wav")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path.as_uri()


def test_download_from_a_file_url_verifies_the_digest(fsdd_root, tmp_path):
    url = fsdd_archive(fsdd_root, tmp_path / "fsdd.tar.gz")
    expected = tmp_path / "expected"
    (expected / "recordings").mkdir(parents=True)
    for wav in (fsdd_root / "recordings").glob("0_*.wav"):
        (expected / "recordings" / wav.name).write_bytes(wav.read_bytes())
    digest = recordings_digest(expected)
    root = download_fsdd(tmp_path / "got", url, digest)
    assert sorted(p.name for p in (root / "recordings").iterdir()) == sorted(
        p.name for p in (expected / "recordings").iterdir())
    assert not (tmp_path / "evil.wav").exists() and not (tmp_path / "got" / "evil.wav").exists()
    assert recordings_digest(root) == digest


def test_download_digest_mismatch_writes_nothing(fsdd_root, tmp_path, capsys):
    url = fsdd_archive(fsdd_root, tmp_path / "fsdd.tar.gz")
    target = tmp_path / "out"
    code = main(["data", "download", "fsdd", "--to", str(target), "--url", url])  # the pinned digest
    assert code == 2
    assert "does not match the pinned" in capsys.readouterr().err
    assert list(target.iterdir()) == []
    with pytest.raises(PolymodalError, match="download failed"):
        download_fsdd(tmp_path / "out2", (tmp_path / "missing.tar.gz").as_uri(), "0")
