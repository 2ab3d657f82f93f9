"""`Model`: a graph of layer calls from input tensors to output tensors.

`Model` owns the structure (which layers, in which order, fed by what) and the weights API;
`Trainer` (models/trainer.py) adds compile/fit/evaluate/predict; `Sequential` is the chain case,
built through the same machinery.
"""

from __future__ import annotations

import collections

import numpy as np

from kerasette import _engine
from kerasette.layers.core import InputLayer
from kerasette.layers.layer import KerasTensor, Layer, _contains_keras_tensor, unique_name
from kerasette.models.functional import call_layer_symbolically, graph_nodes, layer_order
from kerasette.models.trainer import Trainer


class Model(Trainer, Layer):
    """A model grouping layers into an object with training and inference features.

    Args:
        inputs: the input tensor(s) of the model (`kerasette.Input`).
        outputs: the output tensor(s), computed from the inputs by calling layers.
        name: the model's name.

    Example:
        >>> inputs = kerasette.Input(shape=(37,))
        >>> x = kerasette.layers.Dense(32, activation="relu")(inputs)
        >>> outputs = kerasette.layers.Dense(5, activation="softmax")(x)
        >>> model = kerasette.Model(inputs=inputs, outputs=outputs)
    """

    _keras_module = "keras.models"

    def __init__(self, inputs=None, outputs=None, name: str | None = None, trainable: bool = True,
                 **kwargs):
        Layer.__init__(self, trainable=trainable,
                       name=name or unique_name(self._default_name()), **kwargs)
        Trainer.__init__(self)
        self._engine_graph = None
        self._single_io_tail = False
        self._nodes = []
        self._layers_in_order: list[Layer] = []
        self._inputs: list[KerasTensor] = []
        self._outputs: list[KerasTensor] = []
        self._nested_inputs = None
        self._nested_outputs = None
        self._input_keys = None
        self._output_keys = None
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("A functional `Model` needs both `inputs` and `outputs`.")
            self._set_graph(inputs, outputs)

    @classmethod
    def _default_name(cls) -> str:
        return "functional"

    # ---- structure ----
    def _set_graph(self, inputs, outputs) -> None:
        self._nested_inputs = inputs
        self._nested_outputs = outputs
        # Keras flattens a dict of inputs or outputs in sorted key order, and matches data,
        # losses and metrics given as dicts (and names per-output logs) by those keys.
        self._input_keys = sorted(inputs) if isinstance(inputs, dict) else None
        self._output_keys = sorted(outputs) if isinstance(outputs, dict) else None
        self._inputs = _as_tensor_list(inputs, "inputs")
        self._outputs = _as_tensor_list(outputs, "outputs")
        for t in self._inputs:
            layer = t._keras_history[0] if t._keras_history else None
            if not isinstance(layer, InputLayer):
                raise ValueError(
                    "All `inputs` of a functional Model must come from `kerasette.Input`. "
                    f"Received: {t}"
                )
        self._nodes = graph_nodes(self._inputs, self._outputs)
        self._layers_in_order = layer_order(self._inputs, self._outputs)
        _check_unique_names(self._layers_in_order
                            + [t._keras_history[0] for t in self._inputs])
        self._engine_graph = None
        self.built = True

    @property
    def layers(self) -> list:
        return list(self._layers_in_order)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        if index is not None and name is not None:
            raise ValueError("Provide only a layer name or a layer index. Received both.")
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has "
                    f"{len(self.layers)} layers."
                )
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(
                f"No such layer: {name}. Existing layers are: {[l.name for l in self.layers]}."
            )
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    @property
    def inputs(self) -> list:
        return list(self._inputs)

    @property
    def outputs(self) -> list:
        return list(self._outputs)

    @property
    def input(self):
        return self._nested_inputs

    @property
    def output(self):
        return self._nested_outputs

    @property
    def input_shape(self):
        shapes = [t.shape for t in self._inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self._outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def input_names(self) -> list:
        return [t._keras_history[0].name for t in self._inputs]

    @property
    def output_names(self) -> list:
        return [t._keras_history[0].name for t in self._outputs]

    @property
    def _data_input_names(self) -> list:
        """The names x given as a dict is matched by: the input dict's keys, else input_names."""
        return self._input_keys or self.input_names

    @property
    def _data_output_names(self) -> list:
        """The names y, losses and metrics given as dicts are matched by, and per-output logs
        are prefixed with: the output dict's keys, else output_names."""
        return self._output_keys or self.output_names

    def _pack_outputs(self, outs: list):
        """Predictions in the structure of the model's outputs, as Keras returns them."""
        if self._output_keys is not None:  # in the order the outputs dict was given
            by_key = dict(zip(self._output_keys, outs))
            return {k: by_key[k] for k in self._nested_outputs}
        return outs[0] if len(outs) == 1 else outs

    # ---- the engine graph ----
    def _graph(self):
        """The engine graph of this model, built on first use."""
        if self._engine_graph is not None:
            return self._engine_graph
        if not self.built or not self._outputs:
            raise ValueError(
                f"The model '{self.name}' has not been built yet: it has no input shape. "
                "Call `build(input_shape)`, start it with `kerasette.Input(shape)`, or pass "
                "`input_shape=` to its first layer."
            )
        for t in self._inputs:
            if any(d is None for d in t.shape[1:]):
                raise ValueError(
                    f"The model '{self.name}' needs fully defined input shapes (besides the "
                    f"batch axis) to run. Received: input shape={tuple(t.shape)}"
                )
        g = _engine.Graph()
        ids = {}
        for t in self._inputs:
            ids[id(t)] = g.add_input(list(t.shape[1:]))
        for node in self._nodes:
            self._add_call(g, node, ids)
        g.set_outputs([ids[id(t)] for t in self._outputs])
        # The per-sample input shape predict_on_batch's short road accepts (one input, one output).
        self._single_io_tail = (tuple(self._inputs[0].shape[1:])
                                if len(self._inputs) == 1 and len(self._outputs) == 1
                                and self._output_keys is None else False)
        self._engine_graph = g
        return g

    @staticmethod
    def _add_call(g, node, ids) -> None:
        layer = node.layer
        in_ids = [ids[id(t)] for t in node.inputs]
        if isinstance(layer, Model):  # a nested model: inline its calls
            inner = {id(t): i for t, i in zip(layer._inputs, in_ids)}
            for inner_node in layer._nodes:
                Model._add_call(g, inner_node, inner)
            for t_out, t_inner in zip(node.outputs, layer._outputs):
                ids[id(t_out)] = inner[id(t_inner)]
            return
        if layer._core is None:  # a layer without an engine part passes its input through
            ids[id(node.outputs[0])] = in_ids[0]
            return
        ids[id(node.outputs[0])] = layer._add_nodes(g, in_ids)

    def _invalidate_graph(self) -> None:
        self._engine_graph = None
        self._compiled_graph_ready = False

    def build(self, input_shape=None) -> None:
        if self.built:
            return
        raise ValueError("A functional model is built from its inputs and outputs.")

    def compute_output_shape(self, input_shape):
        return self.output_shape

    # ---- weights ----
    @property
    def weights(self) -> list:
        out, seen = [], set()
        for layer in self.layers:
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.extend(layer.weights)
        return out

    @property
    def trainable_weights(self) -> list:
        if not self.trainable:
            return []
        return [w for layer in _unique(self.layers) for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list:
        trainable = {id(w._layer) * 1000 + w._index for w in self.trainable_weights}
        return [w for w in self.weights if id(w._layer) * 1000 + w._index not in trainable]

    @property
    def losses(self) -> list:
        return [loss for layer in _unique(self.layers) for loss in layer.losses]

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for layer in self.layers:
            layer.trainable = value

    def get_weights(self) -> list:
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights) -> None:
        variables = self.weights
        weights = list(weights)
        if len(weights) != len(variables):
            raise ValueError(
                # Keras's wording, which calls a model a layer here.
                f"You called `set_weights(weights)` on layer '{self.name}' with a weight list of "
                f"length {len(weights)}, but the layer was expecting {len(variables)} weights."
            )
        for var, value in zip(variables, weights):
            value = np.asarray(value)
            if value.shape != var.shape:
                raise ValueError(
                    f"Layer {self.name} weight shape {var.shape} is not compatible with provided "
                    f"weight shape {value.shape}."
                )
        for var, value in zip(variables, weights):
            var.assign(value)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer isn't "
                "built. You can build it manually via: `layer.build(input_shape)`."
            )
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    # ---- calling ----
    def __call__(self, inputs, *args, **kwargs):
        if type(inputs) is not np.ndarray and _contains_keras_tensor(inputs):
            return call_layer_symbolically(self, inputs, kwargs)
        return self.predict_on_batch(inputs)

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None) -> None:
        from kerasette.models.summary import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      expand_nested=expand_nested, show_trainable=show_trainable,
                      layer_range=layer_range)

    # ---- saving ----
    def save(self, filepath, overwrite: bool = True, save_format: str | None = None,
             **kwargs) -> None:
        """Saves the model to a `.keras` or `.h5` file (see `kerasette.saving.save_model`)."""
        from kerasette.saving import save_model

        save_model(self, filepath, overwrite=overwrite, save_format=save_format, **kwargs)

    def save_weights(self, filepath, overwrite: bool = True, **kwargs) -> None:
        """Saves the weights to HDF5 (see `kerasette.saving.save_weights`)."""
        from kerasette.saving import save_weights

        save_weights(self, filepath, overwrite=overwrite, **kwargs)

    def load_weights(self, filepath, by_name: bool = False, skip_mismatch: bool = False,
                     **kwargs) -> None:
        """Loads weights from HDF5 (see `kerasette.saving.load_weights`)."""
        from kerasette.saving import load_weights

        load_weights(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch, **kwargs)

    # ---- configuration ----
    def to_json(self, **kwargs) -> str:
        """The model's architecture (no weights) as a JSON string.

        Real Keras 2 and 3 rebuild the model from it with `keras.models.model_from_json`, as does
        `kerasette.models.model_from_json`.

        Args:
            **kwargs: Passed to `json.dumps` (`indent=2`, `sort_keys=True`, ...).

        Example:
            >>> json_string = model.to_json()
            >>> same_architecture = kerasette.models.model_from_json(json_string)
        """
        from kerasette.saving import config_compat, h5_io

        return h5_io.json_dumps(config_compat.to_json_config(self), **kwargs)

    def get_compile_config(self) -> dict | None:
        """The `compile` arguments as Keras 3 serializes them; `None` before `compile`."""
        from kerasette.saving.training_config import keras3_compile_config

        return keras3_compile_config(self) if self.compiled else None

    def compile_from_config(self, config: dict) -> None:
        """Compiles the model from `get_compile_config()` output (a fresh optimizer)."""
        from kerasette.saving.training_config import compile_from_compile_config

        compile_from_compile_config(self, config, None, "the compile config")

    def get_build_config(self) -> dict | None:
        """Keras 3's build config: a functional model is built by its inputs, so no shape."""
        return {"input_shape": None}

    def get_config(self) -> dict:
        from kerasette.models.config import functional_config

        return functional_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects=None) -> "Model":
        from kerasette.models.config import functional_from_config

        return functional_from_config(config, custom_objects)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _check_unique_names(layers) -> None:
    """Keras's rule: weights are saved and loaded by layer name, so two layers of one model
    sharing a name would load each other's weights."""
    counts = collections.Counter(layer.name for layer in _unique(layers))
    for name, count in counts.items():
        if count > 1:
            raise ValueError(
                f'The name "{name}" is used {count} times in the model. All operation names '
                "should be unique."
            )


def _unique(layers):
    seen, out = set(), []
    for layer in layers:
        if id(layer) not in seen:
            seen.add(id(layer))
            out.append(layer)
    return out


def _as_tensor_list(x, what: str) -> list:
    if isinstance(x, KerasTensor):
        return [x]
    if isinstance(x, dict):
        x = [x[k] for k in sorted(x)]
    if isinstance(x, (list, tuple)) and x and all(isinstance(t, KerasTensor) for t in x):
        return list(x)
    raise ValueError(f"Expected `{what}` to be Keras tensor(s). Received: {what}={x!r}")
