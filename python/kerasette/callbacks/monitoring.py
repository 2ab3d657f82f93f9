"""Callbacks that watch a metric: `EarlyStopping` (and the rules for inferring min/max mode)."""

from __future__ import annotations

import math
import warnings
from typing import Optional

import numpy as np

from kerasette.callbacks.callback import Callback, _print_msg


_MAXIMIZED = ("acc", "auc", "precision", "recall", "f1_score", "fbeta_score", "r2_score", "iou",
              "cosine_similarity")
_MINIMIZED = ("loss", "error", "crossentropy", "hinge", "divergence", "poisson", "logcosh",
              "mse", "mae", "mape", "msle")


def _model_metrics(model):
    try:
        metrics = list(getattr(model, "metrics", None) or [])
    except Exception:  # an uncompiled model may refuse to list its metrics
        return []
    flat = []
    for metric in metrics:
        flat.extend(getattr(metric, "metrics", None) or [metric])
    return flat


def _infer_mode(callback_name: str, monitor: str, model) -> str:
    name = monitor[len("val_") :] if monitor.startswith("val_") else monitor
    if name == "loss":
        return "min"
    for metric in _model_metrics(model):
        direction = getattr(metric, "_direction", None)
        if getattr(metric, "name", None) == name and direction in ("up", "down"):
            return "max" if direction == "up" else "min"
    if any(fragment in name for fragment in _MAXIMIZED):
        return "max"
    if any(fragment in name for fragment in _MINIMIZED):
        return "min"
    raise ValueError(
        f"{callback_name} callback received monitor={monitor}, but Keras isn't able to "
        "automatically determine whether that metric should be maximized or minimized. "
        "Pass `mode='max'` in order to monitor based on the highest metric value, or pass "
        "`mode='min'` in order to use the lowest value."
    )


def _check_mode(callback_name: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        warnings.warn(
            f"{callback_name} mode '{mode}' is unknown, fallback to auto mode.", stacklevel=3
        )
        return "auto"
    return mode


class EarlyStopping(Callback):
    """Stops training when a monitored metric has stopped improving.

    At each epoch end the wait counter goes up by one; an improvement (by more than `min_delta`)
    records the new best and, if it also beats `baseline`, resets the counter. Training stops once
    the counter reaches `patience` without an improvement (never at epoch 0).

    Args:
        monitor: Quantity to be monitored. Defaults to `"val_loss"`.
        min_delta: Minimum change that counts as an improvement. Defaults to `0`.
        patience: Number of epochs with no improvement after which training stops.
        verbose: 0 is silent; 1 prints a message when the callback acts.
        mode: One of `"auto"`, `"min"`, `"max"`. `"auto"` infers the direction from the metric.
        baseline: If not `None`, training stops unless the model improves on it within
            `patience` epochs.
        restore_best_weights: Whether to restore, at the end of training, the weights of the
            epoch with the best monitored value.
        start_from_epoch: Number of warm-up epochs during which nothing is monitored.

    Example:

    >>> callback = EarlyStopping(monitor="loss", patience=3)
    >>> model.fit(x, y, epochs=10, callbacks=[callback])
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: Optional[float] = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ):
        super().__init__()
        self.monitor = monitor
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(min_delta)
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.mode = _check_mode("EarlyStopping", mode)
        self.monitor_op = None
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def _set_monitor_op(self):
        mode = self.mode if self.mode != "auto" else _infer_mode(
            "EarlyStopping", self.monitor, self.model
        )
        self.monitor_op = np.less if mode == "min" else np.greater
        if mode == "min":
            # Keras keeps min_delta signed so "better" is always `op(current - min_delta, best)`.
            self.min_delta = -abs(self.min_delta)

    def _reset_best(self):
        self.best = math.inf if self.monitor_op is np.less else -math.inf

    def on_train_begin(self, logs=None):
        # Reset so the same instance can be reused across fit calls.
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0
        if self.monitor_op is not None:
            self._reset_best()

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            # Delayed to the first epoch end, when the model's metrics exist.
            self._set_monitor_op()
            self._reset_best()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Nothing recorded yet: the current weights are the best seen.
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch

        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # The wait restarts only when the value beats both the previous best and the baseline.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return

        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            _print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                _print_msg(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs.keys())}",
                stacklevel=2,
            )
        return value

    def _is_improvement(self, value, reference) -> bool:
        return bool(self.monitor_op(value - self.min_delta, reference))
