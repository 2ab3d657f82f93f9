"""The `Metric` base class: a metric object holds configuration and names the engine's kind.

In `fit`/`evaluate` the engine accumulates every metric. Used on its own, a metric keeps Keras's
state in NumPy: `update_state` adds one batch's sums (`_batch_state`: the weighted sum of the
per-sample values and the sum of the weights for a mean metric, the counts for a confusion
metric), `result()` reads the value from the sums (`_result_of`), `reset_state` clears them.
"""

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

    def _per_sample(self, y_true, y_pred) -> np.ndarray:
        return type(self)._fn(y_true, y_pred)

    # ---- Keras's stateful use: update_state / result / reset_state ----
    _state: Optional[np.ndarray] = None

    def _batch_state(self, y_true, y_pred, sample_weight) -> np.ndarray:
        """What one batch adds to the state: `[sum(w * value), sum(w)]` over its samples."""
        values = np.asarray(self._per_sample(y_true, y_pred), dtype=np.float64)
        if sample_weight is None:
            return np.array([values.sum(), values.size], dtype=np.float64)
        weights = np.asarray(sample_weight, dtype=np.float64)
        while weights.ndim > values.ndim and weights.shape[-1] == 1:  # (n, 1) weights, (n,) values
            weights = weights[..., 0]
        weights = np.broadcast_to(weights, values.shape)
        return np.array([np.sum(values * weights), np.sum(weights)])

    def _result_of(self, state: np.ndarray) -> float:
        return state[0] / state[1] if state[1] else 0.0

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Adds a batch of targets and predictions (and optional per-sample weights)."""
        batch = self._batch_state(y_true, y_pred, sample_weight)
        self._state = batch if self._state is None else self._state + batch

    def result(self) -> np.float32:
        """The metric over every batch since the last `reset_state` (0 before any)."""
        return np.float32(0.0 if self._state is None else self._result_of(self._state))

    def reset_state(self) -> None:
        self._state = None

    def __call__(self, y_true, y_pred, sample_weight=None) -> np.float32:
        """As Keras: `update_state` with this batch, then `result()`."""
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} name={self.name}>"  # Keras prints the name bare
