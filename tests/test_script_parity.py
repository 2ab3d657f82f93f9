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


# ---- compile ----
def test_accuracy_with_binary_crossentropy_on_several_units_is_categorical():
    # Keras 3 picks the accuracy from the shapes alone: categorical here (Keras 2: binary).
    y_true = np.array([[0., 1., 0.], [1., 0., 0.], [0., 0., 1.]], "float32")
    y_pred = np.array([[1., 2., -1.], [0.5, 0.2, 0.1], [-0.5, -1., 0.3]], "float32")
    inp = keras.Input((3,))
    model = keras.Model(inp, layers.Activation("linear")(inp))
    model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    loss, accuracy = model.evaluate(y_pred, y_true, verbose=0)
    assert loss == pytest.approx(2.0187, abs=1e-4)
    assert accuracy == 1.0  # binary accuracy would be 0.6667


@pytest.mark.parametrize("module, kind", [
    ("optimizers", "optimizer"), ("losses", "loss"), ("metrics", "metric"),
    ("activations", "activation function"), ("initializers", "initializer"),
    ("regularizers", "regularizer"),
])  # fmt: skip
def test_get_unknown_name_message(module, kind):
    # Keras 3.15's sentence; kerasette adds the names it would have understood.
    with pytest.raises(ValueError, match=rf"^Could not interpret {kind} identifier: zzz\. "
                                         r"Valid names are: \[.+\]$"):
        getattr(keras, module).get("zzz")


def test_get_unknown_optimizer_config_or_type():
    with pytest.raises(ValueError, match=r"^Could not interpret optimizer identifier: "
                                         r"\{'class_name': 'zzz', 'config': \{\}\}\. Valid"):
        keras.optimizers.get({"class_name": "zzz", "config": {}})
    with pytest.raises(ValueError, match="^Could not interpret optimizer identifier: 5$"):
        keras.optimizers.get(5)


# ---- weights ----
def test_set_weights_messages():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4, name="d1")], name="s")
    dense = model.layers[0]
    count = ("You called `set_weights(weights)` on layer '{}' with a weight list of length 1, but "
             "the layer was expecting 2 weights.")
    shape = "Layer {} weight shape (3, 4) is not compatible with provided weight shape (3, 3)."
    for obj in (model, dense):
        with pytest.raises(ValueError) as e:
            obj.set_weights([np.zeros((3, 4))])
        assert str(e.value) == count.format(obj.name)
        with pytest.raises(ValueError) as e:
            obj.set_weights([np.zeros((3, 3)), np.zeros(4)])
        assert str(e.value) == shape.format(obj.name)


# ---- utils ----
def test_utils_clear_session_resets_names():
    layers.Dense(1)
    keras.utils.clear_session()
    assert layers.Dense(1).name == "dense"


def test_keras_tensor_repr():
    assert repr(keras.Input((3,), name="inp")) == (
        "<KerasTensor shape=(None, 3), dtype=float32, sparse=False, ragged=False, name=inp>")
