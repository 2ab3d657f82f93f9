"""Metrics with Keras 3's names and defaults, and the compile-time resolver.

A metric object holds configuration; the engine accumulates it from `engine_spec()`. Most metrics
are means of a per-sample value (`accuracy_metrics`, `regression_metrics`,
`probabilistic_metrics`, `hinge_metrics`); `confusion_metrics` holds those read from true/false
positive counts.
This module keeps the names: `get`/`serialize`/`deserialize`, and `resolve`, which turns what the
user passed to `compile(metrics=[...])` into a `MetricSpec`, choosing the binary, categorical or
sparse accuracy for `"accuracy"` from the shapes and the loss as Keras 3 does. The NumPy functions
and each metric's `__call__` are the reference the engine is tested against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

from kerasette import losses as losses_module
from kerasette.metrics.accuracy_metrics import (
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)  # fmt: skip
from kerasette.metrics.confusion_metrics import AUC, Precision, Recall
from kerasette.metrics.hinge_metrics import (
    CategoricalHinge,
    Hinge,
    SquaredHinge,
    categorical_hinge,
    hinge,
    squared_hinge,
)  # fmt: skip
from kerasette.metrics.metric import Metric
from kerasette.metrics.probabilistic_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    binary_crossentropy,
    categorical_crossentropy,
    kl_divergence,
    poisson,
    sparse_categorical_crossentropy,
)  # fmt: skip
from kerasette.metrics.regression_metrics import (
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    RootMeanSquaredError,
    cosine_similarity,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)  # fmt: skip
from kerasette.saving.serialization import (
    UnknownObjectError, could_not_interpret, deserialize_keras_object,
    serialize_keras_object)

mse = mean_squared_error
mae = mean_absolute_error
mape = mean_absolute_percentage_error
msle = mean_squared_logarithmic_error

_CLASSES = (
    BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError, RootMeanSquaredError,
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, Precision, Recall,
    AUC, MeanAbsolutePercentageError, MeanSquaredLogarithmicError, LogCoshError, CosineSimilarity,
    KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge,
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
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "log_cosh": LogCoshError,
    "logcosh": LogCoshError,
    "cosine_similarity": CosineSimilarity,
    "kl_divergence": KLDivergence,
    "kullback_leibler_divergence": KLDivergence,
    "kld": KLDivergence,
    "poisson": Poisson,
    "hinge": Hinge,
    "squared_hinge": SquaredHinge,
    "categorical_hinge": CategoricalHinge,
}
_FUNCTIONS: dict[Callable, str] = {
    binary_accuracy: "binary_accuracy",
    categorical_accuracy: "categorical_accuracy",
    sparse_categorical_accuracy: "sparse_categorical_accuracy",
    top_k_categorical_accuracy: "top_k_categorical_accuracy",
    sparse_top_k_categorical_accuracy: "sparse_top_k_categorical_accuracy",
    mean_squared_error: "mean_squared_error",
    mean_absolute_error: "mean_absolute_error",
    binary_crossentropy: "binary_crossentropy",
    categorical_crossentropy: "categorical_crossentropy",
    sparse_categorical_crossentropy: "sparse_categorical_crossentropy",
    mean_absolute_percentage_error: "mean_absolute_percentage_error",
    mean_squared_logarithmic_error: "mean_squared_logarithmic_error",
    log_cosh: "log_cosh",
    cosine_similarity: "cosine_similarity",
    kl_divergence: "kl_divergence",
    poisson: "poisson",
    hinge: "hinge",
    squared_hinge: "squared_hinge",
    categorical_hinge: "categorical_hinge",
}
ALL_OBJECTS_DICT: dict[str, type] = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update(_FUNCTION_TO_CLASS)
# Keras 3 also knows every class by its snake-case name ("precision", "auc", ...).
ALL_OBJECTS_DICT.update({
    "mse": MeanSquaredError, "MSE": MeanSquaredError, "mae": MeanAbsoluteError,
    "MAE": MeanAbsoluteError, "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "root_mean_squared_error": RootMeanSquaredError, "precision": Precision, "recall": Recall,
    "auc": AUC, "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
    "log_cosh_error": LogCoshError, "KLD": KLDivergence,
})  # fmt: skip
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
        try:
            return deserialize(identifier)
        except UnknownObjectError as e:
            raise could_not_interpret("metric", identifier, e.valid) from e
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
    raise ValueError(f"Could not interpret metric identifier: {identifier}")


def _accuracy_class(loss: Any, y_true_shape: tuple, y_pred_shape: tuple) -> type:
    if isinstance(loss, (str, dict)):
        try:
            loss = losses_module.get(loss)
        except ValueError:
            loss = None
    y_t_last = y_true_shape[-1] if len(y_true_shape) else None
    y_p_last = y_pred_shape[-1] if len(y_pred_shape) else None
    # Keras 3 looks at the shapes only: a multi-label output trained with a binary cross-entropy
    # gets the categorical accuracy (Keras 2 took the binary one). The loss only stands in for
    # the targets' shape when that is not known yet.
    if y_p_last == 1:
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

    `"accuracy"`/`"acc"` becomes, as in Keras 3, the binary accuracy when the output's last dim is
    1, the sparse categorical accuracy when the targets are integer labels
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
