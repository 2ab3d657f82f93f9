"""The `optimizer_weights/` group of a Keras `.h5` file: written in Keras 2's names and order
(so tf_keras restores the state), read from Keras 2 and Keras 3 files.

Keras 2 (tf_keras 2.21, `tf_keras/optimizers/*.py`) stores `iteration:0`, then each optimizer's
slot variables named `<Optimizer>/<slot>/<layer>/<weight>:0`, in the order its `build` creates
them, which differs per optimizer (`_K2_LAYOUT`). Keras 3 stores `<name>/iteration`,
`<name>/learning_rate`, then `<name>/<variable path>_<slot>`; kerasette's engine uses Keras 3's
slot names, so those files are read by slot suffix. Restoring is exact or it raises.

A `.keras` archive stores the optimizer the Keras 3 way too, but as its variables' list
(`optimizer/vars/0..N`, `Optimizer.save_own_variables`): the step count, the learning rate (unless
it is a schedule), the slots in the order Keras 3's `build` creates them (the same groups as
Keras 2's, only the slots in use), and Nadam's `u_product` last.
"""

from __future__ import annotations

import math

import h5py
import numpy as np

from kerasette.saving import h5_io

# Per engine optimizer: groups of (engine slot, Keras 2 slot name). Keras 2 creates each group
# with `for var in var_list: for slot in group`, one group after the other.
_K2_LAYOUT = {
    "adam": ((("momentum", "m"), ("velocity", "v")), (("velocity_hat", "vhat"),)),
    "adamw": ((("momentum", "m"), ("velocity", "v")), (("velocity_hat", "vhat"),)),
    "nadam": ((("momentum", "m"), ("velocity", "v")),),
    "sgd": ((("momentum", "m"),),),
    "rmsprop": ((("velocity", "velocity"),), (("momentum", "momentum"),),
                (("average_gradient", "average_gradient"),)),
    "adagrad": ((("accumulator", "accumulator"),),),
    "adadelta": ((("accumulated_grad", "accumulated_grad"),
                  ("accumulated_delta_var", "accumulated_delta_var")),),
    "adamax": ((("momentum", "m"), ("norm", "u")),),
    "lion": ((("momentum", "m"),),),
    "ftrl": ((("accumulator", "accumulator"), ("linear", "linear")),),
}  # fmt: skip
# Slots Keras 2 creates even when they play no part (SGD without momentum still has "m").
_K2_ALWAYS = {("sgd", "momentum")}
K2_CLASS_NAMES = {
    "adam": "Adam", "adamw": "AdamW", "nadam": "Nadam", "sgd": "SGD", "rmsprop": "RMSprop",
    "adagrad": "Adagrad", "adadelta": "Adadelta", "adamax": "Adamax", "lion": "Lion",
    "ftrl": "Ftrl",
}  # fmt: skip
# Nadam's running product of momentum factors: not an optimizer variable in Keras 2, so
# kerasette keeps it in an attribute that Keras ignores.
_U_PRODUCT_ATTR = "kerasette_nadam_u_product"


def _k2_entries(kind: str, slot_names: list[str], n_vars: int):
    """[(var index, engine slot or None, Keras 2 slot)] in Keras 2's variable order."""
    if kind not in _K2_LAYOUT:
        raise ValueError(f"Saving the state of optimizer '{kind}' is not supported.")
    out = []
    for group in _K2_LAYOUT[kind]:
        present = [(s, k2) for s, k2 in group if s in slot_names or (kind, s) in _K2_ALWAYS]
        for i in range(n_vars):
            for slot, k2 in present:
                out.append((i, slot if slot in slot_names else None, k2))
    return out


def write_optimizer_weights(f: h5py.File, model) -> None:
    """Writes `optimizer_weights/` for a model whose engine has been compiled."""
    graph = model._graph()
    kind, _ = model.optimizer.engine_spec()
    slot_names = list(graph.optimizer_slot_names())
    slots = graph.get_optimizer_slots()
    variables = model.trainable_weights
    prefix = K2_CLASS_NAMES.get(kind, kind)
    names = ["iteration:0"]
    arrays = [np.asarray(int(graph.iterations), dtype="<i8")]
    for i, slot, k2 in _k2_entries(kind, slot_names, len(variables)):
        names.append(f"{prefix}/{k2}/{variables[i].path}:0")
        if slot is None:  # a slot Keras keeps and kerasette's engine does not need
            arrays.append(np.zeros(variables[i].shape, dtype="<f4"))
        else:
            arrays.append(np.asarray(slots[i][slot_names.index(slot)], dtype="<f4"))
    group = f.create_group("optimizer_weights")
    h5_io.write_str_list_attr(group, "weight_names", names)
    for name, value in zip(names, arrays):
        group.create_dataset(name, data=value)
    extra = graph.get_optimizer_extra_state()
    if extra:
        group.attrs.create(_U_PRODUCT_ATTR, np.asarray(extra, dtype="<f8"))


