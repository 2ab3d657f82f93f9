"""Keras 3's native `.keras` format: a zip archive of `metadata.json` (Keras version, date),
`config.json` (the serialized model, with its `build_config` and `compile_config`) and
`model.weights.h5` (the `.weights.h5` layout, plus the optimizer's variables under
`optimizer/vars`).

The config is read and written by `config_compat`, weights by `h5_weights`, the compile arguments
by `training_config` and the optimizer by `optimizer_state`; this module only packs and unpacks the
archive. Members are read into memory, never extracted, and nothing in them is executed. Writes go
to a temporary file renamed over the target at the end (`h5_io.atomic_write`).
"""

from __future__ import annotations

import datetime
import io
import json
import os
import warnings
import zipfile

import h5py

from kerasette.saving import config_compat, h5_io, h5_weights, optimizer_state
from kerasette.saving.training_config import compile_from_compile_config

KERAS_VERSION = "3.15.1"  # the Keras 3 version whose layout this writes
_METADATA = "metadata.json"
_CONFIG = "config.json"
_WEIGHTS = "model.weights.h5"


# ---- writing ----
def _weights_bytes(model, include_optimizer: bool) -> bytes:
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        h5_weights.write_keras3_weights(f, model)
        if model.compiled and include_optimizer:
            if not model._engine_compiled:
                model._compile_engine()  # Keras 3 expects a built optimizer's variables
            group = f.create_group("optimizer").create_group("vars")
            h5_io.write_str_attr(group, "name", model.optimizer.name, utf8=True)
            optimizer_state.write_keras3_optimizer_vars(group, model)
    return buffer.getvalue()


def save_model_keras(model, filepath: str, overwrite: bool = True,
                     include_optimizer: bool = True) -> None:
    """Saves architecture, weights, compile arguments and optimizer state as a `.keras` zip."""
    metadata = {
        "keras_version": KERAS_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
    }
    config = h5_io.json_dumps(
        config_compat.to_json_config(model, include_compile=model.compiled and include_optimizer))
    weights = _weights_bytes(model, include_optimizer)

    def write(path: str) -> None:
        # Keras 3 stores members uncompressed (ZIP_STORED), in this order.
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr(_METADATA, json.dumps(metadata))
            zf.writestr(_CONFIG, config)
            zf.writestr(_WEIGHTS, weights)

    h5_io.atomic_write(filepath, overwrite, write)


# ---- reading ----
def _read_archive(filepath: str) -> tuple[dict, bytes]:
    """`config.json` (parsed) and the bytes of `model.weights.h5`; every way the archive can be
    broken becomes a ValueError that names the file and the problem."""
    if not os.path.exists(filepath):
        raise ValueError(
            f"File not found: filepath={filepath}. Please ensure the file is an accessible "
            "`.keras` zip file."
        )
    if os.path.isdir(filepath):
        raise ValueError(
            f"'{filepath}' is a directory; kerasette reads `.keras` zip archives only (not "
            "Keras's unzipped `zipped=False` folders)."
        )
    try:
        with zipfile.ZipFile(filepath, "r") as zf:
            names = set(zf.namelist())
            if _CONFIG not in names:
                raise ValueError(
                    f"'{filepath}' is a zip archive but not a `.keras` model: it has no "
                    f"`{_CONFIG}` (it holds {sorted(names)})."
                )
            if _WEIGHTS not in names:
                other = sorted(n for n in names if n.startswith("model.weights"))
                raise ValueError(
                    f"'{filepath}' has no `{_WEIGHTS}`"
                    + (f" (it holds {other}: only the HDF5 weights format is supported)."
                       if other else ".")
                )
            config_text = zf.read(_CONFIG)
            weights = zf.read(_WEIGHTS)
    except zipfile.BadZipFile as e:
        raise ValueError(
            f"'{filepath}' is not a valid `.keras` file: it is not a zip archive, or the archive "
            f"is truncated or corrupted ({e})."
        ) from e
    except (EOFError, zipfile.LargeZipFile, NotImplementedError) as e:
        raise ValueError(f"Could not read the `.keras` archive '{filepath}': {e}") from e
    try:
        config = json.loads(config_text)
    except ValueError as e:
        raise ValueError(f"The `{_CONFIG}` of '{filepath}' is not valid JSON: {e}") from e
    if not isinstance(config, dict):
        raise ValueError(f"The `{_CONFIG}` of '{filepath}' is not a Keras model config.")
    return config, weights


def _open_weights(weights: bytes, filepath: str) -> h5py.File:
    try:
        return h5py.File(io.BytesIO(weights), "r")
    except OSError as e:
        raise ValueError(
            f"The `{_WEIGHTS}` inside '{filepath}' is not a readable HDF5 file ({e})."
        ) from e


def load_weights_keras(model, filepath: str, skip_mismatch: bool = False) -> None:
    """Loads only the weights of a `.keras` archive into `model` (Keras 3's `load_weights`)."""
    _, weights = _read_archive(filepath)
    with _open_weights(weights, filepath) as f:
        try:
            if "layers" not in f:
                raise ValueError(f"The `{_WEIGHTS}` inside '{filepath}' has no `layers` group.")
            h5_weights.load_keras3_weights(f, model, filepath, skip_mismatch)
        except (OSError, RuntimeError, KeyError) as e:
            raise ValueError(f"'{filepath}' could not be read: it is truncated or corrupted "
                             f"({e}).") from e


def load_model_keras(filepath: str, custom_objects: dict | None = None, compile: bool = True):
    """Loads a `.keras` archive written by Keras 3 or kerasette."""
    from kerasette.saving.legacy_h5 import model_from_config

    config, weights = _read_archive(filepath)
    model = model_from_config(config, custom_objects, filepath)
    with _open_weights(weights, filepath) as f:
        try:
            if "layers" not in f:
                raise ValueError(f"The `{_WEIGHTS}` inside '{filepath}' has no `layers` group.")
            h5_weights.load_keras3_weights(f, model, filepath)
            if not compile:
                return model
            compile_config = config.get("compile_config")
            if not compile_config:
                warnings.warn(
                    f"No training configuration found in '{filepath}', so the model was *not* "
                    "compiled. Compile it manually.",
                    stacklevel=3,
                )
                return model
            compile_from_compile_config(model, compile_config, custom_objects, filepath)
            if "optimizer/vars" in f:
                optimizer_state.restore_keras3_optimizer_vars(f["optimizer/vars"], model, filepath)
        except (OSError, RuntimeError, KeyError) as e:
            raise ValueError(f"'{filepath}' could not be read: it is truncated or corrupted "
                             f"({e}).") from e
    return model
