"""The two callbacks `fit` always adds: `History` and `ProgbarLogger`."""

from __future__ import annotations

from kerasette.utils.progbar import Progbar
from kerasette.callbacks.callback import Callback, _print_msg


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
