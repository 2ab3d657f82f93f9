"""Keras's layers, by their Keras names."""

from kerasette.layers.activation_layers import ELU, LeakyReLU, ReLU, Softmax
from kerasette.layers.core import (
    Activation,
    Dense,
    Dropout,
    Flatten,
    Identity,
    Input,
    InputLayer,
    Permute,
    Reshape,
)
from kerasette.layers.convolutional import Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose
from kerasette.layers.embedding import Embedding
from kerasette.layers.layer import KerasTensor, Layer
from kerasette.layers.normalization import BatchNormalization, LayerNormalization
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
from kerasette.layers.preprocessing import Normalization, Rescaling
from kerasette.layers.regularization import (
    ActivityRegularization,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
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


def serialize(layer: Layer) -> dict:
    """A layer's config in Keras's nested form, `{"module", "class_name", "config", ...}`.

    Example:
        >>> serialize(Dense(3))["class_name"]
        'Dense'
    """
    from kerasette.saving.serialization import serialize_keras_object

    return serialize_keras_object(layer)


def deserialize(config: dict, custom_objects: dict | None = None) -> Layer:
    """A new layer from `serialize`'s dict (or Keras 2's or Keras 3's).

    Args:
        config: `{"class_name": ..., "config": ...}`.
        custom_objects: Dict of names to layer classes kerasette does not define.

    Example:
        >>> deserialize(serialize(Dense(3))).units
        3
    """
    from kerasette.saving.serialization import deserialize_keras_object

    return deserialize_keras_object(config, registry(), custom_objects, "layer")


def register(cls):
    """Adds a layer class to the names models can be rebuilt from (used by layer modules)."""
    _LAYER_CLASSES.append(cls)
    return cls


for _cls in (
    ActivityRegularization, AveragePooling1D, AveragePooling2D, BatchNormalization, Conv1D,
    Conv1DTranspose, Conv2D, Conv2DTranspose, Cropping1D, Cropping2D, Embedding, GaussianDropout,
    GaussianNoise, GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D,
    GlobalMaxPooling2D, Identity, LayerNormalization, MaxPooling1D, MaxPooling2D, Normalization,
    Rescaling, SpatialDropout1D, SpatialDropout2D, UpSampling1D, UpSampling2D, ZeroPadding1D,
    ZeroPadding2D,
):
    register(_cls)
del _cls

# Keras's short names for the pooling layers: the same classes, so configs carry the long names.
MaxPool1D, MaxPool2D = MaxPooling1D, MaxPooling2D
AvgPool1D, AvgPool2D = AveragePooling1D, AveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
# Keras's long names for the transposed convolutions, likewise.
Convolution1DTranspose, Convolution2DTranspose = Conv1DTranspose, Conv2DTranspose
_ALIASES = [
    "AvgPool1D", "AvgPool2D", "Convolution1DTranspose", "Convolution2DTranspose",
    "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D",
    "GlobalMaxPool2D", "MaxPool1D", "MaxPool2D",
]


__all__ = [c.__name__ for c in _LAYER_CLASSES] + _ALIASES + [
    "Input", "KerasTensor", "Layer", "deserialize", "registry", "serialize",
]
