"""NumPy helpers for labels and feature vectors: `to_categorical` and `normalize`."""

from __future__ import annotations

from typing import Optional

import numpy as np


def to_categorical(x, num_classes: Optional[int] = None) -> np.ndarray:
    """Converts a class vector (integers) to a binary class matrix.

    E.g. for use with `categorical_crossentropy`.

    Args:
        x: Array-like of class labels, integers from 0 to `num_classes - 1`. Floats holding whole
            numbers (e.g. `2.0`) are accepted. A trailing axis of size 1 is squeezed away.
        num_classes: Total number of classes. If `None`, inferred as `max(x) + 1`.

    Returns:
        A float32 one-hot array of shape `x.shape + (num_classes,)`; the class axis is last.

    Example:

    >>> to_categorical([0, 1, 2, 3], num_classes=4)
    array([[1., 0., 0., 0.],
           [0., 1., 0., 0.],
           [0., 0., 1., 0.],
           [0., 0., 0., 1.]], dtype=float32)
    """
    labels = np.asarray(x)
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.number):
        raise ValueError(
            f"Expected `x` to contain integer class labels. Received: x with dtype={labels.dtype}"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        non_integer = labels[~np.isfinite(labels) | (labels != np.round(labels))]
        if non_integer.size:
            raise ValueError(
                "Expected `x` to contain integer class labels. "
                f"Received: a non-integer label x={non_integer.flat[0]}"
            )
    if labels.size and labels.min() < 0:
        raise ValueError(
            "Expected `x` to contain non-negative class labels. "
            f"Received: a negative label x={labels.min()}"
        )
    labels = labels.astype(np.int64)

    shape = labels.shape
    # Keras squeezes a trailing axis of 1, so (batch, 1) labels give (batch, num_classes).
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = labels.reshape(-1)

    if num_classes is None:
        if flat.size == 0:
            raise ValueError(
                "Cannot infer `num_classes` from an empty `x`. Pass `num_classes` explicitly."
            )
        num_classes = int(flat.max()) + 1
    elif isinstance(num_classes, bool) or int(num_classes) != num_classes or num_classes < 1:
        raise ValueError(
            f"Expected `num_classes` to be a positive integer. Received: num_classes={num_classes}"
        )
    num_classes = int(num_classes)
    if flat.size and flat.max() >= num_classes:
        raise ValueError(
            "Expected every label in `x` to be less than `num_classes`. "
            f"Received: a label x={flat.max()} with num_classes={num_classes}"
        )

    categorical = np.zeros((flat.size, num_classes), dtype=np.float32)
    categorical[np.arange(flat.size), flat] = 1.0
    return categorical.reshape(shape + (num_classes,))


def normalize(x, axis: Optional[int] = -1, order=2) -> np.ndarray:
    """Normalizes an array to unit norm along an axis.

    Args:
        x: Array to normalize.
        axis: Axis along which to normalize. `None` normalizes the flattened array as a whole.
        order: Normalization order (e.g. `order=2` for the L2 norm), as in `np.linalg.norm`.

    Returns:
        A normalized copy of the array. Slices whose norm is 0 are returned unchanged.

    Example:

    >>> normalize(np.array([[3.0, 4.0]]))
    array([[0.6, 0.8]])
    """
    x = np.asarray(x)
    if axis is None:
        norm = np.linalg.norm(x.reshape(-1), order)
        return x / (norm if norm != 0 else 1)
    norm = np.linalg.norm(x, order, axis, keepdims=True)
    # keepdims instead of Keras's `expand_dims(norm, axis or -1)`, which turns axis=0 into -1 and
    # adds an axis to 1-D inputs.
    return x / np.where(norm == 0, 1, norm)
