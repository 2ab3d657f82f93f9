"""`model.summary()`: Keras 3's table of layers, output shapes and parameter counts.

Keras renders the table with `rich` (`keras/src/utils/summary_utils.py`); this module reproduces
its text without colour: the same column widths (Keras's `positions` of `line_length`, reduced by
rich's `ratio_reduce` to make room for padding and borders), cells wrapped at spaces and cut with
"…", and the "Optimizer params" line Keras adds once the optimizer has variables.
"""

from __future__ import annotations

import re
import shutil
import sys

import numpy as np


def _fmt_shape(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + (
        ",)" if len(shape) == 1 else ")")


def _weight_bytes(w) -> int:
    return int(np.prod(w.shape)) * np.dtype(w.dtype).itemsize


def _fmt_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} GB"


def _ratio_reduce(total: int, widths: list[int]) -> list[int]:
    # rich's `ratio_reduce` with equal ratios: takes `total` columns off, spread evenly.
    result, remaining, ratio = [], total, len(widths)
    for width in widths:
        taken = min(width, round(remaining / ratio))
        result.append(width - taken)
        remaining -= taken
        ratio -= 1
    return result


def _column_widths(line_length: int, positions: list[float]) -> list[int]:
    """Widths of the columns, padding included and borders not, as rich lays out Keras's table."""
    widths, current = [], 0
    for pos in positions:
        width = int(pos * line_length) - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        current += width
        widths.append(width + 2)  # one space of padding on each side
    excess = sum(widths) - (line_length - len(widths) - 1)
    return _ratio_reduce(excess, widths) if excess > 0 else widths


def _wrap(text: str, width: int) -> list[str]:
    """Greedy wrap at spaces; a word longer than the cell is cut with "…" (rich's ellipsis)."""
    words = text.split(" ")
    lines, line = [], words[0]
    for word in words[1:]:  # leading spaces (expand_nested's indent) stay as empty words
        if len(line) + 1 + len(word) <= width:
            line = f"{line} {word}"
        else:
            lines.append(line)
            line = word
    lines.append(line)
    return [l if len(l) <= width else l[: max(width - 1, 0)] + "…" for l in lines]


def _align(text: str, width: int, how: str) -> str:
    if how == "right":
        return text.rjust(width)
    if how == "center":
        left = (width - len(text)) // 2
        return (" " * left + text).ljust(width)
    return text.ljust(width)


def _render_row(cells, widths, align, sep) -> list[str]:
    wrapped = [_wrap(str(c), w - 2) for c, w in zip(cells, widths)]
    height = max(len(w) for w in wrapped)
    out = []
    for i in range(height):
        parts = [" " + _align(lines[i] if i < len(lines) else "", w - 2, how) + " "
                 for lines, w, how in zip(wrapped, widths, align)]
        out.append(sep + sep.join(parts) + sep)
    return out


def _is_sequential_like(model) -> bool:
    """Keras's test: one call per depth, none on several tensors, and no layer called twice."""
    from kerasette.models.functional import nodes_by_depth

    if type(model).__name__ == "Sequential":
        return True
    calls = []
    for nodes in nodes_by_depth(model._inputs, model._outputs).values():
        if len(nodes) > 1 or (len(nodes) == 1 and len(nodes[0].inputs) > 1):
            return False
        calls += nodes
    return len({id(node.layer) for node in calls}) == len(calls)


def _class_name(layer) -> str:
    from kerasette.models.model import Model

    # A plain functional model is `Functional` in Keras 3.
    return "Functional" if type(layer) is Model else type(layer).__name__


def _layer_fields(model, layer, prefix, sequential_like, show_trainable) -> list[str]:
    nodes = [n for n in layer._inbound_nodes if any(n is m for m in model._nodes)]
    if not layer._inbound_nodes:
        shape = "?"
    else:  # Keras shows the last call's output
        shape = _fmt_shape((nodes or layer._inbound_nodes)[-1].outputs[0].shape)
    built = layer.built or layer._keras_built_at_init
    params = f"{layer.count_params():,}" if built else "0 (unbuilt)"
    fields = [f"{prefix}{layer.name} ({_class_name(layer)})", shape, params]
    if not sequential_like:
        connections = ", ".join(
            f"{t._keras_history[0].name}[{t._keras_history[1]}][{t._keras_history[2]}]"
            for node in nodes for t in node.inputs)
        fields.append(connections or "-")
    if show_trainable:
        fields.append(("Y" if layer.trainable else "N") if layer.weights else "-")
    return fields


