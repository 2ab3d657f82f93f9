"""Keras's `keras.preprocessing` namespace, for scripts that import `pad_sequences` from there."""

from kerasette.preprocessing import sequence

__all__ = ["sequence"]
