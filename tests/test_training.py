"""Training behaviour: fit/evaluate/predict, logs, reproducibility, and bad input."""

import numpy as np
import pytest

import kerasette as keras
from kerasette import layers


def _mlp(inputs=8, classes=3, activation="softmax"):
    return keras.Sequential([keras.Input((inputs,)), layers.Dense(16, activation="relu"),
                             layers.Dense(classes, activation=activation)])


def _blobs(rng, n=200, d=8, classes=3):
    centers = rng.normal(size=(classes, d)) * 3
    labels = rng.integers(0, classes, size=n)
    x = (centers[labels] + rng.normal(size=(n, d))).astype("float32")
    return x, labels


def test_linear_regression_recovers_line(rng):
    keras.utils.set_random_seed(0)
    x = rng.uniform(-1, 1, size=(256, 1)).astype("float32")
    y = -x + 1
    model = keras.Sequential([keras.Input((1,)), layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(x, y, epochs=40, batch_size=32, verbose=0)
    w, b = model.get_weights()
    assert w[0, 0] == pytest.approx(-1.0, abs=1e-3)
    assert b[0] == pytest.approx(1.0, abs=1e-3)


def test_fit_history_and_accuracy(rng):
    keras.utils.set_random_seed(1)
    x, labels = _blobs(rng)
    y = keras.utils.to_categorical(labels, 3)
    model = _mlp()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=16, validation_split=0.2, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 15 for v in history.history.values())
    assert history.epoch == list(range(15))
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, acc = model.evaluate(x, y, verbose=0)
    assert acc > 0.9
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs["accuracy"] == pytest.approx(acc)
    assert logs["loss"] == pytest.approx(loss, rel=1e-6)


def test_evaluate_matches_closed_form(rng):
    keras.utils.set_random_seed(2)
    x, labels = _blobs(rng, n=50)
    model = _mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    p = model.predict(x, verbose=0).astype(np.float64)
    expected_loss = np.mean(-np.log(np.clip(p[np.arange(50), labels], 1e-7, 1)))
    expected_acc = np.mean(p.argmax(1) == labels)
    loss, acc = model.evaluate(x, labels, batch_size=7, verbose=0)
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert acc == pytest.approx(expected_acc)


def test_predict_and_call_agree(rng):
    keras.utils.set_random_seed(3)
    x, _ = _blobs(rng, n=37)
    model = _mlp()
    p = model.predict(x, batch_size=8, verbose=0)
    assert p.shape == (37, 3) and p.dtype == np.float32
    np.testing.assert_allclose(model(x), p, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(model.predict_on_batch(x[:1]), p[:1], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-5)


def test_verbose_zero_prints_nothing(rng, capsys):
    x, labels = _blobs(rng, n=40)
    model = _mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, labels, epochs=2, verbose=0, validation_split=0.25)
    model.evaluate(x, labels, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


def test_verbose_two_prints_one_line_per_epoch(rng, capsys):
    x, labels = _blobs(rng, n=40)
    model = _mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, labels, epochs=2, batch_size=10, verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "4/4" in out and "accuracy:" in out and "loss:" in out
    assert "\r" not in out


def test_same_seed_same_weights(rng):
    x, labels = _blobs(rng)

    def run():
        keras.utils.set_random_seed(123)
        model = keras.Sequential([keras.Input((8,)), layers.Dense(32, activation="relu"),
                                  layers.Dropout(0.3), layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, labels, epochs=2, batch_size=16, verbose=0)
        return model.get_weights()

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)


def test_thread_count_does_not_change_results(rng):
    x, labels = _blobs(rng, n=300, d=64)
    threads = keras.config.num_threads()

    def run(n):
        keras.config.set_num_threads(n)
        keras.utils.set_random_seed(7)
        model = keras.Sequential([keras.Input((64,)), layers.Dense(256, activation="relu"),
                                  layers.Dropout(0.2), layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, labels, epochs=2, batch_size=32, verbose=0)
        return model.get_weights()

    try:
        one, two = run(1), run(2)
    finally:
        keras.config.set_num_threads(threads)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_sample_weight_zero_ignores_samples(rng):
    x, labels = _blobs(rng, n=64)
    noise = rng.integers(0, 3, size=64)
    weights = np.r_[np.ones(32), np.zeros(32)].astype("float32")
    runs = []
    for lab in (labels, np.r_[labels[:32], noise[32:]]):
        keras.utils.set_random_seed(9)
        model = _mlp()
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        model.fit(x, lab, sample_weight=weights, epochs=2, batch_size=16, shuffle=False,
                  verbose=0)
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_class_weight_scales_loss(rng):
    x, labels = _blobs(rng, n=30)
    keras.utils.set_random_seed(4)
    model = _mlp()
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    plain = model.fit(x, labels, batch_size=30, verbose=0).history["loss"][0]
    doubled = model.fit(x, labels, batch_size=30, verbose=0,
                        class_weight={0: 2.0, 1: 2.0, 2: 2.0}).history["loss"][0]
    assert doubled == pytest.approx(2 * plain, rel=1e-5)


def test_dropout_behaviour():
    x = np.ones((64, 100), dtype="float32")
    layer = layers.Dropout(0.25, seed=5)
    np.testing.assert_array_equal(layer(x), x)  # identity at inference
    out = layer(x, training=True)
    kept = out != 0
    assert 0.70 < kept.mean() < 0.80
    np.testing.assert_allclose(out[kept], 1 / 0.75, rtol=1e-6)
    np.testing.assert_array_equal(layer(x, training=True), out)  # same seed and step, same mask
    other = layers.Dropout(0.25, seed=6)(x, training=True)
    assert (other != out).any()


def test_stop_training_from_callback(rng):
    x, labels = _blobs(rng, n=40)

    class StopAfterTwo(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    model = _mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, labels, epochs=10, verbose=0, callbacks=[StopAfterTwo()])
    assert len(history.history["loss"]) == 2


def test_batch_hooks_called_per_batch(rng):
    x, labels = _blobs(rng, n=40)
    seen = []

    class Batches(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append((batch, sorted(logs)))

    model = _mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, labels, epochs=1, batch_size=10, verbose=0, callbacks=[Batches()])
    assert [b for b, _ in seen] == [0, 1, 2, 3]
    assert seen[0][1] == ["accuracy", "loss"]


def test_frozen_layer_is_not_updated(rng):
    x, labels = _blobs(rng, n=40)
    model = _mlp()
    model.layers[0].trainable = False
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = model.layers[0].get_weights()
    model.fit(x, labels, epochs=2, verbose=0)
    for a, b in zip(before, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert len(model.trainable_weights) == 2


def test_summary_counts_parameters(capsys):
    model = keras.Sequential([keras.Input((784,)), layers.Dense(512, activation="relu"),
                              layers.Dense(10, activation="softmax")], name="mlp")
    model.summary()
    out = capsys.readouterr().out
    assert 'Model: "mlp"' in out
    assert "(None, 512)" in out and "401,920" in out and "5,130" in out
    assert "Total params: 407,050" in out


def test_get_layer_and_set_weights(rng):
    model = _mlp()
    dense = model.get_layer(model.layers[0].name)
    w = [np.full(v.shape, 0.5, dtype="float32") for v in dense.weights]
    dense.set_weights(w)
    np.testing.assert_array_equal(dense.get_weights()[0], w[0])
    with pytest.raises(ValueError, match="No such layer"):
        model.get_layer("nope")


# ---- bad input: clear exceptions ----

def _compiled(loss="categorical_crossentropy"):
    model = _mlp()
    model.compile(optimizer="adam", loss=loss)
    return model


def test_error_length_mismatch(rng):
    x, labels = _blobs(rng, n=20)
    with pytest.raises(ValueError, match="20 samples but y has 19"):
        _compiled("sparse_categorical_crossentropy").fit(x, labels[:19], verbose=0)


def test_error_feature_mismatch(rng):
    with pytest.raises(ValueError, match=r"expected shape \(None, 8\).*\(None, 5\)"):
        _compiled().fit(np.zeros((4, 5)), np.zeros((4, 3)), verbose=0)
    with pytest.raises(ValueError, match="incompatible"):
        _mlp().predict(np.zeros((4, 7)), verbose=0)


def test_error_1d_targets_with_categorical_crossentropy(rng):
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        _compiled().fit(np.zeros((4, 8)), np.array([0, 1, 2, 1]), verbose=0)


def test_error_non_numeric_and_nan():
    with pytest.raises(ValueError, match="numbers"):
        _compiled().fit(np.array([["a"] * 8] * 2), np.zeros((2, 3)), verbose=0)
    x = np.zeros((2, 8))
    x[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        _compiled().fit(x, np.zeros((2, 3)), verbose=0)


def test_error_bad_sparse_label():
    with pytest.raises(ValueError, match="label value of 7"):
        _compiled("sparse_categorical_crossentropy").fit(
            np.zeros((2, 8)), np.array([1, 7]), verbose=0)


@pytest.mark.parametrize("kwargs,match,valid", [
    ({"loss": "not_a_loss"}, "Could not interpret loss identifier: not_a_loss",
     "mean_squared_error"),
    ({"loss": "mse", "optimizer": "not_an_optimizer"},
     "Could not interpret optimizer identifier: not_an_optimizer", "adam"),
])
def test_error_unknown_names(kwargs, match, valid):
    # Keras 3.15's messages, then the valid names.
    with pytest.raises(ValueError, match=f"^{match}\\. Valid names are: ") as e:
        _mlp().compile(**kwargs)
    assert valid in str(e.value)
    with pytest.raises(ValueError, match="^Could not interpret activation function identifier: "
                                         "not_an_activation\\. Valid names are: .*'relu'"):
        layers.Dense(3, activation="not_an_activation")


def test_error_fit_before_compile(rng):
    # Keras 3 raises ValueError (Keras 2 raised RuntimeError).
    model = _mlp()
    x, y = np.zeros((2, 8)), np.zeros((2, 3))
    for call in (lambda: model.fit(x, y, verbose=0), lambda: model.evaluate(x, y, verbose=0),
                 lambda: model.train_on_batch(x, y), lambda: model.test_on_batch(x, y)):
        with pytest.raises(ValueError, match="compile"):
            call()


def test_failed_compile_leaves_the_model_uncompiled():
    # A compile that raises must not leave half-matched losses for `fit` to trip over.
    model = _mlp()
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="not_a_loss"):
        model.compile("sgd", "not_a_loss")
    assert not model.compiled
    with pytest.raises(ValueError, match="You must call `compile\\(\\)`"):
        model.fit(np.zeros((2, 8)), np.zeros((2, 3)), verbose=0)


def test_error_weights_of_unbuilt_model():
    # Keras builds a Sequential model without an input shape from data (see
    # test_training_api.py); until then it has no graph to run.
    model = keras.Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="input shape"):
        model._graph()


def test_error_bad_arguments():
    with pytest.raises(ValueError, match="units"):
        layers.Dense(0)
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(1.5)
    with pytest.raises(ValueError, match="batch_size"):
        _compiled().fit(np.zeros((2, 8)), np.zeros((2, 3)), batch_size=0, verbose=0)


@pytest.mark.parametrize("kwargs, error, message", [
    # Keras's `range(initial_epoch, epochs)` raises TypeError; 2.5 used to run 2 epochs.
    ({"epochs": 2.5}, TypeError, r"`epochs` to be an integer. Received: epochs=2.5"),
    ({"epochs": "3"}, TypeError, r"epochs='3'"),
    ({"initial_epoch": 0.5}, TypeError, "initial_epoch=0.5"),
    # steps_per_epoch=0 used to train nothing and return an empty History.
    ({"steps_per_epoch": 0}, ValueError, r"`steps_per_epoch` to be a positive integer or None"),
    ({"steps_per_epoch": -1}, ValueError, "steps_per_epoch=-1"),
    # validation_freq=0 raised ZeroDivisionError (as Keras does).
    ({"validation_freq": 0}, ValueError, r"`validation_freq`.*validation_freq=0"),
    ({"validation_freq": 1.5}, ValueError, r"list or int. Received: validation_freq=1.5"),
    ({"validation_freq": [0, 2]}, ValueError, r"validation_freq=\[0, 2\]"),
    # class_weight as a list raised AttributeError ('list' object has no attribute 'items'),
    # a string key "invalid literal for int()", and a NaN weight trained to a NaN loss.
    ({"class_weight": [1.0, 2.0, 1.0]}, ValueError, r"`class_weight` to be a dict"),
    ({"class_weight": {"a": 1.0, 1: 2.0, 2: 1.0}}, ValueError, r"integer class indices.*'a'"),
    ({"class_weight": {0: float("nan"), 1: 2.0, 2: 1.0}}, ValueError,
     r"finite numbers. Received: class_weight\[0\]=nan"),
])
def test_error_bad_fit_arguments(kwargs, error, message):
    x, y = np.zeros((4, 8)), np.eye(3)[[0, 1, 2, 0]]
    with pytest.raises(error, match=message):
        _compiled().fit(x, y, validation_data=(x, y), verbose=0, **kwargs)


def test_error_bad_steps_for_evaluate_and_predict():
    # A negative `steps` made predict fail inside numpy ("negative dimensions are not allowed")
    # and evaluate return [] silently.
    x, y = np.zeros((4, 8)), np.eye(3)[[0, 1, 2, 0]]
    with pytest.raises(ValueError, match=r"`steps` to be a positive integer or None. Received: "
                                         r"steps=-1"):
        _compiled().predict(x, steps=-1, verbose=0)
    with pytest.raises(ValueError, match="steps=0"):
        _compiled().evaluate(x, y, steps=0, verbose=0)


def test_batch_size_beyond_int64_is_one_batch_of_everything():
    # A Python int of 2**63 or more did not fit the engine's int64 argument: pybind11 raised a
    # TypeError that dumped every array it was given.
    x, y = np.ones((4, 8), "float32"), np.eye(3)[[0, 1, 2, 0]]
    model = _compiled()
    expected = model.predict(x, batch_size=4, verbose=0)
    for batch_size in (2**63, 10**30):
        np.testing.assert_array_equal(model.predict(x, batch_size=batch_size, verbose=0),
                                      expected)
        assert np.isfinite(model.evaluate(x, y, batch_size=batch_size, verbose=0))
    assert len(model.fit(x, y, batch_size=2**63, verbose=0).history["loss"]) == 1


def test_validation_freq_list_names_epochs_as_keras():
    x, y = np.zeros((4, 8)), np.eye(3)[[0, 1, 2, 0]]
    history = _compiled().fit(x, y, epochs=3, validation_data=(x, y), validation_freq=[1, 3],
                              verbose=0).history
    assert len(history["loss"]) == 3 and len(history["val_loss"]) == 2
    history = _compiled().fit(x, y, epochs=4, validation_data=(x, y), validation_freq=2,
                              class_weight={0.0: 1.0, 1.0: 2.0, np.int64(2): 1.0},
                              verbose=0).history
    assert len(history["val_loss"]) == 2


def test_steady_state_steps_allocate_nothing(rng):
    from kerasette import _core

    x, labels = _blobs(rng, n=200)
    model = keras.Sequential([keras.Input((8,)), layers.Dense(32, activation="relu"),
                              layers.Dropout(0.2), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    weights = np.ones(len(x), dtype="float32")
    # The first epoch sizes every buffer; validation in between must not cost a reallocation.
    model.fit(x, labels, epochs=1, batch_size=32, verbose=0, sample_weight=weights,
              validation_split=0.2)
    before = _core._tensor_allocation_count()
    model.fit(x, labels, epochs=2, batch_size=32, verbose=0, sample_weight=weights,
              validation_split=0.2)
    assert _core._tensor_allocation_count() == before
