"""fit / evaluate / predict on batch sources (generators, iterators, `PyDataset`s).

Python cannot hand the engine an epoch at once when the data arrives batch by batch, so these
loops make one engine call per batch through the same entry points the array path uses
(`train_batches`, `test_batches`, `predict` with the batch as the whole data), after the same
per-batch checks (`_prepare_inputs`, `_prepare_targets`, `_ready_engine`). Callbacks, the
progress bar and History see what they see with arrays; `steps` is `None` in their params when a
generator's length is unknown, and the progress bar learns it from the first epoch.
"""

from __future__ import annotations

import warnings

import numpy as np

from kerasette.models.data_adapter import EpochIterator, unpack_batch


def fit(model, x, *, epochs, verbose, callbacks, validation_data, shuffle, class_weight,
        initial_epoch, steps_per_epoch, validation_steps, validation_freq,
        validation_batch_size=None):
    """`Model.fit` on a batch source (its arguments already checked by `check_source_args`)."""
    from kerasette import callbacks as callbacks_module
    from kerasette.models.data_adapter import is_batch_source
    from kerasette.models.trainer import _unpack_validation, _verbose, should_validate

    if shuffle and not hasattr(x, "num_batches"):
        warnings.warn(
            "`shuffle=True` was passed, but will be ignored since the data `x` was provided as "
            "a generator. The generator is expected to yield already-shuffled data.",
            stacklevel=3)
    batches = EpochIterator(x, steps_per_epoch, shuffle=bool(shuffle))
    val = None
    if validation_data is not None:
        if is_batch_source(validation_data):
            val = EpochIterator(validation_data, validation_steps, what="validation_data")
        else:
            val = _unpack_validation(validation_data)
    verbose = _verbose(verbose)
    cbs = callbacks_module.CallbackList(
        callbacks, add_history=True, add_progbar=verbose != 0, model=model,
        verbose=verbose, epochs=epochs, steps=batches.num_batches)
    model.stop_training = False
    model._initial_epoch_override = None
    cbs.on_train_begin()
    if model._initial_epoch_override is not None:  # set by BackupAndRestore when resuming
        initial_epoch = model._initial_epoch_override
    logs = {}
    for epoch in range(initial_epoch, epochs):
        if batches.exhausted:
            break  # a generator that ended has nothing left for another epoch
        if model._engine_compiled:
            model._graph().reset_metrics()
        cbs.on_epoch_begin(epoch)
        for step, batch in batches.epoch():
            cbs.on_train_batch_begin(step)
            _train_step(model, batch, batches.kind, class_weight)
            logs = model._logs()
            cbs.on_train_batch_end(step, logs)
            if model.stop_training:
                break
        epoch_logs = dict(logs)
        if val is not None and should_validate(epoch, validation_freq):
            epoch_logs.update(
                validation_logs(model, val, cbs, validation_steps, validation_batch_size))
        cbs.on_epoch_end(epoch, epoch_logs)
        logs = epoch_logs
        if model.stop_training:
            break
    cbs.on_train_end(logs)
    return model.history


def validation_logs(model, val, cbs, steps, batch_size) -> dict:
    """The `val_` logs of one validation pass in `fit`: a batch source (an `EpochIterator`)
    through `evaluate` here, arrays `(x, y, sample_weight)` through `Model.evaluate`."""
    if isinstance(val, EpochIterator):
        logs = evaluate(model, val, callbacks=cbs)
    else:
        logs = model.evaluate(val[0], val[1], sample_weight=val[2], batch_size=batch_size,
                              steps=steps, verbose=0, return_dict=True, _callbacks=cbs)
    return {"val_" + k: v for k, v in logs.items()}


def _train_step(model, batch, kind, class_weight) -> None:
    bx, by, bsw = unpack_batch(batch, kind)
    if class_weight is not None and bsw is not None:
        raise ValueError("You cannot specify `class_weight` and `sample_weight` at the same time.")
    xs = model._prepare_inputs(bx, check_finite=True)
    n = xs[0].shape[0]
    ys = model._prepare_targets(by, n)
    sw = model._prepare_sample_weight(bsw, class_weight, ys, n)
    model._ready_engine(ys)
    model._graph().train_batches(xs, ys, sw, None, max(n, 1), 0, 1)


def _test_step(model, batch, kind) -> None:
    bx, by, bsw = unpack_batch(batch, kind)
    xs = model._prepare_inputs(bx)
    n = xs[0].shape[0]
    ys = model._prepare_targets(by, n)
    sw = model._prepare_sample_weight(bsw, None, ys, n)
    model._ready_engine(ys)
    model._graph().test_batches(xs, ys, sw, max(n, 1), 0, 1)


def evaluate(model, batches: EpochIterator, verbose=0, callbacks=None):
    """One pass of `batches` through `test_batches`; returns the logs dict.

    `callbacks` is the fit's `CallbackList` for validation, or a list for `Model.evaluate`.
    """
    from kerasette import callbacks as callbacks_module

    if isinstance(callbacks, callbacks_module.CallbackList):
        cbs = callbacks
    else:
        cbs = callbacks_module.CallbackList(callbacks, add_progbar=verbose != 0, model=model,
                                            verbose=verbose, epochs=1,
                                            steps=batches.num_batches)
    if model._engine_compiled:
        model._graph().reset_metrics()
    cbs.on_test_begin()
    logs = {}
    for step, batch in batches.epoch():
        cbs.on_test_batch_begin(step)
        _test_step(model, batch, batches.kind)
        logs = model._logs()
        cbs.on_test_batch_end(step, logs)
    cbs.on_test_end(logs)
    return logs


def predict(model, batches: EpochIterator, verbose=0, callbacks=None):
    """Predicts batch by batch and concatenates the outputs along the batch axis."""
    from kerasette import callbacks as callbacks_module

    cbs = callbacks_module.CallbackList(callbacks, add_progbar=verbose != 0, model=model,
                                        verbose=verbose, epochs=1, steps=batches.num_batches)
    parts = []
    cbs.on_predict_begin()
    for step, batch in batches.epoch():
        cbs.on_predict_batch_begin(step)
        bx, _, _ = unpack_batch(batch, batches.kind, x_alone=True)
        xs = model._prepare_inputs(bx)
        n = xs[0].shape[0]
        outs = model._allocate_outputs(n)
        model._graph().predict(xs, max(n, 1), outs)
        parts.append(outs)
        cbs.on_predict_batch_end(step, {"outputs": model._pack_outputs(outs)})
    cbs.on_predict_end()
    if not parts:
        raise ValueError(
            "Unexpected result of `predict_function` (Empty batch_outputs): `x` yielded no "
            "batches. Make sure the generator or PyDataset is not empty (or already consumed)."
        )
    return model._pack_outputs([np.concatenate(o, axis=0) for o in zip(*parts)])
