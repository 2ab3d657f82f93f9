"""Models: `Model` (functional), `Sequential`, and loading saved ones."""

from kerasette.models.model import Model
from kerasette.models.sequential import Sequential


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved with `model.save()`, by Keras 3 (`.keras` or `.h5`) or by Keras 2
    (`.h5`). See `kerasette.saving.load_model`."""
    from kerasette.saving import load_model as _load

    return _load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def save_model(model, filepath, overwrite=True, **kwargs):
    """Saves a model to a `.keras` or `.h5` file: `model.save(filepath)` (see
    `kerasette.saving.save_model`)."""
    from kerasette.saving import save_model as _save

    _save(model, filepath, overwrite=overwrite, **kwargs)


def model_from_json(json_string, custom_objects=None):
    """Builds a model (freshly initialized weights) from `model.to_json()`'s string, or from the
    JSON that Keras 2 or Keras 3 writes. As in Keras 3, a JSON with a `compile_config` (that of a
    compiled model) gives a model compiled with those arguments and a fresh optimizer.

    Args:
        json_string: The JSON text.
        custom_objects: Dict of names to classes for model classes kerasette does not define.

    Example:
        >>> model = kerasette.models.model_from_json(other_model.to_json())
    """
    import json

    from kerasette.saving.legacy_h5 import model_from_config
    from kerasette.saving.training_config import compile_from_compile_config

    config = json.loads(json_string)
    model = model_from_config(config, custom_objects)
    if isinstance(config, dict) and config.get("compile_config"):
        compile_from_compile_config(model, config["compile_config"], custom_objects,
                                    "the JSON string")
    return model


def clone_model(model):
    """A new model of the same architecture with freshly initialized weights."""
    return type(model).from_config(model.get_config())


__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json", "save_model"]
