"""Datasets in Keras's `load_data()` style."""

from kerasette.datasets import mnist

__all__ = ["mnist"]
