"""How a model was compiled: the `training_config` of a Keras `.h5` file, and the
`compile_config` of a `.keras` archive's `config.json`.

Written as Keras 2 writes it (loss as passed, metrics wrapped per output as `MeanMetricWrapper`s,
optimizer as `"Custom>Adam"` with `is_legacy_optimizer: false`, which makes tf_keras build the
optimizer whose variables the file stores). Read from either Keras version; names are looked up
in kerasette's tables and `custom_objects` only.

A `compile_config` is what Keras 3's `Model.get_compile_config` returns: the `compile` arguments,
each object serialized (`{"module", "class_name", "config", "registered_name"}`), names as given.
"""

from __future__ import annotations

import re
from typing import Any

from kerasette.layers.layer import _snake_case
from kerasette.saving.optimizer_state import K2_CLASS_NAMES
from kerasette.saving.serialization import serialize_keras_object

# Optimizer config keys that Keras 3 writes and tf_keras's optimizers refuse.
_KERAS3_ONLY_OPTIMIZER_KEYS = ("loss_scale_factor", "gradient_accumulation_steps")


# ---- writing ----
def _loss_entry(loss: Any) -> Any:
    if loss is None:
        return loss
    if isinstance(loss, str):  # an alias is written as its function's name (Keras 3 reads those)
        from kerasette.losses import ALIASES

        return ALIASES.get(loss, loss)
    if isinstance(loss, (list, tuple)):
        return [_loss_entry(l) for l in loss]
    if isinstance(loss, dict):
        return {k: _loss_entry(v) for k, v in loss.items()}
    if hasattr(loss, "get_config"):
        return serialize_keras_object(loss)
    return getattr(loss, "__name__", str(loss))


def _metric_entries(model, output_index: int, weighted: bool = False) -> list:
    from kerasette import metrics as metrics_module

    loss = model._losses[output_index]
    out_shape = model._outputs[output_index].shape
    out = []
    ids = model._weighted_metric_ids if weighted else model._metric_ids
    for identifier in ids[output_index]:
        spec = metrics_module.resolve(identifier, loss, None, out_shape)
        wrapped = isinstance(identifier, str) or not hasattr(identifier, "get_config")
        if wrapped and spec.obj._mean_metric_wrapper:
            # Keras 2 wraps metric names and functions: {"name": as given, "fn": the function}.
            out.append({"class_name": "MeanMetricWrapper",
                        "config": {"name": spec.name, "dtype": "float32", "fn": spec.kind}})
        else:
            out.append(serialize_keras_object(spec.obj))
    return out


def _is_automatic_name(name, class_name: str) -> bool:
    """Whether `name` is one Keras gives an unnamed optimizer: `adam`, `adam_1`, `rm_sprop`
    (Keras 3, also after a reload from a `.keras` file), or the lower-cased class name."""
    if not isinstance(name, str):
        return False
    base = _snake_case(class_name)
    return (name == class_name.lower()
            or re.fullmatch(re.escape(base) + r"(_[0-9]+)?", name) is not None)


def _optimizer_config(optimizer) -> dict:
    kind, _ = optimizer.engine_spec()
    class_name = K2_CLASS_NAMES.get(kind, type(optimizer).__name__)
    config = optimizer.get_config()
    for key in _KERAS3_ONLY_OPTIMIZER_KEYS:
        config.pop(key, None)
    if _is_automatic_name(config.get("name"), type(optimizer).__name__):
        # Keras 2's default names are the class's ("Adam"); Keras 3, reading the file, finds a
        # "Custom>" optimizer by this name, which an automatic one ("adam_3") would not resolve.
        config["name"] = class_name
    config.update({"jit_compile": False, "is_legacy_optimizer": False})
    return {"class_name": "Custom>" + class_name, "config": config}


def keras2_training_config(model) -> dict:
    args = model._compile_args or {}
    return {
        "loss": _loss_entry(args.get("loss")),
        "metrics": [_metric_entries(model, i) for i in range(len(model.output_names))],
        "weighted_metrics": ([_metric_entries(model, i, weighted=True)
                              for i in range(len(model.output_names))]
                             if args.get("weighted_metrics") else None),
        "loss_weights": args.get("loss_weights"),
        "optimizer_config": _optimizer_config(model.optimizer),
    }


