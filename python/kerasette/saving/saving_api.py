"""`save_model` / `load_model` / weights files: picks the format from the file name.

`.h5` / `.hdf5` (or `save_format="h5"`): Keras's legacy HDF5 layout (`legacy_h5`). Nothing in a
file is ever executed: classes are looked up by name among kerasette's own and `custom_objects`.
"""

from __future__ import annotations

import os

_H5_SUFFIXES = (".h5", ".hdf5")


def _legacy_h5():
    """The HDF5 module, imported on first use: h5py is an optional dependency."""
    try:
        from kerasette.saving import legacy_h5
    except ImportError as e:
        raise ImportError(
            "Saving and loading `.h5` files requires h5py: `pip install h5py`."
        ) from e
    return legacy_h5


def _is_h5(filepath, save_format: str | None = None) -> bool:
    if save_format is not None:
        if save_format != "h5":
            raise ValueError(
                f"Expected `save_format` to be 'h5'. Received: save_format={save_format!r}"
            )
        return True
    return str(filepath).lower().endswith(_H5_SUFFIXES)


def _check_keras_suffix(filepath) -> None:
    raise ValueError(
        "Invalid filepath extension for saving. Please add a `.h5` (or `.hdf5`) extension: "
        "kerasette writes Keras's HDF5 format (the `.keras` zip format is not supported yet). "
        "Received: "
        f"filepath={filepath}"
    )


def save_model(model, filepath, overwrite: bool = True, save_format: str | None = None,
               include_optimizer: bool = True) -> None:
    """Saves a model (architecture, weights, compile arguments, optimizer state).

    Args:
        model: A built kerasette `Model`.
        filepath: Destination; `.h5`/`.hdf5`, or any name with `save_format="h5"`.
        overwrite: Whether to replace an existing file (if False, an existing file raises
            `FileExistsError`; Keras asks interactively instead).
        save_format: `"h5"`, or `None` to decide from the name.
        include_optimizer: Whether to save the compile arguments and optimizer state.

    Example:
        >>> model.save("model.h5")
    """
    filepath = os.fspath(filepath)
    if _is_h5(filepath, save_format):
        return _legacy_h5().save_model_h5(model, filepath, overwrite, include_optimizer)
    _check_keras_suffix(filepath)


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True):
    """Loads a model saved by kerasette, Keras 2 (tf_keras) or Keras 3 in the `.h5` format.

    Args:
        filepath: The file.
        custom_objects: Names mapped to classes for layers kerasette does not know.
        compile: Whether to compile the model from the file's training configuration and
            restore the optimizer state.

    Example:
        >>> model = kerasette.models.load_model("model.h5")
    """
    filepath = os.fspath(filepath)
    if str(filepath).endswith(".keras"):
        raise ValueError(
            "kerasette reads Keras's `.h5` format; the Keras 3 `.keras` zip format is not "
            f"supported yet. Received: filepath={filepath}"
        )
    return _legacy_h5().load_model_h5(filepath, custom_objects, compile)


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Saves the model's weights: Keras 2's layout, or Keras 3's for a `.weights.h5` name."""
    filepath = os.fspath(filepath)
    if not str(filepath).lower().endswith(_H5_SUFFIXES):
        raise ValueError(
            "kerasette saves weights in HDF5: the file name must end in `.h5` (or "
            f"`.weights.h5` for Keras 3's layout). Received: filepath={filepath}"
        )
    _legacy_h5().save_weights_h5(model, filepath, overwrite)


def load_weights(model, filepath, by_name: bool = False, skip_mismatch: bool = False) -> None:
    """Loads weights from an HDF5 file written by kerasette, Keras 2 or Keras 3.

    Args:
        model: The model to fill.
        filepath: A weights file, a full model file, or a Keras 3 `.weights.h5`.
        by_name: Match layers by name instead of by position.
        skip_mismatch: Skip (with a warning naming it) each layer whose saved weights do not
            fit, instead of raising.
    """
    _legacy_h5().load_weights_h5(model, os.fspath(filepath), by_name, skip_mismatch)
