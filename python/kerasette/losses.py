"""Loss classes and functions with Keras 3's names, defaults and math.

A `Loss` holds configuration; during `fit` the engine computes the loss from `engine_spec()`
(a kind name and a few attributes). The NumPy `__call__` and the per-sample functions follow
Keras 3 exactly (probabilities clipped to `[1e-7, 1 - 1e-7]`, categorical predictions normalized
by their row sum) and serve as the reference the engine is tested against.
"""

from __future__ import annotations

from typing import Any, Callable, Union

import numpy as np

from kerasette.saving.serialization import deserialize_keras_object, serialize_keras_object

_EPSILON = 1e-7
_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def _as_arrays(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)


def _same_rank(x1: np.ndarray, x2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keras's `squeeze_or_expand_to_same_rank`: drop or add a trailing 1 so the ranks match."""
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        return (x1, x2[..., None]) if x2.ndim == 1 else (x1[..., 0], x2)
    if x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        return (x1[..., None], x2) if x1.ndim == 1 else (x1, x2[..., 0])
    return x1, x2


def _log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


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
        y_pred: Probabilities (normalized by their sum first) or logits, shape `(N, C)`.
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
    labels = labels.astype(np.int64)
    if from_logits:
        log_prob = _log_softmax(y_pred)
    else:
        p = y_pred / np.sum(y_pred, axis=-1, keepdims=True)
        log_prob = np.log(np.clip(p, _EPSILON, 1.0 - _EPSILON))
    return -np.take_along_axis(log_prob, labels[..., None], axis=-1)[..., 0]


def _reduce(values: np.ndarray, sample_weight, reduction: str | None) -> Any:
    values = np.asarray(values, dtype=np.float64)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        sample_weight, values = _same_rank(sample_weight, values)
        values = values * sample_weight
    if reduction in ("none", None):
        return values.astype(np.float32)
    total = np.sum(values)
    if reduction == "sum":
        return np.float32(total)
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return np.float32(total / np.sum(np.broadcast_to(sample_weight, values.shape)))
    return np.float32(total / max(values.size, 1))


class Loss:
    """Base class of the losses: a name, a reduction and `__call__(y_true, y_pred, sample_weight)`.

    Args:
        name: Name of the loss.
        reduction: `"sum_over_batch_size"` (the mean over all loss values), `"sum"`, `"mean"`,
            `"mean_with_sample_weight"`, `"none"` or `None`.

    Example:
        >>> MeanSquaredError()([[0.0]], [[2.0]])
        4.0
    """

    _keras_module = "keras.losses"
    _engine_kind: str = ""

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size"):
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"Invalid value for argument `reduction`. Expected one of {list(_REDUCTIONS)}. "
                f"Received: reduction={reduction}"
            )
        self.name = name if name is not None else self.__class__.__name__
        self.reduction = reduction

    def call(self, y_true, y_pred) -> np.ndarray:
        raise NotImplementedError(f"{self.__class__.__name__} must implement `call()`.")

    def __call__(self, y_true, y_pred, sample_weight=None) -> Any:
        return _reduce(self.call(y_true, y_pred), sample_weight, self.reduction)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        config = dict(config)
        config.pop("dtype", None)  # Keras 3 may write it; kerasette computes in float32.
        return cls(**config)

    def _engine_attrs(self) -> dict:
        return {}

    def engine_spec(self) -> tuple[str, dict]:
        """Returns `(kind, attrs)`: what the engine computes for this loss."""
        if not self._engine_kind:
            raise ValueError(
                f"Only the built-in losses run in kerasette's compiled engine. "
                f"Received: loss={self!r}"
            )
        if self.reduction != "sum_over_batch_size":
            raise NotImplementedError(
                "kerasette's engine reduces losses with `sum_over_batch_size` only. "
                f"Received: reduction={self.reduction}"
            )
        return self._engine_kind, self._engine_attrs()

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} name={self.name!r}>"


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


def _validate_smoothing(label_smoothing: Any) -> float:
    ok = isinstance(label_smoothing, (int, float, np.number))
    ok = ok and not isinstance(label_smoothing, bool)
    if not ok or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            "Expected `label_smoothing` to be a float in [0, 1]. "
            f"Received: label_smoothing={label_smoothing}"
        )
    return float(label_smoothing)


def _validate_axis(axis: Any) -> int:
    if axis != -1:
        raise NotImplementedError(
            "kerasette's engine computes cross-entropy over the last axis only. "
            f"Received: axis={axis}"
        )
    return -1


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
        self.axis = _validate_axis(axis)

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
        self.axis = _validate_axis(axis)

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


_CLASSES = (
    MeanSquaredError, MeanAbsoluteError, Huber, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
)  # fmt: skip
_FUNCTION_TO_CLASS: dict[Callable, type] = {
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
    huber: Huber,
    binary_crossentropy: BinaryCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
}
ALL_OBJECTS_DICT: dict[str, type] = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({fn.__name__: cls for fn, cls in _FUNCTION_TO_CLASS.items()})
ALL_OBJECTS_DICT.update(
    {"mse": MeanSquaredError, "MSE": MeanSquaredError, "mae": MeanAbsoluteError,
     "MAE": MeanAbsoluteError, "huber_loss": Huber}
)  # fmt: skip


def serialize(loss: Loss) -> dict:
    """Returns the nested config of a loss.

    Args:
        loss: A `Loss` instance.

    Example:
        >>> serialize(Huber())["class_name"]
        'Huber'
    """
    return serialize_keras_object(loss)


def deserialize(config: Union[dict, str], custom_objects: dict | None = None) -> Loss:
    """Builds a loss from a config dict or a name.

    Args:
        config: `{"class_name": "Huber", "config": {...}}` or a name like `"mse"`.
        custom_objects: Extra names mapped to `Loss` classes.

    Example:
        >>> deserialize("mse").name
        'mean_squared_error'
    """
    obj = deserialize_keras_object(config, ALL_OBJECTS_DICT, custom_objects, "loss")
    return obj() if isinstance(obj, type) else obj


def get(identifier: Union[str, dict, Loss, Callable, None]) -> Loss | None:
    """Returns a `Loss` instance from a name, a config dict, an instance or a loss function.

    Args:
        identifier: `None`, a name (`"mse"`, `"categorical_crossentropy"`, `"Huber"`), a config
            dict, a `Loss`, or one of this module's functions.

    Example:
        >>> get("mse").engine_spec()
        ('mean_squared_error', {})
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier) and identifier in _FUNCTION_TO_CLASS:
        return _FUNCTION_TO_CLASS[identifier]()
    if callable(identifier):
        raise ValueError(
            "Only the built-in losses run in kerasette's compiled engine; a custom Python loss "
            f"cannot. Expected one of {sorted(ALL_OBJECTS_DICT)}. Received: loss={identifier!r}"
        )
    raise ValueError(
        f"Could not interpret loss identifier. Expected one of {sorted(ALL_OBJECTS_DICT)}. "
        f"Received: loss={identifier!r}"
    )
