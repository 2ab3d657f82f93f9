"""Saving and loading: configs of nested Keras objects (`serialization`), model files."""

from kerasette.saving.serialization import deserialize_keras_object, serialize_keras_object

__all__ = ["deserialize_keras_object", "serialize_keras_object"]
