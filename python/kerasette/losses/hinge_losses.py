"""Hinge losses, for -1/+1 targets (0/1 targets are mapped to -1/+1, as Keras does)."""

from __future__ import annotations

import numpy as np

from kerasette.losses.loss import Loss, _as_arrays, _same_rank


def _hinge_labels(y_true: np.ndarray) -> np.ndarray:
    """Keras's `convert_binary_labels_to_hinge`: 0/1 labels become -1/+1 if all are 0 or 1."""
    is_binary = np.all((y_true == 0) | (y_true == 1))
    return 2.0 * y_true - 1.0 if is_binary else y_true


def hinge(y_true, y_pred) -> np.ndarray:
    """Per-sample `mean(maximum(1 - y_true * y_pred, 0))` over the last axis.

    Args:
        y_true: Targets, -1/+1 (or 0/1, then mapped to -1/+1).
        y_pred: Predictions, same shape.

    Example:
        >>> hinge([[1.0, 0.0]], [[0.5, 0.5]])
        array([1.])
    """
    y_true, y_pred = _same_rank(*_as_arrays(y_true, y_pred))
    return np.mean(np.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred) -> np.ndarray:
    """Per-sample `mean(square(maximum(1 - y_true * y_pred, 0)))` over the last axis.

    Args:
        y_true: Targets, -1/+1 (or 0/1, then mapped to -1/+1).
        y_pred: Predictions, same shape.

    Example:
        >>> squared_hinge([[1.0, 0.0]], [[0.5, 0.5]])
        array([1.25])
    """
    y_true, y_pred = _same_rank(*_as_arrays(y_true, y_pred))
    return np.mean(np.square(np.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred) -> np.ndarray:
    """Per-sample `maximum(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`.

    Args:
        y_true: One-hot targets.
        y_pred: Predictions, same shape.

    Example:
        >>> categorical_hinge([[0.0, 1.0]], [[0.3, 0.6]])
        array([0.7])
    """
    y_true, y_pred = _same_rank(*_as_arrays(y_true, y_pred))
    pos = np.sum(y_true * y_pred, axis=-1)
    neg = np.max((1.0 - y_true) * y_pred, axis=-1)
    return np.maximum(neg - pos + 1.0, 0.0)


class Hinge(Loss):
    """Hinge loss: `mean(maximum(1 - y_true * y_pred, 0))`.

    Args:
        reduction: See `Loss`.
        name: Name of the loss.

    Example:
        >>> float(Hinge()([[1.0, 0.0]], [[0.5, 0.5]]))
        1.0
    """

    _engine_kind = "hinge"

    def __init__(
        self, reduction: str | None = "sum_over_batch_size", name: str = "hinge"
    ):
        super().__init__(name=name, reduction=reduction)

    def call(self, y_true, y_pred) -> np.ndarray:
        return hinge(y_true, y_pred)


class SquaredHinge(Loss):
    """Squared hinge loss: `mean(square(maximum(1 - y_true * y_pred, 0)))`.

    Args:
        reduction: See `Loss`.
        name: Name of the loss.

    Example:
        >>> float(SquaredHinge()([[1.0, 0.0]], [[0.5, 0.5]]))
        1.25
    """

    _engine_kind = "squared_hinge"

    def __init__(
        self, reduction: str | None = "sum_over_batch_size", name: str = "squared_hinge"
    ):
        super().__init__(name=name, reduction=reduction)

    def call(self, y_true, y_pred) -> np.ndarray:
        return squared_hinge(y_true, y_pred)


class CategoricalHinge(Loss):
    """Categorical hinge loss: `maximum(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`.

    Args:
        reduction: See `Loss`.
        name: Name of the loss.

    Example:
        >>> round(float(CategoricalHinge()([[0.0, 1.0]], [[0.3, 0.6]])), 4)
        0.7
    """

    _engine_kind = "categorical_hinge"

    def __init__(
        self, reduction: str | None = "sum_over_batch_size", name: str = "categorical_hinge"
    ):
        super().__init__(name=name, reduction=reduction)

    def call(self, y_true, y_pred) -> np.ndarray:
        return categorical_hinge(y_true, y_pred)
