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
    out_shape = layer.compute_output_shape(arg)  # raises first for shapes the layer refuses
    if layer._engine_fixes_input_shapes and layer._inbound_nodes:
        first = [tuple(t.shape[1:]) for t in layer._inbound_nodes[0].inputs]
        now = [tuple(s[1:]) for s in shapes]
        if now != first:
            raise NotImplementedError(
                f"Layer '{layer.name}' ({type(layer).__name__}) was first called on inputs of "
                f"per-sample shape {first[0] if len(first) == 1 else first} and cannot be called "
                f"again on {now[0] if len(now) == 1 else now}: kerasette sizes this layer once. "
                "Use a separate layer for each input shape."
            )
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


def _map_graph(inputs: list[KerasTensor], outputs: list[KerasTensor]):
    """Keras's `map_graph` (`keras/src/ops/function.py`): the calls reachable from `outputs`,
    the depth of each call and each layer (the longest path to an output), and the order a
    depth-first walk back from the outputs first meets each layer in."""
    nodes: list[Node] = []  # post-order: each call after the calls it reads from
    first_seen: dict[int, int] = {}
    layers: dict[int, Layer] = {}
    done: set[int] = set()

    def node_of(t: KerasTensor) -> Node:
        layer, node_index, _ = t._keras_history
        return layer._inbound_nodes[node_index]

    def visit(t: KerasTensor) -> None:
        node = node_of(t)
        if id(node) in done:
            return
        first_seen.setdefault(id(node.layer), len(first_seen))
        layers[id(node.layer)] = node.layer
        for parent in node.inputs:  # empty for the model's inputs (InputLayer calls)
            visit(parent)
        done.add(id(node))
        nodes.append(node)

    for t in outputs:
        visit(t)
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    for node in reversed(nodes):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        node_depth[id(node)] = depth
        for parent in node.inputs:
            key = id(node_of(parent))
            node_depth[key] = max(depth + 1, node_depth.get(key, 0))
    for t in inputs:  # an input no output depends on
        layer = t._keras_history[0]
        if id(layer) not in layer_depth:
            layer_depth[id(layer)], first_seen[id(layer)] = 0, -1
            layers[id(layer)] = layer
            node = node_of(t)
            nodes.append(node)
            node_depth[id(node)] = 0
    return nodes, node_depth, layers, layer_depth, first_seen


def layer_order(inputs: list[KerasTensor], outputs: list[KerasTensor]) -> list[Layer]:
    """A functional model's layers in Keras's order: by depth, deepest first, ties in the order
    the walk from the outputs first met them.

    `model.layers`, `model.weights`, `get_weights` and the config follow this order, so weight
    lists line up with Keras's.
    """
    _, _, layers, layer_depth, first_seen = _map_graph(inputs, outputs)
    return [layers[k] for k in sorted(layers, key=lambda k: (-layer_depth[k], first_seen[k]))]


def nodes_by_depth(inputs: list[KerasTensor], outputs: list[KerasTensor]) -> dict:
    """{depth: [calls at that depth]}, the model inputs' calls included, as Keras's
    `model._nodes_by_depth`."""
    nodes, node_depth, _, _, _ = _map_graph(inputs, outputs)
    out: dict[int, list[Node]] = {}
    for node in nodes:
        out.setdefault(node_depth[id(node)], []).append(node)
    return out
