"""Keras 3 callbacks: hooks into `fit`, `evaluate` and `predict`.

`Callback` defines every hook as a no-op; `CallbackList` fans one call out to many callbacks and is
the only object the model's loops talk to. `History` and `ProgbarLogger` are the two callbacks
`fit` always adds; the rest (`EarlyStopping`, `ModelCheckpoint`, `LearningRateScheduler`,
`ReduceLROnPlateau`, `CSVLogger`, `TerminateOnNaN`, `LambdaCallback`, `BackupAndRestore`) are
opt-in and talk to the model only through `stop_training`, `get_weights`/`set_weights`,
`save`/`save_weights`/`load_weights` and `optimizer.learning_rate`.

The order of calls `fit` makes, as in Keras 3:

    callbacks = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=model,
                             verbose=verbose, epochs=epochs, steps=steps_per_epoch)
    model.stop_training = False
    callbacks.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        callbacks.on_epoch_begin(epoch)
        for step in ...:                       # 0-based within the epoch
            callbacks.on_train_batch_begin(step)
            callbacks.on_train_batch_end(step, logs)   # logs: running means, e.g. {"loss": ...}
            if model.stop_training: break
        # validation runs `evaluate` with this same CallbackList: on_test_begin,
        # on_test_batch_begin/end per batch, on_test_end(val_logs); ProgbarLogger stays silent.
        callbacks.on_epoch_end(epoch, {**train_logs, **{"val_" + k: v for k, v in val_logs}})
        if model.stop_training: break
    callbacks.on_train_end(last_epoch_logs)

When `CallbackList.needs_batch_hooks("train")` is False the model may run several batches per
engine call and make one `on_train_batch_begin`/`on_train_batch_end` pair per call, passing the
index of the last batch it ran (Keras does the same with `steps_per_execution`).
"""

from __future__ import annotations

import collections.abc
import csv
import json
import math
import os
import shutil
import sys
import warnings
from typing import Callable, Optional

import numpy as np

from kerasette.utils.progbar import Progbar

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
]

_BATCH_HOOKS = {
    "train": ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end"),
    "test": ("on_test_batch_begin", "on_test_batch_end"),
    "predict": ("on_predict_batch_begin", "on_predict_batch_end"),
}


