"""The `Metric` base class: a metric object holds configuration and names the engine's kind."""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np


class Metric:
    """Base class of the metrics: a name, a dtype and the engine's kind.

    Args:
        name: The log key of the metric.
        dtype: Only `None` or `"float32"`.

    Example:
        >>> BinaryAccuracy().engine_spec()
        ('binary_accuracy', {'threshold': 0.5})
    """

    _keras_module = "keras.metrics"
    _engine_kind: str = ""
    _fn: Optional[Callable] = None
    # Keras 2 saves this metric as a `MeanMetricWrapper` of the function named `_engine_kind`.
    _mean_metric_wrapper = True
    # Without a name, Keras 3 names some metrics as it names layers: `auc`, then `auc_1`, ...
    _auto_name = False

    def __init__(self, name: str | None = None, dtype: Any = None):
        if dtype is not None and np.dtype(dtype) != np.float32:
            raise ValueError(f"Expected `dtype` to be None or 'float32'. Received: dtype={dtype}")
        if name is None and self._auto_name:
            from kerasette.layers.layer import _snake_case, unique_name

            name = unique_name(_snake_case(type(self).__name__))
        self.name = name if name is not None else self._engine_kind or self.__class__.__name__
        self.dtype = "float32"

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict) -> "Metric":
        return cls(**config)

    def _engine_attrs(self) -> dict:
        return {}

    def engine_spec(self) -> tuple[str, dict]:
        """Returns `(kind, attrs)`: what the engine accumulates for this metric."""
        return self._engine_kind, self._engine_attrs()

    def __call__(self, y_true, y_pred) -> float:
        """The metric over one batch, as a float (NumPy reference)."""
        return float(np.mean(self._per_sample(y_true, y_pred)))

    def _per_sample(self, y_true, y_pred) -> np.ndarray:
        return type(self)._fn(y_true, y_pred)

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} name={self.name!r}>"
