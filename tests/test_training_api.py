"""The training API as a Keras 3 script sees it: log keys, return values, callback `logs`.

Expected values are Keras 3.15's behaviour, recorded from it and written down as literals.
"""

from pathlib import Path

import numpy as np
import pytest

import kerasette as keras
from kerasette import layers


def _two_output_model():
    inp = keras.Input((4,), name="inp")
    hidden = layers.Dense(3, activation="relu", name="hid")(inp)
    out_a = layers.Dense(1, activation="sigmoid", name="out_a")(hidden)
    out_b = layers.Dense(2, name="b_out")(hidden)
    return keras.Model(inp, [out_a, out_b])


def _data(rng, n=20):
    x = rng.random((n, 4)).astype("float32")
    return x, (x.sum(1) > 2).astype("float32"), rng.random((n, 2)).astype("float32")


def test_logs_keys_are_sorted_as_in_keras(rng):
    # Keras 3 passes every logs dict through `pythonify_logs`, which sorts the keys; the val_
    # keys follow the training ones.
    x, y, _ = _data(rng)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["mse", "accuracy"])
    seen = {}
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.setdefault("epoch", list(logs)),
        on_train_end=lambda logs: seen.setdefault("train_end", list(logs)))
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0, validation_split=0.25,
                        callbacks=[record])
    expected = ["accuracy", "loss", "mse", "val_accuracy", "val_loss", "val_mse"]
    assert list(history.history) == expected
    assert seen == {"epoch": expected, "train_end": expected}
    assert list(model.evaluate(x, y, verbose=0, return_dict=True)) == ["accuracy", "loss", "mse"]
    assert list(model.test_on_batch(x, y, return_dict=True)) == ["accuracy", "loss", "mse"]


def test_verbose_two_line_lists_sorted_keys(rng, capsys):
    x, y, _ = _data(rng)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, batch_size=8, verbose=2, validation_data=(x, y))
    line = capsys.readouterr().out.strip().splitlines()[-1]
    names = [part.split(":")[0] for part in line.split(" - ")[3:]]
    assert names == ["accuracy", "loss", "val_accuracy", "val_loss"]


def test_evaluate_list_order_single_output(rng):
    # One output: the loss, then the metrics in the order given to `compile`.
    x, y, _ = _data(rng)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae", "mse"])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    values = model.evaluate(x, y, verbose=0)
    assert values == pytest.approx([logs["loss"], logs["mae"], logs["mse"]])
    assert model.metrics_names == ["loss", "mae", "mse"]


def test_evaluate_list_order_multi_output(rng):
    # Several outputs (Keras 3.15): the loss, the per-output losses in output order, then the
    # prefixed metrics sorted by name, whatever order `compile` gave them in.
    x, y, y2 = _data(rng)
    model = _two_output_model()
    model.compile("adam", ["binary_crossentropy", "mse"], metrics=[["accuracy", "mse"], ["mae"]])
    history = model.fit(x, [y, y2], epochs=1, batch_size=8, verbose=0,
                        validation_data=(x, [y, y2]))
    keys = ["b_out_loss", "b_out_mae", "loss", "out_a_accuracy", "out_a_loss", "out_a_mse"]
    assert list(history.history) == keys + ["val_" + k for k in keys]
    order = ["loss", "out_a_loss", "b_out_loss", "b_out_mae", "out_a_accuracy", "out_a_mse"]
    logs = model.evaluate(x, [y, y2], verbose=0, return_dict=True)
    assert model.evaluate(x, [y, y2], verbose=0) == pytest.approx([logs[k] for k in order])
    assert model.metrics_names == order
    assert len(model.train_on_batch(x, [y, y2])) == 6


