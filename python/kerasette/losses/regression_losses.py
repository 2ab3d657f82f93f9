"""Regression losses: squared, absolute, percentage and logarithmic errors, Huber, log-cosh and
cosine similarity."""

from __future__ import annotations

import numpy as np

from kerasette.losses.loss import _EPSILON, Loss, _as_arrays, _last_axis_only, _same_rank


def mean_squared_error(y_true, y_pred) -> np.ndarray:
    """Per-sample mean of squared errors over the last axis.

    Args:
        y_true: Targets.
        y_pred: Predictions, same shape.

    Example:
        >>> mean_squared_error([[0.0, 1.0]], [[1.0, 1.0]])
        array([0.5])
    """
    y_true, y_pred = _same_rank(*_as_arrays(y_true, y_pred))
    return np.mean(np.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred) -> np.ndarray:
    """Per-sample mean of absolute errors over the last axis.

    Args:
        y_true: Targets.
        y_pred: Predictions, same shape.

    Example:
        >>> mean_absolute_error([[0.0, 1.0]], [[1.0, 3.0]])
        array([1.5])
    """
    y_true, y_pred = _same_rank(*_as_arrays(y_true, y_pred))
    return np.mean(np.abs(y_true - y_pred), axis=-1)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error


def huber(y_true, y_pred, delta: float = 1.0) -> np.ndarray:
    """Per-sample Huber loss: `0.5 * e**2` if `|e| <= delta`, else `delta * |e| - 0.5 * delta**2`.

    Args:
        y_true: Targets.
        y_pred: Predictions, same shape.
        delta: Where the loss turns from quadratic to linear.

    Example:
        >>> huber([[0.0]], [[3.0]])
        array([2.5])
    """
    y_true, y_pred = _same_rank(*_as_arrays(y_true, y_pred))
    error = y_pred - y_true
    abs_error = np.abs(error)
    linear_part = delta * abs_error - 0.5 * delta**2
    losses = np.where(abs_error <= delta, 0.5 * np.square(error), linear_part)
    return np.mean(losses, axis=-1)


def mean_absolute_percentage_error(y_true, y_pred) -> np.ndarray:
    """Per-sample `100 * mean(abs((y_true - y_pred) / max(abs(y_true), 1e-7)))` over the last axis.

    Args:
        y_true: Targets.
        y_pred: Predictions, same shape.

    Example:
        >>> mean_absolute_percentage_error([[100.0, 200.0]], [[90.0, 210.0]])
        array([7.5])
    """
    y_true, y_pred = _same_rank(*_as_arrays(y_true, y_pred))
    diff = np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), _EPSILON))
    return 100.0 * np.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred) -> np.ndarray:
    """Per-sample `mean(square(log(max(y_pred, 1e-7) + 1) - log(max(y_true, 1e-7) + 1)))`.

    Args:
        y_true: Targets.
        y_pred: Predictions, same shape.

    Example:
        >>> np.round(mean_squared_logarithmic_error([[0.0, 1.0]], [[1.0, 1.0]]), 4)
        array([0.2402])
    """
    y_true, y_pred = _same_rank(*_as_arrays(y_true, y_pred))
    first_log = np.log(np.maximum(y_pred, _EPSILON) + 1.0)
    second_log = np.log(np.maximum(y_true, _EPSILON) + 1.0)
    return np.mean(np.square(first_log - second_log), axis=-1)


mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error


def log_cosh(y_true, y_pred) -> np.ndarray:
    """Per-sample mean of `log(cosh(y_pred - y_true))` over the last axis.

    Args:
        y_true: Targets.
        y_pred: Predictions, same shape.

    Example:
        >>> np.round(log_cosh([[0.0, 1.0]], [[1.0, 1.0]]), 4)
        array([0.2169])
    """
    y_true, y_pred = _same_rank(*_as_arrays(y_true, y_pred))
    x = y_pred - y_true
    # Keras's x + softplus(-2x) - log(2), in a form that does not overflow.
    return np.mean(np.abs(x) + np.log1p(np.exp(-2.0 * np.abs(x))) - np.log(2.0), axis=-1)


logcosh = log_cosh


def _l2_normalize(x: np.ndarray, axis: int) -> np.ndarray:
    # Keras's normalize: x * min(rsqrt(sum(x**2)), 1 / epsilon).
    with np.errstate(divide="ignore"):
        inv_norm = 1.0 / np.sqrt(np.sum(np.square(x), axis=axis, keepdims=True))
    return x * np.minimum(inv_norm, 1.0 / _EPSILON)


def cosine_similarity(y_true, y_pred, axis: int = -1) -> np.ndarray:
    """Per-sample negative cosine similarity, `-sum(l2_normalize(y_true) * l2_normalize(y_pred))`.

    Args:
        y_true: Targets.
        y_pred: Predictions, same shape.
        axis: The axis along which the similarity is computed.

    Example:
        >>> cosine_similarity([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])
        array([-0., -1.])
    """
    y_true, y_pred = _same_rank(*_as_arrays(y_true, y_pred))
    return -np.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)

