"""Layer weights in HDF5: Keras's legacy layout (`layer_names` + one group per layer with
`weight_names`, as `model_weights/` of a model file or at the root of a `save_weights` file) and
Keras 3's native `.weights.h5` layout (`layers/<name>/vars/0..N`).

Loading follows Keras: by position (saved layers that have weights, in order, paired with the
model's layers that have weights) or, with `by_name`, by layer name. Every array is checked
before any is assigned, so a bad file leaves the model unchanged.
"""

from __future__ import annotations

import re
import warnings

import h5py
import numpy as np

from kerasette.saving import h5_io

KERAS_VERSION = "2.21.0"  # the Keras 2 version whose layout this writes (tf_keras 2.21)
BACKEND = "tensorflow"


def _is_model(layer) -> bool:
    from kerasette.models.model import Model

    return isinstance(layer, Model)


def _keras3_paths(model, prefix: str = "") -> list[tuple[str, object]]:
    """Keras 3 names each layer's group in a `.weights.h5` after its class, numbered per class in
    model order (`dense`, `dense_1`, `conv2d`, ...), not after the layer's own name. A nested
    model's layers are numbered afresh under `<its group>/layers/`; the weights belong to those
    layers, not to the model's own group."""
    used: dict[str, int] = {}
    out = []
    for layer in model.layers:
        # kerasette's functional class is `Model`; Keras 3's is `Functional`.
        class_name = type(layer).__name__ if type(layer).__name__ != "Model" else "Functional"
        name = re.sub(r"\W+", "", class_name)
        name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
        name = re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
        if name in used:
            used[name] += 1
            name = f"{name}_{used[name]}"
        else:
            used[name] = 0
        out.append((prefix + name, layer))
        if _is_model(layer):
            out.extend(_keras3_paths(layer, f"{prefix}{name}/layers/"))
    return out


def _layers_with_weights(model) -> list:
    return [layer for layer in model.layers if layer.weights]


# ---- writing ----
def _weight_names(layer) -> list[str]:
    names, seen = [], set()
    for w in layer.weights:
        name = f"{w.path}:0"
        while name in seen:  # never expected; keeps the datasets distinct whatever happens
            name = name[:-2] + "_:0"
        seen.add(name)
        names.append(name)
    return names


def _little_endian(w) -> np.ndarray:
    """A weight's value as Keras stores it: little-endian float32, or int64 for a counter."""
    return np.asarray(w.numpy(), dtype=np.dtype(w.dtype).newbyteorder("<"))


def write_weights(group: h5py.Group, model) -> None:
    """Writes the legacy layout into `group` (a file root or `model_weights/`)."""
    layers = model.layers
    h5_io.write_str_list_attr(group, "layer_names", [layer.name for layer in layers])
    h5_io.write_str_attr(group, "backend", BACKEND)
    h5_io.write_str_attr(group, "keras_version", KERAS_VERSION)
    for layer in layers:
        g = group.create_group(layer.name)
        names = _weight_names(layer)
        h5_io.write_str_list_attr(g, "weight_names", names)
        for name, w in zip(names, layer.weights):
            g.create_dataset(name, data=_little_endian(w))
    top = group.create_group("top_level_model_weights")
    h5_io.write_str_list_attr(top, "weight_names", [])


def write_keras3_weights(f: h5py.File, model) -> None:
    """Keras 3's native `.weights.h5` layout (model weights only)."""
    layers_group = f.create_group("layers")
    for path, layer in _keras3_paths(model):
        vars_group = layers_group.require_group(path).create_group("vars")
        h5_io.write_str_attr(vars_group, "name", layer.name, utf8=True)
        for i, w in enumerate([] if _is_model(layer) else layer.weights):
            vars_group.create_dataset(str(i), data=_little_endian(w))
    h5_io.write_str_attr(f.create_group("vars"), "name", model.name, utf8=True)


# ---- reading ----
def _saved_layer(group: h5py.Group, layer_name: str, filepath: str):
    if layer_name not in group or not isinstance(group[layer_name], h5py.Group):
        raise ValueError(f"Layer '{layer_name}' is listed in '{filepath}' but has no group.")
    g = group[layer_name]
    names = h5_io.read_str_list_attr(g, "weight_names")
    values = []
    for name in names:
        if name not in g:
            raise ValueError(
                f"Weight '{name}' of layer '{layer_name}' is listed in '{filepath}' but its "
                "dataset is missing."
            )
        values.append(h5_io.read_array(g[name], f"weight '{name}' of layer '{layer_name}'"))
    return names, values