def test_outputs_without_a_loss_log_no_loss(rng):
    # Keras 3.15: an output whose loss is None logs no `<name>_loss`, and with a single output
    # left to train, `loss` is the only loss key. Its metrics list may be None.
    x, y, y2 = _data(rng)
    inp = keras.Input((4,))
    three = keras.Model(inp, [layers.Dense(1, name=n)(inp) for n in "abc"])
    ys = [y, y2[:, :1], y2[:, 1:]]
    three.compile("sgd", [None, "mse", "mae"], metrics=[None, ["mse"], None])
    logs = three.fit(x, ys, verbose=0).history
    assert list(logs) == ["b_loss", "b_mse", "c_loss", "loss"]
    model = _two_output_model()
    model.compile("sgd", [None, "mse"])
    assert list(model.fit(x, [y, y2], verbose=0).history) == ["loss"]
    assert model.metrics_names == ["loss"]
    assert isinstance(model.evaluate(x, [y, y2], verbose=0), float)


def _ones_model(units=2, activation=None, outputs=1):
    inp = keras.Input((3,))
    outs = [layers.Dense(units, activation=activation, kernel_initializer="ones",
                         name=f"{'ab'[i]}")(inp) for i in range(outputs)]
    return keras.Model(inp, outs if outputs > 1 else outs[0])


def _weighted_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 3)).astype("float32")
    y = rng.normal(size=(10, 2)).astype("float32")
    sw = rng.uniform(0.1, 2, size=(10,)).astype("float32")
    return x, y, sw


def test_weighted_metrics_match_keras():
    # Keras 3.15 (the same data and weights): a weighted mean is sum(w v) / sum(w); a weighted
    # metric also in `metrics` is logged as `weighted_<name>`; `metrics` ignore sample weights.
    x, y, sw = _weighted_data()
    model = _ones_model()
    model.compile("sgd", "mse", metrics=["mae"], weighted_metrics=["mae", "mse"])
    logs = model.evaluate(x, y, sample_weight=sw, return_dict=True, verbose=0, batch_size=4)
    expected = {"loss": 3.08309006690979, "mae": 1.6492729187011719, "mse": 3.6031033992767334,
                "weighted_mae": 1.4431748390197754}
    assert list(logs) == list(expected)
    np.testing.assert_allclose([logs[k] for k in expected], list(expected.values()), rtol=1e-6)
    logs = model.evaluate(x, y, return_dict=True, verbose=0, batch_size=4)
    np.testing.assert_allclose([logs["mse"], logs["weighted_mae"]],
                               [4.599766254425049, 1.6492729187011719], rtol=1e-6)


def test_weighted_confusion_metrics_and_class_weight_match_keras():
    x, _, sw = _weighted_data()
    y = np.array([0, 1, 1, 0, 1, 1, 0, 1, 0, 1], "float32")[:, None]
    model = _ones_model(1, "sigmoid")
    model.compile("sgd", "binary_crossentropy", metrics=["accuracy", "precision"],
                  weighted_metrics=["accuracy", "precision", "recall", "auc"])
    logs = model.evaluate(x * 0.3, y, sample_weight=sw, return_dict=True, verbose=0,
                          batch_size=4)
    expected = {"accuracy": 0.30000001192092896, "auc": 0.5677623152732849,
                "loss": 0.6351558566093445, "precision": 0.4000000059604645,
                "recall": 0.642741858959198, "weighted_accuracy": 0.4195062518119812,
                "weighted_precision": 0.5223406553268433}
    assert list(logs) == list(expected)
    np.testing.assert_allclose([logs[k] for k in expected], list(expected.values()), rtol=1e-6)
    hist = model.fit(x * 0.3, y, class_weight={0: 0.5, 1: 2.0}, epochs=1, batch_size=4,
                     verbose=0, shuffle=False).history
    expected = {"accuracy": 0.30000001192092896, "auc": 0.4166666567325592,
                "loss": 1.141728162765503, "precision": 0.4000000059604645,
                "recall": 0.3333333432674408, "weighted_accuracy": 0.3214285671710968,
                "weighted_precision": 0.7272727489471436}
    np.testing.assert_allclose([hist[k][0] for k in expected], list(expected.values()),
                               rtol=1e-5)


