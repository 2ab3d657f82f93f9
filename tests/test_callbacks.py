"""Callbacks driven by a hand-written loop that makes the same hook calls, in the same order, as
Keras 3's `fit`/`evaluate`/`predict`, against a fake model (weights are one array whose value is
the index of the epoch that last trained them, so a restore is easy to check)."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest

from kerasette import callbacks as cbks

TIME = r"\d+s \d+(us|ms|s)/step"  # elapsed seconds then time per step, e.g. "0s 12us/step"
BAR = "\u2501" * 20


class FakeOptimizer:
    def __init__(self, learning_rate=0.01):
        self.learning_rate = learning_rate


class FakeModel:
    def __init__(self, learning_rate=0.01):
        self.stop_training = False
        self.optimizer = FakeOptimizer(learning_rate)
        self._weights = [np.full((2,), -1.0)]
        self.saved = []
        self.history = None

    def train_epoch(self, epoch):
        self._weights = [np.full((2,), float(epoch))]

    def get_weights(self):
        return [w.copy() for w in self._weights]

    def set_weights(self, weights):
        self._weights = [np.array(w) for w in weights]

    def save(self, path):
        self.saved.append(("model", str(path)))
        with open(path, "w") as f:
            f.write("model")

    def save_weights(self, path):
        self.saved.append(("weights", str(path)))
        np.save(open(path, "wb"), self._weights[0])

    def load_weights(self, path):
        self._weights = [np.load(open(path, "rb"))]


def run_fit(model, callbacks, epoch_logs, steps=2, verbose=0, batch_losses=None, validate=False):
    """Runs the hook sequence of Keras 3's `fit`; returns the CallbackList."""
    callback_list = cbks.CallbackList(
        callbacks,
        add_history=True,
        add_progbar=verbose != 0,
        model=model,
        verbose=verbose,
        epochs=len(epoch_logs),
        steps=steps,
    )
    model.stop_training = False
    callback_list.on_train_begin()
    start = getattr(model, "_initial_epoch_override", None) or 0
    logs = None
    for epoch in range(start, len(epoch_logs)):
        callback_list.on_epoch_begin(epoch)
        for step in range(steps):
            callback_list.on_train_batch_begin(step)
            model.train_epoch(epoch)
            loss = batch_losses[epoch][step] if batch_losses else epoch_logs[epoch].get("loss", 1.0)
            callback_list.on_train_batch_end(step, {"loss": np.float32(loss)})
            if model.stop_training:
                break
        logs = dict(epoch_logs[epoch])
        if validate:
            callback_list.on_test_begin()
            for step in range(3):
                callback_list.on_test_batch_begin(step)
                callback_list.on_test_batch_end(step, {"loss": 9.0})
            callback_list.on_test_end({"loss": logs["val_loss"]})
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    return callback_list


def val_losses(*values):
    return [{"loss": 1.0, "val_loss": v} for v in values]


# EarlyStopping ----------------------------------------------------------------------------------


def test_early_stopping_counts_patience_as_keras(capsys):
    model = FakeModel()
    es = cbks.EarlyStopping(patience=2, verbose=1)
    run_fit(model, [es], val_losses(1.0, 0.9, 0.95, 0.96, 0.5))
    assert es.stopped_epoch == 3
    assert model.stop_training
    assert model.history.epoch == [0, 1, 2, 3]
    assert model.history.history["val_loss"] == [1.0, 0.9, 0.95, 0.96]
    assert capsys.readouterr().out == "Epoch 4: early stopping\n"


def test_early_stopping_restores_best_weights(capsys):
    model = FakeModel()
    es = cbks.EarlyStopping(patience=2, restore_best_weights=True, verbose=1)
    run_fit(model, [es], val_losses(1.0, 0.9, 0.95, 0.96, 0.5))
    assert es.best_epoch == 1
    np.testing.assert_array_equal(model.get_weights()[0], [1.0, 1.0])
    out = capsys.readouterr().out
    assert out == (
        "Epoch 4: early stopping\nRestoring model weights from the end of the best epoch: 2.\n"
    )


def test_early_stopping_restores_even_without_stopping():
    model = FakeModel()
    es = cbks.EarlyStopping(patience=5, restore_best_weights=True)
    run_fit(model, [es], val_losses(1.0, 0.5, 0.7))
    assert es.stopped_epoch == 0 and not model.stop_training
    np.testing.assert_array_equal(model.get_weights()[0], [1.0, 1.0])


