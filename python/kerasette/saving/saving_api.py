"""`save_model` / `load_model` / weights files: picks the format from the file name.

`.keras` (or `save_format="keras"`): Keras 3's native zip format (`keras_archive`). `.h5` /
`.hdf5` (or `save_format="h5"`): Keras's legacy HDF5 layout (`legacy_h5`). Nothing in a file is
ever executed: classes are looked up by name among kerasette's own and `custom_objects`.
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


def _keras_archive():
    """The `.keras` module (its weights are HDF5 too, so it needs h5py as well)."""
    try:
        from kerasette.saving import keras_archive
    except ImportError as e:
        raise ImportError(
            "Saving and loading `.keras` files requires h5py: `pip install h5py`."
        ) from e
    return keras_archive


def _save_format(filepath: str, save_format: str | None) -> str:
    if save_format is not None:
        if save_format not in ("h5", "keras"):
            raise ValueError(
                "Expected `save_format` to be 'keras' or 'h5'. "
                f"Received: save_format={save_format!r}"
            )
        return save_format
    name = filepath.lower()
    if name.endswith(".keras"):
        return "keras"
    if name.endswith(_H5_SUFFIXES):
        return "h5"
    raise ValueError(
        "Invalid filepath extension for saving. Please add either a `.keras` extension for the "
        "native Keras format (recommended) or a `.h5` extension. Received: "
        f"filepath={filepath}"
    )


def save_model(model, filepath, overwrite: bool = True, save_format: str | None = None,
               include_optimizer: bool = True) -> None:
    """Saves a model (architecture, weights, compile arguments, optimizer state).

    Args:
        model: A built kerasette `Model`.
        filepath: Destination: `.keras` (Keras 3's zip format), `.h5`/`.hdf5` (the legacy HDF5
            format), or any name with `save_format`.
        overwrite: Whether to replace an existing file (if False, an existing file raises
            `FileExistsError`; Keras asks interactively instead).
        save_format: `"keras"`, `"h5"`, or `None` to decide from the name.
        include_optimizer: Whether to save the compile arguments and optimizer state.

    Example:
        >>> model.save("model.keras")
    """
    filepath = str(os.fspath(filepath))
    check_built(model)
    if _save_format(filepath, save_format) == "keras":
        return _keras_archive().save_model_keras(model, filepath, overwrite, include_optimizer)
    return _legacy_h5().save_model_h5(model, filepath, overwrite, include_optimizer)


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True):
    """Loads a model saved by kerasette, Keras 3 (`.keras` or `.h5`) or Keras 2 (`.h5`).

    Args:
        filepath: The file: a `.keras` zip archive, or an HDF5 file.
        custom_objects: Names mapped to classes for layers kerasette does not know.
        compile: Whether to compile the model from the file's training configuration and
            restore the optimizer state.
        safe_mode: Accepted for Keras compatibility. kerasette is always safe: it never runs
            code from a file, so a `Lambda` layer is refused even with `safe_mode=False`.

    Example:
        >>> model = kerasette.models.load_model("model.keras")
    """
    filepath = str(os.fspath(filepath))
    # A zip is a `.keras` archive whatever its name (`save_format="keras"` writes any name).
    if filepath.lower().endswith(".keras") or _is_zip(filepath):
        return _keras_archive().load_model_keras(filepath, custom_objects, compile)
    return _legacy_h5().load_model_h5(filepath, custom_objects, compile)


def _is_zip(filepath: str) -> bool:
    import zipfile

    return os.path.isfile(filepath) and zipfile.is_zipfile(filepath)


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Saves the model's weights: Keras 2's layout, or Keras 3's for a `.weights.h5` name."""
    filepath = os.fspath(filepath)
    if not str(filepath).lower().endswith(_H5_SUFFIXES):
        raise ValueError(
            "kerasette saves weights in HDF5: the file name must end in `.h5` (or "
            f"`.weights.h5` for Keras 3's layout). Received: filepath={filepath}"
        )
    check_built(model)
    _legacy_h5().save_weights_h5(model, filepath, overwrite)


def check_built(model) -> None:
    """An unbuilt model has no weights: writing its file would replace a good one with nothing."""
    if not model.built:
        raise ValueError(
            f"The model '{model.name}' has not been built yet, so it has no weights to save. "
            "Build it (or call it on data) first."
        )


def load_weights(model, filepath, by_name: bool = False, skip_mismatch: bool = False) -> None:
    """Loads weights from an HDF5 file or `.keras` archive written by kerasette, Keras 2 or 3.

    Args:
        model: The model to fill.
        filepath: A weights file, a full model file (`.h5` or `.keras`), or a Keras 3
            `.weights.h5`.
        by_name: Match layers by name instead of by position (`.h5` files only).
        skip_mismatch: Skip (with a warning naming it) each layer whose saved weights do not
            fit, instead of raising.
    """
    filepath = str(os.fspath(filepath))
    # Keras 3 reads the weights of a whole `.keras` archive too.
    if filepath.lower().endswith(".keras") or _is_zip(filepath):
        if by_name:
            raise ValueError(
                "Argument `by_name` is only supported for weights in the legacy `.h5` format. "
                f"Received: filepath={filepath}, by_name=True"
            )
        return _keras_archive().load_weights_keras(model, filepath, skip_mismatch)
    _legacy_h5().load_weights_h5(model, filepath, by_name, skip_mismatch)