def test_metrics_on_an_output_without_a_loss_match_keras():
    x, y, sw = _weighted_data()
    model = _ones_model(outputs=2)
    model.compile("sgd", [None, "mse"], metrics=[["mae"], []])
    logs = model.evaluate(x, [y, y * 2], return_dict=True, verbose=0)
    assert list(logs) == ["a_mae", "loss"]
    np.testing.assert_allclose([logs["a_mae"], logs["loss"]],
                               [1.6492729187011719, 8.686223983764648], rtol=1e-6)
    assert model.metrics_names == ["loss", "a_mae"]
    model = _ones_model(outputs=2)
    model.compile("sgd", [None, "mse"], metrics=[["mae"], ["mse"]],
                  weighted_metrics=[["mae"], ["mae"]])
    logs = model.evaluate(x, [y, y * 2], sample_weight=sw, return_dict=True, verbose=0)
    expected = {"a_mae": 1.6492729187011719, "a_weighted_mae": 1.4431748390197754,
                "b_mae": 1.8631266355514526, "b_mse": 8.686223983764648,
                "loss": 5.336931228637695}
    assert list(logs) == list(expected)
    np.testing.assert_allclose([logs[k] for k in expected], list(expected.values()), rtol=1e-6)


def test_metric_only_output_checks_its_targets():
    x, y, _ = _weighted_data()
    inp = keras.Input((3,))
    model = keras.Model(inp, [layers.Dense(4, activation="softmax")(inp), layers.Dense(2)(inp)])
    model.compile("sgd", [None, "mse"], metrics=[["sparse_categorical_accuracy"], []])
    model.evaluate(x, [np.arange(10) % 4, y], verbose=0)
    with pytest.raises(ValueError, match="outside the valid range"):
        model.evaluate(x, [np.arange(10) % 4 + 1, y], verbose=0)
    with pytest.raises(ValueError, match="expects integer labels"):
        model.evaluate(x, [np.zeros((10, 3)), y], verbose=0)
    model.compile("sgd", [None, "mse"], metrics=[["mae"], []])
    with pytest.raises(ValueError, match="shapes do not match"):
        model.evaluate(x, [np.zeros((10, 3)), y], verbose=0)


def test_steps_per_epoch_continues_the_pass_across_epochs():
    # Keras 3 keeps iterating one pass over the data from epoch to epoch: with 5 batches and
    # steps_per_epoch=2, epochs see batches [0, 1], [2, 3], then [4] (the pass ends, with a
    # warning) and a fresh pass starts. Each epoch's loss is the mean over its own batches.
    x = np.arange(5, dtype="float32").reshape(5, 1)
    y = np.zeros((5, 1), dtype="float32")
    model = keras.Sequential([keras.Input((1,)), layers.Dense(1, use_bias=False,
                                                              kernel_initializer="zeros")])
    model.compile(keras.optimizers.SGD(0.0), "mse")  # no update: the loss shows which batches ran
    model.set_weights([np.ones((1, 1), "float32")])
    batches = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: batches.append(0),
        on_train_batch_end=lambda batch, logs: batches.__setitem__(-1, batches[-1] + 1))
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(x, y, batch_size=1, steps_per_epoch=2, epochs=4, shuffle=False,
                            verbose=0, callbacks=[record])
    assert batches == [2, 2, 1, 2]
    assert history.history["loss"] == pytest.approx([0.5, 6.5, 16.0, 0.5])


def test_evaluate_on_no_data_returns_empty_list():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae"])
    empty = np.zeros((0, 4), "float32")
    assert model.evaluate(empty, np.zeros((0, 1), "float32"), verbose=0) == []


def test_logged_values_are_float32_values_as_python_floats():
    # Keras's metric results are float32: History holds float(np.float32(mean)).
    x = np.ones((3, 1), "float32")
    y = np.array([[0.0], [0.0], [0.1]], "float32")
    model = keras.Sequential([keras.Input((1,)), layers.Dense(1, kernel_initializer="zeros",
                                                              use_bias=False)])
    model.compile(keras.optimizers.SGD(0.0), "mse")
    history = model.fit(x, y, batch_size=3, verbose=0)
    loss = history.history["loss"][0]
    assert type(loss) is float
    assert loss == float(np.float32(loss))
    assert loss == pytest.approx(0.01 / 3, rel=1e-6)
    assert model.evaluate(x, y, verbose=0) == loss


