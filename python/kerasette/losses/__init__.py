"""Loss classes and functions with Keras 3's names, defaults and math.

A `Loss` (`loss.py`) holds configuration; during `fit` the engine computes the loss from
`engine_spec()` (a kind name and a few attributes). The NumPy `__call__` and the per-sample
functions follow Keras 3 exactly (clipping with epsilon 1e-7 where Keras clips, categorical
predictions normalized by their row sum) and serve as the reference the engine is tested against.
The losses live by family (`regression_losses`, `probabilistic_losses`, `hinge_losses`); this
module keeps the names: `get`, `serialize`, `deserialize` and the aliases Keras 2 and 3 accept.
"""

from __future__ import annotations

from typing import Callable, Union

from kerasette.losses.hinge_losses import (
    CategoricalHinge,
    Hinge,
    SquaredHinge,
    categorical_hinge,
    hinge,
    squared_hinge,
)  # fmt: skip
from kerasette.losses.loss import _EPSILON, _REDUCTIONS, Loss, _reduce, _same_rank  # noqa: F401
from kerasette.losses.probabilistic_losses import (
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
from kerasette.losses.regression_losses import (
    CosineSimilarity,
    Huber,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    cosine_similarity,
    huber,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)  # fmt: skip
from kerasette.saving.serialization import (
    UnknownObjectError, could_not_interpret, deserialize_keras_object,
    serialize_keras_object)

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh

_CLASSES = (
    MeanSquaredError, MeanAbsoluteError, Huber, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, LogCosh, CosineSimilarity, BinaryCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, KLDivergence, Poisson, Hinge,
    SquaredHinge, CategoricalHinge,
)  # fmt: skip
_FUNCTION_TO_CLASS: dict[Callable, type] = {
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
    huber: Huber,
    binary_crossentropy: BinaryCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
    log_cosh: LogCosh,
    cosine_similarity: CosineSimilarity,
    kl_divergence: KLDivergence,
    poisson: Poisson,
    hinge: Hinge,
    squared_hinge: SquaredHinge,
    categorical_hinge: CategoricalHinge,
}
ALL_OBJECTS_DICT: dict[str, type] = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({fn.__name__: cls for fn, cls in _FUNCTION_TO_CLASS.items()})
# Keras 3's aliases, and the Keras 2 names `kullback_leibler_divergence` and `logcosh`, by the
# function each stands for (the name saved files use: Keras 3's `.h5` loader cannot resolve most
# aliases).
ALIASES: dict[str, str] = {
    "mse": "mean_squared_error", "MSE": "mean_squared_error",
    "mae": "mean_absolute_error", "MAE": "mean_absolute_error", "huber_loss": "huber",
    "mape": "mean_absolute_percentage_error", "MAPE": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error", "MSLE": "mean_squared_logarithmic_error",
    "bce": "binary_crossentropy", "BCE": "binary_crossentropy",
    "kld": "kl_divergence", "KLD": "kl_divergence",
    "kullback_leibler_divergence": "kl_divergence", "logcosh": "log_cosh",
}  # fmt: skip
ALL_OBJECTS_DICT.update({alias: ALL_OBJECTS_DICT[name] for alias, name in ALIASES.items()})


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
        try:
            return deserialize(identifier)
        except UnknownObjectError as e:
            raise could_not_interpret("loss", identifier, e.valid) from e
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
    raise ValueError(f"Could not interpret loss identifier: {identifier}")
