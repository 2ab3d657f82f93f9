"""Probabilistic losses: the cross-entropies, the Kullback-Leibler divergence and Poisson."""

from __future__ import annotations

from typing import Any

import numpy as np

from kerasette.losses.loss import _EPSILON, Loss, _as_arrays, _last_axis_only, _same_rank


def _log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def binary_crossentropy(
    y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> np.ndarray:
    """Per-sample binary cross-entropy, averaged over the last axis.

    Args:
        y_true: Targets in `[0, 1]`.
        y_pred: Probabilities, or logits when `from_logits=True`.
        from_logits: Whether `y_pred` holds logits.
        label_smoothing: Targets move towards 0.5 by this amount.
        axis: The axis averaged over.

    Example:
        >>> binary_crossentropy([[1.0]], [[0.5]])
        array([0.69314718])
    """
    y_true, y_pred = _same_rank(*_as_arrays(y_true, y_pred))
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        # The stable form TensorFlow uses: max(x, 0) - x * z + log(1 + exp(-|x|)).
        bce = np.maximum(y_pred, 0) - y_pred * y_true + np.log1p(np.exp(-np.abs(y_pred)))
    else:
        p = np.clip(y_pred, _EPSILON, 1.0 - _EPSILON)
        bce = -(y_true * np.log(p) + (1.0 - y_true) * np.log(1.0 - p))
    return np.mean(bce, axis=axis)


def categorical_crossentropy(
    y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> np.ndarray:
    """Per-sample categorical cross-entropy for one-hot targets.

    Args:
        y_true: One-hot (or soft) targets.
        y_pred: Probabilities (normalized by their sum first, as Keras does) or logits.
        from_logits: Whether `y_pred` holds logits.
        label_smoothing: Targets become `y * (1 - s) + s / num_classes`.
        axis: The class axis.

    Example:
        >>> categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]])
        array([0.69314718])
    """
    y_true, y_pred = _as_arrays(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={y_true.shape}, output.shape={y_pred.shape}"
        )
    if label_smoothing:
        num_classes = y_true.shape[axis]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    if from_logits:
        log_prob = _log_softmax(y_pred, axis=axis)
    else:
        p = y_pred / np.sum(y_pred, axis=axis, keepdims=True)
        log_prob = np.log(np.clip(p, _EPSILON, 1.0 - _EPSILON))
    return -np.sum(y_true * log_prob, axis=axis)


def sparse_categorical_crossentropy(
    y_true, y_pred, from_logits: bool = False, axis: int = -1
) -> np.ndarray:
    """Per-sample categorical cross-entropy for integer targets.

    Args:
        y_true: Class indices, shape `(N,)` or `(N, 1)`.
        y_pred: Probabilities (clipped to `[1e-7, 1 - 1e-7]`, then normalized by their sum, as
            Keras does for integer labels) or logits, shape `(N, C)`.
        from_logits: Whether `y_pred` holds logits.
        axis: The class axis (only -1 is supported).

    Example:
        >>> sparse_categorical_crossentropy([1], [[0.5, 0.5]])
        array([0.69314718])
    """
    y_pred = np.asarray(y_pred, dtype=np.float64)
    labels = np.asarray(y_true)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.shape != y_pred.shape[:-1]:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape up until the last "
            f"dimension: target.shape={labels.shape}, output.shape={y_pred.shape}"
        )
    # The engine's check: without it a label of -1 read the last class and 5 raised numpy's
    # IndexError. Keras's TensorFlow backend fails these too (InvalidArgumentError).
    bad = labels[(labels < 0) | (labels >= y_pred.shape[-1]) | (labels != np.floor(labels))]
    if bad.size:
        raise ValueError(
            f"Received a label value of {bad.flat[0]:g} which is outside the valid range of "
            f"[0, {y_pred.shape[-1]}) for sparse_categorical_crossentropy (labels must be "
            "integers)"
        )
    labels = labels.astype(np.int64)
    if from_logits:
        log_prob = _log_softmax(y_pred)
    else:  # Keras's order for integer labels: clip, then normalize
        p = np.clip(y_pred, _EPSILON, 1.0 - _EPSILON)
        log_prob = np.log(p) - np.log(np.sum(p, axis=-1, keepdims=True))
    return -np.take_along_axis(log_prob, labels[..., None], axis=-1)[..., 0]


def kl_divergence(y_true, y_pred) -> np.ndarray:
    """Per-sample Kullback-Leibler divergence: `sum(y_true * log(y_true / y_pred))`, last axis.

    Both are clipped to `[1e-7, 1]` first, as in Keras.

    Args:
        y_true: Target probabilities.
        y_pred: Predicted probabilities, same shape.

    Example:
        >>> np.round(kl_divergence([[0.5, 0.5]], [[0.25, 0.75]]), 4)
        array([0.1438])
    """
    y_true, y_pred = _same_rank(*_as_arrays(y_true, y_pred))
    y_true = np.clip(y_true, _EPSILON, 1.0)
    y_pred = np.clip(y_pred, _EPSILON, 1.0)
    return np.sum(y_true * np.log(y_true / y_pred), axis=-1)


kld = KLD = kullback_leibler_divergence = kl_divergence


def poisson(y_true, y_pred) -> np.ndarray:
    """Per-sample Poisson loss, `mean(y_pred - y_true * log(y_pred + 1e-7))` over the last axis.

    Args:
        y_true: Targets (counts).
        y_pred: Predicted rates, same shape.

    Example:
        >>> np.round(poisson([[1.0, 0.0]], [[1.0, 1.0]]), 4)
        array([1.])
    """
    y_true, y_pred = _same_rank(*_as_arrays(y_true, y_pred))
    return np.mean(y_pred - y_true * np.log(y_pred + _EPSILON), axis=-1)


def _validate_smoothing(label_smoothing: Any) -> float:
    ok = isinstance(label_smoothing, (int, float, np.number))
    ok = ok and not isinstance(label_smoothing, bool)
    if not ok or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            "Expected `label_smoothing` to be a float in [0, 1]. "
            f"Received: label_smoothing={label_smoothing}"
        )
    return float(label_smoothing)


