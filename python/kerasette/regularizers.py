"""Weight regularizers: L1, L2 and L1L2 penalties, as in Keras 3.

The engine adds the penalty and its gradient itself; it reads only the two float attributes `l1`
and `l2` that every regularizer here carries (0.0 when a term is absent). `__call__` computes the
same penalty in NumPy, for reference and tests.
"""

from __future__ import annotations

import math
from typing import Any, Union

import numpy as np

from kerasette.saving.serialization import (
    UnknownObjectError, could_not_interpret, deserialize_keras_object,
    serialize_keras_object)


def _validate_factor(value: Any, name: str) -> float:
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    if not ok or math.isinf(value) or math.isnan(value) or value < 0:
        raise ValueError(
            f"Invalid value for argument {name}: expected a non-negative float. "
            f"Received: {name}={value}"
        )
    return float(value)


class Regularizer:
    """Base class: a penalty `l1 * sum(|x|) + l2 * sum(x ** 2)` on a weight.

    Example:
        >>> L1L2(l1=0.1, l2=0.1)(np.array([1.0, -2.0]))
        0.8
    """

    _keras_module = "keras.regularizers"
    l1: float = 0.0
    l2: float = 0.0

    def __call__(self, x: np.ndarray) -> float:
        x = np.asarray(x, dtype=np.float64)
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * float(np.sum(np.abs(x)))
        if self.l2:
            penalty += self.l2 * float(np.sum(np.square(x)))
        return penalty

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Regularizer":
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{self.__class__.__name__}({args})"


class L1L2(Regularizer):
    """Both penalties: `l1 * sum(|x|) + l2 * sum(x ** 2)`.

    Args:
        l1: L1 factor (`None` means 0.0).
        l2: L2 factor (`None` means 0.0).

    Example:
        >>> L1L2(l1=0.01, l2=0.01).get_config()
        {'l1': 0.01, 'l2': 0.01}
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _validate_factor(0.0 if l1 is None else l1, "l1")
        self.l2 = _validate_factor(0.0 if l2 is None else l2, "l2")

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """L1 penalty `l1 * sum(|x|)`.

    Args:
        l1: L1 factor (`None` means 0.01).

    Example:
        >>> L1(0.5)(np.array([1.0, -1.0]))
        1.0
    """

    def __init__(self, l1: float = 0.01):
        self.l1 = _validate_factor(0.01 if l1 is None else l1, "l1")
        self.l2 = 0.0

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(Regularizer):
    """L2 penalty `l2 * sum(x ** 2)`.

    Args:
        l2: L2 factor (`None` means 0.01).

    Example:
        >>> L2(0.5)(np.array([2.0]))
        2.0
    """

    def __init__(self, l2: float = 0.01):
        self.l1 = 0.0
        self.l2 = _validate_factor(0.01 if l2 is None else l2, "l2")

    def get_config(self) -> dict:
        return {"l2": self.l2}


# Keras 3 exports the classes under these names too (`l1_l2` is the class, not Keras 2's function).
l1 = L1
l2 = L2
l1_l2 = L1L2

ALL_OBJECTS_DICT: dict[str, type] = {
    "Regularizer": Regularizer, "L1": L1, "L2": L2, "L1L2": L1L2,
    "regularizer": Regularizer, "l1": L1, "l2": L2, "l1_l2": L1L2,
}  # fmt: skip


def serialize(regularizer: Regularizer) -> dict:
    """Returns the nested config of a regularizer.

    Args:
        regularizer: A `Regularizer` instance.

    Example:
        >>> serialize(L2(0.01))["config"]
        {'l2': 0.01}
    """
    return serialize_keras_object(regularizer)


def deserialize(config: Union[dict, str], custom_objects: dict | None = None) -> Regularizer:
    """Builds a regularizer from a config dict or a name.

    Args:
        config: `{"class_name": "L2", "config": {"l2": 0.01}}` or a name like `"l2"`.
        custom_objects: Extra names mapped to `Regularizer` classes.

    Example:
        >>> deserialize("l1").l1
        0.01
    """
    obj = deserialize_keras_object(config, ALL_OBJECTS_DICT, custom_objects, "regularizer")
    return obj() if isinstance(obj, type) else obj


def get(identifier: Union[str, dict, Regularizer, None]) -> Regularizer | None:
    """Returns a regularizer from a name, a config dict or an instance.

    Args:
        identifier: `None`, a name (`"l2"`, `"L1L2"`), a config dict or a `Regularizer`.

    Example:
        >>> get("l2").l2
        0.01
    """
    if identifier is None:
        return None
    if isinstance(identifier, (dict, str)):
        try:
            obj = deserialize(identifier)
        except UnknownObjectError as e:
            raise could_not_interpret("regularizer", identifier, e.valid) from e
    elif isinstance(identifier, type) and issubclass(identifier, Regularizer):
        obj = identifier()
    else:
        obj = identifier
    if isinstance(obj, Regularizer):
        return obj
    if callable(obj):
        raise ValueError(
            "Custom Python regularizers cannot run in kerasette's compiled engine, which applies "
            "L1/L2 penalties only. Expected an `L1`, `L2` or `L1L2` regularizer or one of "
            f"{sorted(ALL_OBJECTS_DICT)}. Received: regularizer={identifier!r}"
        )
    raise ValueError(f"Could not interpret regularizer identifier: {identifier}")