class MeanSquaredError(Loss):
    """Mean of squared errors: `mean(square(y_true - y_pred))`.

    Args:
        reduction: See `Loss`.
        name: Name of the loss.

    Example:
        >>> MeanSquaredError()([[0.0, 1.0]], [[1.0, 1.0]])
        0.5
    """

    _engine_kind = "mean_squared_error"

    def __init__(
        self, reduction: str | None = "sum_over_batch_size", name: str = "mean_squared_error"
    ):
        super().__init__(name=name, reduction=reduction)

    def call(self, y_true, y_pred) -> np.ndarray:
        return mean_squared_error(y_true, y_pred)


class MeanAbsoluteError(Loss):
    """Mean of absolute errors: `mean(abs(y_true - y_pred))`.

    Args:
        reduction: See `Loss`.
        name: Name of the loss.

    Example:
        >>> MeanAbsoluteError()([[0.0, 1.0]], [[1.0, 3.0]])
        1.5
    """

    _engine_kind = "mean_absolute_error"

    def __init__(
        self, reduction: str | None = "sum_over_batch_size", name: str = "mean_absolute_error"
    ):
        super().__init__(name=name, reduction=reduction)

    def call(self, y_true, y_pred) -> np.ndarray:
        return mean_absolute_error(y_true, y_pred)


class Huber(Loss):
    """Huber loss, quadratic within `delta` of the target and linear beyond.

    Args:
        delta: Where the loss turns from quadratic to linear.
        reduction: See `Loss`.
        name: Name of the loss.

    Example:
        >>> Huber()([[0.0]], [[3.0]])
        2.5
    """

    _engine_kind = "huber"

    def __init__(
        self,
        delta: float = 1.0,
        reduction: str | None = "sum_over_batch_size",
        name: str = "huber_loss",
    ):
        super().__init__(name=name, reduction=reduction)
        if isinstance(delta, bool) or not isinstance(delta, (int, float, np.number)) or delta <= 0:
            raise ValueError(f"Expected `delta` to be a positive float. Received: delta={delta}")
        self.delta = float(delta)

    def call(self, y_true, y_pred) -> np.ndarray:
        return huber(y_true, y_pred, delta=self.delta)

    def get_config(self) -> dict:
        # Keras 3 leaves `delta` out of the config and so loses it on reload; keep it.
        return {**super().get_config(), "delta": self.delta}

    def _engine_attrs(self) -> dict:
        return {"delta": self.delta}


class MeanAbsolutePercentageError(Loss):
    """Mean absolute percentage error: `100 * mean(abs((y_true - y_pred) / y_true))`.

    The denominator is `max(abs(y_true), 1e-7)`, as in Keras.

    Args:
        reduction: See `Loss`.
        name: Name of the loss.

    Example:
        >>> MeanAbsolutePercentageError()([100.0, 200.0, 300.0], [90.0, 210.0, 310.0])
        6.111111
    """

    _engine_kind = "mean_absolute_percentage_error"

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_absolute_percentage_error",
    ):
        super().__init__(name=name, reduction=reduction)

    def call(self, y_true, y_pred) -> np.ndarray:
        return mean_absolute_percentage_error(y_true, y_pred)


class MeanSquaredLogarithmicError(Loss):
    """Mean squared logarithmic error: `mean(square(log(y_true + 1) - log(y_pred + 1)))`.

    Both are first raised to at least `1e-7`, as in Keras.

    Args:
        reduction: See `Loss`.
        name: Name of the loss.

    Example:
        >>> round(float(MeanSquaredLogarithmicError()([[0.0, 1.0]], [[1.0, 1.0]])), 4)
        0.2402
    """

    _engine_kind = "mean_squared_logarithmic_error"

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_squared_logarithmic_error",
    ):
        super().__init__(name=name, reduction=reduction)

    def call(self, y_true, y_pred) -> np.ndarray:
        return mean_squared_logarithmic_error(y_true, y_pred)


class LogCosh(Loss):
    """Mean of the logarithm of the hyperbolic cosine of the error `y_pred - y_true`.

    Args:
        reduction: See `Loss`.
        name: Name of the loss.

    Example:
        >>> round(float(LogCosh()([[0.0, 1.0]], [[1.0, 1.0]])), 4)
        0.2169
    """

    _engine_kind = "log_cosh"

    def __init__(
        self, reduction: str | None = "sum_over_batch_size", name: str = "log_cosh"
    ):
        super().__init__(name=name, reduction=reduction)

    def call(self, y_true, y_pred) -> np.ndarray:
        return log_cosh(y_true, y_pred)


class CosineSimilarity(Loss):
    """Negative cosine similarity: `-sum(l2_norm(y_true) * l2_norm(y_pred))` along `axis`.

    Args:
        axis: The axis along which the similarity is computed (only -1).
        reduction: See `Loss`.
        name: Name of the loss.

    Example:
        >>> float(CosineSimilarity()([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]]))
        -0.5
    """

    _engine_kind = "cosine_similarity"

    def __init__(
        self,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "cosine_similarity",
    ):
        super().__init__(name=name, reduction=reduction)
        self.axis = _last_axis_only(axis, "the cosine similarity")

    def call(self, y_true, y_pred) -> np.ndarray:
        return cosine_similarity(y_true, y_pred, axis=self.axis)

    def get_config(self) -> dict:
        # Keras 3 leaves `axis` out of the config; it is written here so the config is complete.
        return {**super().get_config(), "axis": self.axis}
