"""The Layer base class, its weights (`Variable`) and symbolic tensors (`KerasTensor`).

A Python layer holds configuration (`get_config` / `from_config` in Keras's schema) and, once built,
an engine layer (`_engine.Layer`) that owns the weights and computes forward and backward in C++.
`build` creates the engine layer, lets the engine derive the weight shapes from the input shape, and
fills the weights from the layer's initializers.
"""

from __future__ import annotations

import operator
import re
from collections import defaultdict
from typing import Any

import numpy as np

from kerasette import _engine

_name_counters: dict[str, int] = defaultdict(int)


def _snake_case(name: str) -> str:
    """Keras's rule: `Dense` -> `dense`, `MaxPooling2D` -> `max_pooling2d`, `Conv2D` -> `conv2d`."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base: str) -> str:
    """Keras's automatic names: `dense`, then `dense_1`, `dense_2`, ..."""
    n = _name_counters[base]
    _name_counters[base] += 1
    return base if n == 0 else f"{base}_{n}"


def reset_unique_names() -> None:
    """Starts automatic names over (`dense`, `dense_1`, ...), as `keras.backend.clear_session`."""
    _name_counters.clear()


def normalize_shape(shape: Any, what: str = "shape") -> tuple:
    if shape is None:
        return None
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    try:
        out = tuple(None if d is None else operator.index(d) for d in shape)
    except TypeError:
        # `int()` would turn 3.5 into 3 and "3" into 3: a size must already be an integer.
        raise ValueError(
            f"Expected `{what}` to be a tuple of integers. Received: {what}={shape}"
        ) from None
    for d in out:
        if d is not None and d < 0:
            raise ValueError(f"Expected `{what}` to hold non-negative sizes. Received: {what}={shape}")
    return out


def _value_op(name: str):
    def op(self, *other):
        return getattr(self.numpy(), name)(*other)

    op.__name__ = name
    return op


class VariableValue:
    """What a Keras variable does with its value: NumPy arithmetic, comparisons and conversions.

    Keras 3 variables compute like tensors (`lr * 0.1`, `float(lr)`, `kernel.numpy()`); here the
    value is a NumPy array or scalar read by `numpy()`, so each operator is NumPy's on that value.
    Subclasses define `numpy()` and `assign(value)`.
    """

    @property
    def value(self):
        return self.numpy()

    def __array__(self, dtype=None, copy=None):
        a = np.asarray(self.numpy())
        return a if dtype is None else a.astype(dtype)

    def __float__(self) -> float:
        return float(self.numpy())

    def __int__(self) -> int:
        return int(self.numpy())

    def __format__(self, spec: str) -> str:
        return format(self.numpy(), spec)

    # `==` stays identity here, so `weight in model.trainable_weights` still works; a scalar
    # variable (the optimizer's) compares by value.
    for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul"):
        locals()[f"__{_name}__"] = _value_op(f"__{_name}__")
        locals()[f"__r{_name}__"] = _value_op(f"__r{_name}__")
    for _name in ("lt", "le", "gt", "ge", "neg", "pos", "abs", "round"):
        locals()[f"__{_name}__"] = _value_op(f"__{_name}__")
    del _name


class Variable(VariableValue):
    """A view of one weight of a built layer (its values live in the engine)."""

    def __init__(self, layer: "Layer", index: int):
        self._layer = layer
        self._index = index

    @property
    def name(self) -> str:
        return self._layer._core.param_name(self._index)

    @property
    def path(self) -> str:
        return f"{self._layer.name}/{self.name}"

    @property
    def shape(self) -> tuple:
        return tuple(self._layer._core.param_shape(self._index))

    @property
    def dtype(self) -> str:
        """float32, or the integer dtype Keras gives a counter (Normalization's `count`)."""
        return self._layer._weight_dtypes.get(self.name, "float32")

    @property
    def trainable(self) -> bool:
        return self._layer.trainable and self._layer._core.param_trainable(self._index)

    def numpy(self) -> np.ndarray:
        value = self._layer._core.get_param(self._index)
        return value if self.dtype == "float32" else value.astype(self.dtype)

    def assign(self, value) -> None:
        value = np.asarray(value, dtype=np.float32)
        if value.shape != self.shape:
            raise ValueError(
                f"Cannot assign a value of shape {value.shape} to variable `{self.path}` of "
                f"shape {self.shape}."
            )
        self._layer._core.set_param(self._index, value)

    def __repr__(self) -> str:
        return (f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, "
                f"value={self.numpy()}>")


