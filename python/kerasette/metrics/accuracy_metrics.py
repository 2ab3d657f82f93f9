"""Accuracy metrics: per-sample hit rates whose mean over the epoch is reported.

The NumPy functions return per-sample values and are the reference the engine is tested against.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kerasette.metrics.metric import Metric


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> np.ndarray:
    """Per-sample fraction of `(y_pred > threshold) == y_true` over the last axis.

    Args:
        y_true: 0/1 targets.
        y_pred: Probabilities.
        threshold: Predictions above it count as 1.

    Example:
        >>> binary_accuracy([[1.0], [0.0]], [[0.7], [0.6]])
        array([1., 0.], dtype=float32)
    """
    y_true = np.asarray(y_true, dtype=np.float32)
    y_pred = np.asarray(y_pred, dtype=np.float32)
    if y_true.ndim == y_pred.ndim - 1:
        y_true = y_true[..., None]
    hits = (y_pred > threshold).astype(np.float32) == y_true
    return np.mean(hits, axis=-1, dtype=np.float32)


def categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """Per-sample 1.0 where `argmax(y_pred) == argmax(y_true)`.

    Args:
        y_true: One-hot targets.
        y_pred: Scores.

    Example:
        >>> categorical_accuracy([[0, 1], [1, 0]], [[0.2, 0.8], [0.3, 0.7]])
        array([1., 0.], dtype=float32)
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """Per-sample 1.0 where `argmax(y_pred)` equals the integer label.

    Args:
        y_true: Class indices, shape `(N,)` or `(N, 1)`.
        y_pred: Scores, shape `(N, C)`.

    Example:
        >>> sparse_categorical_accuracy([1, 0], [[0.2, 0.8], [0.3, 0.7]])
        array([1., 0.], dtype=float32)
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return (np.argmax(y_pred, axis=-1) == y_true.astype(np.int64)).astype(np.float32)


def _in_top_k(labels: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    # As `in_top_k`: the label's score must beat all but fewer than k scores (ties count for it).
    target = np.take_along_axis(y_pred, labels[..., None].astype(np.int64), axis=-1)
    return (np.sum(y_pred > target, axis=-1) < k).astype(np.float32)


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> np.ndarray:
    """Per-sample 1.0 where the true class is among the `k` highest scores.

    Args:
        y_true: One-hot targets.
        y_pred: Scores.
        k: How many top scores count.

    Example:
        >>> top_k_categorical_accuracy([[0, 0, 1]], [[0.5, 0.3, 0.2]], k=2)
        array([0.], dtype=float32)
    """
    y_pred = np.asarray(y_pred, dtype=np.float64)
    return _in_top_k(np.argmax(np.asarray(y_true), axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> np.ndarray:
    """Per-sample 1.0 where the integer label is among the `k` highest scores.

    Args:
        y_true: Class indices, shape `(N,)` or `(N, 1)`.
        y_pred: Scores.
        k: How many top scores count.

    Example:
        >>> sparse_top_k_categorical_accuracy([2], [[0.5, 0.3, 0.2]], k=3)
        array([1.], dtype=float32)
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return _in_top_k(y_true, y_pred, k)


class BinaryAccuracy(Metric):
    """How often `(y_pred > threshold)` matches the 0/1 targets.

    Args:
        name: The log key.
        dtype: Only `None` or `"float32"`.
        threshold: Predictions above it count as 1.

    Example:
        >>> BinaryAccuracy()([[1.0], [0.0]], [[0.7], [0.6]])
        0.5
    """

    _engine_kind = "binary_accuracy"

    def __init__(self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5):
        super().__init__(name=name, dtype=dtype)
        if threshold is not None and (threshold <= 0 or threshold >= 1):
            raise ValueError(
                "Invalid value for argument `threshold`. Expected a value in interval (0, 1). "
                f"Received: threshold={threshold}"
            )
        self.threshold = 0.5 if threshold is None else float(threshold)

    def _per_sample(self, y_true, y_pred) -> np.ndarray:
        return binary_accuracy(y_true, y_pred, self.threshold)

    def get_config(self) -> dict:
        return {**super().get_config(), "threshold": self.threshold}

    def _engine_attrs(self) -> dict:
        return {"threshold": self.threshold}


class CategoricalAccuracy(Metric):
    """How often `argmax(y_pred)` matches the one-hot target.

    Args:
        name: The log key.
        dtype: Only `None` or `"float32"`.

    Example:
        >>> CategoricalAccuracy()([[0, 1]], [[0.2, 0.8]])
        1.0
    """

    _engine_kind = "categorical_accuracy"
    _fn = staticmethod(categorical_accuracy)

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)


class SparseCategoricalAccuracy(Metric):
    """How often `argmax(y_pred)` matches the integer label.

    Args:
        name: The log key.
        dtype: Only `None` or `"float32"`.

    Example:
        >>> SparseCategoricalAccuracy()([1], [[0.2, 0.8]])
        1.0
    """

    _engine_kind = "sparse_categorical_accuracy"
    _fn = staticmethod(sparse_categorical_accuracy)

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)


def _validate_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"Expected `k` to be a positive integer. Received: k={k}")
    return int(k)


class TopKCategoricalAccuracy(Metric):
    """How often the one-hot target's class is among the `k` highest scores.

    Args:
        k: How many top scores count.
        name: The log key.
        dtype: Only `None` or `"float32"`.

    Example:
        >>> TopKCategoricalAccuracy(k=1)([[0, 1]], [[0.2, 0.8]])
        1.0
    """

    _engine_kind = "top_k_categorical_accuracy"

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self.k = _validate_k(k)

    def _per_sample(self, y_true, y_pred) -> np.ndarray:
        return top_k_categorical_accuracy(y_true, y_pred, self.k)

    def get_config(self) -> dict:
        return {**super().get_config(), "k": self.k}

    def _engine_attrs(self) -> dict:
        return {"k": self.k}


class SparseTopKCategoricalAccuracy(Metric):
    """How often the integer label is among the `k` highest scores.

    Args:
        k: How many top scores count.
        name: The log key.
        dtype: Only `None` or `"float32"`.

    Example:
        >>> SparseTopKCategoricalAccuracy(k=1)([1], [[0.2, 0.8]])
        1.0
    """

    _engine_kind = "sparse_top_k_categorical_accuracy"

    def __init__(
        self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy", dtype: Any = None
    ):
        super().__init__(name=name, dtype=dtype)
        self.k = _validate_k(k)

    def _per_sample(self, y_true, y_pred) -> np.ndarray:
        return sparse_top_k_categorical_accuracy(y_true, y_pred, self.k)

    def get_config(self) -> dict:
        return {**super().get_config(), "k": self.k}

    def _engine_attrs(self) -> dict:
        return {"k": self.k}