def _mismatch(layer, saved_name: str, names, values, filepath: str) -> str | None:
    """Why the saved arrays do not fit `layer` (None when they do); bad dtypes always raise."""
    for name, value in zip(names, values):
        if value.dtype.kind not in "fiu":
            raise ValueError(
                f"Weight '{name}' of layer '{saved_name}' in '{filepath}' has dtype "
                f"{value.dtype}; expected floating-point values."
            )
    weights = layer.weights
    if len(values) != len(weights):
        return (
            f"Layer '{layer.name}' expects {len(weights)} weight(s), but the saved layer "
            f"'{saved_name}' in '{filepath}' has {len(values)}."
        )
    for w, name, value in zip(weights, names, values):
        if tuple(value.shape) != tuple(w.shape):
            return (
                f"Shape mismatch in layer '{layer.name}' for weight '{name}' (saved as layer "
                f"'{saved_name}' in '{filepath}'): the model's weight `{w.path}` has shape "
                f"{tuple(w.shape)}, the saved array has shape {tuple(value.shape)}."
            )
    return None


def _assign(pairs) -> None:
    for layer, values in pairs:
        for w, value in zip(layer.weights, values):
            # np.array, not ascontiguousarray, which makes a scalar (a counter) 1-D.
            w.assign(np.array(value, dtype=np.float32))


def _check_all(candidates, filepath: str, skip_mismatch: bool) -> list:
    """[(layer, saved name, names, values)] -> [(layer, values)], skipping or raising."""
    pairs = []
    for layer, saved_name, names, values in candidates:
        problem = _mismatch(layer, saved_name, names, values, filepath)
        if problem is None:
            pairs.append((layer, values))
        elif skip_mismatch:
            warnings.warn(f"Skipping loading weights for layer '{layer.name}': {problem}",
                          stacklevel=4)
        else:
            raise ValueError(problem)
    return pairs


def load_weights(group: h5py.Group, model, filepath: str, by_name: bool = False,
                 skip_mismatch: bool = False) -> None:
    """Loads the legacy layout in `group` into `model`."""
    layer_names = h5_io.read_str_list_attr(group, "layer_names")
    saved = []
    for name in layer_names:
        names, values = _saved_layer(group, name, filepath)
        if names:
            saved.append((name, names, values))
    if by_name:
        index = {name: (names, values) for name, names, values in saved}
        candidates = [(layer, layer.name) + index[layer.name]
                      for layer in _layers_with_weights(model) if layer.name in index]
    else:
        layers = _layers_with_weights(model)
        if len(layers) != len(saved):
            raise ValueError(
                f"Layer count mismatch when loading weights from '{filepath}': the model has "
                f"{len(layers)} layers with weights ({[l.name for l in layers]}), the file "
                f"{len(saved)} ({[s[0] for s in saved]})."
            )
        candidates = [(layer, s[0], s[1], s[2]) for layer, s in zip(layers, saved)]
    _assign(_check_all(candidates, filepath, skip_mismatch))


def load_keras3_weights(f: h5py.File, model, filepath: str, skip_mismatch: bool = False) -> None:
    """Loads Keras 3's native layout (layer groups named as `_keras3_paths` says)."""
    layers_group = f["layers"]
    candidates, missing = [], []
    for path, layer in _keras3_paths(model):
        if not layer.weights or _is_model(layer):
            continue
        if path not in layers_group or "vars" not in layers_group[path]:
            missing.append(f"{layer.name} (as '{path}')")
            continue
        vars_group = layers_group[path]["vars"]
        keys = list(vars_group.keys())
        if not all(k.isdigit() for k in keys):
            raise ValueError(
                f"Unexpected entries {keys} under layers/{path}/vars in '{filepath}'."
            )
        keys.sort(key=int)  # "10" after "9", not after "1"
        values = [h5_io.read_array(vars_group[k], f"variable {k} of layer '{layer.name}'")
                  for k in keys]
        candidates.append((layer, layer.name, keys, values))
    if missing:
        message = (
            f"Layers {missing} have no saved weights in '{filepath}' (Keras 3 `.weights.h5` "
            "files name layers by class and position; the file holds "
            f"{sorted(layers_group.keys())})."
        )
        if not skip_mismatch:
            raise ValueError(message)
        warnings.warn(message, stacklevel=3)
    _assign(_check_all(candidates, filepath, skip_mismatch))
