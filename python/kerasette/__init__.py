"""kerasette: Keras's API on a compiled C++ engine.

    import kerasette as keras
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
"""

from kerasette import _engine
from kerasette._core import __version__
from kerasette import (
    activations,
    callbacks,
    config,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    utils,
)
from kerasette.layers import Input, InputLayer, Layer
from kerasette.models import Model, Sequential

__all__ = [
    "Input", "InputLayer", "Layer", "Model", "Sequential", "activations", "callbacks", "config",
    "initializers", "layers", "losses", "metrics", "models", "optimizers", "regularizers", "utils",
    "__version__",
]
