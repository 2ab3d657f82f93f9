"""The TensorBoard callback, checked by reading its event files back with TensorBoard's own
reader (`EventAccumulator`)."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import kerasette as keras
from kerasette import layers


@pytest.fixture
def read_run():
    """`read_run(folder)`: an `EventAccumulator` loaded with everything in that run folder."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    def read(folder):
        acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0,
                                                           "tensors": 0})
        acc.Reload()
        return acc

    return read


def scalars(acc, tag):
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def make_data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    return x, y


def make_model(optimizer="adam"):
    keras.utils.set_random_seed(7)
    model = keras.Sequential([keras.Input((6,)), layers.Dense(8, activation="relu", name="hidden"),
                              layers.Dense(2, activation="softmax", name="out")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def test_epoch_scalars_in_train_and_validation_runs(tmp_path, read_run):
    x, y = make_data()
    model = make_model()
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0,
                        callbacks=[keras.callbacks.TensorBoard(tmp_path)])
    train, val = read_run(tmp_path / "train"), read_run(tmp_path / "validation")
    assert {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"} <= set(train.Tags()["scalars"])
    assert not any(t.startswith("batch_") for t in train.Tags()["scalars"])
    assert [s for s, _ in scalars(train, "epoch_loss")] == [0, 1, 2]
    np.testing.assert_allclose([v for _, v in scalars(train, "epoch_loss")],
                               history.history["loss"], rtol=1e-6)
    np.testing.assert_allclose([v for _, v in scalars(val, "epoch_accuracy")],
                               history.history["val_accuracy"], rtol=1e-6)
    np.testing.assert_allclose([v for _, v in scalars(train, "epoch_learning_rate")], [1e-3] * 3,
                               rtol=1e-6)
    # Keras's evaluation-vs-iterations curve: 72 training samples / 16 = 5 steps per epoch.
    assert [s for s, _ in scalars(val, "evaluation_loss_vs_iterations")] == [5, 10, 15]
    assert not any(t.startswith("val_") or "epoch_val" in t for t in val.Tags()["scalars"])


def test_epoch_only_logging_keeps_fit_batched():
    pytest.importorskip("tensorboard")
    callbacks = keras.callbacks.CallbackList([keras.callbacks.TensorBoard("unused")])
    assert not callbacks.needs_batch_hooks("train")
    callbacks = keras.callbacks.CallbackList([keras.callbacks.TensorBoard("unused",
                                                                          update_freq="batch")])
    assert callbacks.needs_batch_hooks("train")


@pytest.mark.parametrize("update_freq, steps", [("batch", list(range(1, 13))), (4, [4, 8, 12])])
def test_batch_scalars(tmp_path, read_run, update_freq, steps):
    x, y = make_data()
    model = make_model()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(tmp_path, update_freq=update_freq,
                                                     write_steps_per_second=True)])
    train = read_run(tmp_path / "train")
    assert [s for s, _ in scalars(train, "batch_loss")] == steps
    assert [s for s, _ in scalars(train, "batch_accuracy")] == steps
    assert all(v > 0 for _, v in scalars(train, "batch_steps_per_second"))
    assert [s for s, _ in scalars(train, "epoch_steps_per_second")] == [0, 1]


def test_weight_histograms_every_histogram_freq_epochs(tmp_path, read_run):
    x, y = make_data()
    model = make_model()
    model.fit(x, y, epochs=3, batch_size=32, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(tmp_path, histogram_freq=2)])
    train = read_run(tmp_path / "train")
    tags = set(train.Tags()["histograms"])
    assert tags == {f"{w.path}/histogram" for w in model.weights}
    events = train.Histograms("hidden/kernel/histogram")
    assert [e.step for e in events] == [0, 2]
    kernel = model.get_layer("hidden").get_weights()[0]  # epoch 2 was the last one
    last = events[-1].histogram_value
    assert last.num == kernel.size and sum(last.bucket) == kernel.size
    assert last.min == pytest.approx(kernel.min()) and last.max == pytest.approx(kernel.max())
    assert last.sum == pytest.approx(kernel.sum(), rel=1e-5, abs=1e-5)


