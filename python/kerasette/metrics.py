"""Metrics with Keras 3's names and defaults, and the compile-time resolver.

A metric object holds configuration; the engine accumulates it from `engine_spec()`. `resolve`
turns what the user passed to `compile(metrics=[...])` into a `MetricSpec`, choosing the binary,
categorical or sparse accuracy for `"accuracy"` from the shapes and the loss as Keras 3 does. The
NumPy functions return per-sample values and are the reference the engine is tested against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

import numpy as np

from kerasette import losses as losses_module
from kerasette.saving.serialization import deserialize_keras_object, serialize_keras_object


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


mean_squared_error = losses_module.mean_squared_error
mean_absolute_error = losses_module.mean_absolute_error
mse = mean_squared_error
mae = mean_absolute_error


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

    def __init__(self, name: str | None = None, dtype: Any = None):
        if dtype is not None and np.dtype(dtype) != np.float32:
            raise ValueError(f"Expected `dtype` to be None or 'float32'. Received: dtype={dtype}")
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


_CLASSES = (
    BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError,
)  # fmt: skip
# Metric function (by name) -> class; Keras 2 writes these names as `fn` of a MeanMetricWrapper.
_FUNCTION_TO_CLASS: dict[str, type] = {
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
}
_FUNCTIONS: dict[Callable, str] = {
    binary_accuracy: "binary_accuracy",
    categorical_accuracy: "categorical_accuracy",
    sparse_categorical_accuracy: "sparse_categorical_accuracy",
    top_k_categorical_accuracy: "top_k_categorical_accuracy",
    sparse_top_k_categorical_accuracy: "sparse_top_k_categorical_accuracy",
    mean_squared_error: "mean_squared_error",
    mean_absolute_error: "mean_absolute_error",
}
ALL_OBJECTS_DICT: dict[str, type] = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update(_FUNCTION_TO_CLASS)
ALL_OBJECTS_DICT.update({"mse": MeanSquaredError, "mae": MeanAbsoluteError})
_ACCURACY_NAMES = ("accuracy", "acc")


def _valid_names() -> list[str]:
    return sorted(set(ALL_OBJECTS_DICT) | set(_ACCURACY_NAMES))


@dataclass
class MetricSpec:
    """A metric resolved at compile time.

    Attributes:
        name: The log key (the string as the user gave it, or the object's `.name`).
        kind: The engine's metric kind.
        attrs: The engine attributes (`threshold`, `k`).
        obj: The metric object.
    """

    name: str
    kind: str
    attrs: dict = field(default_factory=dict)
    obj: Optional[Metric] = None


def _from_mean_metric_wrapper(config: dict) -> Metric:
    """Keras 2's `{"class_name": "MeanMetricWrapper", "config": {"name", "dtype", "fn"}}`."""
    inner = config.get("config", {}) or {}
    fn = inner.get("fn")
    if fn not in _FUNCTION_TO_CLASS:
        raise ValueError(
            f"Unknown metric function: '{fn}'. Expected one of {sorted(_FUNCTION_TO_CLASS)}. "
            f"Received: config={config}"
        )
    return _FUNCTION_TO_CLASS[fn](name=inner.get("name", fn))


def serialize(metric: Metric) -> dict:
    """Returns the nested config of a metric.

    Args:
        metric: A `Metric` instance.

    Example:
        >>> serialize(BinaryAccuracy())["config"]["threshold"]
        0.5
    """
    return serialize_keras_object(metric)


def deserialize(config: Union[dict, str], custom_objects: dict | None = None) -> Metric:
    """Builds a metric from a config dict (Keras 2 or 3) or a name.

    Args:
        config: A `{"class_name": ..., "config": ...}` dict, Keras 2's `MeanMetricWrapper` dict,
            or a name like `"mae"` (the metric is then named as given).
        custom_objects: Extra names mapped to `Metric` classes.

    Example:
        >>> deserialize("mae").name
        'mae'
    """
    if isinstance(config, dict) and config.get("class_name") == "MeanMetricWrapper":
        return _from_mean_metric_wrapper(config)
    obj = deserialize_keras_object(config, ALL_OBJECTS_DICT, custom_objects, "metric")
    if isinstance(obj, type):
        return obj(name=config) if isinstance(config, str) else obj()
    return obj


def get(identifier: Union[str, dict, Metric, Callable]) -> Metric:
    """Returns a metric object from a name, a config dict, an instance or a metric function.

    `"accuracy"` is not accepted here: which accuracy it means depends on the model's shapes and
    loss, and `resolve` decides that at compile time.

    Args:
        identifier: A name (`"mae"`, `"binary_accuracy"`, `"BinaryAccuracy"`), a config dict, a
            `Metric`, or one of this module's functions.

    Example:
        >>> get("mse").engine_spec()
        ('mean_squared_error', {})
    """
    if isinstance(identifier, str) and identifier.lower() in _ACCURACY_NAMES:
        raise ValueError(
            f"Metric '{identifier}' depends on the model's output shape and loss; pass it to "
            "`model.compile(metrics=[...])` or use `metrics.resolve`. "
            f"Received: metric={identifier!r}"
        )
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier) and identifier in _FUNCTIONS:
        name = _FUNCTIONS[identifier]
        return _FUNCTION_TO_CLASS[name](name=name)
    if callable(identifier):
        raise ValueError(
            "Only the built-in metrics run in kerasette's compiled engine; a custom Python metric "
            f"cannot. Expected one of {_valid_names()}. Received: metric={identifier!r}"
        )
    raise ValueError(
        f"Could not interpret metric identifier. Expected one of {_valid_names()}. "
        f"Received: metric={identifier!r}"
    )