def _read_group(group: h5py.Group, filepath: str) -> list[tuple[str, np.ndarray]]:
    out = []
    for name in h5_io.read_str_list_attr(group, "weight_names"):
        if name not in group:
            raise ValueError(
                f"Optimizer weight '{name}' is listed in '{filepath}' but has no dataset."
            )
        out.append((name, h5_io.read_array(group[name], f"optimizer weight '{name}'")))
    return out


def _nadam_u_product(beta_1: float, iterations: int) -> float:
    # The product Keras and the engine accumulate, one factor per step (in float64, as the engine).
    u = 1.0
    for t in range(1, iterations + 1):
        u *= beta_1 * (1.0 - 0.5 * math.pow(0.96, t))
    return u


def restore_optimizer_state(group: h5py.Group, model, filepath: str) -> None:
    """Sets the compiled engine's step count, slots (and Nadam product) from `group`.

    Raises:
        ValueError: the saved arrays do not fit this optimizer and model (count, order, shape).
    """
    saved = _read_group(group, filepath)
    graph = model._graph()
    kind, _ = model.optimizer.engine_spec()
    slot_names = list(graph.optimizer_slot_names())
    variables = model.trainable_weights
    slots = [[None] * len(slot_names) for _ in variables]
    if any(name.endswith(":0") for name, _ in saved):
        iterations, lr, u = _assign_keras2(saved, kind, slot_names, variables, slots, filepath)
    else:
        iterations, lr, u = _assign_keras3(saved, kind, slot_names, variables, slots, filepath)
    _set_engine_slots(graph, slots)
    graph.iterations = int(iterations)
    if lr is not None and _has_lr_variable(model.optimizer):
        graph.learning_rate = float(lr)
    if kind == "nadam":
        if _U_PRODUCT_ATTR in group.attrs:
            u = float(np.asarray(group.attrs[_U_PRODUCT_ATTR]).reshape(-1)[0])
        elif u is None:  # Keras 2 does not store it; it is a function of the step count
            u = _nadam_u_product(model.optimizer.beta_1, int(iterations))
        graph.set_optimizer_extra_state([u])


def _set_engine_slots(graph, slots: list) -> None:
    """Hands the engine `slots`, per trainable weight in `model.trainable_weights` order (Keras's:
    the model's layers are in Keras's order)."""
    if slots and slots[0]:
        graph.set_optimizer_slots(slots)


def _check_shape(value: np.ndarray, var, name: str, filepath: str) -> np.ndarray:
    if value.shape != tuple(var.shape):
        raise ValueError(
            f"Optimizer weight '{name}' in '{filepath}' has shape {value.shape}, but it belongs "
            f"to variable `{var.path}` of shape {tuple(var.shape)}."
        )
    if value.dtype.kind not in "fiu":
        raise ValueError(
            f"Optimizer weight '{name}' in '{filepath}' has dtype {value.dtype}; expected floats."
        )
    return np.ascontiguousarray(value, dtype=np.float32)


def _iteration_value(value: np.ndarray, name: str, filepath: str) -> int:
    if value.size != 1 or value.dtype.kind not in "iuf":
        raise ValueError(f"Optimizer weight '{name}' in '{filepath}' is not a step count.")
    return int(value.reshape(-1)[0])


def _assign_keras2(saved, kind, slot_names, variables, slots, filepath):
    entries = _k2_entries(kind, slot_names, len(variables))
    if len(saved) != 1 + len(entries):
        raise ValueError(
            f"The optimizer state in '{filepath}' holds {len(saved)} arrays, but a Keras 2 "
            f"'{K2_CLASS_NAMES.get(kind, kind)}' over {len(variables)} trainable weights has "
            f"{1 + len(entries)} (the step count, then slots "
            f"{[k2 for _, _, k2 in entries[: len(slot_names) or 1]]} per weight). It may come "
            "from another optimizer, model or a legacy Keras optimizer. Load it with "
            "`compile=False` and compile again to start a fresh optimizer."
        )
    iterations = _iteration_value(saved[0][1], saved[0][0], filepath)
    for (name, value), (i, slot, _) in zip(saved[1:], entries):
        value = _check_shape(value, variables[i], name, filepath)
        if slot is not None:
            slots[i][slot_names.index(slot)] = value
    return iterations, None, None


