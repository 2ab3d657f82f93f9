"""Keras's layers, by their Keras names."""

from kerasette.layers.activation_layers import ELU, LeakyReLU, ReLU, Softmax
from kerasette.layers.core import (
    Activation,
    Dense,
    Dropout,
    Flatten,
    Input,
    InputLayer,
    Reshape,
)
from kerasette.layers.layer import KerasTensor, Layer
from kerasette.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)

_LAYER_CLASSES = [
    Activation, Dense, Dropout, ELU, Flatten, InputLayer, LeakyReLU, ReLU, Reshape, Softmax,
    Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract,
]


def registry() -> dict:
    """Layer classes by Keras class name, for rebuilding models from configs."""
    from kerasette.models.model import Model
    from kerasette.models.sequential import Sequential

    out = {cls.__name__: cls for cls in _LAYER_CLASSES}
    out.update({"Sequential": Sequential, "Functional": Model, "Model": Model})
    return out


def register(cls):
    """Adds a layer class to the names models can be rebuilt from (used by layer modules)."""
    _LAYER_CLASSES.append(cls)
    return cls


__all__ = [c.__name__ for c in _LAYER_CLASSES] + ["Input", "KerasTensor", "Layer", "registry"]
