"""The 8x8 handwritten digits bundled with scikit-learn, in Keras's `load_data()` style.

1,797 images of the digits 0-9 at 8x8 pixels, each pixel a count from 0 to 16 (UCI's "Optical
Recognition of Handwritten Digits"). Small enough to train on in a second, so examples and tests
use it where MNIST would be too slow or absent. scikit-learn ships the data: nothing is downloaded.
"""

from __future__ import annotations

import numpy as np


def load_data(test_split: float = 0.2, seed: int = 113):
    """Loads the digits, shuffled with `seed` and split into train and test.

    Args:
        test_split: Fraction of the data to keep as the test set, in [0, 1).
        seed: Random seed for shuffling the data before the split (Keras's datasets use 113).

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`; images uint8 of shape
        `(n, 8, 8)` with values 0..16, labels uint8 0..9 of shape `(n,)`.

    Example:

    >>> (x_train, y_train), (x_test, y_test) = digits.load_data()
    >>> x_train.shape, x_test.shape
    ((1437, 8, 8), (360, 8, 8))
    """
    if isinstance(test_split, bool) or not 0 <= test_split < 1:
        raise ValueError(
            f"Expected `test_split` to be a float in [0, 1). Received: test_split={test_split}"
        )
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise ImportError(
            "`kerasette.datasets.digits` reads the digits bundled with scikit-learn. Install it "
            "with `pip install scikit-learn`."
        ) from e
    bunch = load_digits()
    x = bunch.images.astype(np.uint8)
    y = bunch.target.astype(np.uint8)
    # Keras's loaders (boston_housing, reuters, imdb) shuffle this way, then split.
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    split = int(len(x) * (1 - test_split))
    return (x[:split], y[:split]), (x[split:], y[split:])
