"""`model.summary()`: Keras 3's table of layers, output shapes and parameter counts."""

from __future__ import annotations

import numpy as np


def _fmt_shape(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + (
        ",)" if len(shape) == 1 else ")")


def _fmt_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} GB"


def _row(cells, widths, sep="│", align=None) -> str:
    parts = []
    for i, (cell, width) in enumerate(zip(cells, widths)):
        text = str(cell)
        if len(text) > width - 2:
            text = text[: width - 3] + "…"
        if align and align[i] == "right":
            parts.append(" " + text.rjust(width - 2) + " ")
        else:
            parts.append(" " + text.ljust(width - 2) + " ")
    return sep + sep.join(parts) + sep


def print_summary(model, line_length=None, print_fn=None, show_trainable=False) -> None:
    print_fn = print_fn or print
    from kerasette.models.model import Model

    functional = type(model).__name__ != "Sequential"
    rows = []
    seen_counts = set()
    for layer in model.layers:
        nodes = [n for n in layer._inbound_nodes if any(n is m for m in model._nodes)] or \
            layer._inbound_nodes[:1]
        shape = nodes[0].outputs[0].shape if nodes else ()
        count = 0 if id(layer) in seen_counts else layer.count_params()
        seen_counts.add(id(layer))
        connected = ""
        if functional and nodes and nodes[0].inputs:
            connected = ", ".join(
                f"{t._keras_history[0].name}[{t._keras_history[1]}][{t._keras_history[2]}]"
                for t in nodes[0].inputs)
        elif functional:
            connected = "-"
        rows.append((f"{layer.name} ({type(layer).__name__})", _fmt_shape(shape),
                     f"{count:,}", connected))
    if functional:
        headers = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        widths = [31, 26, 12, 24]
    else:
        headers = ["Layer (type)", "Output Shape", "Param #"]
        widths = [33, 24, 15]
    if line_length:
        scale = line_length / (sum(widths) + len(widths) + 1)
        widths = [max(8, int(w * scale)) for w in widths]
    align = ["left", "left", "right", "left"]

    def rule(left, mid, right, fill):
        return left + mid.join(fill * w for w in widths) + right

    lines = [f'Model: "{model.name}"', rule("┏", "┳", "┓", "━"),
             _row(headers, widths, "┃", align), rule("┡", "╇", "┩", "━")]
    for i, row in enumerate(rows):
        lines.append(_row(row[: len(widths)], widths, "│", align))
        if i < len(rows) - 1:
            lines.append(rule("├", "┼", "┤", "─"))
    lines.append(rule("└", "┴", "┘", "─"))
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    total = model.count_params()
    frozen = total - trainable
    lines.append(f" Total params: {total:,} ({_fmt_bytes(total * 4)})")
    lines.append(f" Trainable params: {trainable:,} ({_fmt_bytes(trainable * 4)})")
    lines.append(f" Non-trainable params: {frozen:,} ({_fmt_bytes(frozen * 4)})")
    for line in lines:
        print_fn(line)
    del Model
