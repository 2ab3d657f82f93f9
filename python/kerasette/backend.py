"""Keras 3's `keras.backend` names: global settings and session state.

Classic Keras scripts write `from keras import backend as K` for `K.image_data_format()` and
`K.clear_session()`. The settings live in `kerasette.config`; this module re-exports them.
"""

from __future__ import annotations

from collections import defaultdict

from kerasette.config import backend, epsilon, floatx, image_data_format, set_image_data_format
from kerasette.layers.layer import KerasTensor, reset_unique_names

_uids: dict[str, int] = defaultdict(int)


def clear_session(free_memory: bool = True) -> None:
    """Resets the state Keras keeps between models: automatic layer and model names start over.

    kerasette keeps no graph or cached memory outside the models themselves, so `free_memory` has
    nothing more to free; it is accepted for Keras's signature.

    Example:
        >>> kerasette.backend.clear_session()
        >>> kerasette.layers.Dense(1).name
        'dense'
    """
    reset_unique_names()
    _uids.clear()


def get_uid(prefix: str = "") -> int:
    """A counter per prefix, 1 on the first call, reset by `clear_session`.

    Example:
        >>> kerasette.backend.get_uid("dense")
        1
    """
    _uids[prefix] += 1
    return _uids[prefix]


def is_keras_tensor(x) -> bool:
    """Whether `x` is a symbolic tensor (from `kerasette.Input` or a layer called on one)."""
    return isinstance(x, KerasTensor)


__all__ = [
    "backend", "clear_session", "epsilon", "floatx", "get_uid", "image_data_format",
    "is_keras_tensor", "set_image_data_format",
]
