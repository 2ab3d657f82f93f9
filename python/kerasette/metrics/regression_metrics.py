"""Regression metrics: mean squared, absolute, percentage and logarithmic errors, the root mean
squared error, log-cosh and cosine similarity."""

from __future__ import annotations

from typing import Any

import numpy as np

from kerasette import losses as losses_module
from kerasette.losses.loss import _last_axis_only
from kerasette.metrics.metric import Metric

mean_squared_error = losses_module.mean_squared_error
mean_absolute_error = losses_module.mean_absolute_error
mean_absolute_percentage_error = losses_module.mean_absolute_percentage_error
mean_squared_logarithmic_error = losses_module.mean_squared_logarithmic_error
log_cosh = losses_module.log_cosh
mse = mean_squared_error
mae = mean_absolute_error
mape = mean_absolute_percentage_error
msle = mean_squared_logarithmic_error


def cosine_similarity(y_true, y_pred, axis: int = -1) -> np.ndarray:
    """Per-sample cosine similarity (Keras's metric: the loss without its minus sign).

    Args:
        y_true: Targets.
        y_pred: Predictions, same shape.
        axis: The axis along which the similarity is computed.

    Example:
        >>> cosine_similarity([[1.0, 1.0]], [[1.0, 1.0]])
        array([1.])
    """
    return -losses_module.cosine_similarity(y_true, y_pred, axis=axis)


class MeanSquaredError(Metric):
    """Mean of squared errors, averaged over all samples seen.

    Args:
        name: The log key.
        dtype: Only `None` or `"float32"`.

    Example:
        >>> MeanSquaredError()([[0.0, 1.0]], [[1.0, 1.0]])
        0.5
    """

    _engine_kind = "mean_squared_error"
    _fn = staticmethod(losses_module.mean_squared_error)

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)


class MeanAbsoluteError(Metric):
    """Mean of absolute errors, averaged over all samples seen.

    Args:
        name: The log key.
        dtype: Only `None` or `"float32"`.

    Example:
        >>> MeanAbsoluteError()([[0.0, 1.0]], [[1.0, 3.0]])
        1.5
    """

    _engine_kind = "mean_absolute_error"
    _fn = staticmethod(losses_module.mean_absolute_error)

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)


class RootMeanSquaredError(Metric):
    """Square root of the mean squared error over all samples seen.

    The epoch value is `sqrt(total / count)` of the per-sample mean squared errors, as Keras
    computes it, not a mean of per-batch roots.

    Args:
        name: The log key.
        dtype: Only `None` or `"float32"`.

    Example:
        >>> float(RootMeanSquaredError()([[0.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 1.0]]))
        0.5
    """

    _engine_kind = "root_mean_squared_error"
    _mean_metric_wrapper = False  # a `Mean` subclass in Keras, not a wrapped function

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)

    def _per_sample(self, y_true, y_pred) -> np.ndarray:
        return losses_module.mean_squared_error(y_true, y_pred)

    def _result_of(self, state: np.ndarray) -> float:
        return float(np.sqrt(super()._result_of(state)))


class MeanAbsolutePercentageError(Metric):
    """Mean absolute percentage error, averaged over all samples seen.

    Args:
        name: The log key.
        dtype: Only `None` or `"float32"`.

    Example:
        >>> round(MeanAbsolutePercentageError()([[100.0, 200.0]], [[90.0, 210.0]]), 4)
        7.5
    """

    _engine_kind = "mean_absolute_percentage_error"
    _fn = staticmethod(losses_module.mean_absolute_percentage_error)

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)


class MeanSquaredLogarithmicError(Metric):
    """Mean squared logarithmic error, averaged over all samples seen.

    Args:
        name: The log key.
        dtype: Only `None` or `"float32"`.

    Example:
        >>> round(MeanSquaredLogarithmicError()([[0.0, 1.0]], [[1.0, 1.0]]), 4)
        0.2402
    """

    _engine_kind = "mean_squared_logarithmic_error"
    _fn = staticmethod(losses_module.mean_squared_logarithmic_error)

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)


class LogCoshError(Metric):
    """Logarithm of the hyperbolic cosine of the error, averaged over all samples seen.

    Args:
        name: The log key.
        dtype: Only `None` or `"float32"`.

    Example:
        >>> round(LogCoshError()([[0.0, 1.0]], [[1.0, 1.0]]), 4)
        0.2169
    """

    _engine_kind = "log_cosh"
    _fn = staticmethod(losses_module.log_cosh)

    def __init__(self, name: str = "logcosh", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)


class CosineSimilarity(Metric):
    """Cosine similarity between targets and predictions, averaged over all samples seen.

    Args:
        name: The log key.
        dtype: Only `None` or `"float32"`.
        axis: The axis along which the similarity is computed; only -1.

    Example:
        >>> CosineSimilarity()([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])
        0.5
    """

    _engine_kind = "cosine_similarity"

    def __init__(self, name: str = "cosine_similarity", dtype: Any = None, axis: int = -1):
        super().__init__(name=name, dtype=dtype)
        self.axis = _last_axis_only(axis, "the cosine similarity")

    def _per_sample(self, y_true, y_pred) -> np.ndarray:
        return cosine_similarity(y_true, y_pred, axis=self.axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}
