"""Optimizers with Keras 3's signatures, defaults and configs; the engine runs the updates.

An `Optimizer` holds hyper-parameters and hands the engine `engine_spec()` (a kind and attributes).
After `compile`, the model calls `optimizer._bind(graph)`: from then on `learning_rate` and
`iterations` read and write the engine's values, so callbacks that change the rate (or a reload
that restores the step count) act on the running optimizer. `_unbind()` copies them back.
"""

from __future__ import annotations

from typing import Union

from kerasette.optimizers import schedules
from kerasette.optimizers.adam_family import Adam, Adamax, AdamW, Lion, Nadam
from kerasette.optimizers.base import Optimizer
from kerasette.optimizers.sgd_family import SGD, Adadelta, Adagrad, Ftrl, RMSprop
from kerasette.saving.serialization import (
    UnknownObjectError, could_not_interpret, deserialize_keras_object,
    serialize_keras_object)

# Keras 3 looks optimizer names up lowercased, so "SGD", "sgd" and "Adam" all resolve.
ALL_OBJECTS_DICT: dict[str, type] = {
    cls.__name__.lower(): cls
    for cls in (SGD, RMSprop, Adagrad, Adadelta, Adam, AdamW, Nadam, Adamax, Lion, Ftrl)
}


class _LowercaseNames(dict):
    """A lookup table that matches class names whatever their case."""

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and dict.__contains__(self, key.lower())

    def __getitem__(self, key: str) -> type:
        return dict.__getitem__(self, key.lower())


_LOOKUP = _LowercaseNames(ALL_OBJECTS_DICT)


def serialize(optimizer: Optimizer) -> dict:
    """Returns the nested config of an optimizer.

    Args:
        optimizer: An `Optimizer` instance.

    Example:
        >>> serialize(Adam())["class_name"]
        'Adam'
    """
    return serialize_keras_object(optimizer)


def deserialize(config: Union[dict, str], custom_objects: dict | None = None) -> Optimizer:
    """Builds an optimizer from a config dict (Keras 2 or 3) or a name.

    Args:
        config: `{"class_name": "Adam", "config": {...}}` (Keras 2's `"Custom>Adam"` and its
            `is_legacy_optimizer`/`jit_compile` keys accepted), or a name like `"adam"`.
        custom_objects: Extra names mapped to `Optimizer` classes.

    Example:
        >>> deserialize({"class_name": "Custom>Adam", "config": {"learning_rate": 0.005}}).name
        'adam'
    """
    obj = deserialize_keras_object(config, _LOOKUP, custom_objects, "optimizer")
    return obj() if isinstance(obj, type) else obj


def get(identifier: Union[str, dict, Optimizer]) -> Optimizer:
    """Returns an optimizer from a name, a config dict or an instance.

    Args:
        identifier: A name (`"adam"`, `"SGD"`), a config dict, or an `Optimizer`.

    Example:
        >>> get("rmsprop").name
        'rmsprop'
    """
    if isinstance(identifier, (str, dict)):
        try:
            obj = deserialize(identifier)
        except UnknownObjectError as e:
            raise could_not_interpret("optimizer", identifier, e.valid) from e
    elif isinstance(identifier, type) and issubclass(identifier, Optimizer):
        obj = identifier()
    else:
        obj = identifier
    if isinstance(obj, Optimizer):
        return obj
    raise ValueError(f"Could not interpret optimizer identifier: {identifier}")


__all__ = [
    "Optimizer", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "AdamW", "Nadam", "Adamax",
    "Lion", "Ftrl", "schedules",
    "serialize", "deserialize", "get",
]  # fmt: skip