class KerasTensor:
    """A symbolic tensor: a shape (batch axis first, possibly None) and where it comes from."""

    # Keras's attributes; kerasette has dense tensors only.
    sparse = False
    ragged = False

    def __init__(self, shape: tuple, dtype: str = "float32", name: str | None = None,
                 history: tuple | None = None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.name = name
        # (layer, node_index, tensor_index), as Keras's `_keras_history`.
        self._keras_history = history

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return (f"<KerasTensor shape={self.shape}, dtype={self.dtype}, sparse={self.sparse}, "
                f"ragged={self.ragged}, name={self.name}>")


class Node:
    """One call of a layer in a functional graph: the tensors it read and wrote."""

    def __init__(self, layer: "Layer", inputs: list, outputs: list, call_kwargs: dict | None = None):
        self.layer = layer
        self.inputs = inputs
        self.outputs = outputs
        self.call_kwargs = call_kwargs or {}


class Layer:
    """Base class of every layer.

    Args:
        trainable: whether the layer's weights are updated by training.
        name: the layer's name; unique default derived from the class name.
        dtype: only "float32" (or None) is supported.
    """

    _engine_kind: str | None = None  # the engine's layer kind; None for layers with no engine part
    _keras_module = "keras.layers"  # the "module" of serialized configs, where Keras has the class
    # Keras marks a layer whose class has no `build` built from its construction on; its summary
    # then shows "0" parameters rather than "0 (unbuilt)" before the model has an input shape.
    _keras_built_at_init = False
    # Weights Keras keeps in another dtype than float32, by name; the engine stores them as floats.
    _weight_dtypes: dict[str, str] = {}
    # The engine sizes this layer once, from its first call's input shapes (Flatten, Reshape,
    # Permute, Concatenate): calling it again on other shapes is refused, not computed wrongly.
    _engine_fixes_input_shapes = False

    def __init__(self, trainable: bool = True, name: str | None = None, dtype=None, **kwargs):
        input_shape = kwargs.pop("input_shape", None)
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        batch_size = kwargs.pop("batch_size", None)
        input_dim = kwargs.pop("input_dim", None)
        kwargs.pop("autocast", None)
        if kwargs:  # a ValueError in Keras 3 (a misspelled argument, e.g. `activaton=`)
            raise ValueError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}"
            )
        if dtype is not None and _dtype_name(dtype) != "float32":
            raise ValueError(
                f"kerasette computes in float32 only. Received: dtype={_dtype_name(dtype)}"
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Expected `name` to be a string. Received: name={name!r}")
        self.name = name or unique_name(_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self.built = False
        self._core = None
        self._build_shapes = None
        self._inbound_nodes: list[Node] = []
        self._initializers: dict[str, Any] = {}
        self._regularizers: dict[str, Any] = {}
        self.activity_regularizer = None
        if batch_input_shape is not None:
            self._batch_input_shape = normalize_shape(batch_input_shape, "batch_input_shape")
        elif input_shape is not None:
            self._batch_input_shape = (batch_size,) + normalize_shape(input_shape, "input_shape")
        elif input_dim is not None:
            self._batch_input_shape = (batch_size, int(input_dim))
        else:
            self._batch_input_shape = None

    # ---- configuration ----
    def engine_attrs(self) -> dict:
        """Plain values the engine layer is built from."""
        return {}

    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": "float32"}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        return cls(**config)

    # ---- building ----
    def build(self, input_shape) -> None:
        """Creates the engine layer and its weights for `input_shape` (batch axis included)."""
        shapes = input_shape if _is_shape_list(input_shape) else [input_shape]
        shapes = [normalize_shape(s) for s in shapes]
        if self._engine_kind is None:
            self.built = True
            self._build_shapes = shapes
            return
        for s in shapes:
            if any(d is None for d in s[1:]):
                raise ValueError(
                    f"Layer '{self.name}' needs a fully defined input shape (besides the batch "
                    f"axis). Received: input_shape={s}"
                )
        core = _engine.Layer(self._engine_kind, self.name, self.engine_attrs())
        core.trainable = self._trainable
        self._core = core
        self._pre_core = self._post_core = None
        graph = _engine.Graph()
        ids = [graph.add_input(list(s[1:])) for s in shapes]
        if self._channels_first() and len(shapes[0]) > 2:
            # The engine computes channels_last: move the channel axis last on the way in and
            # back in front on the way out ("converted at the edges").
            r = len(shapes[0]) - 1
            self._pre_core = _engine.Layer("permute", f"{self.name}/to_channels_last",
                                           {"dims": list(range(1, r)) + [0]})
            ids = [graph.add_node(self._pre_core, [i]) for i in ids]
            out_rank = len(graph.node_shape(graph.add_node(core, ids)))
            if out_rank >= 2:
                self._post_core = _engine.Layer(
                    "permute", f"{self.name}/to_channels_first",
                    {"dims": [out_rank - 1] + list(range(out_rank - 1))})
        else:
            graph.add_node(core, ids)
        self._build_shapes = shapes
        self._init_weights()
        self.built = True

    def _channels_first(self) -> bool:
        return getattr(self, "data_format", "channels_last") == "channels_first"

    def _add_nodes(self, graph, input_ids: list) -> int:
        """Adds this layer's call to an engine graph; returns the node of its output."""
        if getattr(self, "_pre_core", None) is not None:
            input_ids = [graph.add_node(self._pre_core, [i]) for i in input_ids]
        node = graph.add_node(self._core, input_ids)
        if getattr(self, "_post_core", None) is not None:
            node = graph.add_node(self._post_core, [node])
        return node

    def _init_weights(self) -> None:
        from kerasette import initializers

        for i in range(self._core.num_params):
            name = self._core.param_name(i)
            init = initializers.get(self._initializers.get(name, "zeros"))
            shape = tuple(self._core.param_shape(i))
            self._core.set_param(i, np.asarray(init(shape), dtype=np.float32))
            reg = self._regularizers.get(name)
            if reg is not None:
                self._core.set_regularizer(i, float(reg.l1), float(reg.l2))
        if self.activity_regularizer is not None:
            self._core.set_activity_regularizer(
                float(self.activity_regularizer.l1), float(self.activity_regularizer.l2)
            )

    def compute_output_shape(self, input_shape):
        shapes = input_shape if _is_shape_list(input_shape) else [input_shape]
        shapes = [normalize_shape(s) for s in shapes]
        if self._engine_kind is None:
            return shapes[0]
        if not self.built:
            self.build(input_shape)
        graph = _engine.Graph()
        ids = [graph.add_input(list(s[1:])) for s in shapes]
        node = self._add_nodes(graph, ids)
        return (shapes[0][0],) + tuple(graph.node_shape(node))

    # ---- graph connections (functional models) ----
    def _single_node(self, what: str):
        if not self._inbound_nodes:
            raise AttributeError(
                f"Layer '{self.name}' has never been called and thus has no defined {what}.")
        if len(self._inbound_nodes) > 1:
            raise AttributeError(
                f"Layer '{self.name}' has multiple inbound nodes, hence the notion of \"layer "
                f"{what}\" is ill-defined. Use `get_{what}_at(node_index)` instead.")
        return self._inbound_nodes[0]

    @property
    def input(self):
        tensors = self._single_node("input").inputs
        return tensors[0] if len(tensors) == 1 else tensors

    @property
    def output(self):
        return self._single_node("output").outputs[0]

    def get_input_at(self, node_index: int):
        tensors = self._inbound_nodes[node_index].inputs
        return tensors[0] if len(tensors) == 1 else tensors

    def get_output_at(self, node_index: int):
        return self._inbound_nodes[node_index].outputs[0]

    @property
    def output_shape(self):
        return self.output.shape

    # ---- weights ----
    @property
    def dtype(self) -> str:
        """The dtype of the layer's weights: always "float32" in kerasette."""
        return "float32"

    @property
    def compute_dtype(self) -> str:
        """The dtype the layer computes in: always "float32" in kerasette."""
        return "float32"

    variable_dtype = dtype

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        if self._core is not None:
            self._core.trainable = self._trainable

    @property
    def weights(self) -> list:
        if self._core is None:
            return []
        trainable = [Variable(self, i) for i in range(self._core.num_params)
                     if self._core.param_trainable(i)]
        frozen = [Variable(self, i) for i in range(self._core.num_params)
                  if not self._core.param_trainable(i)]
        return trainable + frozen

    @property
    def trainable_weights(self) -> list:
        return [w for w in self.weights if w.trainable] if self.trainable else []

    @property
    def non_trainable_weights(self) -> list:
        return [w for w in self.weights if not w.trainable]

    @property
    def variables(self) -> list:
        return self.weights

    @property
    def trainable_variables(self) -> list:
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list:
        return self.non_trainable_weights

    @property
    def losses(self) -> list:
        """The weight regularization penalties, one float32 scalar per regularized weight (as
        Keras lists them outside a call; activity penalties exist only inside training)."""
        out = []
        for weight in self.weights:
            reg = self._regularizers.get(weight.name)
            if reg is not None:
                out.append(np.float32(reg(weight.numpy())))
        return out

    def get_weights(self) -> list:
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights) -> None:
        params = self.weights
        weights = list(weights)
        if len(weights) != len(params):
            raise ValueError(
                f"You called `set_weights(weights)` on layer '{self.name}' with a weight list of "
                f"length {len(weights)}, but the layer was expecting {len(params)} weights."
            )
        for var, value in zip(params, weights):
            value = np.asarray(value)
            if value.shape != var.shape:
                raise ValueError(
                    f"Layer {self.name} weight shape {var.shape} is not compatible with provided "
                    f"weight shape {value.shape}."
                )
        for var, value in zip(params, weights):
            var.assign(value)

    def count_params(self) -> int:
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    # ---- calling ----
    def __call__(self, inputs, *args, **kwargs):
        from kerasette.models.functional import call_layer_symbolically

        if _contains_keras_tensor(inputs):
            return call_layer_symbolically(self, inputs, kwargs)
        return self._call_eager(inputs, **kwargs)

    def _call_eager(self, inputs, training=False):
        """Runs the layer on arrays through a one-layer engine graph."""
        from kerasette.models.data import as_float_array

        arrays = [as_float_array(x, "inputs") for x in (inputs if isinstance(inputs, (list, tuple)) else [inputs])]
        shapes = [(None,) + a.shape[1:] for a in arrays]
        if not self.built:
            self.build(shapes if len(shapes) > 1 else shapes[0])
        if self._engine_kind is None:
            return arrays[0]
        graph = _engine.Graph()
        ids = [graph.add_input(list(a.shape[1:])) for a in arrays]
        node = self._add_nodes(graph, ids)
        graph.set_outputs([node])
        out = np.empty((arrays[0].shape[0],) + tuple(graph.node_shape(node)), dtype=np.float32)
        graph.predict(arrays, max(1, arrays[0].shape[0]), [out], bool(training))
        return out

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _dtype_name(dtype) -> str:
    if isinstance(dtype, dict):  # Keras 3 DTypePolicy config
        return dtype.get("config", {}).get("name", "float32")
    return np.dtype(dtype).name if not isinstance(dtype, str) else dtype


def _is_shape_list(s) -> bool:
    return isinstance(s, (list, tuple)) and len(s) > 0 and all(
        isinstance(e, (list, tuple)) for e in s
    )


def _contains_keras_tensor(x) -> bool:
    if isinstance(x, KerasTensor):
        return True
    if isinstance(x, (list, tuple)):
        return any(_contains_keras_tensor(e) for e in x)
    if isinstance(x, dict):
        return any(_contains_keras_tensor(e) for e in x.values())
    return False