class BinaryCrossentropy(Loss):
    """Binary cross-entropy for 0/1 targets.

    Args:
        from_logits: Whether predictions are logits rather than probabilities.
        label_smoothing: Targets move towards 0.5 by this amount.
        axis: The axis averaged over (only -1).
        reduction: See `Loss`.
        name: Name of the loss.

    Example:
        >>> round(float(BinaryCrossentropy()([[1.0]], [[0.5]])), 4)
        0.6931
    """

    _engine_kind = "binary_crossentropy"

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "binary_crossentropy",
    ):
        super().__init__(name=name, reduction=reduction)
        self.from_logits = bool(from_logits)
        self.label_smoothing = _validate_smoothing(label_smoothing)
        self.axis = _last_axis_only(axis, "cross-entropy")

    def call(self, y_true, y_pred) -> np.ndarray:
        return binary_crossentropy(y_true, y_pred, self.from_logits, self.label_smoothing)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }

    def _engine_attrs(self) -> dict:
        return {"from_logits": self.from_logits, "label_smoothing": self.label_smoothing}


class CategoricalCrossentropy(Loss):
    """Categorical cross-entropy for one-hot targets.

    Args:
        from_logits: Whether predictions are logits rather than probabilities.
        label_smoothing: Targets become `y * (1 - s) + s / num_classes`.
        axis: The class axis (only -1).
        reduction: See `Loss`.
        name: Name of the loss.

    Example:
        >>> round(float(CategoricalCrossentropy()([[0.0, 1.0]], [[0.5, 0.5]])), 4)
        0.6931
    """

    _engine_kind = "categorical_crossentropy"

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_crossentropy",
    ):
        super().__init__(name=name, reduction=reduction)
        self.from_logits = bool(from_logits)
        self.label_smoothing = _validate_smoothing(label_smoothing)
        self.axis = _last_axis_only(axis, "cross-entropy")

    def call(self, y_true, y_pred) -> np.ndarray:
        return categorical_crossentropy(y_true, y_pred, self.from_logits, self.label_smoothing)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }

    def _engine_attrs(self) -> dict:
        return {"from_logits": self.from_logits, "label_smoothing": self.label_smoothing}


class SparseCategoricalCrossentropy(Loss):
    """Categorical cross-entropy for integer class targets.

    Args:
        from_logits: Whether predictions are logits rather than probabilities.
        ignore_class: Not supported; must be `None`.
        reduction: See `Loss`.
        name: Name of the loss.

    Example:
        >>> round(float(SparseCategoricalCrossentropy()([1], [[0.5, 0.5]])), 4)
        0.6931
    """

    _engine_kind = "sparse_categorical_crossentropy"

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: int | None = None,
        reduction: str | None = "sum_over_batch_size",
        name: str = "sparse_categorical_crossentropy",
    ):
        super().__init__(name=name, reduction=reduction)
        if ignore_class is not None:
            raise NotImplementedError(
                "`ignore_class` is not supported by kerasette. "
                f"Received: ignore_class={ignore_class}"
            )
        self.from_logits = bool(from_logits)
        self.ignore_class = None

    def call(self, y_true, y_pred) -> np.ndarray:
        return sparse_categorical_crossentropy(y_true, y_pred, self.from_logits)

    def get_config(self) -> dict:
        return {**super().get_config(), "from_logits": self.from_logits, "ignore_class": None}

    def _engine_attrs(self) -> dict:
        return {"from_logits": self.from_logits}


class KLDivergence(Loss):
    """Kullback-Leibler divergence: `sum(y_true * log(y_true / y_pred))` over the last axis.

    Both are clipped to `[1e-7, 1]` first, as in Keras.

    Args:
        reduction: See `Loss`.
        name: Name of the loss.

    Example:
        >>> round(float(KLDivergence()([[0.5, 0.5]], [[0.25, 0.75]])), 4)
        0.1438
    """

    _engine_kind = "kl_divergence"

    def __init__(
        self, reduction: str | None = "sum_over_batch_size", name: str = "kl_divergence"
    ):
        super().__init__(name=name, reduction=reduction)

    def call(self, y_true, y_pred) -> np.ndarray:
        return kl_divergence(y_true, y_pred)


class Poisson(Loss):
    """Poisson loss: `mean(y_pred - y_true * log(y_pred + 1e-7))`.

    Args:
        reduction: See `Loss`.
        name: Name of the loss.

    Example:
        >>> round(float(Poisson()([[1.0, 0.0]], [[1.0, 1.0]])), 4)
        1.0
    """

    _engine_kind = "poisson"

    def __init__(
        self, reduction: str | None = "sum_over_batch_size", name: str = "poisson"
    ):
        super().__init__(name=name, reduction=reduction)

    def call(self, y_true, y_pred) -> np.ndarray:
        return poisson(y_true, y_pred)
