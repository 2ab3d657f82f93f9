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


from kerasette.callbacks.callback import Callback, CallbackList
from kerasette.callbacks.checkpoints import BackupAndRestore, ModelCheckpoint
from kerasette.callbacks.history import History, ProgbarLogger
from kerasette.callbacks.learning_rate import LearningRateScheduler, ReduceLROnPlateau
from kerasette.callbacks.misc import CSVLogger, LambdaCallback, TerminateOnNaN
from kerasette.callbacks.monitoring import EarlyStopping
from kerasette.callbacks.tensorboard import TensorBoard

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
    "TensorBoard",
    "TerminateOnNaN",
]
