"""Dataset loaders: IDX reading, Fashion-MNIST's cache and download path (no network needed), the
bundled digits, and MNIST from the shared folder."""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import urllib.error
import urllib.request

import numpy as np
import pytest

from conftest import shared_path
from kerasette.datasets import _download, digits, fashion_mnist, idx, mnist


def idx_bytes(array: np.ndarray) -> bytes:
    codes = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D}
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + struct.pack(
        ">" + "I" * array.ndim, *array.shape)
    return header + array.tobytes()


def write_idx(path, array, gz=False) -> None:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if gz else data)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("dtype", [np.uint8, ">i4", ">f4"])
def test_read_idx_round_trip(tmp_path, gz, dtype):
    array = (np.arange(2 * 3 * 5) - 7).reshape(2, 3, 5).astype(dtype) if dtype != np.uint8 \
        else np.arange(30, dtype=np.uint8).reshape(2, 3, 5)
    path = tmp_path / ("data.idx.gz" if gz else "data.idx")
    write_idx(path, array, gz=gz)
    out = idx.read_idx(path)
    assert out.shape == (2, 3, 5) and out.dtype.isnative
    np.testing.assert_array_equal(out, array)


def test_read_idx_truncated_file(tmp_path):
    data = idx_bytes(np.zeros((4, 28, 28), np.uint8))
    (tmp_path / "short").write_bytes(data[:-1])
    with pytest.raises(ValueError, match="truncated"):
        idx.read_idx(tmp_path / "short")
    (tmp_path / "header").write_bytes(data[:9])
    with pytest.raises(ValueError, match="truncated"):
        idx.read_idx(tmp_path / "header")


def test_read_idx_bad_magic(tmp_path):
    (tmp_path / "png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    with pytest.raises(ValueError, match="magic"):
        idx.read_idx(tmp_path / "png")
    (tmp_path / "bad.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ValueError):
        idx.read_idx(tmp_path / "bad.gz")


def write_fashion_folder(folder, n_train=6, n_test=4, gz=True):
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for i, (stem, array) in enumerate(arrays.items()):
        zipped = gz and i % 2 == 0  # a mix of gzipped and plain files
        write_idx(folder / (stem + (".gz" if zipped else "")), array, gz=zipped)
    return arrays


def test_fashion_mnist_from_local_folder(tmp_path):
    arrays = write_fashion_folder(tmp_path)
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(path=str(tmp_path))
    assert x_train.shape == (6, 28, 28) and x_test.shape == (4, 28, 28)
    assert x_train.dtype == np.uint8 and y_test.dtype == np.uint8
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte"])


def test_fashion_mnist_local_folder_errors(tmp_path):
    write_fashion_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        fashion_mnist.load_data(path=str(tmp_path))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(3, np.uint8))  # 4 images, 3 labels
    with pytest.raises(ValueError, match="matching"):
        fashion_mnist.load_data(path=str(tmp_path))
    with pytest.raises(FileNotFoundError, match="folder"):
        fashion_mnist.load_data(path=str(tmp_path / "missing"))


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return tmp_path / "keras_home"


def test_fashion_mnist_offline_error_says_how_to_supply_files(keras_home, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(RuntimeError) as info:
        fashion_mnist.load_data()
    message = str(info.value)
    assert fashion_mnist.ORIGIN in message
    assert str(keras_home / "datasets" / "fashion-mnist") in message
    assert "path=" in message and "train-images-idx3-ubyte.gz" in message
    assert not any((keras_home / "datasets" / "fashion-mnist").glob("*.part"))


class FakeResponse(io.BytesIO):
    def __init__(self, data):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}


def test_download_is_cached_and_checksum_verified(keras_home, monkeypatch, capsys):
    payload = gzip.compress(idx_bytes(np.arange(5, dtype=np.uint8)))
    calls = []

    def fake_urlopen(url, timeout=None):
        calls.append(url)
        return FakeResponse(payload)

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    digest = hashlib.sha256(payload).hexdigest()
    path = _download.get_file("labels.gz", "https://example.test/labels.gz", "demo", digest, "")
    assert path == keras_home / "datasets" / "demo" / "labels.gz"
    np.testing.assert_array_equal(idx.read_idx(path), np.arange(5))
    assert "Downloading data from https://example.test/labels.gz" in capsys.readouterr().out
    _download.get_file("labels.gz", "https://example.test/labels.gz", "demo", digest, "")
    assert len(calls) == 1  # the second call found the verified cache
    with pytest.raises(ValueError, match="corrupted"):
        _download.get_file("other.gz", "https://example.test/other.gz", "demo", "0" * 64, "")
    assert sorted(p.name for p in path.parent.iterdir()) == ["labels.gz"]


def test_fashion_mnist_hashes_are_keras_published_ones():
    assert fashion_mnist.FILE_HASHES["t10k-images-idx3-ubyte.gz"].startswith("346e55b948d9")
    assert fashion_mnist.ORIGIN == "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def test_digits_load_data():
    pytest.importorskip("sklearn")
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1437, 8, 8) and y_train.shape == (1437,)
    assert x_test.shape == (360, 8, 8) and y_test.shape == (360,)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert x_train.max() == 16 and set(np.unique(y_train)) == set(range(10))
    (x2, y2), _ = digits.load_data()
    np.testing.assert_array_equal(x2, x_train)  # same seed, same shuffle
    (x3, _), (x4, _) = digits.load_data(test_split=0.5, seed=1)
    assert len(x3) == 898 and len(x4) == 899 and not np.array_equal(x3[:10], x_train[:10])
    with pytest.raises(ValueError, match="test_split"):
        digits.load_data(test_split=1.0)


def test_mnist_from_shared_folder():
    folder = shared_path("data", "mnist")
    (x_train, y_train), (x_test, y_test) = mnist.load_data(path=str(folder))
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert x_test.dtype == np.uint8 and x_train.shape[1:] == (28, 28)
    assert set(np.unique(y_test)) == set(range(10))


def test_datasets_are_registered():
    import kerasette

    assert {"mnist", "fashion_mnist", "digits"} <= set(kerasette.datasets.__all__)
