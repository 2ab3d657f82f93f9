"""Model configs between Keras 2, Keras 3 and kerasette.

`from_keras_config` rewrites a `model_config` written by either Keras version into what kerasette's
`from_config` takes (section 11 of docs/keras-h5-format.md lists the differences);
`to_keras2_config` writes a kerasette model in the Keras 2 spelling, the one both Keras versions
load. `check_layer_classes` refuses classes kerasette cannot build, before anything is built.
"""

from __future__ import annotations

import copy
from typing import Any

_MODEL_CLASSES = ("Sequential", "Functional", "Model")

# Keys one Keras version writes that kerasette's layers do not take, dropped when they hold the
# value that means "feature off" (any other value is left in, so the layer refuses it loudly).
_DROP_IF_DEFAULT = {
    "quantization_config": None,  # Keras 3 Dense/Conv
    "lora_rank": None,
    "lora_alpha": None,
    "synchronized": False,  # Keras 3 BatchNormalization
    "renorm": False,
    "renorm_clipping": None,
    "renorm_momentum": 0.99,
    "input_axes": None,  # Keras 3 initializer configs
    "output_axes": None,
}
# The same, for keys that only some classes drop: Keras 3's ZeroPadding1D takes a `data_format`
# (Keras 2's and kerasette's do not); Keras 2's transposed convolutions inherit Conv's `groups`
# (Keras 3's and kerasette's have none).
_CLASS_DROP_IF_DEFAULT = {
    "ZeroPadding1D": {"data_format": "channels_last"},
    "Conv1DTranspose": {"groups": 1},
    "Conv2DTranspose": {"groups": 1},
}


def _entries(config: dict) -> list:
    inner = config.get("config", config)
    layers = inner.get("layers") if isinstance(inner, dict) else None
    return layers if isinstance(layers, list) else []


def _walk_layers(model_config: dict):
    """Yields every layer entry, nested models' layers included."""
    for entry in _entries(model_config):
        if not isinstance(entry, dict):
            continue
        yield entry
        if entry.get("class_name") in _MODEL_CLASSES:
            yield from _walk_layers(entry)


