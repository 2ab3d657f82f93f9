"""Callbacks that write files of the model: `ModelCheckpoint` and `BackupAndRestore`."""

from __future__ import annotations

import json
import os
import shutil
import warnings
from typing import Optional

import numpy as np

from kerasette.callbacks.callback import Callback, _print_msg
from kerasette.callbacks.monitoring import _check_mode, _infer_mode


def _save_due(callback, batch: int) -> bool:
    """Counts the training batches since `callback` last saved (its `_last_batch_seen` and
    `_batches_seen_since_last_saving`) and says whether `save_freq` of them have passed. Counts
    batches, not calls: with several batches per engine call the hook sees only the last index of
    each call, and the index restarts at each epoch."""
    if batch <= callback._last_batch_seen:  # a new epoch started
        added = batch + 1
    else:
        added = batch - callback._last_batch_seen
    callback._batches_seen_since_last_saving += added
    callback._last_batch_seen = batch
    if callback._batches_seen_since_last_saving >= callback.save_freq:
        callback._batches_seen_since_last_saving = 0
        return True
    return False


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

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(epoch=self._current_epoch, batch=batch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            # As Keras: at the first epoch end, with or without `save_best_only`, so a `monitor`
            # whose direction cannot be inferred fails then, before anything is saved.
            self._set_monitor_op()
        if self.save_freq == "epoch":
            self._save_model(epoch=epoch, batch=None, logs=logs)

    def _should_save_on_batch(self, batch) -> bool:
        return self.save_freq != "epoch" and _save_due(self, batch)

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
        if self.monitor_op is None:  # a batch-level save before the first epoch end
            self._set_monitor_op()
        # Keras 3 starts from no best value: the first epoch always saves ("improved from None").
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self.best is None or self.monitor_op(current - self.min_delta, self.best):
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
        if self.save_freq != "epoch" and _save_due(self, batch):
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