def _print_msg(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


class Callback:
    """Base class used to build new callbacks.

    Subclass it and override the hooks of the stages you care about. `fit`, `evaluate` and
    `predict` call the hooks through a `CallbackList`.

    Attributes:
        params: Dict of run parameters (`verbose`, `epochs`, `steps`).
        model: The model being trained, evaluated or run.

    Example:

    >>> class PrintEpoch(Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         print(epoch, logs["loss"])
    >>> model.fit(x, y, callbacks=[PrintEpoch()])
    """

    # Class-level defaults keep subclasses that skip `super().__init__()` working.
    model = None
    params = None

    def __init__(self):
        self.params = None
        self.model = None

    def set_params(self, params: dict) -> None:
        self.params = params

    def set_model(self, model) -> None:
        self.model = model

    def on_batch_begin(self, batch, logs=None):
        """A backwards compatibility alias for `on_train_batch_begin`."""

    def on_batch_end(self, batch, logs=None):
        """A backwards compatibility alias for `on_train_batch_end`."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of an epoch of `fit` (0-based `epoch`)."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of an epoch; `logs` holds training and `val_` results."""

    def on_train_batch_begin(self, batch, logs=None):
        """Called at the beginning of a training batch in `fit`."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called at the end of a training batch in `fit`; `logs` holds running means."""
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Called at the beginning of a batch in `evaluate` (and validation in `fit`)."""

    def on_test_batch_end(self, batch, logs=None):
        """Called at the end of a batch in `evaluate` (and validation in `fit`)."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called at the beginning of a batch in `predict`."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called at the end of a batch in `predict`."""

    def on_train_begin(self, logs=None):
        """Called at the beginning of training."""

    def on_train_end(self, logs=None):
        """Called at the end of training; `logs` are the last epoch's logs."""

    def on_test_begin(self, logs=None):
        """Called at the beginning of evaluation or validation."""

    def on_test_end(self, logs=None):
        """Called at the end of evaluation or validation."""

    def on_predict_begin(self, logs=None):
        """Called at the beginning of prediction."""

    def on_predict_end(self, logs=None):
        """Called at the end of prediction."""

    def _uses_batch_hooks(self, mode: str) -> bool:
        """Whether this callback does anything in the batch-level hooks of `mode`."""
        for name in _BATCH_HOOKS[mode]:
            # Set on the instance (LambdaCallback) or overridden by the subclass.
            if name in vars(self) or getattr(type(self), name) is not getattr(Callback, name):
                return True
        return False


def _pythonify_logs(logs) -> dict:
    # Keras flattens nested dicts and sorts the keys; that is why batch-level displays read
    # "accuracy: ... - loss: ...".
    result = {}
    for key, value in sorted(logs.items()):
        if isinstance(value, dict):
            result.update(_pythonify_logs(value))
            continue
        try:
            value = float(value)
        except (TypeError, ValueError):
            pass
        result[key] = value
    return result


class CallbackList(Callback):
    """Container that calls every hook on each callback in turn.

    Args:
        callbacks: List of `Callback` instances.
        add_history: Whether to append a `History` if the list has none.
        add_progbar: Whether to append a `ProgbarLogger` if the list has none.
        model: The model these callbacks are used with; its `history` attribute is set to the
            list's `History`.
        **params: Run parameters passed to every callback via `set_params` (Keras 3 passes
            `verbose`, `epochs` and `steps`).

    Example:

    >>> callbacks = CallbackList([EarlyStopping()], add_history=True, model=model,
    ...                          verbose=0, epochs=10, steps=100)
    >>> callbacks.on_train_begin()
    """

    def __init__(
        self,
        callbacks=None,
        add_history: bool = False,
        add_progbar: bool = False,
        model=None,
        **params,
    ):
        super().__init__()
        self.callbacks = list(callbacks) if callbacks else []
        self._history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        self._progbar = next((cb for cb in self.callbacks if isinstance(cb, ProgbarLogger)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        self.set_model(model)
        self.set_params(params)

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)

    def __iter__(self):
        return iter(self.callbacks)

    def set_params(self, params: dict) -> None:
        self.params = params
        if params:
            for callback in self.callbacks:
                callback.set_params(params)

    def set_model(self, model) -> None:
        if model is None:
            return
        self.model = model
        if self._history is not None:
            model.history = self._history
        for callback in self.callbacks:
            callback.set_model(model)

    def needs_batch_hooks(self, mode: str) -> bool:
        """Whether some callback acts on each batch of `mode` (`"train"`, `"test"`, `"predict"`).

        `History` and `ProgbarLogger` never count: they cope with one call per engine call.
        """
        if mode not in _BATCH_HOOKS:
            raise ValueError(
                "Expected `mode` to be one of 'train', 'test', 'predict'. "
                f"Received: mode={mode!r}"
            )
        return any(
            cb._uses_batch_hooks(mode)
            for cb in self.callbacks
            if not isinstance(cb, (History, ProgbarLogger))
        )

    def _call(self, hook: str, *args, logs=None) -> None:
        # The same dict goes to every callback, so keys one adds (e.g. "learning_rate") reach the
        # ones after it: History and ProgbarLogger come last.
        logs = logs if logs is not None else {}
        for callback in self.callbacks:
            getattr(callback, hook)(*args, logs)

    def on_batch_begin(self, batch, logs=None):
        self._call("on_batch_begin", batch, logs=logs)

    def on_batch_end(self, batch, logs=None):
        self._call("on_batch_end", batch, logs=_pythonify_logs(logs or {}))

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs=logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs=_pythonify_logs(logs or {}))

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs=logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, logs=_pythonify_logs(logs or {}))

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs=logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs=logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs=logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs=logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs=logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs=logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs=logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs=logs)


