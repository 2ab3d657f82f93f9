"""Functional graphs: calling layers on symbolic tensors, and ordering the recorded calls.

`call_layer_symbolically` records one call of a layer (a `Node`) and returns its output tensor.
`graph_nodes` walks back from a model's outputs to its inputs and returns the calls in topological
order; the model turns that order into the engine's graph.
"""

from __future__ import annotations

from kerasette.layers.layer import KerasTensor, Layer, Node


def _flatten(x) -> list:
    if isinstance(x, KerasTensor):
        return [x]
    if isinstance(x, dict):
        return [t for v in x.values() for t in _flatten(v)]
    if isinstance(x, (list, tuple)):
        return [t for v in x for t in _flatten(v)]
    raise TypeError(
        f"Layers in a functional model can only be called on `keras.Input` tensors or the "
        f"outputs of other layers. Received: {x!r}"
    )


def call_layer_symbolically(layer: Layer, inputs, kwargs: dict) -> KerasTensor:
    for key in kwargs:
        if key not in ("training", "mask"):
            raise TypeError(f"Unsupported argument `{key}` when calling layer '{layer.name}'.")
    tensors = _flatten(inputs)
    shapes = [t.shape for t in tensors]
    arg = shapes if len(shapes) > 1 or isinstance(inputs, (list, tuple)) else shapes[0]
    if not layer.built:
        layer.build(arg)
    out_shape = layer.compute_output_shape(arg)
    node_index = len(layer._inbound_nodes)
    out = KerasTensor(out_shape, name=f"keras_tensor_{id(layer)}_{node_index}",
                      history=(layer, node_index, 0))
    layer._inbound_nodes.append(Node(layer, tensors, [out]))
    return out


def graph_nodes(inputs: list[KerasTensor], outputs: list[KerasTensor]) -> list[Node]:
    """The layer calls between `inputs` and `outputs`, each after the calls it depends on."""
    input_ids = {id(t) for t in inputs}
    order: list[Node] = []
    done: set[int] = set()
    active: set[int] = set()

    def visit(t: KerasTensor) -> None:
        if id(t) in input_ids:
            return
        if t._keras_history is None:
            raise ValueError(f"Tensor {t} does not come from a Keras layer.")
        layer, node_index, _ = t._keras_history
        node = layer._inbound_nodes[node_index]
        if id(node) in done:
            return
        if not node.inputs:  # an InputLayer that is not among the model's inputs
            raise ValueError(
                f"Graph disconnected: cannot obtain value for tensor {t} at layer '{layer.name}'. "
                f"The following previous layers were accessed without issue: "
                f"{[n.layer.name for n in order]}"
            )
        if id(node) in active:
            raise ValueError("The functional graph has a cycle.")
        active.add(id(node))
        for parent in node.inputs:
            visit(parent)
        active.discard(id(node))
        done.add(id(node))
        order.append(node)

    for t in outputs:
        visit(t)
    return order