def test_early_stopping_baseline_not_reached_stops_after_patience():
    model = FakeModel()
    es = cbks.EarlyStopping(patience=2, baseline=0.5)
    run_fit(model, [es], val_losses(0.9, 0.95, 0.96, 0.97, 0.98))
    # Epoch 0 improves on inf but not on the baseline, so its wait is kept.
    assert es.stopped_epoch == 1


def test_early_stopping_baseline_reached_resets_wait():
    model = FakeModel()
    es = cbks.EarlyStopping(patience=2, baseline=1.0)
    run_fit(model, [es], val_losses(0.9, 0.95, 0.96, 0.97, 0.98))
    assert es.stopped_epoch == 2


def test_early_stopping_start_from_epoch_skips_warmup():
    history = val_losses(1.0, 2.0, 3.0, 0.5, 0.4)
    es = cbks.EarlyStopping(patience=1)
    run_fit(FakeModel(), [es], history)
    assert es.stopped_epoch == 1

    model = FakeModel()
    es = cbks.EarlyStopping(patience=1, start_from_epoch=2)
    run_fit(model, [es], history)
    assert es.stopped_epoch == 0
    assert len(model.history.epoch) == 5


def test_early_stopping_min_delta():
    history = val_losses(1.0, 0.95, 0.92, 0.9, 0.85)
    es = cbks.EarlyStopping(patience=2, min_delta=0.1)
    run_fit(FakeModel(), [es], history)
    assert es.stopped_epoch == 2
    es = cbks.EarlyStopping(patience=2)
    run_fit(FakeModel(), [es], history)
    assert es.stopped_epoch == 0


def test_early_stopping_auto_mode_maximizes_accuracy():
    logs = [{"val_accuracy": v} for v in (0.5, 0.6, 0.55, 0.54, 0.9)]
    es = cbks.EarlyStopping(monitor="val_accuracy", patience=2)
    run_fit(FakeModel(), [es], logs)
    assert es.stopped_epoch == 3
    assert es.best == 0.6


def test_early_stopping_reusable_across_fits():
    es = cbks.EarlyStopping(patience=1)
    run_fit(FakeModel(), [es], val_losses(0.1, 0.2, 0.3))
    assert es.stopped_epoch == 1
    # A second fit starts from a fresh best, not the previous run's 0.1.
    run_fit(FakeModel(), [es], val_losses(5.0, 4.0, 3.0))
    assert es.stopped_epoch == 0 and es.best == 3.0


def test_early_stopping_missing_monitor_warns_with_available_keys():
    # The CallbackList hands every callback the logs sorted by key, as Keras's does.
    es = cbks.EarlyStopping(monitor="val_loss")
    with pytest.warns(UserWarning, match="Available metrics are: accuracy,loss"):
        run_fit(FakeModel(), [es], [{"loss": 1.0, "accuracy": 0.5}])


def test_early_stopping_unknown_metric_direction_raises():
    es = cbks.EarlyStopping(monitor="val_foo")
    with pytest.raises(ValueError, match="isn't able to automatically determine"):
        run_fit(FakeModel(), [es], [{"val_foo": 1.0}])


def test_early_stopping_unknown_mode_warns():
    with pytest.warns(UserWarning, match="fallback to auto mode"):
        es = cbks.EarlyStopping(mode="bigger")
    assert es.mode == "auto"


# ModelCheckpoint --------------------------------------------------------------------------------


def test_model_checkpoint_formats_file_names(tmp_path):
    model = FakeModel()
    pattern = str(tmp_path / "ckpt" / "{epoch:02d}-{val_loss:.2f}.keras")
    run_fit(model, [cbks.ModelCheckpoint(pattern)], val_losses(0.5, 0.4321))
    assert model.saved == [
        ("model", str(tmp_path / "ckpt" / "01-0.50.keras")),
        ("model", str(tmp_path / "ckpt" / "02-0.43.keras")),
    ]
    assert (tmp_path / "ckpt" / "02-0.43.keras").exists()


def test_model_checkpoint_save_best_only(tmp_path, capsys):
    model = FakeModel()
    path = str(tmp_path / "best.keras")
    ckpt = cbks.ModelCheckpoint(path, save_best_only=True, verbose=1)
    run_fit(model, [ckpt], val_losses(1.0, 0.5, 0.7, 0.4))
    assert len(model.saved) == 3
    assert ckpt.best == 0.4
    out = capsys.readouterr().out
    # Keras 3.15 starts from no best value (older Keras 3 printed "inf" here).
    assert f"\nEpoch 1: val_loss improved from None to 1.00000, saving model to {path}\n" in out
    assert "\nEpoch 3: val_loss did not improve from 0.50000\n" in out
    assert f"\nEpoch 4: finished saving model to {path}\n" in out


