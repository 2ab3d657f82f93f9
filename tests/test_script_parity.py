"""Ordinary Keras scripts, run under Keras 3.15.1 and kerasette: what they print must agree.

Each expected value is Keras 3.15.1's output (TensorFlow backend), written down as a literal.
"""

import numpy as np
import pytest

import kerasette as keras
from kerasette import layers


def _mlp(units=3, activation="softmax"):
    model = keras.Sequential([keras.Input((8,)), layers.Dense(16, activation="relu"),
                              layers.Dense(units, activation=activation)])
    model.set_weights([(np.sin(np.arange(w.size) * 0.37 + i) * 0.3).reshape(w.shape)
                       for i, w in enumerate(model.get_weights())])
    return model


def _data(n=64, k=3):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 8)).astype("float32"), rng.integers(0, k, size=(n,))


# ---- callbacks' logs ----
def test_epoch_logs_sorted_with_val_and_weighted_keys():
    # Keras's CallbackList sorts every logs dict after the val_ keys are merged in, so
    # "val_weighted_accuracy" comes before "weighted_accuracy".
    x, y = _data()
    model = _mlp()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"],
                  weighted_metrics=["accuracy"])
    seen = []
    cb = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(list(logs)))
    history = model.fit(x, y, epochs=1, verbose=0, validation_split=0.25, callbacks=[cb])
    keys = ["accuracy", "loss", "val_accuracy", "val_loss", "val_weighted_accuracy",
            "weighted_accuracy"]
    assert seen == [keys]
    assert list(history.history) == keys


def test_keys_a_callback_adds_reach_later_callbacks_but_not_on_train_end():
    # Keras hands each hook a fresh copy (`pythonify_logs`): keys added in `on_epoch_end` reach
    # the callbacks after it and History, in the order added, but `on_train_end` gets the
    # trainer's own epoch logs.
    x, y = _data()
    model = _mlp()
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")

    class Add(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["zz_custom"] = 1.0
            logs["aa_custom"] = 2.0

        def on_train_end(self, logs=None):
            self.train_end = list(logs)

    add, seen = Add(), []
    show = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(list(logs)))
    scheduler = keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    history = model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y),
                        callbacks=[add, scheduler, show])
    keys = ["loss", "val_loss", "zz_custom", "aa_custom", "learning_rate"]
    assert seen == [keys, keys]
    assert list(history.history) == keys
    assert add.train_end == ["loss", "val_loss"]
