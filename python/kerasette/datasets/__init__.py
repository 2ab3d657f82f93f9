"""Datasets in Keras's `load_data()` style."""

from kerasette.datasets import digits, fashion_mnist, mnist

__all__ = ["digits", "fashion_mnist", "mnist"]