def test_model_checkpoint_save_best_only_max_mode_and_threshold(tmp_path):
    model = FakeModel()
    ckpt = cbks.ModelCheckpoint(
        str(tmp_path / "m.keras"),
        monitor="val_accuracy",
        save_best_only=True,
        initial_value_threshold=0.6,
    )
    run_fit(model, [ckpt], [{"val_accuracy": v} for v in (0.5, 0.7, 0.65, 0.8)])
    assert len(model.saved) == 2 and ckpt.best == 0.8


def test_model_checkpoint_weights_only(tmp_path):
    model = FakeModel()
    path = str(tmp_path / "w.weights.h5")
    run_fit(model, [cbks.ModelCheckpoint(path, save_weights_only=True)], val_losses(1.0))
    assert model.saved == [("weights", path)]
    with pytest.raises(ValueError, match="must end in `.weights.h5`"):
        cbks.ModelCheckpoint(str(tmp_path / "w.keras"), save_weights_only=True)
    with pytest.raises(ValueError, match="must end in `.keras`"):
        cbks.ModelCheckpoint(str(tmp_path / "model.txt"))
    with pytest.raises(ValueError, match="Unrecognized save_freq"):
        cbks.ModelCheckpoint(str(tmp_path / "m.keras"), save_freq="batch")


def test_model_checkpoint_integer_save_freq_counts_batches(tmp_path):
    model = FakeModel()
    pattern = str(tmp_path / "{epoch}-{batch}.keras")
    run_fit(model, [cbks.ModelCheckpoint(pattern, save_freq=2)], val_losses(1.0, 1.0), steps=3)
    names = [path.rsplit("/", 1)[1] for _, path in model.saved]
    assert names == ["1-2.keras", "2-1.keras", "2-3.keras"]


def test_model_checkpoint_missing_format_key(tmp_path):
    ckpt = cbks.ModelCheckpoint(str(tmp_path / "{val_acc}.keras"))
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        run_fit(FakeModel(), [ckpt], val_losses(1.0))


def test_model_checkpoint_unknown_monitor_direction_raises_before_saving(tmp_path):
    # Keras 3.15 works out the direction at the first epoch end, save_best_only or not: a monitor
    # it cannot place raises there, before anything is written (no "Can save best model" warning).
    for save_best_only in (True, False):
        model = FakeModel()
        ckpt = cbks.ModelCheckpoint(str(tmp_path / "m.keras"), monitor="val_missing",
                                    save_best_only=save_best_only)
        with pytest.raises(ValueError, match="ModelCheckpoint callback received "
                                             "monitor=val_missing, but Keras isn't able"):
            run_fit(model, [ckpt], val_losses(1.0))
        assert model.saved == []


# CSVLogger --------------------------------------------------------------------------------------


def test_csv_logger_columns_and_append(tmp_path):
    path = tmp_path / "log.csv"
    logs = [{"loss": 0.5, "val_loss": 0.6, "accuracy": 0.7}, {"loss": 0.25, "val_loss": 0.3,
                                                              "accuracy": 0.8}]
    run_fit(FakeModel(), [cbks.CSVLogger(str(path))], logs)
    assert path.read_text().splitlines() == [
        "epoch,accuracy,loss,val_loss",
        "0,0.7,0.5,0.6",
        "1,0.8,0.25,0.3",
    ]
    run_fit(FakeModel(), [cbks.CSVLogger(str(path), append=True)], logs[:1])
    assert path.read_text().splitlines()[-2:] == ["1,0.8,0.25,0.3", "0,0.7,0.5,0.6"]
    assert path.read_text().count("epoch,") == 1


def test_csv_logger_separator(tmp_path):
    path = tmp_path / "log.tsv"
    run_fit(FakeModel(), [cbks.CSVLogger(str(path), separator="\t")], [{"loss": 0.5}])
    # Keras adds a val_ column for each key when the first logs have none.
    assert path.read_text().splitlines() == ["epoch\tloss\tval_loss", "0\t0.5\tNA"]