def _keras3_entry(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [_keras3_entry(v) for v in value]
    if isinstance(value, dict):
        return {k: _keras3_entry(v) for k, v in value.items()}
    if hasattr(value, "get_config"):
        return serialize_keras_object(value)
    return getattr(value, "__name__", str(value))  # a loss or metric function: its name


def keras3_compile_config(model) -> dict:
    """The `compile_config` Keras 3's `Model.compile_from_config` reads."""
    args = model._compile_args or {}
    return {
        "optimizer": serialize_keras_object(model.optimizer),
        "loss": _keras3_entry(args.get("loss")),
        "loss_weights": _keras3_entry(args.get("loss_weights")),
        "metrics": _keras3_entry(args.get("metrics")),
        "weighted_metrics": _keras3_entry(args.get("weighted_metrics")),
        "run_eagerly": False,
        "steps_per_execution": 1,
        "jit_compile": False,
    }


# ---- reading ----
def _is_object_config(value: Any) -> bool:
    return isinstance(value, dict) and "class_name" in value


def _read_loss(loss: Any, custom_objects) -> Any:
    from kerasette import losses

    if _is_object_config(loss):
        return losses.deserialize(loss, custom_objects)
    if isinstance(loss, list):
        return [_read_loss(l, custom_objects) for l in loss]
    if isinstance(loss, dict):
        return {k: _read_loss(v, custom_objects) for k, v in loss.items()}
    return loss


def _read_metrics(metrics: Any, custom_objects) -> Any:
    from kerasette import metrics as metrics_module

    if _is_object_config(metrics):
        return metrics_module.deserialize(metrics, custom_objects)
    if isinstance(metrics, list):
        return [_read_metrics(m, custom_objects) for m in metrics]
    if isinstance(metrics, dict):
        return {k: _read_metrics(v, custom_objects) for k, v in metrics.items()}
    return metrics


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_empty(v) for v in value)
    if isinstance(value, dict):
        return all(_is_empty(v) for v in value.values())
    return False


def _read_metric_list(model, metrics, custom_objects):
    if _is_empty(metrics):
        return None
    metrics = _read_metrics(metrics, custom_objects)
    # Keras 2 nests one list per output: `[[...]]` for a single-output model.
    if (len(model.output_names) == 1 and isinstance(metrics, list) and len(metrics) == 1
            and isinstance(metrics[0], list)):
        metrics = metrics[0]
    return metrics


def compile_from_training_config(model, training_config: dict, custom_objects, filepath: str):
    """Compiles `model` as the file says and builds its engine (so state can be restored)."""
    from kerasette import optimizers

    try:
        optimizer = optimizers.deserialize(training_config["optimizer_config"], custom_objects)
        metrics, weighted = (_read_metric_list(model, training_config.get(key), custom_objects)
                             for key in ("metrics", "weighted_metrics"))
        model.compile(
            optimizer=optimizer,
            loss=_read_loss(training_config.get("loss"), custom_objects),
            loss_weights=training_config.get("loss_weights"),
            metrics=metrics,
            weighted_metrics=weighted,
        )
        model._compile_engine()
    except (KeyError, TypeError, ValueError, NotImplementedError) as e:
        raise ValueError(
            f"Could not compile the model from the training configuration in '{filepath}': "
            f"{e!s}. Pass `compile=False` to load the model without it."
        ) from e


def compile_from_compile_config(model, compile_config: dict, custom_objects, filepath: str):
    """Compiles `model` from a Keras 3 `compile_config` and builds its engine."""
    if not isinstance(compile_config, dict) or "optimizer" not in compile_config:
        raise ValueError(
            f"Could not compile the model from the `compile_config` in '{filepath}': expected "
            f"a dict with an `optimizer` entry. Received: compile_config={compile_config!r}"
        )
    training_config = {
        "optimizer_config": compile_config["optimizer"],
        "loss": compile_config.get("loss"),
        "metrics": compile_config.get("metrics"),
        "weighted_metrics": compile_config.get("weighted_metrics"),
        "loss_weights": compile_config.get("loss_weights"),
    }
    compile_from_training_config(model, training_config, custom_objects, filepath)