def test_functional_layers_in_keras_order():
    # Keras orders a functional model's layers by depth (longest path to an output, deepest
    # first), ties in the order a depth-first walk back from the outputs meets them. Orders
    # recorded from Keras 3.15; get_weights follows them.
    a, b, c = keras.Input((4,), name="a"), keras.Input((2,), name="b"), keras.Input((3,), name="c")
    cat = layers.Concatenate(name="cat")([layers.Dense(3, name="h")(a), b])
    o1 = layers.Dense(1, name="o1")(cat)
    model = keras.Model([b, a], o1)
    assert [layer.name for layer in model.layers] == ["a", "h", "b", "cat", "o1"]
    assert [w.shape for w in model.get_weights()] == [(4, 3), (3,), (5, 1), (1,)]

    p = layers.Dense(2, name="p")(a)
    q = layers.Dense(2, name="q")(p)
    r = layers.Dense(2, name="r")(c)
    names = lambda m: [layer.name for layer in m.layers]  # noqa: E731
    assert names(keras.Model([a, c], [q, r, p])) == ["a", "p", "c", "q", "r"]
    assert names(keras.Model([a, c], [r, q])) == ["a", "c", "p", "r", "q"]
    assert names(keras.Model([a, c], q)) == ["a", "p", "c", "q"]  # c unused

    d1 = layers.Dense(4, name="d1")  # shared, and a skip connection
    x1 = d1(a)
    x3 = d1(layers.Dense(4, name="d3")(layers.Dense(4, name="d2")(x1)))
    model = keras.Model(a, layers.Add(name="add")([x1, x3]))
    assert names(model) == ["a", "d1", "d2", "d3", "add"]


def test_summary_text_matches_keras(monkeypatch, capsys):
    # tests/fixtures/summary_keras3_15.txt is Keras 3.15.1's output of this script with
    # COLUMNS=80 (Keras sizes the table to the terminal): column widths, wrapped and cut cells,
    # the sequential layout for a chain built functionally, the Trainable column, nested rows,
    # an unbuilt layer, and the optimizer's variables counted once it has them.
    monkeypatch.setenv("COLUMNS", "80")
    inp, inp2 = keras.Input((4,), name="inp"), keras.Input((2,), name="inp2")
    cat = layers.Concatenate(name="cat")([layers.Dense(3, name="hid")(inp), inp2])
    func = keras.Model([inp, inp2], layers.Dense(1, name="out_a")(cat), name="func")
    func.layers[1].trainable = False
    func.summary(show_trainable=True)
    a = keras.Input((4,), name="a")
    chain = keras.Model(a, layers.Dense(2, name="d2")(layers.Dense(3, name="d1")(a)),
                        name="chain")
    chain.compile(keras.optimizers.Adam(), "mse")
    chain.fit(np.ones((2, 4)), np.ones((2, 2)), verbose=0)
    chain.summary()
    z = keras.Input((4,), name="z")
    keras.Model(z, layers.Dense(1, name="top")(chain(z)), name="nest").summary(expand_nested=True)
    keras.Sequential([layers.Dense(3, name="lazy")], name="unbuilt").summary()
    fixture = Path(__file__).parent / "fixtures" / "summary_keras3_15.txt"
    expected = fixture.read_text(encoding="utf-8")
    assert capsys.readouterr().out == expected


def test_unbuilt_summary_marks_only_layers_keras_builds_lazily(capsys):
    # Keras 3.15's rows for this model before it has an input shape: a layer whose class has no
    # `build` (pooling, ReLU, Dropout, Activation) is built from its construction and shows "0".
    keras.Sequential([layers.Conv2D(2, 3, name="conv"), layers.MaxPooling2D(name="pool"),
                      layers.ReLU(name="relu"), layers.Flatten(name="flat"),
                      layers.Dropout(0.1, name="drop"), layers.Dense(2, name="out"),
                      layers.Activation("softmax", name="act")], name="lazy").summary()
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("\u2502")]
    assert [row.split("\u2502")[3].strip() for row in rows] == [
        "0 (unbuilt)", "0", "0", "0 (unbuilt)", "0", "0 (unbuilt)", "0"]


