"""Model configs in Keras's schema (the Keras 2 spelling, which both Keras 2 and 3 read), and
models rebuilt from configs written by Keras 2 or Keras 3. Classes are looked up by name among
kerasette's layers and the caller's `custom_objects`; nothing in a config is ever executed."""

from __future__ import annotations

from kerasette.layers.layer import KerasTensor


def layer_config(layer) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def sequential_config(model) -> dict:
    layers = []
    if model._input_layer is not None:
        layers.append(layer_config(model._input_layer))
    layers += [layer_config(layer) for layer in model.layers]
    return {"name": model.name, "layers": layers}


def functional_config(model) -> dict:
    # A layer's calls are numbered among those in this model, as Keras does: a layer shared with
    # another model has calls this config leaves out (and reloading makes only the kept ones).
    in_model = {id(n) for n in model._nodes}
    node_index: dict[int, int] = {}  # id(node) -> its index among the layer's calls in the model
    for layer in model.layers:
        kept = [node for node in layer._inbound_nodes if id(node) in in_model]
        for i, node in enumerate(kept):
            node_index[id(node)] = i

    def ref(t: KerasTensor) -> list:
        layer, idx, tensor_idx = t._keras_history
        nodes = layer._inbound_nodes
        if 0 <= idx < len(nodes):
            idx = node_index.get(id(nodes[idx]), idx)
        return [layer.name, idx, tensor_idx]

    def io_refs(nested, flat: list):
        # Keras 3 writes a dict of inputs or outputs as a dict of references.
        if isinstance(nested, dict):
            return {k: ref(t) for k, t in nested.items()}
        return [ref(t) for t in flat]

    layers = []
    for layer in model.layers:
        inbound = []
        for node in layer._inbound_nodes:
            if id(node) in in_model:
                inbound.append([ref(t) + [{}] for t in node.inputs])
        entry = layer_config(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = inbound
        layers.append(entry)
    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layers,
        "input_layers": io_refs(model._nested_inputs, model._inputs),
        "output_layers": io_refs(model._nested_outputs, model._outputs),
    }


def layer_from_config(entry: dict, custom_objects=None):
    from kerasette import layers as layers_module
    from kerasette.saving.serialization import deserialize_keras_object

    return deserialize_keras_object(entry, layers_module.registry(), custom_objects, "layer")


def sequential_from_config(config: dict, custom_objects=None):
    from kerasette.models.sequential import Sequential

    if "config" in config and "class_name" in config:
        config = config["config"]
    entries = config["layers"] if isinstance(config, dict) else config
    model = Sequential(name=config.get("name") if isinstance(config, dict) else None)
    for entry in entries:
        model.add(layer_from_config(entry, custom_objects), rebuild=False)
    build_shape = config.get("build_input_shape") if isinstance(config, dict) else None
    if model._input_layer is None and build_shape is not None and not (
            model.layers and model.layers[0]._batch_input_shape):
        model.build(tuple(build_shape))
    else:
        model._maybe_build()
    return model


def _tensor_refs(inbound_node) -> list:
    """(layer name, node index, tensor index) of each input of one call, Keras 2 or 3 format."""
    if isinstance(inbound_node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
        refs = []

        def walk(x):
            if isinstance(x, dict) and x.get("class_name") == "__keras_tensor__":
                refs.append(tuple(x["config"]["keras_history"]))
            elif isinstance(x, (list, tuple)):
                for e in x:
                    walk(e)
            elif isinstance(x, dict):
                for e in x.values():
                    walk(e)

        walk(inbound_node.get("args", []))
        return refs
    return [tuple(r[:3]) for r in inbound_node]


def _io_refs(spec) -> list:
    if spec and not isinstance(spec[0], (list, tuple)):  # Keras 3 single flat triple
        return [tuple(spec)]
    return [tuple(s) for s in spec]


def functional_from_config(config: dict, custom_objects=None):
    from kerasette.layers.core import InputLayer
    from kerasette.models.model import Model

    if "config" in config and "class_name" in config:
        config = config["config"]
    created = {}
    outputs_of: dict[tuple, KerasTensor] = {}
    pending = []
    for entry in config["layers"]:
        layer = layer_from_config(entry, custom_objects)
        created[entry.get("name", layer.name)] = layer
        if isinstance(layer, InputLayer):
            outputs_of[(layer.name, 0, 0)] = layer.output
        else:
            pending.append((layer, entry.get("inbound_nodes", [])))
    # Calls are replayed in order; a call whose inputs are not ready yet waits (shared layers).
    progress = True
    node_counts: dict[str, int] = {}
    while pending and progress:
        progress = False
        rest = []
        for layer, nodes in pending:
            done = node_counts.get(layer.name, 0)
            remaining = nodes[done:]
            for node in remaining:
                refs = _tensor_refs(node)
                if not all(tuple(r) in outputs_of for r in refs):
                    break
                tensors = [outputs_of[tuple(r)] for r in refs]
                arg = tensors if len(tensors) > 1 or _is_list_call(node) else tensors[0]
                out = layer(arg)
                outputs_of[(layer.name, done, 0)] = out
                done += 1
                progress = True
            node_counts[layer.name] = done
            if done < len(nodes):
                rest.append((layer, nodes))
        pending = rest
    if pending:
        raise ValueError(
            f"Could not rebuild the functional graph: layers {[l.name for l, _ in pending]} have "
            "inputs that no layer produces."
        )

    def tensors(key: str):
        spec = config[key]

        def get(r) -> KerasTensor:
            r = tuple(r)
            if r not in outputs_of:
                raise ValueError(f"The model config's `{key}` refers to {list(r)}, which no "
                                 "layer of the config produces.")
            return outputs_of[r]

        if isinstance(spec, dict):  # Keras 3: a dict of inputs or outputs
            return {k: get(_io_refs(v)[0]) for k, v in spec.items()}
        found = [get(r) for r in _io_refs(spec)]
        if not found:
            raise ValueError(f"The model config's `{key}` is empty.")
        return found if len(found) > 1 else found[0]

    return Model(inputs=tensors("input_layers"), outputs=tensors("output_layers"),
                 name=config.get("name"))


def _is_list_call(node) -> bool:
    if isinstance(node, dict):
        args = node.get("args", [])
        return bool(args) and isinstance(args[0], list)
    return len(node) > 1
