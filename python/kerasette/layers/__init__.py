"""Keras's layers, by their Keras names."""

from kerasette.layers.activation_layers import ELU, LeakyReLU, ReLU, Softmax
from kerasette.layers.core import (
    Activation,
    Dense,
    Dropout,
    Flatten,
    Input,
    InputLayer,
    Permute,
    Reshape,
)
from kerasette.layers.convolutional import Conv1D, Conv2D
from kerasette.layers.layer import KerasTensor, Layer
from kerasette.layers.normalization import BatchNormalization
from kerasette.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from kerasette.layers.reshaping import (
    Cropping1D,
    Cropping2D,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
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
    Activation, Dense, Dropout, ELU, Flatten, InputLayer, LeakyReLU, Permute, ReLU, Reshape,
    Softmax,
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


for _cls in (
    AveragePooling1D, AveragePooling2D, BatchNormalization, Conv1D, Conv2D, Cropping1D,
    Cropping2D, GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D,
    GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D, UpSampling1D, UpSampling2D, ZeroPadding1D,
    ZeroPadding2D,
):
    register(_cls)
del _cls

# Keras's short names for the pooling layers: the same classes, so configs carry the long names.
MaxPool1D, MaxPool2D = MaxPooling1D, MaxPooling2D
AvgPool1D, AvgPool2D = AveragePooling1D, AveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
_ALIASES = [
    "AvgPool1D", "AvgPool2D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D",
    "GlobalMaxPool2D", "MaxPool1D", "MaxPool2D",
]


__all__ = [c.__name__ for c in _LAYER_CLASSES] + _ALIASES + [
    "Input", "KerasTensor", "Layer", "registry",
]