class History(Callback):
    """Records the epoch logs of `fit` into `history` (a dict of lists) and `epoch`.

    `fit` adds one to every run and returns it; it is also set as `model.history`.

    Example:

    >>> history = model.fit(x, y, epochs=3)
    >>> history.history["loss"]
    [0.61, 0.43, 0.35]
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        # Set after each epoch so `model.history` is the latest state even if fit is interrupted.
        self.model.history = self


class ProgbarLogger(Callback):
    """Prints "Epoch i/n" and a progress bar per epoch, or one bar for `evaluate`/`predict`.

    Reads `verbose` (`"auto"` means 1), `epochs` and `steps` from the params. Validation inside
    `fit` is silent; its `val_` results appear on the epoch's final line.

    Example:

    >>> model.fit(x, y, epochs=2, callbacks=[ProgbarLogger()])
    Epoch 1/2
    32/32 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - loss: 0.4213
    """

    def __init__(self):
        super().__init__()
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params: dict) -> None:
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _uses_batch_hooks(self, mode: str) -> bool:
        return False

    def on_train_begin(self, logs=None):
        self._called_in_fit = True

    def on_train_end(self, logs=None):
        # Keras never resets this; resetting lets a reused logger draw a later `evaluate`.
        self._called_in_fit = False

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset_progbar()

    def on_predict_begin(self, logs=None):
        self._reset_progbar()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        if self.verbose and self.epochs > 1:
            _print_msg(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self._update_progbar(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._update_progbar(batch, None)  # prediction outputs are not metrics

    def on_epoch_end(self, epoch, logs=None):
        self._finalize_progbar(logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_end(self, logs=None):
        self._finalize_progbar(logs)

    def _reset_progbar(self):
        self.seen = 0
        self.progbar = Progbar(target=self.target, verbose=self.verbose, unit_name="step")

    def _update_progbar(self, batch, logs):
        if self.progbar is None:
            self._reset_progbar()
        self.seen = batch + 1  # batch indices are 0-based
        if self.verbose == 1:
            self.progbar.update(self.seen, list((logs or {}).items()), finalize=False)

    def _finalize_progbar(self, logs):
        if self.progbar is None:
            self._reset_progbar()
        if self.target is None:
            # Unknown step count: the first epoch teaches it.
            self.target = self.seen
            self.progbar.target = self.target
        self.progbar.update(self.target, list((logs or {}).items()), finalize=True)


# Keras 3 reads a metric's direction from `metric._direction`; for models whose metrics do not
# carry one, these name fragments give the same answer for Keras's built-in metrics.
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


class ModelCheckpoint(Callback):
    """Saves the model or its weights at the end of every epoch or every `save_freq` batches.

    Args:
        filepath: Path to save to. May hold format fields filled from `epoch` (1-based), `batch`
            (1-based, batch-level saves only) and the logs, e.g. `"{epoch:02d}-{val_loss:.2f}.h5"`.
            Must end in `.weights.h5` when `save_weights_only=True`, else `.keras` or `.h5`.
        monitor: The metric compared when `save_best_only=True`.
        verbose: 0 is silent; 1 prints a message on each save decision.
        save_best_only: Save only when `monitor` improves on the best value so far.
        save_weights_only: Call `model.save_weights(path)` instead of `model.save(path)`.
        mode: One of `"auto"`, `"min"`, `"max"`.
        save_freq: `"epoch"`, or an integer number of training batches between saves.
        initial_value_threshold: Initial best value for `save_best_only`.

    Example:

    >>> checkpoint = ModelCheckpoint("ckpt/{epoch:02d}-{val_loss:.2f}.keras",
    ...                              save_best_only=True)
    >>> model.fit(x, y, validation_split=0.2, epochs=10, callbacks=[checkpoint])
    """

    def __init__(
        self,
        filepath,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq="epoch",
        initial_value_threshold: Optional[float] = None,
    ):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = _check_mode("ModelCheckpoint", mode)
        self.save_freq = save_freq
        self.best = initial_value_threshold
        self.min_delta = 0
        self.monitor_op = None
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0

        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)):
            raise ValueError(
                f"Unrecognized save_freq: {save_freq}. "
                "Expected save_freq are 'epoch' or integer values"
            )
        if save_weights_only:
            if not self.filepath.endswith(".weights.h5"):
                raise ValueError(
                    "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath "
                    "provided must end in `.weights.h5` (Keras weights format). "
                    f"Received: filepath={self.filepath}"
                )
        elif not self.filepath.endswith((".keras", ".h5")):
            raise ValueError(
                "The filepath provided must end in `.keras` (Keras model format). "
                f"Received: filepath={self.filepath}"
            )

    def _uses_batch_hooks(self, mode: str) -> bool:
        return mode == "train" and self.save_freq != "epoch"

    def _set_monitor_op(self):
        mode = self.mode if self.mode != "auto" else _infer_mode(
            "ModelCheckpoint", self.monitor, self.model
        )
        self.monitor_op = np.less if mode == "min" else np.greater
        if self.best is None:
            self.best = math.inf if mode == "min" else -math.inf

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(epoch=self._current_epoch, batch=batch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save_model(epoch=epoch, batch=None, logs=logs)

    def _should_save_on_batch(self, batch) -> bool:
        if self.save_freq == "epoch":
            return False
        # Counts batches, not calls: with several batches per engine call the hook sees only the
        # last index of each call.
        if batch <= self._last_batch_seen:  # a new epoch started
            added = batch + 1
        else:
            added = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _should_save(self, epoch, logs, filepath) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                _print_msg(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(
                f"Can save best model only with {self.monitor} available.", stacklevel=3
            )
            return True
        if np.ndim(current) > 0:
            warnings.warn(
                "Can save best model only when `monitor` is a scalar value. "
                f"Received: {current}. Falling back to `save_best_only=False`.",
                stacklevel=3,
            )
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        best_str = f"{self.best:.5f}"
        if self.monitor_op(current - self.min_delta, self.best):
            if self.verbose > 0:
                _print_msg(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to "
                    f"{current:.5f}, saving model to {filepath}"
                )
            self.best = current
            return True
        if self.verbose > 0:
            _print_msg(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}")
        return False

    def _save_model(self, epoch, batch, logs):
        logs = logs or {}
        filepath = self._get_file_path(epoch, batch, logs)
        if os.path.isdir(filepath):
            raise IOError(
                "Please specify a non-directory filepath for ModelCheckpoint. "
                f"Filepath used is an existing directory: {filepath}"
            )
        if not self._should_save(epoch, logs, filepath):
            return
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath)
        else:
            self.model.save(filepath)
        if self.verbose > 0:
            _print_msg(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _get_file_path(self, epoch, batch, logs) -> str:
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {e}'
            ) from e


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
        mode: One of `"auto"`, `"min"`, `"max"`; `"auto"` maximizes names containing "acc".
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
        self.min_delta = min_delta
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"Learning rate reduction mode {mode} is unknown, fallback to auto mode.",
                stacklevel=2,
            )
            mode = "auto"
        self.mode = mode
        self._reset()

    def _reset(self):
        # Keras's own rule here (unlike EarlyStopping): "auto" maximizes any name containing "acc".
        if self.mode == "min" or (self.mode == "auto" and "acc" not in self.monitor):
            self.monitor_op = lambda a, b: np.less(a, b - self.min_delta)
            self.best = math.inf
        else:
            self.monitor_op = lambda a, b: np.greater(a, b + self.min_delta)
            self.best = -math.inf
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
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
        if self.monitor_op(current, self.best):
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


class CSVLogger(Callback):
    """Streams epoch results to a CSV file: an `epoch` column (0-based) then the sorted log keys.

    Args:
        filename: Path of the CSV file, e.g. `"run/log.csv"`.
        separator: String used to separate elements in the CSV file.
        append: Whether to append to an existing file (useful for continuing training) rather
            than overwrite it. The header is written only to an empty file.

    Example:

    >>> model.fit(x, y, callbacks=[CSVLogger("training.log")])
    """

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        self.append_header = True
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename) as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, mode, newline="")
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}

        def handle_value(value):
            if isinstance(value, str):
                return value
            if isinstance(value, collections.abc.Iterable) and np.ndim(value) > 0:
                return f'"[{", ".join(map(str, value))}]"'
            return value

        if self.keys is None:
            self.keys = sorted(logs.keys())
            # A model that validates only some epochs still gets its val_ columns from epoch 0.
            for name in getattr(self.model, "metrics_names", None) or []:
                if name.startswith("val_") and name not in self.keys:
                    self.keys.append(name)

        if self.writer is None:

            class _Dialect(csv.excel):
                delimiter = self.sep

            self.writer = csv.DictWriter(
                self.csv_file, fieldnames=["epoch"] + self.keys, dialect=_Dialect
            )
            if self.append_header:
                self.writer.writeheader()

        row = {"epoch": epoch}
        row.update((key, handle_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


class TerminateOnNaN(Callback):
    """Stops training when a training batch reports a NaN or infinite loss.

    Args:
        raise_error: If `True`, raise a `RuntimeError` at once instead of setting
            `model.stop_training` (which lets `on_train_end` hooks run).

    Example:

    >>> model.fit(x, y, callbacks=[TerminateOnNaN()])
    """

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or np.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(
                f"NaN or Inf loss encountered at batch {batch}. "
                f"Loss value: {loss}. Terminating training immediately."
            )
        _print_msg(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True


class LambdaCallback(Callback):
    """Builds a callback from plain functions.

    `on_epoch_begin`/`on_epoch_end` take `(epoch, logs)`, `on_train_begin`/`on_train_end` take
    `(logs)`, the batch hooks take `(batch, logs)`. Any other hook can be given as a keyword,
    e.g. `on_test_end=fn`.

    Example:

    >>> print_batch = LambdaCallback(on_train_batch_begin=lambda batch, logs: print(batch))
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **kwargs,
    ):
        super().__init__()
        self.__dict__.update(kwargs)
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
        }
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)