def _accuracy_class(loss: Any, y_true_shape: tuple, y_pred_shape: tuple) -> type:
    if isinstance(loss, (str, dict)):
        try:
            loss = losses_module.get(loss)
        except ValueError:
            loss = None
    y_t_last = y_true_shape[-1] if len(y_true_shape) else None
    y_p_last = y_pred_shape[-1] if len(y_pred_shape) else None
    if y_p_last == 1 or isinstance(loss, losses_module.BinaryCrossentropy):
        return BinaryAccuracy
    is_sparse = (
        len(y_true_shape) == len(y_pred_shape) - 1
        or (y_t_last == 1 and y_p_last is not None and y_p_last > 1)
        or isinstance(loss, losses_module.SparseCategoricalCrossentropy)
    )
    return SparseCategoricalAccuracy if is_sparse else CategoricalAccuracy


def resolve(
    identifier: Union[str, dict, Metric, Callable],
    loss: Any,
    y_true_shape: tuple,
    y_pred_shape: tuple,
) -> MetricSpec:
    """Resolves one entry of `compile(metrics=[...])` for one model output.

    `"accuracy"`/`"acc"` becomes the binary accuracy when the output's last dim is 1 or the loss is
    a `BinaryCrossentropy`, the sparse categorical accuracy when the targets are integer labels
    (rank one less than the output, a last dim of 1 against more classes, or a
    `SparseCategoricalCrossentropy` loss), else the categorical accuracy.

    Args:
        identifier: A name, config dict, `Metric` or metric function.
        loss: The output's loss (a `Loss`, a name or `None`).
        y_true_shape: Shape of the targets, batch dim included (may be `None`).
        y_pred_shape: Shape of the output, batch dim included (may be `None`).

    Returns:
        A `MetricSpec`; its `name` is the log key (the string as given, e.g. `"acc"`).

    Example:
        >>> resolve("accuracy", "categorical_crossentropy", (None, 10), (None, 10)).kind
        'categorical_accuracy'
    """
    y_true_shape = tuple(y_true_shape) if y_true_shape is not None else tuple(y_pred_shape)
    y_pred_shape = tuple(y_pred_shape)
    if isinstance(identifier, str) and identifier.lower() in _ACCURACY_NAMES:
        obj = _accuracy_class(loss, y_true_shape, y_pred_shape)(name=identifier)
    elif isinstance(identifier, str):
        obj = get(identifier)
        obj.name = identifier
    else:
        obj = get(identifier)
    kind, attrs = obj.engine_spec()
    return MetricSpec(name=obj.name, kind=kind, attrs=attrs, obj=obj)
