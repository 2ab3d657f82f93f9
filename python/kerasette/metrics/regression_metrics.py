"""Regression metrics: mean squared and absolute errors, and the root mean squared error."""

from __future__ import annotations

from typing import Any

import numpy as np

from kerasette import losses as losses_module
from kerasette.metrics.metric import Metric

mean_squared_error = losses_module.mean_squared_error
mean_absolute_error = losses_module.mean_absolute_error
mse = mean_squared_error
mae = mean_absolute_error


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
        >>> RootMeanSquaredError()([[0.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 1.0]])
        0.5
    """

    _engine_kind = "root_mean_squared_error"
    _mean_metric_wrapper = False  # a `Mean` subclass in Keras, not a wrapped function

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)

    def __call__(self, y_true, y_pred) -> float:
        return float(np.sqrt(np.mean(losses_module.mean_squared_error(y_true, y_pred))))
