"""Saving and loading: configs of nested Keras objects (`serialization`), model files
(`saving_api`: Keras 3's `.keras` zip format, and Keras's `.h5` format, read from and written for
both Keras 2 and Keras 3)."""

from kerasette.saving.saving_api import load_model, load_weights, save_model, save_weights
from kerasette.saving.serialization import deserialize_keras_object, serialize_keras_object

__all__ = [
    "deserialize_keras_object", "serialize_keras_object", "save_model", "load_model",
    "save_weights", "load_weights",
]  # fmt: skip
