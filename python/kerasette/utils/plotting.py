"""Training curves from a `History` (or its `history` dict) drawn to a PNG with matplotlib.

matplotlib is an optional dependency (`pip install kerasette[examples]`), so it is imported only
when a plot is drawn. The figure is rendered with the Agg canvas directly, without pyplot, so the
user's global matplotlib backend and open figures are left alone.
"""

from __future__ import annotations

import os
from typing import Mapping, Optional, Sequence, Union


def _history_dict(history) -> Mapping[str, Sequence[float]]:
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        raise TypeError(
            "Expected `history` to be a `History` object or a dict of lists. "
            f"Received: history of type {type(history).__name__}"
        )
    if not logs:
        raise ValueError("Expected `history` to hold at least one metric. Received: history={}")
    return logs


def _default_metrics(logs) -> list:
    # A validation-only key (e.g. "val_loss" without "loss") still gets its own subplot.
    names = []
    for key in logs:
        name = key[len("val_") :] if key.startswith("val_") else key
        if name not in names:
            names.append(name)
    if "loss" in names:
        names.remove("loss")
        names.insert(0, "loss")
    return names


def plot_history(
    history,
    path: Union[str, os.PathLike],
    metrics: Optional[Sequence[str]] = None,
) -> Union[str, os.PathLike]:
    """Plots training and validation curves, one subplot per metric, to a PNG file.

    Args:
        history: A `History` object (as returned by `model.fit`) or a dict mapping log keys
            (`"loss"`, `"val_loss"`, `"accuracy"`, ...) to per-epoch lists.
        path: Where to write the PNG.
        metrics: Metric names to plot, without the `"val_"` prefix. Defaults to every metric in
            `history`, loss first. Validation curves are drawn dashed.

    Returns:
        `path`.

    Example:

    >>> history = model.fit(x, y, validation_split=0.2, epochs=10)
    >>> plot_history(history, "curves.png")
    'curves.png'
    """
    logs = _history_dict(history)
    names = list(metrics) if metrics is not None else _default_metrics(logs)
    for name in names:
        if name not in logs and f"val_{name}" not in logs:
            raise ValueError(
                "Expected every name in `metrics` to be a key of the history. "
                f"Received: metrics={list(names)}, available keys: {list(logs)}"
            )
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError as e:
        raise ImportError(
            "`plot_history` requires matplotlib. Install it with "
            "`pip install kerasette[examples]` or `pip install matplotlib`."
        ) from e

    epochs_offset = 1  # Keras's History counts epochs from 0; plots count from 1.
    figure = Figure(figsize=(5 * len(names), 4), dpi=100)
    FigureCanvasAgg(figure)
    for i, name in enumerate(names):
        axes = figure.add_subplot(1, len(names), i + 1)
        for key, style, label in ((name, "-", "train"), (f"val_{name}", "--", "validation")):
            if key in logs:
                values = [float(v) for v in logs[key]]
                steps = range(epochs_offset, len(values) + epochs_offset)
                axes.plot(steps, values, linestyle=style, marker="o", markersize=3, label=label)
        axes.set_title(name)
        axes.set_xlabel("epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylabel(name)
        axes.grid(True, alpha=0.3)
        axes.legend()
    figure.tight_layout()
    figure.savefig(os.fspath(path), format="png")
    return path
