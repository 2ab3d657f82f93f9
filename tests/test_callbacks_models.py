"""Callbacks driving real kerasette models through `fit`: weights restored, learning rates the
engine actually trains with, files written. (tests/test_callbacks.py covers the hook logic against
a fake model.)"""

from __future__ import annotations

import csv

import numpy as np
import pytest

import kerasette as keras
from kerasette import callbacks as cbks
from kerasette import layers


def classification_data(n=160, features=10, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = (x[:, 0] - x[:, 1] + 0.5 * x[:, 2] > 0).astype("int64")
    flip = rng.random(n) < noise
    y[flip] = 1 - y[flip]
    return x, y


def make_model(optimizer="adam", hidden=16, seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((10,)), layers.Dense(hidden, activation="relu"),
                              layers.Dense(2, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


class WeightsPerEpoch(cbks.LambdaCallback):
    """Captures `model.get_weights()` at each epoch end (placed before the callback under test)."""

    def __init__(self):
        self.by_epoch = {}
        super().__init__(on_epoch_end=lambda epoch, logs: self.by_epoch.__setitem__(
            epoch, self.model.get_weights()))


def assert_weights_equal(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_early_stopping_restores_best_epoch_weights():
    # A wide network on 60 noisy samples overfits: val_loss turns up after a few epochs.
    x, y = classification_data(n=100, noise=0.3)
    model = make_model(keras.optimizers.Adam(learning_rate=0.03), hidden=128)
    capture = WeightsPerEpoch()
    stopper = cbks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    history = model.fit(x, y, batch_size=8, epochs=100, validation_split=0.4, verbose=0,
                        callbacks=[capture, stopper])
    val_loss = history.history["val_loss"]
    assert len(val_loss) < 100, "the run should have stopped early"
    best = int(np.argmin(val_loss))
    assert stopper.best_epoch == best and len(val_loss) == best + 1 + 3
    assert_weights_equal(model.get_weights(), capture.by_epoch[best])
    last = max(capture.by_epoch)
    assert not all(np.array_equal(a, b) for a, b in
                   zip(capture.by_epoch[last], capture.by_epoch[best]))
    # The restored weights reproduce the best epoch's validation loss.
    x_val, y_val = x[60:], y[60:]
    assert model.evaluate(x_val, y_val, verbose=0)[0] == pytest.approx(val_loss[best], rel=1e-5)


def test_reduce_lr_on_plateau_changes_the_rate_training_uses():
    x, y = classification_data()
    model = make_model(keras.optimizers.SGD(learning_rate=0.1))
    capture = WeightsPerEpoch()
    # min_delta=10 makes every epoch after the first a plateau; factor 0 sets the rate to 0, so
    # from then on the engine must leave every weight as it is.
    reduce = cbks.ReduceLROnPlateau(monitor="loss", factor=0.0, patience=1, min_delta=10.0)
    history = model.fit(x, y, epochs=4, verbose=0, callbacks=[capture, reduce])
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.0, 0.0])
    assert model.optimizer.learning_rate == 0.0
    assert not np.array_equal(capture.by_epoch[0][0], capture.by_epoch[1][0])
    assert_weights_equal(capture.by_epoch[2], capture.by_epoch[1])
    assert_weights_equal(capture.by_epoch[3], capture.by_epoch[1])

    model = make_model(keras.optimizers.SGD(learning_rate=0.1))
    reduce = cbks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=10.0,
                                    min_lr=0.02)
    history = model.fit(x, y, epochs=5, verbose=0, callbacks=[reduce])
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.05, 0.025, 0.02])
    assert model.optimizer.learning_rate == pytest.approx(0.02)


def test_learning_rate_scheduler_sets_the_rate_training_uses():
    x, y = classification_data()

    def train(optimizer, callbacks):
        model = make_model(optimizer, seed=3)
        history = model.fit(x, y, epochs=3, shuffle=False, verbose=0, callbacks=callbacks)
        return model, history

    fixed, _ = train(keras.optimizers.SGD(learning_rate=0.05), [])
    schedule = cbks.LearningRateScheduler(lambda epoch, lr: 0.05)
    scheduled, history = train(keras.optimizers.SGD(learning_rate=0.7), [schedule])
    assert history.history["learning_rate"] == pytest.approx([0.05] * 3)
    assert_weights_equal(scheduled.get_weights(), fixed.get_weights())

    capture = WeightsPerEpoch()
    stop_at_1 = cbks.LearningRateScheduler(lambda epoch: 0.1 if epoch < 1 else 0.0)
    model, history = train(keras.optimizers.SGD(learning_rate=0.1), [stop_at_1, capture])
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.0, 0.0])
    assert_weights_equal(capture.by_epoch[2], capture.by_epoch[0])


def test_csv_logger_columns_after_fit(tmp_path):
    x, y = classification_data()
    model = make_model()
    path = tmp_path / "log.csv"
    history = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0,
                        callbacks=[cbks.ReduceLROnPlateau(monitor="val_loss"),
                                   cbks.CSVLogger(path)])
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "accuracy", "learning_rate", "loss", "val_accuracy",
                             "val_loss"]
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    for key in ("loss", "val_accuracy"):
        np.testing.assert_allclose([float(r[key]) for r in rows], history.history[key],
                                   rtol=1e-6)


def test_terminate_on_nan_stops_a_diverging_fit(capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 10)).astype("float32") * 100
    y = rng.normal(size=(256, 1)).astype("float32") * 100
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((10,)), layers.Dense(32), layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1e4), loss="mse")
    history = model.fit(x, y, batch_size=16, epochs=20, verbose=0,
                        callbacks=[cbks.TerminateOnNaN()])
    assert len(history.history["loss"]) < 20
    assert not np.isfinite(history.history["loss"][-1])
    assert "Invalid loss, terminating training" in capsys.readouterr().out


@pytest.mark.skipif(not hasattr(keras.Model, "save_weights"),
                    reason="Model.save_weights is not available yet")
def test_model_checkpoint_best_only_weights(tmp_path):
    pytest.importorskip("h5py")
    x, y = classification_data(n=100, noise=0.3)
    model = make_model(keras.optimizers.Adam(learning_rate=0.03), hidden=64)
    capture = WeightsPerEpoch()
    per_epoch = cbks.ModelCheckpoint(str(tmp_path / "w_{epoch:02d}.weights.h5"),
                                     save_best_only=True, save_weights_only=True)
    best_file = tmp_path / "best.weights.h5"
    best = cbks.ModelCheckpoint(str(best_file), save_best_only=True, save_weights_only=True)
    history = model.fit(x, y, batch_size=8, epochs=8, validation_split=0.4, verbose=0,
                        callbacks=[capture, per_epoch, best])
    val_loss = history.history["val_loss"]
    improved = [i for i, v in enumerate(val_loss) if v < min(val_loss[:i], default=np.inf)]
    written = sorted(p.name for p in tmp_path.glob("w_*.weights.h5"))
    assert written == [f"w_{i + 1:02d}.weights.h5" for i in improved]

    fresh = make_model(hidden=64, seed=9)
    fresh.load_weights(str(best_file))
    assert_weights_equal(fresh.get_weights(), capture.by_epoch[int(np.argmin(val_loss))])
    fresh.load_weights(str(tmp_path / written[0]))
    assert_weights_equal(fresh.get_weights(), capture.by_epoch[0])
