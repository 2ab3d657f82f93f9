"""Whole-model `.h5` files in Keras's legacy layout, and `.h5` weight files.

`save_model_h5` writes the Keras 2 spelling (docs/keras-h5-format.md, sections 2, 7 and 8), which
both tf_keras and Keras 3 load. `load_model_h5` reads files from Keras 2, Keras 3 and kerasette.
Writes go to a temporary file renamed over the target at the end (`h5_io.atomic_write`).
"""

from __future__ import annotations

import warnings

import h5py

from kerasette.saving import config_compat, h5_io, h5_weights, optimizer_state
from kerasette.saving.training_config import (
    compile_from_training_config,
    keras2_training_config,
)


# ---- writing ----
def _write_model_file(path: str, model, include_optimizer: bool) -> None:
    with h5py.File(path, "w") as f:
        h5_io.write_str_attr(f, "keras_version", h5_weights.KERAS_VERSION, utf8=True)
        h5_io.write_str_attr(f, "backend", h5_weights.BACKEND, utf8=True)
        h5_io.write_str_attr(f, "model_config",
                             h5_io.json_dumps(config_compat.to_keras2_config(model)))
        if model.compiled and include_optimizer:
            h5_io.write_str_attr(f, "training_config",
                                 h5_io.json_dumps(keras2_training_config(model)))
        h5_weights.write_weights(f.create_group("model_weights"), model)
        if model.compiled and include_optimizer and model._engine_compiled:
            optimizer_state.write_optimizer_weights(f, model)


def save_model_h5(model, filepath: str, overwrite: bool = True,
                  include_optimizer: bool = True) -> None:
    """Saves architecture, weights, compile arguments and optimizer state to `filepath`."""
    h5_io.atomic_write(filepath, overwrite,
                       lambda path: _write_model_file(path, model, include_optimizer))


def save_weights_h5(model, filepath: str, overwrite: bool = True) -> None:
    """Keras 2's `save_weights` layout at the root, or Keras 3's native layout for a name
    ending in `.weights.h5` (the only name Keras 3 writes and reads that layout under)."""
    keras3 = str(filepath).endswith(".weights.h5")

    def write(path: str) -> None:
        with h5py.File(path, "w") as f:
            if keras3:
                h5_weights.write_keras3_weights(f, model)
            else:
                h5_weights.write_weights(f, model)

    h5_io.atomic_write(filepath, overwrite, write)


# ---- reading ----
def model_from_config(model_config: dict, custom_objects: dict | None,
                      filepath: str | None = None):
    """Builds a kerasette model from a Keras 2 / Keras 3 / kerasette `model_config`, read from
    the file `filepath` (named in errors) or, when it is None, from a JSON string."""
    from kerasette import layers

    where = f" saved in '{filepath}'" if filepath is not None else ""
    if not isinstance(model_config, dict) or "class_name" not in model_config:
        raise ValueError(f"The model config{where} is not a Keras model config.")
    registry = layers.registry()
    config_compat.check_layer_classes(model_config, registry, custom_objects)
    name = model_config["class_name"]
    try:
        config = config_compat.from_keras_config(model_config)
        if custom_objects and name in custom_objects:
            return custom_objects[name].from_config(config.get("config", {}))
        return registry[name].from_config(config.get("config", {}), custom_objects=custom_objects)
    except (AttributeError, KeyError, TypeError, ValueError, NotImplementedError) as e:
        # A malformed config fails wherever it is first read (AttributeError for a layer entry
        # that is not a dict); a KeyError prints as the bare key ("'layers'"): say what it is.
        detail = f"missing entry {e.args[0]!r}" if isinstance(e, KeyError) and e.args else str(e)
        raise ValueError(f"Could not rebuild the model{where}: {detail}") from e


def load_model_h5(filepath: str, custom_objects: dict | None = None, compile: bool = True):
    """Loads a model file written by Keras 2, Keras 3 or kerasette."""
    with h5_io.open_for_reading(filepath) as f:
        model_config = h5_io.read_json_attr(f, "model_config", filepath)
        if model_config is None:
            raise ValueError(f"No model config found in the file at '{filepath}'.")
        model = model_from_config(model_config, custom_objects, filepath)
        if "model_weights" not in f:
            raise ValueError(f"No `model_weights` group found in the file at '{filepath}'.")
        h5_weights.load_weights(f["model_weights"], model, filepath)
        if not compile:
            return model
        training_config = h5_io.read_json_attr(f, "training_config", filepath)
        if training_config is None:
            warnings.warn(
                f"No training configuration found in '{filepath}', so the model was *not* "
                "compiled. Compile it manually.",
                stacklevel=3,
            )
            return model
        compile_from_training_config(model, training_config, custom_objects, filepath)
        if "optimizer_weights" in f:
            optimizer_state.restore_optimizer_state(f["optimizer_weights"], model, filepath)
    return model


def load_weights_h5(model, filepath: str, by_name: bool = False,
                    skip_mismatch: bool = False) -> None:
    """Loads weights from a legacy weights file, a full model file or a Keras 3 `.weights.h5`."""
    with h5_io.open_for_reading(filepath) as f:
        if "layer_names" in f.attrs or "layer_names0" in f.attrs:
            h5_weights.load_weights(f, model, filepath, by_name, skip_mismatch)
        elif "model_weights" in f:
            h5_weights.load_weights(f["model_weights"], model, filepath, by_name, skip_mismatch)
        elif "layers" in f:
            h5_weights.load_keras3_weights(f, model, filepath, skip_mismatch)
        else:
            raise ValueError(
                f"'{filepath}' holds no Keras weights: expected a `layer_names` attribute, a "
                "`model_weights` group or a Keras 3 `layers` group."
            )