def test_csv_logger_val_columns_when_first_epoch_has_no_validation(tmp_path):
    # Keras 3 with validation_freq=2: the first epoch's logs lack val_ keys, so a val_ column is
    # added per key and reads "NA" until validation runs.
    path = tmp_path / "log.csv"
    logs = [{"loss": 0.5, "accuracy": 0.7},
            {"loss": 0.25, "accuracy": 0.8, "val_loss": 0.3, "val_accuracy": 0.9}]
    run_fit(FakeModel(), [cbks.CSVLogger(str(path))], logs)
    assert path.read_text().splitlines() == [
        "epoch,accuracy,loss,val_accuracy,val_loss",
        "0,0.7,0.5,NA,NA",
        "1,0.8,0.25,0.9,0.3",
    ]


# TerminateOnNaN ---------------------------------------------------------------------------------


def test_terminate_on_nan_stops_training(capsys):
    model = FakeModel()
    run_fit(
        model,
        [cbks.TerminateOnNaN()],
        val_losses(1.0, 1.0, 1.0),
        steps=3,
        batch_losses=[[1.0, math.nan, 1.0]] * 3,
    )
    assert model.stop_training
    assert model.history.epoch == [0]
    assert capsys.readouterr().out == "Batch 1: Invalid loss, terminating training\n"


def test_terminate_on_nan_raise_error():
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 0"):
        run_fit(
            FakeModel(),
            [cbks.TerminateOnNaN(raise_error=True)],
            val_losses(1.0),
            batch_losses=[[math.inf, 1.0]],
        )


# Learning-rate callbacks ------------------------------------------------------------------------


def test_reduce_lr_on_plateau_after_patience():
    model = FakeModel(learning_rate=1.0)
    run_fit(model, [cbks.ReduceLROnPlateau(factor=0.5, patience=2)], val_losses(*[1.0] * 7))
    # logs["learning_rate"] is read before the epoch's reduction, as in Keras.
    assert model.history.history["learning_rate"] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    assert model.optimizer.learning_rate == 0.125


def test_reduce_lr_on_plateau_cooldown():
    model = FakeModel(learning_rate=1.0)
    rlr = cbks.ReduceLROnPlateau(factor=0.5, patience=2, cooldown=2)
    run_fit(model, [rlr], val_losses(*[1.0] * 9))
    assert model.history.history["learning_rate"] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25,
                                                      0.25]


def test_reduce_lr_on_plateau_min_lr_and_message(capsys):
    model = FakeModel(learning_rate=1.0)
    rlr = cbks.ReduceLROnPlateau(factor=0.5, patience=2, min_lr=0.3, verbose=1)
    run_fit(model, [rlr], val_losses(*[1.0] * 8))
    assert model.optimizer.learning_rate == 0.3
    out = capsys.readouterr().out
    assert out == (
        "\nEpoch 3: ReduceLROnPlateau reducing learning rate to 0.5.\n"
        "\nEpoch 5: ReduceLROnPlateau reducing learning rate to 0.3.\n"
    )


def test_reduce_lr_on_plateau_improvement_resets_and_rejects_factor():
    model = FakeModel(learning_rate=1.0)
    run_fit(model, [cbks.ReduceLROnPlateau(patience=2)], val_losses(1.0, 0.9, 0.8, 0.7))
    assert model.optimizer.learning_rate == 1.0
    with pytest.raises(ValueError, match="does not support a factor >= 1.0"):
        cbks.ReduceLROnPlateau(factor=1.0)


def test_reduce_lr_on_plateau_infers_direction_as_keras3():
    # Keras 3.15's ReduceLROnPlateau infers the direction like EarlyStopping: a rising val_auc is
    # improving (Keras 2's rule, "max only for names with 'acc'", cut the rate here), and a
    # monitor it cannot place raises at the first epoch end.
    model = FakeModel(learning_rate=1.0)
    rlr = cbks.ReduceLROnPlateau(monitor="val_auc", factor=0.5, patience=1)
    run_fit(model, [rlr], [{"val_auc": v} for v in (0.6, 0.7, 0.8, 0.8)])
    assert model.history.history["learning_rate"] == [1.0, 1.0, 1.0, 1.0]
    assert model.optimizer.learning_rate == 0.5 and rlr.best == 0.8
    with pytest.raises(ValueError, match="ReduceLROnPlateau callback received monitor=val_foo"):
        run_fit(FakeModel(), [cbks.ReduceLROnPlateau(monitor="val_foo")], [{"val_foo": 1.0}])
    with pytest.warns(UserWarning, match="ReduceLROnPlateau mode 'bogus' is unknown"):
        assert cbks.ReduceLROnPlateau(mode="bogus").mode == "auto"


