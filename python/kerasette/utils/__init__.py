"""Public utilities: label and array helpers, the progress bar, seeding, and training plots.

Importing this package needs neither the compiled engine nor matplotlib: `set_random_seed` imports
the engine-backed seed state when called, and `plot_history` imports matplotlib when drawing.
"""

from __future__ import annotations

import random

import numpy as np

from kerasette.utils.model_visualization import plot_model
from kerasette.utils.numerical_utils import normalize, to_categorical
from kerasette.utils.plotting import plot_history
from kerasette.utils.progbar import Progbar
from kerasette.utils.py_dataset import PyDataset, Sequence
from kerasette.utils.sequence_utils import pad_sequences

__all__ = [
    "Progbar", "PyDataset", "Sequence", "clear_session", "normalize", "pad_sequences",
    "plot_history", "plot_model", "set_random_seed", "to_categorical",
]


# Keras 3 exports it under `keras.utils` too. The import waits for the call, which keeps this
# package free of the compiled engine at import time.
def clear_session(free_memory: bool = True) -> None:
    """`kerasette.backend.clear_session`: automatic layer and model names start over."""
    from kerasette.backend import clear_session as _clear_session

    _clear_session(free_memory)


def set_random_seed(seed: int) -> None:
    """Sets all random seeds: Python's `random`, NumPy's global generator, and kerasette's.

    kerasette's seed makes initializers and dropout that were given no seed of their own draw
    reproducible seeds, so the same program run twice gives bit-identical weights.

    Args:
        seed: Integer, the random seed to use.

    Example:

    >>> kerasette.utils.set_random_seed(1337)
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(
            "Expected `seed` argument to be an integer. "
            f"Received: seed={seed} (of type {type(seed)})"
        )
    seed = int(seed)
    from kerasette import _random  # imports the compiled engine, so only when actually seeding

    _random.set_global_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