def _layer_range(layers, layer_range) -> tuple[int, int]:
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2:
        raise ValueError(
            "layer_range must be a list or tuple of length 2. Received: "
            f"layer_range = {layer_range} of length {len(layer_range)}"
        )
    if not isinstance(layer_range[0], str) or not isinstance(layer_range[1], str):
        raise ValueError(
            f"layer_range should contain string type only. Received: {layer_range}"
        )
    first = [i for i, l in enumerate(layers) if re.match(layer_range[0], l.name)]
    last = [i for i, l in enumerate(layers) if re.match(layer_range[1], l.name)]
    if not first or not last:
        raise ValueError(
            f"Passed layer_names do not match the layer names in the model. Received: "
            f"{layer_range}"
        )
    return first[0], last[-1] + 1


def _optimizer_variables(model) -> tuple[int, int]:
    """(count, bytes) of the optimizer's variables once the engine has them, else (0, 0).

    Keras 3 counts `iterations` (int64), `learning_rate` unless it is a schedule (float32), and
    the slot variables.
    """
    if not getattr(model, "_engine_compiled", False) or model.optimizer is None:
        return 0, 0
    slots = sum(int(np.prod(s.shape)) for per_var in model._graph().get_optimizer_slots()
                for s in per_var)
    from kerasette.optimizers.schedules import LearningRateSchedule

    is_schedule = isinstance(getattr(model.optimizer, "_learning_rate", None), LearningRateSchedule)
    scalars = 0 if is_schedule else 1
    scalars += len(model._graph().get_optimizer_extra_state())  # Nadam's momentum product
    return 1 + scalars + slots, 8 + 4 * (scalars + slots)


def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False,
                  show_trainable=False, layer_range=None) -> None:
    sequential_like = _is_sequential_like(model)
    if sequential_like:
        default_length, positions = 88, positions or [0.45, 0.80, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
        align = ["left", "left", "right"]
    else:
        default_length, positions = 108, positions or [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        align = ["left", "left", "right", "left"]
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        align.append("center")
    line_length = line_length or min(default_length, shutil.get_terminal_size().columns - 4)
    widths = _column_widths(line_length, positions)

    def rows_of(layer, level=0):
        prefix = "   " * level + "└ " if level else ""
        rows = [_layer_fields(model, layer, prefix, sequential_like, show_trainable)]
        if expand_nested and getattr(layer, "layers", None):
            for inner in layer.layers:
                rows.extend(rows_of(inner, level + 1))
        return rows

    def rule(left, mid, right, fill):
        return left + mid.join(fill * w for w in widths) + right

    layers = model.layers
    lo, hi = _layer_range(layers, layer_range)
    rows = [row for layer in layers[lo:hi] for row in rows_of(layer)]
    lines = [f'Model: "{model.name}"', rule("┏", "┳", "┓", "━")]
    lines += _render_row(header, widths, align, "┃")
    lines.append(rule("┡", "╇", "┩", "━"))
    for i, row in enumerate(rows):
        lines += _render_row(row, widths, align, "│")
        if i < len(rows) - 1:
            lines.append(rule("├", "┼", "┤", "─"))
    lines.append(rule("└", "┴", "┘", "─"))
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    frozen = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    # Bytes by each weight's dtype: Normalization's int64 count takes 8.
    trainable_bytes = sum(_weight_bytes(w) for w in model.trainable_weights)
    frozen_bytes = sum(_weight_bytes(w) for w in model.non_trainable_weights)
    opt_count, opt_bytes = _optimizer_variables(model)
    total = trainable + frozen + opt_count
    total_bytes = trainable_bytes + frozen_bytes + opt_bytes
    lines.append(f" Total params: {total:,} ({_fmt_bytes(total_bytes)})")
    lines.append(f" Trainable params: {trainable:,} ({_fmt_bytes(trainable_bytes)})")
    lines.append(f" Non-trainable params: {frozen:,} ({_fmt_bytes(frozen_bytes)})")
    if opt_count:
        lines.append(f" Optimizer params: {opt_count:,} ({_fmt_bytes(opt_bytes)})")
    text = "\n".join(lines) + "\n"
    if print_fn is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:  # Keras 3 hands `print_fn` the whole table in one call
        print_fn(text)
