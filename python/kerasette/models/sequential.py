"""`Sequential`: a linear stack of layers, the chain case of the functional machinery."""

from __future__ import annotations

import numpy as np

from kerasette.layers.core import Input, InputLayer
from kerasette.layers.layer import KerasTensor, Layer, normalize_shape
from kerasette.models.model import Model


class Sequential(Model):
    """A plain stack of layers, each with one input and one output.

    Args:
        layers: optional list of layers (an `Input(...)` tensor or `InputLayer` may come first).
        name: the model's name.

    Example:
        >>> model = kerasette.Sequential([
        ...     kerasette.Input((784,)),
        ...     kerasette.layers.Dense(512, activation="relu"),
        ...     kerasette.layers.Dense(10, activation="softmax"),
        ... ])
    """

    _keras_module = "keras"

    def __init__(self, layers=None, trainable: bool = True, name: str | None = None, **kwargs):
        super().__init__(trainable=trainable, name=name, **kwargs)
        self._layers: list[Layer] = []
        self._input_layer: InputLayer | None = None
        self.built = False
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_build()

    @classmethod
    def _default_name(cls) -> str:
        return "sequential"

    def add(self, layer, rebuild: bool = True) -> None:
        """Adds a layer on top of the stack."""
        if isinstance(layer, KerasTensor):
            origin = layer._keras_history[0] if layer._keras_history else None
            if not isinstance(origin, InputLayer):
                raise ValueError(
                    "Only the output of `kerasette.Input` may be added to a Sequential model. "
                    f"Received: {layer}"
                )
            layer = origin
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError(
                    "An `Input` or `InputLayer` can only be the first layer of a Sequential model."
                )
            self._input_layer = layer
        elif isinstance(layer, Layer):
            if layer is self:
                raise ValueError(f"Cannot add the Sequential model '{self.name}' to itself.")
            if any(layer is existing for existing in self._layers):
                raise ValueError(
                    f"Layer '{layer.name}' is already in the model; a Sequential model holds each "
                    "layer once."
                )
            taken = [existing.name for existing in self._layers]
            if self._input_layer is not None:
                taken.append(self._input_layer.name)
            if layer.name in taken:
                raise ValueError(
                    "All layers added to a Sequential model should have unique names. Name "
                    f"'{layer.name}' is already the name of a layer in this model. Update the "
                    "`name` argument to pass a unique name."
                )
            self._layers.append(layer)
        else:
            raise ValueError(
                "Only instances of `kerasette.layers.Layer` can be added to a Sequential model. "
                f"Received: {layer!r} (of type {type(layer).__name__})"
            )
        self._unbuild()
        if rebuild:
            self._maybe_build()

    def pop(self) -> Layer:
        if not self._layers:
            raise IndexError("There are no layers in the model.")
        layer = self._layers.pop()
        self._unbuild()
        self._maybe_build()
        return layer

    def _unbuild(self) -> None:
        # Forget the previous layers' graph too: if the rebuild fails (a layer rejects the
        # shape), `outputs` and `output_shape` must not go on describing the old model.
        self.built = False
        self._invalidate_graph()
        self._inputs, self._outputs, self._nodes = [], [], []
        self._nested_inputs = self._nested_outputs = None

    def _maybe_build(self) -> None:
        shape = None
        if self._input_layer is not None:
            shape = self._input_layer.batch_shape
        elif self._layers and self._layers[0]._batch_input_shape is not None:
            shape = self._layers[0]._batch_input_shape
        if shape is not None:
            self.build(shape)

    def build(self, input_shape=None) -> None:
        if input_shape is None:
            if self.built:
                return
            raise ValueError(
                f"Sequential model '{self.name}' cannot be built: it has no input shape. "
                "Start it with `kerasette.Input(shape)` or pass `input_shape=` to its first layer."
            )
        input_shape = normalize_shape(input_shape, "input_shape")
        if self._input_layer is None or self._input_layer.batch_shape != input_shape:
            self._input_layer = InputLayer(batch_shape=input_shape,
                                           name=self._input_layer.name if self._input_layer else None)
        x = self._input_layer.output
        for layer in self._layers:
            x = layer(x)
        self._set_graph(self._input_layer.output, x)
        self.built = True
        if self.compiled:
            self._configure_outputs()

    def _build_from_data(self, x) -> None:
        # Keras builds a Sequential model without an input shape on the first batch it sees
        # (with that batch's size as the batch dimension; kerasette keeps it None).
        if isinstance(x, dict) and len(x) == 1:
            x = next(iter(x.values()))
        elif isinstance(x, (list, tuple)) and len(x) == 1 and isinstance(x[0], np.ndarray):
            x = x[0]
        self.build((None,) + tuple(np.shape(x)[1:]))

    @property
    def layers(self) -> list:
        return list(self._layers)

    def _graph(self):
        if self._engine_graph is None and not self.built:
            self._maybe_build()
        return super()._graph()

    def get_build_config(self) -> dict | None:
        """The input shape the model was built for (`None` before it has one), as Keras 3."""
        return {"input_shape": tuple(self.inputs[0].shape)} if self.built else None

    def get_config(self) -> dict:
        from kerasette.models.config import sequential_config

        return sequential_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects=None) -> "Sequential":
        from kerasette.models.config import sequential_from_config

        return sequential_from_config(config, custom_objects)


__all__ = ["Sequential", "Input"]
