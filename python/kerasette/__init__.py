"""kerasette: Keras's API on a compiled C++ engine.

    import kerasette as keras
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])

Submodules other than `layers` and `models` load on first use, which keeps `import kerasette` fast.
"""

import importlib

from kerasette._core import __version__
from kerasette import layers, models
from kerasette.layers import Input, InputLayer, Layer
from kerasette.models import Model, Sequential

_LAZY = {"activations", "applications", "backend", "callbacks", "config", "datasets",
         "initializers", "losses", "metrics", "ops", "optimizers", "preprocessing", "regularizers",
         "saving", "utils"}


def __getattr__(name):
    if name in _LAZY:
        module = importlib.import_module(f"kerasette.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'kerasette' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | _LAZY)


__all__ = [
    "Input", "InputLayer", "Layer", "Model", "Sequential", "activations", "backend", "callbacks",
    "config", "datasets", "initializers", "layers", "losses", "metrics", "models", "optimizers",
    "preprocessing", "regularizers", "saving", "utils", "__version__",
]
