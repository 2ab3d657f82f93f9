"""MNIST handwritten digits, as `keras.datasets.mnist.load_data()` returns them.

`load_data(path)` accepts Keras's cache file name (downloaded into `~/.keras/datasets` on first
use, checked against its SHA-256), a local `.npz` file, or a folder of IDX files
(`train-images-idx3-ubyte[.gz]`, `t10k-images-idx3-ubyte[.gz]`, and the label files).
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from pathlib import Path

import numpy as np

from kerasette.datasets import idx

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def _cache_dir() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"


def _download(target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    try:
        with urllib.request.urlopen(ORIGIN, timeout=30) as response, open(tmp, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while True:
                chunk = response.read(1 << 16)
                if not chunk:
                    break
                out.write(chunk)
                done += len(chunk)
                if total:
                    print(f"\rDownloading mnist.npz: {100 * done // total}%", end="", flush=True)
        if total:
            print()
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(
            f"Could not download MNIST from {ORIGIN} ({e}). If this machine is offline, copy "
            f"mnist.npz to {target}, or pass `path=` a local mnist.npz or a folder of IDX files."
        ) from None
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    if digest != SHA256:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"The downloaded mnist.npz has SHA-256 {digest}, expected {SHA256}.")
    tmp.replace(target)


def load_idx_split(folder, split: str = "t10k"):
    """One split ("train" or "t10k") of a folder of IDX files: (images uint8, labels uint8)."""
    folder = Path(folder)
    images = idx.find(folder, f"{split}-images-idx3-ubyte")
    labels = idx.find(folder, f"{split}-labels-idx1-ubyte")
    if images is None or labels is None:
        raise FileNotFoundError(f"No {split}-images/{split}-labels IDX files in {folder}.")
    x, y = idx.read_idx(images), idx.read_idx(labels)
    if len(x) != len(y):
        raise ValueError(f"{images} has {len(x)} images but {labels} has {len(y)} labels.")
    return x, y


def load_data(path: str = "mnist.npz"):
    """Returns `(x_train, y_train), (x_test, y_test)` as uint8 arrays.

    A folder that holds only the test split (as `../shared/data/mnist` does) gives empty training
    arrays of the right shape.
    """
    p = Path(path).expanduser()
    if p.is_dir():
        x_test, y_test = load_idx_split(p, "t10k")
        try:
            x_train, y_train = load_idx_split(p, "train")
        except FileNotFoundError:
            x_train = np.zeros((0,) + x_test.shape[1:], dtype=x_test.dtype)
            y_train = np.zeros((0,), dtype=y_test.dtype)
        return (x_train, y_train), (x_test, y_test)
    if not p.exists():
        if p.parent != Path("."):
            raise FileNotFoundError(f"No MNIST file at {p}.")
        p = _cache_dir() / p.name
        if not p.exists():
            _download(p)
    try:
        with np.load(p, allow_pickle=False) as f:
            return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    except (OSError, ValueError, KeyError) as e:
        raise ValueError(f"{p} is not a valid mnist.npz file: {e}") from None