def test_learning_rate_scheduler_sets_lr(capsys):
    model = FakeModel(learning_rate=0.1)
    seen = []
    cb = cbks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: seen.append(model.optimizer.learning_rate)
    )
    scheduler = cbks.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr, verbose=1)
    run_fit(model, [scheduler, cb], [{"loss": 1.0}] * 3)
    assert seen == [0.1, 0.05, 0.025]
    assert model.history.history["learning_rate"] == [0.1, 0.05, 0.025]
    assert "\nEpoch 2: LearningRateScheduler setting learning rate to 0.05.\n" in (
        capsys.readouterr().out
    )


def test_learning_rate_scheduler_one_argument_and_type_check():
    model = FakeModel(learning_rate=0.1)
    run_fit(model, [cbks.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))], [{}] * 2)
    assert model.optimizer.learning_rate == 0.02
    with pytest.raises(ValueError, match="should be a float"):
        run_fit(FakeModel(), [cbks.LearningRateScheduler(lambda epoch, lr: 1)], [{}])


# CallbackList, History, LambdaCallback, BackupAndRestore ----------------------------------------


class BatchCounter(cbks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_batch_begin(self, batch, logs=None):
        self.calls.append(("begin", batch))

    def on_batch_end(self, batch, logs=None):
        self.calls.append(("end", batch, logs))


def test_legacy_batch_aliases_receive_train_batches():
    counter = BatchCounter()
    run_fit(FakeModel(), [counter], [{"loss": 0.5}], steps=2)
    assert counter.calls == [
        ("begin", 0),
        ("end", 0, {"loss": 0.5}),
        ("begin", 1),
        ("end", 1, {"loss": 0.5}),
    ]
    assert type(counter.calls[1][2]["loss"]) is float  # numpy scalars become Python floats


def test_callback_list_adds_defaults_and_params():
    model = FakeModel()
    history = cbks.History()
    cl = cbks.CallbackList([history], add_history=True, add_progbar=True, model=model,
                           verbose=2, epochs=3, steps=10)
    assert cl.callbacks[0] is history and model.history is history
    assert isinstance(cl.callbacks[1], cbks.ProgbarLogger)
    assert len(cl.callbacks) == 2
    assert history.params == {"verbose": 2, "epochs": 3, "steps": 10}
    assert cl.callbacks[1].verbose == 2 and cl.callbacks[1].target == 10
    assert all(cb.model is model for cb in cl.callbacks)


def test_callback_list_flattens_and_refuses_non_callbacks():
    # Keras 3 flattens `callbacks`, so one callback (not in a list) works; it raised "'History'
    # object is not iterable", and `callbacks=[5]` an AttributeError about `set_model`.
    history, stop = cbks.History(), cbks.EarlyStopping()
    assert cbks.CallbackList(history).callbacks == [history]
    assert cbks.CallbackList([[history], (stop,)]).callbacks == [history, stop]
    with pytest.raises(TypeError, match=r"`callbacks` to hold .*Callback.* Received: 5 of type"):
        cbks.CallbackList([history, 5])


def test_needs_batch_hooks():
    def needs(callbacks):
        cl = cbks.CallbackList(callbacks, add_history=True, add_progbar=True, verbose=1,
                               epochs=1, steps=1)
        return tuple(cl.needs_batch_hooks(mode) for mode in ("train", "test", "predict"))

    assert needs([]) == (False, False, False)
    assert needs([cbks.EarlyStopping(), cbks.CSVLogger("x.csv")]) == (False, False, False)
    assert needs([cbks.ModelCheckpoint("m.keras")]) == (False, False, False)
    assert needs([cbks.ModelCheckpoint("m.keras", save_freq=5)]) == (True, False, False)
    assert needs([cbks.TerminateOnNaN()]) == (True, False, False)
    assert needs([BatchCounter()]) == (True, False, False)
    assert needs([cbks.LambdaCallback(on_epoch_end=print)]) == (False, False, False)
    assert needs([cbks.LambdaCallback(on_train_batch_end=print)]) == (True, False, False)
    assert needs([cbks.LambdaCallback(on_test_batch_end=print)]) == (False, True, False)
    assert needs([cbks.LambdaCallback(on_predict_batch_begin=print)]) == (False, False, True)
    with pytest.raises(ValueError, match="Expected `mode` to be one of"):
        cbks.CallbackList([]).needs_batch_hooks("eval")


def test_lambda_callback_hooks_are_called():
    events = []
    cb = cbks.LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_end=lambda epoch, logs: events.append(("epoch_end", epoch, logs["loss"])),
        on_train_batch_end=lambda batch, logs: events.append(("batch", batch)),
        on_train_end=lambda logs: events.append("train_end"),
    )
    run_fit(FakeModel(), [cb], [{"loss": 0.5}], steps=2)
    assert events == ["train_begin", ("batch", 0), ("batch", 1), ("epoch_end", 0, 0.5),
                      "train_end"]