def test_model_config_text_and_keras_graph(tmp_path, read_run):
    from tensorboard.plugins.graph import keras_util

    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    merged = layers.Concatenate(name="merge")([layers.Dense(4, name="da")(a),
                                               layers.Dense(4, name="db")(b)])
    model = keras.Model([a, b], layers.Dense(1, name="head")(merged), name="two_inputs")
    model.compile("sgd", "mse")
    rng = np.random.default_rng(1)
    model.fit([rng.normal(size=(8, 3)), rng.normal(size=(8, 2))], rng.normal(size=(8, 1)),
              verbose=0, callbacks=[keras.callbacks.TensorBoard(tmp_path)])
    train = read_run(tmp_path / "train")
    assert {"keras", "model_config"} <= set(train.Tags()["tensors"])
    assert train.SummaryMetadata("model_config").plugin_data.plugin_name == "text"
    assert train.SummaryMetadata("keras").plugin_data.plugin_name == "graph_keras_model"
    config = json.loads(train.Tensors("model_config")[0].tensor_proto.string_val[0])
    assert config["config"]["name"] == "two_inputs"
    graph_json = json.loads(train.Tensors("keras")[0].tensor_proto.string_val[0])
    nodes = {n.name: n for n in keras_util.keras_model_to_graph_def(graph_json).node}
    assert "two_inputs/merge" in nodes
    assert set(nodes["two_inputs/merge"].input) == {"two_inputs/da", "two_inputs/db"}


def test_write_graph_false_writes_no_config(tmp_path, read_run):
    x, y = make_data(32)
    model = make_model()
    model.fit(x, y, verbose=0, callbacks=[keras.callbacks.TensorBoard(tmp_path,
                                                                      write_graph=False)])
    assert read_run(tmp_path / "train").Tags()["tensors"] == []


def test_learning_rate_follows_scheduler(tmp_path, read_run):
    x, y = make_data(32)
    model = make_model(keras.optimizers.SGD(learning_rate=0.1))
    schedule = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    model.fit(x, y, epochs=3, verbose=0,
              callbacks=[schedule, keras.callbacks.TensorBoard(tmp_path)])
    values = [v for _, v in scalars(read_run(tmp_path / "train"), "epoch_learning_rate")]
    np.testing.assert_allclose(values, [0.1, 0.05, 0.1 / 3], rtol=1e-6)


def test_evaluate_logs_to_validation_run(tmp_path, read_run):
    x, y = make_data(32)
    model = make_model()
    model.fit(x, y, batch_size=8, verbose=0)  # 4 optimizer steps
    loss, accuracy = model.evaluate(x, y, verbose=0,
                                    callbacks=[keras.callbacks.TensorBoard(tmp_path)])
    val = read_run(tmp_path / "validation")
    assert scalars(val, "evaluation_loss_vs_iterations") == [(4, pytest.approx(loss))]
    assert scalars(val, "evaluation_accuracy_vs_iterations") == [(4, pytest.approx(accuracy))]


def test_argument_errors():
    pytest.importorskip("tensorboard")
    with pytest.raises(ValueError, match="update_freq"):
        keras.callbacks.TensorBoard(update_freq=0)
    with pytest.raises(ValueError, match="histogram_freq"):
        keras.callbacks.TensorBoard(histogram_freq=-1)
    with pytest.raises(ValueError, match="profile_batch"):
        keras.callbacks.TensorBoard(profile_batch=3)
    with pytest.raises(ValueError, match="embeddings_freq"):
        keras.callbacks.TensorBoard(embeddings_freq=1)


def test_missing_tensorboard_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    with pytest.raises(ImportError, match="pip install tensorboard"):
        keras.callbacks.TensorBoard()
