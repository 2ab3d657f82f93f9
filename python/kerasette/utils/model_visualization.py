"""`plot_model`: the layer graph of a model as a text diagram, with no graphviz or pydot needed.

Keras draws the graph with graphviz; here each layer call becomes one line, in an order where every
layer comes after the layers that feed it, naming those inputs and giving the output shape:

    Model: "two_branch"
    a (InputLayer)                               -> (None, 3)
    b (InputLayer)                               -> (None, 2)
    da (Dense)            <- a                   -> (None, 4)
    db (Dense)            <- b                   -> (None, 4)
    merge (Concatenate)   <- da, db              -> (None, 8)
"""

from __future__ import annotations

import os
from typing import Optional, Union


def _fmt_shape(shape) -> str:
    dims = ["None" if d is None else str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _activation_name(layer) -> Optional[str]:
    try:
        activation = layer.get_config().get("activation")
    except Exception:  # a layer whose config cannot be built still gets its line
        return None
    if isinstance(activation, dict):
        activation = activation.get("config", {}).get("name") or activation.get("class_name")
    return activation if isinstance(activation, str) else None


def _rows(model, options: dict, indent: str = "") -> list:
    """(label, inputs, output shape) per layer call of `model`, callers after their inputs."""
    from kerasette.models.model import Model

    # A layer called more than once in this graph gets "[i]" on each call after the first.
    calls_seen: dict = {}
    labels: dict = {}

    def label_for(layer, tensor_id) -> str:
        count = calls_seen.get(id(layer), 0)
        calls_seen[id(layer)] = count + 1
        label = layer.name if count == 0 else f"{layer.name}[{count}]"
        labels[tensor_id] = label
        return label

    def describe(layer, label: str) -> str:
        details = [type(layer).__name__]
        if options["show_layer_activations"]:
            activation = _activation_name(layer)
            if activation:
                details.append(activation)
        if options["show_dtype"]:
            details.append(str(getattr(layer, "dtype", "float32") or "float32"))
        if options["show_trainable"]:
            details.append("trainable" if layer.trainable else "frozen")
        text = f"{label} ({', '.join(details)})" if options["show_layer_names"] \
            else f"({', '.join(details)})"
        return indent + text

    rows = []
    for tensor in model.inputs:
        layer = tensor._keras_history[0]
        rows.append((describe(layer, label_for(layer, id(tensor))), "", tensor.shape))
    for node in model._nodes:
        layer = node.layer
        label = label_for(layer, id(node.outputs[0]))
        inputs = ", ".join(labels.get(id(t), t._keras_history[0].name) for t in node.inputs)
        rows.append((describe(layer, label), inputs, node.outputs[0].shape))
        if options["expand_nested"] and isinstance(layer, Model):
            rows.extend(_rows(layer, options, indent + "  | "))
    return rows


def plot_model(
    model,
    to_file: Optional[Union[str, os.PathLike]] = None,
    show_shapes: bool = True,
    show_dtype: bool = False,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: Optional[int] = None,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    **kwargs,
) -> str:
    """Describes a model's layer graph as text: one line per layer call.

    Each line names the layer and its class, the layers that feed it (`<- a, b`) and, with
    `show_shapes`, its output shape (`-> (None, 8)`). Lines are in topological order: each layer
    comes after its inputs.

    Args:
        model: A built `Model` or `Sequential`.
        to_file: Optional file to write the diagram to (UTF-8 text).
        show_shapes: Whether to show each layer's output shape.
        show_dtype: Whether to show each layer's dtype.
        show_layer_names: Whether to show layer names.
        rankdir: `"TB"` lists the graph inputs first, `"BT"` the outputs first. (`"LR"` and
            `"RL"` are accepted as `"TB"` and `"BT"`: a text diagram has one direction.)
        expand_nested: Whether to list the layers of nested models, indented under them.
        dpi: Ignored; accepted for Keras compatibility.
        show_layer_activations: Whether to show the activation of layers that have one.
        show_trainable: Whether to mark each layer as trainable or frozen.

    Returns:
        The diagram, a `str`.

    Example:

    >>> print(kerasette.utils.plot_model(model))
    Model: "two_branch"
    a (InputLayer)                  -> (None, 3)
    da (Dense)          <- a        -> (None, 4)
    """
    if kwargs:
        raise TypeError(f"plot_model() got unexpected keyword arguments: {sorted(kwargs)}")
    if rankdir not in ("TB", "BT", "LR", "RL"):
        raise ValueError(
            f"Expected `rankdir` to be one of 'TB', 'BT', 'LR', 'RL'. Received: rankdir={rankdir!r}"
        )
    if not getattr(model, "built", False) or not getattr(model, "_outputs", None):
        raise ValueError(
            "This model has not yet been built. Build the model first by calling `build()` or by "
            "calling the model on a batch of data."
        )
    options = {"show_dtype": show_dtype, "show_layer_names": show_layer_names,
               "expand_nested": expand_nested, "show_layer_activations": show_layer_activations,
               "show_trainable": show_trainable}
    rows = _rows(model, options)
    if rankdir in ("BT", "RL"):
        rows.reverse()
    name_width = max(len(r[0]) for r in rows)
    input_width = max((len(r[1]) + 3 for r in rows if r[1]), default=0)
    lines = [f'Model: "{model.name}"']
    for label, inputs, shape in rows:
        line = label.ljust(name_width)
        if input_width:
            line += "  " + (f"<- {inputs}" if inputs else "").ljust(input_width)
        if show_shapes:
            line += "  -> " + _fmt_shape(shape)
        lines.append(line.rstrip())
    text = "\n".join(lines) + "\n"
    if to_file is not None:
        with open(os.fspath(to_file), "w", encoding="utf-8") as f:
            f.write(text)
    return text