def _strip_defaults(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {
            k: _strip_defaults(v) for k, v in obj.items()
            if not (k in _DROP_IF_DEFAULT and v == _DROP_IF_DEFAULT[k])
        }  # fmt: skip
    if isinstance(obj, list):
        return [_strip_defaults(v) for v in obj]
    return obj


def _dtype_name(dtype: Any) -> Any:
    if isinstance(dtype, dict):  # Keras 3 DTypePolicy object
        return (dtype.get("config") or {}).get("name", "float32")
    return dtype


def _normalize_layer(class_name: str, config: dict) -> dict:
    config = _strip_defaults(config)
    for key, default in _CLASS_DROP_IF_DEFAULT.get(class_name, {}).items():
        if config.get(key, default) == default:
            config.pop(key, None)
    if "dtype" in config:
        config["dtype"] = _dtype_name(config["dtype"])
    if class_name == "InputLayer" and "batch_shape" in config:
        config.setdefault("batch_input_shape", config.pop("batch_shape"))
    elif class_name == "LeakyReLU" and "alpha" in config:
        config.setdefault("negative_slope", config.pop("alpha"))
    elif class_name == "BatchNormalization":
        axis = config.get("axis")
        if isinstance(axis, list) and len(axis) == 1:  # Keras 2 writes the resolved axis, [3]
            config["axis"] = axis[0]
    return config


# ---- node numbering of nested models ----
# A model built from an Input already has one call (node 0, input to output) when it is nested in
# a functional model. Keras 2 leaves that node out of configs, so its callers refer to the first
# call as node 1 (`_should_skip_first_node`); Keras 3 and kerasette count from 0. Keras 2 loops
# forever on a reference it cannot resolve, Keras 3 raises.
def _is_input_layer(entry: Any) -> bool:
    return isinstance(entry, dict) and entry.get("class_name") == "InputLayer"


def _skips_first_node(entry: dict) -> bool:
    """Whether Keras 2 numbers the calls of this nested layer from 1."""
    if entry.get("class_name") in ("Functional", "Model"):
        return True
    layers = _entries(entry)
    return entry.get("class_name") == "Sequential" and bool(layers) and _is_input_layer(layers[0])


def _keras2_refs(config: dict):
    """Yields each Keras 2 `[layer, node, tensor, ...]` reference of a functional config (none
    for Keras 3's, whose nodes are dicts and always numbered from 0)."""
    nodes = [node for entry in config.get("layers", []) if isinstance(entry, dict)
             for node in entry.get("inbound_nodes") or []]
    if not all(isinstance(node, list) for node in nodes):
        return
    for node in nodes:
        yield from (ref for ref in node if isinstance(ref, list))
    for key in ("input_layers", "output_layers"):
        refs = config.get(key) or []
        if isinstance(refs, dict):  # a dict of inputs or outputs
            refs = list(refs.values())
        yield from ([refs] if refs and not isinstance(refs[0], list) else refs)


def _shift_nested_model_nodes(model_config: dict, delta: int) -> None:
    """Adds `delta` to Keras 2 references to nested models that skip their first node: +1 when
    writing, -1 when reading (unless a reference to node 0 shows a file that counts from 0)."""
    inner = model_config.get("config")
    if model_config.get("class_name") not in ("Functional", "Model") or not isinstance(inner, dict):
        return
    skipping = {e.get("name") for e in _entries(model_config)
                if isinstance(e, dict) and _skips_first_node(e)}
    refs = [r for r in _keras2_refs(inner)
            if len(r) >= 2 and r[0] in skipping and isinstance(r[1], int)]
    if delta < 0:
        skipping -= {r[0] for r in refs if r[1] == 0}
    for ref in refs:
        if ref[0] in skipping:
            ref[1] += delta


def from_keras_config(model_config: dict) -> dict:
    """A copy of a Keras 2 or Keras 3 `model_config` that kerasette's `from_config` reads."""
    model_config = copy.deepcopy(model_config)
    _shift_nested_model_nodes(model_config, -1)
    for entry in _walk_layers(model_config):
        if entry.get("class_name") in _MODEL_CLASSES:
            _shift_nested_model_nodes(entry, -1)
        elif isinstance(entry.get("config"), dict):
            entry["config"] = _normalize_layer(entry["class_name"], entry["config"])
    return model_config


def check_layer_classes(model_config: dict, registry: dict, custom_objects: dict | None) -> None:
    """Raises a ValueError naming the first layer whose class kerasette cannot build."""
    known = set(registry) | set(custom_objects or {})
    top = model_config.get("class_name")
    if top not in known:
        raise ValueError(
            f"Unknown model class '{top}'. kerasette rebuilds Sequential and Functional models; "
            "a subclassed model can be supplied through `custom_objects` "
            f"(`custom_objects={{'{top}': {top}}}`)."
        )
    for entry in _walk_layers(model_config):
        cls = entry.get("class_name")
        name = (entry.get("config") or {}).get("name", entry.get("name"))
        if cls in known:
            continue
        if cls == "Lambda":
            raise ValueError(
                f"Layer '{name}' is a Lambda layer. Its function is Python code stored in the "
                "file, and kerasette never runs code from a file. Rewrite it as a layer class "
                "and pass that class in `custom_objects` (e.g. "
                f"`custom_objects={{'Lambda': MyLayer}}`)."
            )
        raise ValueError(
            f"Unknown layer class '{cls}' (layer '{name}'). kerasette looks classes up by name "
            "among its own layers and `custom_objects` only; pass the class in "
            f"`custom_objects={{'{cls}': {cls}}}`."
        )


def _keras2_layer(entry: dict) -> dict:
    cls = entry.get("class_name")
    if cls in _MODEL_CLASSES:
        if cls == "Model":
            entry["class_name"] = "Functional"
        for sub in _entries(entry):
            _keras2_layer(sub)
            layers = _entries(sub)
            if sub.get("class_name") == "Sequential" and layers and _is_input_layer(layers[0]):
                # Without its InputLayer a nested Sequential counts its calls from 0 in both
                # Keras versions (the call shapes it); with one, Keras 3 cannot read Keras 2's 1.
                del layers[0]
        _shift_nested_model_nodes(entry, +1)
        return entry
    config = entry.get("config", {})
    if cls == "LeakyReLU" and "negative_slope" in config:
        # Keras 2 names the slope `alpha`; it writes the float32 value as a double.
        config["alpha"] = config.pop("negative_slope")
    if cls == "InputLayer" and "batch_shape" in config:
        config["batch_input_shape"] = config.pop("batch_shape")
    if cls == "LayerNormalization" and not config.get("rms_scaling"):
        config.pop("rms_scaling", None)  # Keras 2's LayerNormalization rejects the key
    axis = config.get("axis")
    if isinstance(axis, (list, tuple)) and len(axis) != 1:
        # Keras 3 reads an entry without `module` through its Keras 2 converter, which drops an
        # axis list of any length but 1 (`Normalization(axis=None)` would come back as axis=-1);
        # with `module` it reads the config as is. tf_keras reads both forms.
        entry["module"] = "keras.layers"
        entry["registered_name"] = None
    return entry


def to_keras2_config(model) -> dict:
    """`{"class_name": ..., "config": ...}` of a kerasette model, in the Keras 2 spelling."""
    from kerasette.models.sequential import Sequential

    class_name = "Sequential" if isinstance(model, Sequential) else "Functional"
    entry = {"class_name": class_name, "config": copy.deepcopy(model.get_config())}
    return _keras2_layer(entry)


def to_json_config(model, include_compile: bool = True) -> dict:
    """What `model.to_json()` and a `.keras` archive's `config.json` hold: the Keras 2 spelling,
    plus the keys Keras 3 reads and tf_keras ignores: `module` and `registered_name` (Keras 3 finds
    the model class by them), `build_config` (a Sequential's input shape) and `compile_config`
    (the `compile` arguments, `{}` for an uncompiled model, as Keras 3 writes it; left out when
    `include_compile` is False)."""
    entry = to_keras2_config(model)
    module = "keras" if entry["class_name"] == "Sequential" else "keras.src.models.functional"
    config = {"module": module, **entry, "registered_name": None}
    build_config = model.get_build_config()
    if build_config and build_config["input_shape"] is not None:
        build_config = {"input_shape": list(build_config["input_shape"])}
    config["build_config"] = build_config
    if include_compile:
        config["compile_config"] = model.get_compile_config() or {}
    return config
