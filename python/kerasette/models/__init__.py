"""Models: `Model` (functional), `Sequential`, and loading saved ones."""

from kerasette.models.model import Model
from kerasette.models.sequential import Sequential


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved with `model.save()` (or by Keras 2/3 in the legacy .h5 format)."""
    from kerasette.saving import load_model as _load

    return _load(filepath, custom_objects=custom_objects, compile=compile)


def clone_model(model):
    """A new model of the same architecture with freshly initialized weights."""
    return type(model).from_config(model.get_config())


__all__ = ["Model", "Sequential", "load_model", "clone_model"]