def test_summary_print_fn_gets_the_whole_table_once():
    lines = []
    keras.Sequential([keras.Input((4,)), layers.Dense(3)]).summary(print_fn=lines.append)
    assert len(lines) == 1 and lines[0].startswith('Model: "') and lines[0].endswith("\n")


def test_sequential_without_input_shape_is_built_by_its_first_data():
    # The Keras tutorial pattern: no Input, compile, then fit (or predict) builds the model.
    x, y = np.ones((8, 4), "float32"), np.ones((8, 1), "float32")
    model = keras.Sequential([layers.Dense(3, activation="relu"), layers.Dense(1)])
    model.compile("adam", "mse", metrics=["mae"])
    assert not model.built
    history = model.fit(x, y, batch_size=4, verbose=0)
    assert list(history.history) == ["loss", "mae"]
    assert model.built and model.count_params() == 19
    assert model.input_shape == (None, 4)  # Keras records the first batch's size here

    model = keras.Sequential([layers.Dense(2)])
    assert model.predict(np.ones((3, 5, 4)), verbose=0).shape == (3, 5, 2)
    assert model.input_shape == (None, 5, 4)
    model = keras.Sequential([layers.Dense(2)])
    model.compile("sgd", "mse")
    assert isinstance(model.train_on_batch(x, np.ones((8, 2))), float)
    with pytest.raises(ValueError, match="incompatible"):
        model.predict(np.ones((2, 5)), verbose=0)


def test_count_params_of_unbuilt_model_raises():
    model = keras.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="isn't built"):
        model.count_params()
    model.build((None, 3))
    assert model.count_params() == 8


def test_dict_outputs_are_matched_and_returned_by_key():
    # Keras 3: a dict of outputs is flattened in sorted key order (output_names are the layer
    # names in that order); y, losses and metrics are matched by key, logs are prefixed with the
    # keys, and predict returns a dict in the order the outputs were given.
    x = np.ones((10, 4), "float32")
    inp = keras.Input((4,), name="inp")
    out_z = layers.Dense(1, name="layer_z")(inp)
    out_a = layers.Dense(2, name="layer_a")(inp)
    model = keras.Model(inp, {"zz": out_z, "aa": out_a})
    assert model.output_names == ["layer_a", "layer_z"]
    model.compile("sgd", {"zz": "mse", "aa": "mae"}, metrics={"zz": ["mae"]})
    history = model.fit(x, {"zz": np.ones((10, 1)), "aa": np.ones((10, 2))}, verbose=0)
    assert list(history.history) == ["aa_loss", "loss", "zz_loss", "zz_mae"]
    for pred in (model.predict(x, verbose=0), model.predict_on_batch(x)):
        assert list(pred) == ["zz", "aa"]
        assert pred["zz"].shape == (10, 1) and pred["aa"].shape == (10, 2)
    single = keras.Model(inp, {"only": out_z})
    assert list(single.predict_on_batch(x)) == ["only"]


def test_losses_variables_aliases_and_weight_repr():
    # Keras 3.15: model.losses holds one penalty per regularized weight (activity penalties only
    # inside a call); the *_variables names alias the *_weights; a weight's repr shows its value.
    model = keras.Sequential([
        keras.Input((4,)),
        layers.Dense(3, kernel_initializer="ones", kernel_regularizer=keras.regularizers.l2(0.1),
                     activity_regularizer=keras.regularizers.l1(0.01)),
        layers.BatchNormalization(),
        layers.Dense(1, kernel_initializer="ones", bias_regularizer=keras.regularizers.l1(0.5),
                     bias_initializer="ones", name="out"),
    ])
    assert [float(v) for v in model.losses] == pytest.approx([0.1 * 12, 0.5])
    assert model.losses[0].dtype == np.float32 and len(model.layers[0].losses) == 1
    assert (len(model.trainable_variables), len(model.non_trainable_variables),
            len(model.variables)) == (6, 2, 8)
    assert len(model.layers[1].non_trainable_variables) == 2
    bias = model.layers[2].bias
    assert repr(bias) == "<Variable path=out/bias, shape=(1,), dtype=float32, value=[1.]>"