class BackupAndRestore(Callback):
    """Backs up the training state so an interrupted `fit` can resume where it stopped.

    At each epoch end (or every `save_freq` batches) the weights go to
    `backup_dir/latest.weights.h5` via `model.save_weights` and the next epoch index to
    `backup_dir/training_metadata.json`. At `on_train_begin` an existing backup is loaded with
    `model.load_weights`, and `model._initial_epoch_override` is set to the epoch to resume from
    (`None` when there is nothing to resume): `fit` must read it after `on_train_begin` and start
    its epoch loop there (Keras sets `model._initial_epoch`). The backup is deleted when training
    completes, unless `delete_checkpoint=False`.

    Args:
        backup_dir: Directory for the backup; do not share it with anything else.
        save_freq: `"epoch"` or an integer number of training batches between backups.
        delete_checkpoint: Whether to delete the backup once training has finished.

    Example:

    >>> model.fit(x, y, epochs=10, callbacks=[BackupAndRestore("/tmp/backup")])
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint: bool = True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)):
            raise ValueError(
                "Invalid value for argument `save_freq`. "
                f"Received: save_freq={save_freq}. Expected either 'epoch' or an integer value."
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = delete_checkpoint
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0

    def _uses_batch_hooks(self, mode: str) -> bool:
        return mode == "train" and self.save_freq != "epoch"

    def on_train_begin(self, logs=None):
        resume_epoch = None
        if os.path.exists(self._weights_path):
            self.model.load_weights(self._weights_path)
        if os.path.exists(self._metadata_path):
            with open(self._metadata_path) as f:
                resume_epoch = int(json.load(f)["epoch"])
        self._current_epoch = resume_epoch or 0
        self.model._initial_epoch_override = resume_epoch

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        if batch <= self._last_batch_seen:  # a new epoch started
            added = batch + 1
        else:
            added = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            self._save()

    def _save(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        self.model.save_weights(self._weights_path)
        # Written after the weights, so metadata never points past the weights on disk.
        with open(self._metadata_path, "w") as f:
            json.dump({"epoch": self._current_epoch, "batch": self._last_batch_seen}, f)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)
