"""`Callback`, the hooks every callback may define, and `CallbackList`, which fans each call out."""

from __future__ import annotations

import sys


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


def _flatten_callbacks(callbacks) -> list:
    """Keras 3 flattens `callbacks` (`tree.flatten`): one callback or nested lists are fine.
    Anything without the hooks is refused here rather than by an AttributeError mid-fit."""
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        callbacks = [callbacks]
    out = []
    for cb in callbacks:
        if isinstance(cb, (list, tuple)):
            out += _flatten_callbacks(cb)
        elif isinstance(cb, Callback) or hasattr(cb, "set_model"):
            out.append(cb)
        else:
            raise TypeError(
                "Expected `callbacks` to hold `keras.callbacks.Callback` instances. Received: "
                f"{cb!r} of type {type(cb)}"
            )
    return out


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
        self.callbacks = _flatten_callbacks(callbacks)
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
        # As Keras's CallbackList, every hook gets a fresh sorted, flattened copy of `logs`
        # (`pythonify_logs`): one dict shared by the callbacks, so keys one adds (e.g.
        # "learning_rate") reach the ones after it (History and ProgbarLogger come last), but
        # never the caller's dict, so `on_train_end` sees the epoch's logs without them.
        logs = _pythonify_logs(logs or {})
        for callback in self.callbacks:
            getattr(callback, hook)(*args, logs)

    def on_batch_begin(self, batch, logs=None):
        self._call("on_batch_begin", batch, logs=logs)

    def on_batch_end(self, batch, logs=None):
        self._call("on_batch_end", batch, logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs=logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs=logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, logs=logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs=logs)

    def on_predict_batch_end(self, batch, logs=None):
        # Not flattened: Keras's `float()` would turn a one-element `outputs` array into a float.
        for callback in self.callbacks:
            callback.on_predict_batch_end(batch, logs if logs is not None else {})

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


# History and ProgbarLogger subclass Callback, so they are imported once Callback exists.
from kerasette.callbacks.history import History, ProgbarLogger  # noqa: E402
