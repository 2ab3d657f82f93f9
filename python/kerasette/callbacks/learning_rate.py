"""Callbacks that set the learning rate: `LearningRateScheduler` and `ReduceLROnPlateau`."""

from __future__ import annotations

import warnings
from typing import Callable

import numpy as np

from kerasette.callbacks.callback import Callback, _print_msg
from kerasette.callbacks.monitoring import _check_mode, _infer_mode


def _read_learning_rate(optimizer) -> float:
    return float(np.asarray(optimizer.learning_rate))


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of each epoch from `schedule(epoch, lr)`.

    Args:
        schedule: Function of the 0-based epoch index and the current learning rate (float)
            returning the new learning rate (float). A one-argument `schedule(epoch)` also works.
        verbose: 0 is quiet; 1 prints each update.

    Example:

    >>> def schedule(epoch, lr):
    ...     return lr if epoch < 10 else lr * 0.9
    >>> model.fit(x, y, epochs=15, callbacks=[LearningRateScheduler(schedule)])
    """

    def __init__(self, schedule: Callable, verbose: int = 0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        try:
            learning_rate = self.schedule(epoch, _read_learning_rate(optimizer))
        except TypeError:  # the older one-argument form, as Keras still accepts
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError(
                f"The output of the `schedule` function should be a float. Got: {learning_rate}"
            )
        optimizer.learning_rate = learning_rate
        if self.verbose > 0:
            _print_msg(
                f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                f"{learning_rate}."
            )

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _read_learning_rate(self.model.optimizer)


class ReduceLROnPlateau(Callback):
    """Reduces the learning rate when a metric has stopped improving.

    After `patience` epochs without an improvement larger than `min_delta`, the learning rate is
    multiplied by `factor` (not below `min_lr`); then `cooldown` epochs pass before the wait
    counter runs again.

    Args:
        monitor: Quantity to be monitored.
        factor: Factor by which the learning rate is reduced, `new_lr = lr * factor`.
        patience: Number of epochs with no improvement after which the rate is reduced.
        verbose: 0 is quiet; 1 prints each reduction.
        mode: One of `"auto"`, `"min"`, `"max"`; `"auto"` infers the direction from the metric,
            as `EarlyStopping` does (Keras 3.15 shares the rule between its monitor callbacks).
        min_delta: Threshold for measuring the new optimum.
        cooldown: Number of epochs to wait after a reduction before resuming normal operation.
        min_lr: Lower bound on the learning rate.

    Example:

    >>> reduce_lr = ReduceLROnPlateau(monitor="val_loss", factor=0.2, patience=5, min_lr=0.001)
    >>> model.fit(x, y, validation_split=0.2, callbacks=[reduce_lr])
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}"
            )
        self.monitor = monitor
        self.factor = factor
        self.min_lr = min_lr
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.mode = _check_mode("ReduceLROnPlateau", mode)
        self.monitor_op = None
        self._reset()

    def _reset(self):
        self.best = None  # Keras 3.15: the first monitored value is always an improvement
        self.cooldown_counter = 0
        self.wait = 0

    def _set_monitor_op(self):
        mode = self.mode if self.mode != "auto" else _infer_mode(
            "ReduceLROnPlateau", self.monitor, self.model
        )
        self.monitor_op = np.less if mode == "min" else np.greater
        if mode == "min":
            # Signed, as Keras keeps it, so "better" is always `op(current - min_delta, best)`.
            self.min_delta = -abs(self.min_delta)

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:  # delayed to the first epoch end, when the metrics exist
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        logs["learning_rate"] = _read_learning_rate(self.model.optimizer)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is "
                f"not available. Available metrics are: {','.join(logs.keys())}.",
                stacklevel=2,
            )
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.best is None or self.monitor_op(current - self.min_delta, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = _read_learning_rate(self.model.optimizer)
                # Compared in float32, as the optimizer stores it, so min_lr is reachable.
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        _print_msg(
                            f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                            f"to {new_lr}."
                        )
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