def _assign_keras3(saved, kind, slot_names, variables, slots, filepath):
    iterations, lr = None, None
    by_slot: dict[str, list] = {s: [] for s in slot_names}
    leftovers = []
    for name, value in saved:
        leaf = name.rsplit("/", 1)[-1]
        if leaf == "iteration":
            iterations = _iteration_value(value, name, filepath)
            continue
        if leaf == "learning_rate":
            lr = float(np.asarray(value).reshape(-1)[0])
            continue
        # Longest suffix first: "velocity_hat" before "velocity".
        slot = next((s for s in sorted(slot_names, key=len, reverse=True)
                     if leaf.endswith("_" + s)), None)
        if slot is None:
            leftovers.append((name, value))
        else:
            by_slot[slot].append((name, value))
    u_product = None
    if kind == "nadam":  # Keras 3's Nadam also tracks its scalar u_product
        scalars = [v for _, v in leftovers if np.asarray(v).size == 1]
        if len(scalars) == 1:
            u_product = float(np.asarray(scalars[0]).reshape(-1)[0])
            leftovers = [(n, v) for n, v in leftovers if np.asarray(v).size != 1]
    if iterations is None or leftovers or any(len(v) != len(variables) for v in by_slot.values()):
        counts = {s: len(v) for s, v in by_slot.items()}
        raise ValueError(
            f"The optimizer state in '{filepath}' does not fit a '{kind}' optimizer over "
            f"{len(variables)} trainable weights: found slots {counts}, "
            f"{'no' if iterations is None else 'a'} step count and unknown arrays "
            f"{[n for n, _ in leftovers]}. Load it with `compile=False` and compile again to "
            "start a fresh optimizer."
        )
    for slot, items in by_slot.items():
        for i, (name, value) in enumerate(items):
            slots[i][slot_names.index(slot)] = _check_shape(value, variables[i], name, filepath)
    return iterations, lr, u_product


# ---- Keras 3 `optimizer/vars` (the `.keras` format) ----
def _keras3_entries(kind: str, slot_names: list[str], n_vars: int) -> list[tuple[int, str]]:
    """[(var index, engine slot)] in the order Keras 3 creates them: Keras 2's groups and order
    (`add_optimizer_variables` interleaves one call's names per variable, calls follow one
    another), without the slots only Keras 2 keeps."""
    return [(i, s) for i, s, _ in _k2_entries(kind, slot_names, n_vars) if s is not None]


def _has_lr_variable(optimizer) -> bool:
    # Keras 3 tracks the learning rate as a variable unless it is a schedule.
    return not hasattr(optimizer._learning_rate, "engine_attrs")


def write_keras3_optimizer_vars(group: h5py.Group, model) -> None:
    """Writes the compiled engine's optimizer state into `group` (`optimizer/vars`)."""
    graph = model._graph()
    kind, _ = model.optimizer.engine_spec()
    slot_names = list(graph.optimizer_slot_names())
    slots = graph.get_optimizer_slots()
    arrays = [np.asarray(int(graph.iterations), dtype="<i8")]
    if _has_lr_variable(model.optimizer):
        arrays.append(np.asarray(graph.learning_rate, dtype="<f4"))
    for i, slot in _keras3_entries(kind, slot_names, len(slots)):
        arrays.append(np.asarray(slots[i][slot_names.index(slot)], dtype="<f4"))
    if kind == "nadam":
        arrays.append(np.asarray(graph.get_optimizer_extra_state()[0], dtype="<f4"))
    for i, value in enumerate(arrays):
        group.create_dataset(str(i), data=value)


def restore_keras3_optimizer_vars(group: h5py.Group, model, filepath: str) -> None:
    """Sets the compiled engine's step count, learning rate and slots from `optimizer/vars`.

    Raises:
        ValueError: the saved variables do not fit this optimizer and model (count or shape).
    """
    graph = model._graph()
    kind, _ = model.optimizer.engine_spec()
    slot_names = list(graph.optimizer_slot_names())
    variables = model.trainable_weights
    entries = _keras3_entries(kind, slot_names, len(variables))
    has_lr = _has_lr_variable(model.optimizer)
    expected = 1 + has_lr + len(entries) + (kind == "nadam")
    keys = sorted(group.keys(), key=lambda k: int(k) if k.isdigit() else -1)
    if keys != [str(i) for i in range(expected)]:
        raise ValueError(
            f"The optimizer state in '{filepath}' holds {len(keys)} variables, but a Keras 3 "
            f"'{K2_CLASS_NAMES.get(kind, kind)}' over {len(variables)} trainable weights has "
            f"{expected} (the step count, {'the learning rate, ' if has_lr else ''}then slots "
            f"{slot_names} per weight). It may come from another optimizer or model. Load it "
            "with `compile=False` and compile again to start a fresh optimizer."
        )
    values = [h5_io.read_array(group[k], f"optimizer variable {k}") for k in keys]
    iterations = _iteration_value(values[0], "0", filepath)
    position = 1 + has_lr
    slots = [[None] * len(slot_names) for _ in variables]
    for (i, slot), value in zip(entries, values[position:]):
        name = f"{position} ({slot} of `{variables[i].path}`)"
        slots[i][slot_names.index(slot)] = _check_shape(value, variables[i], name, filepath)
        position += 1
    _set_engine_slots(graph, slots)
    graph.iterations = iterations
    if has_lr:
        graph.learning_rate = float(np.asarray(values[1]).reshape(-1)[0])
    if kind == "nadam":
        graph.set_optimizer_extra_state([float(np.asarray(values[-1]).reshape(-1)[0])])