def test_backup_and_restore_resumes(tmp_path):
    backup_dir = tmp_path / "backup"

    class Interrupt(cbks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise RuntimeError("Interrupting!")

    model = FakeModel()
    with pytest.raises(RuntimeError):
        run_fit(model, [cbks.BackupAndRestore(str(backup_dir)), Interrupt()], [{"loss": 1.0}] * 5)
    assert (backup_dir / "latest.weights.h5").exists()

    fresh = FakeModel()
    run_fit(fresh, [cbks.BackupAndRestore(str(backup_dir))], [{"loss": 1.0}] * 5)
    assert fresh.history.epoch == [2, 3, 4]
    assert not backup_dir.exists()


# ProgbarLogger (stdout is captured, so not a terminal: one final line per bar) ------------------


def test_progbar_logger_fit_verbose_1(capsys, monkeypatch):
    monkeypatch.delenv("PYCHARM_HOSTED", raising=False)
    logs = [{"loss": 0.5, "val_loss": 0.75}, {"loss": 0.25, "val_loss": 0.125}]
    run_fit(FakeModel(), [], logs, steps=3, verbose=1, validate=True)
    lines = capsys.readouterr().out.split("\n")
    assert lines[0] == "Epoch 1/2"
    assert re.fullmatch(f"3/3 {BAR} {TIME} - loss: 0.5000 - val_loss: 0.7500", lines[1])
    assert lines[2] == "Epoch 2/2"
    assert re.fullmatch(f"3/3 {BAR} {TIME} - loss: 0.2500 - val_loss: 0.1250", lines[3])
    assert lines[4:] == [""]


def test_progbar_logger_fit_verbose_2(capsys):
    logs = [{"loss": 0.5, "val_loss": 0.75}, {"loss": 0.25, "val_loss": 1e-5}]
    run_fit(FakeModel(), [], logs, steps=12, verbose=2)
    lines = capsys.readouterr().out.split("\n")
    step_time = r"\d+s - \d+(us|ms|s)/step"
    assert lines[0] == "Epoch 1/2"
    assert re.fullmatch(f"12/12 - {step_time} - loss: 0.5000 - val_loss: 0.7500", lines[1])
    assert re.fullmatch(f"12/12 - {step_time} - loss: 0.2500 - val_loss: 1.0000e-05", lines[3])


def test_progbar_logger_single_epoch_has_no_epoch_header(capsys):
    run_fit(FakeModel(), [], [{"loss": 0.5}], steps=2, verbose=1)
    out = capsys.readouterr().out
    assert re.fullmatch(f"2/2 {BAR} {TIME} - loss: 0.5000\n", out)


def test_progbar_logger_evaluate_and_predict(capsys):
    cl = cbks.CallbackList([], add_progbar=True, model=FakeModel(), verbose=1, epochs=1, steps=4)
    cl.on_test_begin()
    for step in range(4):
        cl.on_test_batch_begin(step)
        cl.on_test_batch_end(step, {"loss": 0.5, "accuracy": 0.75})
    cl.on_test_end({"loss": 0.5, "accuracy": 0.75})
    out = capsys.readouterr().out
    assert re.fullmatch(f"4/4 {BAR} {TIME} - accuracy: 0.7500 - loss: 0.5000\n", out)

    cl = cbks.CallbackList([], add_progbar=True, verbose=1, epochs=1, steps=None)
    cl.on_predict_begin()
    for step in range(3):
        cl.on_predict_batch_begin(step)
        cl.on_predict_batch_end(step, {"outputs": np.zeros((2, 2))})
    cl.on_predict_end()
    assert re.fullmatch(f"3/3 {BAR} {TIME}\n", capsys.readouterr().out)


def test_verbose_0_prints_nothing(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_fit(FakeModel(), [cbks.EarlyStopping()], val_losses(1.0, 2.0), verbose=0)
    assert capsys.readouterr().out == ""
