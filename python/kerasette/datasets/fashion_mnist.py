"""Fashion-MNIST, as `keras.datasets.fashion_mnist.load_data()` returns it.

Keras downloads four gzipped IDX files into `~/.keras/datasets/fashion-mnist` and checks each
against its published SHA-256; kerasette does the same, from the same origin, into the same folder.
`load_data(path=...)` reads a local folder holding the four files instead (gzipped or not).

Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker,
8 Bag, 9 Ankle boot. The copyright for Fashion-MNIST is held by Zalando SE (MIT license).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from kerasette.datasets import _download, idx

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
CACHE_SUBDIR = "fashion-mnist"
# Keras's FILE_HASHES (keras/src/datasets/fashion_mnist.py): SHA-256 of each archive.
FILE_HASHES = {
    "train-labels-idx1-ubyte.gz": (
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"
    ),
    "train-images-idx3-ubyte.gz": (
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"
    ),
}


def _local_files(folder: Path) -> list:
    paths = []
    for name in FILE_HASHES:
        found = idx.find(folder, name[: -len(".gz")])
        if found is None:
            raise FileNotFoundError(
                f"No {name} (or its unzipped form) in {folder}. Expected the four Fashion-MNIST "
                f"files: {', '.join(FILE_HASHES)}."
            )
        paths.append(found)
    return paths


def _downloaded_files() -> list:
    hint = (
        f"If this machine is offline, copy the four files ({', '.join(FILE_HASHES)}) from "
        f"{ORIGIN} into {_download.cache_dir(CACHE_SUBDIR)}, or pass `path=` a local folder "
        "that holds them."
    )
    return [_download.get_file(name, ORIGIN + name, CACHE_SUBDIR, digest, hint)
            for name, digest in FILE_HASHES.items()]


def _pair(images_path: Path, labels_path: Path):
    x, y = idx.read_idx(images_path), idx.read_idx(labels_path)
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(
            f"{images_path} and {labels_path} do not hold matching images (n, 28, 28) and labels "
            f"(n,). Received shapes: {x.shape} and {y.shape}"
        )
    return x, y


def load_data(path: Optional[str] = None):
    """Loads the Fashion-MNIST dataset: 60,000 train and 10,000 test 28x28 grayscale images.

    Args:
        path: Optional local folder holding `train-images-idx3-ubyte[.gz]`,
            `train-labels-idx1-ubyte[.gz]`, `t10k-images-idx3-ubyte[.gz]` and
            `t10k-labels-idx1-ubyte[.gz]`. Defaults to Keras's cached download.

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`, uint8, images of shape
        `(n, 28, 28)` and labels 0-9 of shape `(n,)`.

    Example:

    >>> (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    >>> x_train.shape
    (60000, 28, 28)
    """
    if path is not None:
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise FileNotFoundError(
                f"Expected `path` to be a folder holding the Fashion-MNIST files. Received: "
                f"path={path!r}"
            )
        paths = _local_files(folder)
    else:
        paths = _downloaded_files()
    y_train_path, x_train_path, y_test_path, x_test_path = paths
    return _pair(x_train_path, y_train_path), _pair(x_test_path, y_test_path)
