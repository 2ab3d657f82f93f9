"""Precision, Recall, AUC, RootMeanSquaredError and the cross-entropy metrics against Keras 3.

The expected values were computed with Keras 3.15.1 (TensorFlow backend) on the data below,
streamed batch by batch through `update_state` (53 samples in batches of 8: an uneven last batch).
The engine sees the same batches through `evaluate` on a model that passes its input through.
Tolerances: Keras keeps its counts and sums in float32 and the engine in double, so values agree to
float32 rounding (1e-6 relative).
"""

import numpy as np
import pytest

import kerasette as keras
from kerasette import layers, metrics

BATCH = 8  # 53 samples: six full batches and one of 5

# Keras 3.15.1 on binary_data(): metric(...).update_state per batch of 8, then result().
BINARY = {
    "Precision()": 0.5421686768531799,
    "Recall()": 0.5056179761886597,
    "Precision(thresholds=0.3)": 0.517241358757019,
    "Recall(thresholds=0.7)": 0.31460675597190857,
    "Precision(class_id=1)": 0.6129032373428345,
    "Recall(class_id=2)": 0.5185185074806213,
    "Precision(top_k=2)": 0.5377358198165894,
    "Recall(top_k=1, class_id=0)": 0.125,
    "Precision(thresholds=0.5, top_k=2)": 0.54666668176651,
    "AUC()": 0.4851524531841278,
    "AUC(curve='PR')": 0.5779237747192383,
    "AUC(num_thresholds=7)": 0.48041731119155884,
    "AUC(num_thresholds=7, curve='PR')": 0.5710760951042175,
    "AUC(thresholds=[0.1, 0.35, 0.9])": 0.45457470417022705,
    "AUC(thresholds=[0.25, 0.5, 0.75])": 0.48764047026634216,
    "AUC(summation_method='minoring')": 0.482343465089798,
    "AUC(curve='PR', summation_method='majoring')": 0.58259117603302,
    "AUC(curve='PRGAIN')": -0.10236173868179321,
    "AUC(from_logits=True)": 0.5105938911437988,
    "RootMeanSquaredError()": 0.5839452743530273,
    "BinaryCrossentropy()": 1.1339383125305176,
    "BinaryCrossentropy(label_smoothing=0.1)": 1.1386492252349854,
    "BinaryCrossentropy(from_logits=True)": 1.6484317779541016,
}
# Keras 3.15.1 on categorical_data(), same batches.
CATEGORICAL = {
    "CategoricalCrossentropy()": 2.824594736099243,
    "CategoricalCrossentropy(label_smoothing=0.2)": 2.7743587493896484,
    "CategoricalCrossentropy(from_logits=True)": 2.824594736099243,
    "SparseCategoricalCrossentropy()": 2.824594736099243,
    "SparseCategoricalCrossentropy(from_logits=True)": 2.824594736099243,
    "Precision(class_id=3)": 0.30000001192092896,
    "Recall(top_k=2)": 0.4150943458080292,
}
# Keras 3.15.1: compile(loss="mse", metrics=[these names]) then evaluate(p, y, batch_size=8,
# sample_weight=any): the weights change the loss only, metrics given to `metrics=` are unweighted.
COMPILED = {"precision": 0.5421686768531799, "recall": 0.5056179761886597,
            "auc": 0.4851524531841278, "root_mean_squared_error": 0.5839452743530273,
            "binary_crossentropy": 1.1339383125305176}  # fmt: skip


def binary_data():
    """Predictions on a 1/1024 grid (exact in float32) with 0, 0.5 and 1 among them, targets."""
    r = np.random.default_rng(7)
    p = (np.round(r.random((53, 3)) * 1024) / 1024).astype(np.float32)
    p[0] = [0.0, 0.5, 1.0]
    p[1] = [1.0, 0.5, 0.0]
    y = (r.random((53, 3)) > 0.45).astype(np.float32)
    z = (np.round(r.standard_normal((53, 3)) * 64) / 16).astype(np.float32)  # logits
    return p, y, z


def categorical_data():
    r = np.random.default_rng(8)
    z = (np.round(r.standard_normal((53, 4)) * 32) / 16).astype(np.float32)
    e = np.exp(z.astype(np.float64))
    p = (e / e.sum(-1, keepdims=True)).astype(np.float32)
    labels = r.integers(0, 4, 53)
    return z, p, labels


def _passthrough(width, activation="linear"):
    return keras.Sequential([keras.Input((width,)), layers.Activation(activation)])


def _evaluate(metric_list, x, y, activation="linear", **kwargs):
    model = _passthrough(x.shape[1], activation)
    model.compile(optimizer="sgd", loss="mse", metrics=metric_list)
    return model.evaluate(x, y, batch_size=BATCH, verbose=0, return_dict=True, **kwargs)


def _binary_case(case):
    p, y, z = binary_data()
    return eval(f"metrics.{case}"), (z if "from_logits" in case else p), y


def _categorical_case(case):
    z, p, labels = categorical_data()
    sparse = case.startswith("Sparse")
    y = labels.astype(np.float32) if sparse else np.eye(4, dtype=np.float32)[labels]
    return eval(f"metrics.{case}"), (z if "from_logits" in case else p), y


@pytest.mark.parametrize("case", sorted(BINARY))
def test_binary_metrics_match_keras(case):
    metric, x, y = _binary_case(case)
    logs = _evaluate([metric], x, y)
    np.testing.assert_allclose(logs[metric.name], BINARY[case], rtol=1e-6, atol=1e-7)
    # The NumPy reference (one call over all the data equals the streamed value). The loss
    # functions it uses for the cross-entropies clip in float64, where Keras's 1 - 1e-7 is the
    # float32 0.99999988: on the predictions of exactly 0 and 1 here that moves the mean by 1e-4.
    metric, x, y = _binary_case(case)
    rtol = 2e-4 if "Crossentropy()" in case or "smoothing" in case else 1e-6
    np.testing.assert_allclose(metric(y, x), BINARY[case], rtol=rtol, atol=1e-7)


@pytest.mark.parametrize("case", sorted(CATEGORICAL))
def test_categorical_metrics_match_keras(case):
    metric, x, y = _categorical_case(case)
    model = _passthrough(4)
    loss = "sparse_categorical_crossentropy" if case.startswith("Sparse") else "mse"
    model.compile(optimizer="sgd", loss=loss, metrics=[metric])
    logs = model.evaluate(x, y, batch_size=BATCH, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs[metric.name], CATEGORICAL[case], rtol=1e-6)
    metric, x, y = _categorical_case(case)
    np.testing.assert_allclose(metric(y, x), CATEGORICAL[case], rtol=1e-6)


def test_compiled_metric_names_are_unweighted_as_in_keras():
    p, y, _ = binary_data()
    weights = np.random.default_rng(9).random(53).astype(np.float32)
    logs = _evaluate(list(COMPILED), p, y, sample_weight=weights)
    for name, expected in COMPILED.items():
        np.testing.assert_allclose(logs[name], expected, rtol=1e-6, err_msg=name)


def test_crossentropy_metric_of_a_sigmoid_output_reads_its_logits():
    # Keras's TensorFlow backend computes the cross-entropy of a sigmoid output from the logits,
    # for the loss and the metric alike: BinaryCrossentropy(from_logits=True) on the logits.
    _, y, z = binary_data()
    logs = _evaluate(["binary_crossentropy"], z, y, activation="sigmoid")
    np.testing.assert_allclose(
        logs["binary_crossentropy"], BINARY["BinaryCrossentropy(from_logits=True)"], rtol=1e-6
    )
    # Saturated: probabilities clipped at 1e-7 would give 16.1 where the logits give 30.
    logs = _evaluate(
        ["binary_crossentropy"],
        np.array([[30.0], [-30.0], [20.0]], np.float32),
        np.array([[0.0], [1.0], [1.0]], np.float32),
        activation="sigmoid",
    )
    np.testing.assert_allclose(logs["binary_crossentropy"], 20.0, rtol=1e-6)


def test_root_mean_squared_error_is_the_root_of_the_epoch_mean():
    p, y, _ = binary_data()
    logs = _evaluate(["root_mean_squared_error", "mse"], p, y)
    np.testing.assert_allclose(logs["root_mean_squared_error"], np.sqrt(logs["mse"]), rtol=1e-6)


def test_log_names_follow_keras():
    p, y, _ = binary_data()
    first, second = metrics.Precision(), metrics.Precision()
    assert first.name.startswith("precision") and second.name.startswith("precision_")
    assert second.name != first.name
    assert metrics.Recall(name="r").name == "r"
    model = _passthrough(3)
    # Keras 3 (CompileMetrics.result) suffixes a repeated key: auc, auc_1; binary_crossentropy_1.
    model.compile(optimizer="sgd", loss="mse",
                  metrics=["precision", first, second, "recall", "auc",
                           metrics.AUC(name="auc"), metrics.RootMeanSquaredError(),
                           metrics.BinaryCrossentropy(), "binary_crossentropy"])  # fmt: skip
    history = model.fit(p, y, batch_size=BATCH, epochs=1, verbose=0, validation_data=(p, y))
    names = [
        "precision",
        first.name,
        second.name,
        "recall",
        "auc",
        "auc_1",
        "root_mean_squared_error",
        "binary_crossentropy",
        "binary_crossentropy_1",
    ]
    assert sorted(history.history) == sorted(["loss"] + names + ["val_loss"] +
                                             [f"val_{n}" for n in names])  # fmt: skip
    np.testing.assert_allclose(history.history["val_auc"], BINARY["AUC()"], rtol=1e-6)
    assert model.metrics_names[:2] == ["loss", "precision"]


def test_multi_output_metric_names_are_prefixed():
    p, y, _ = binary_data()
    inp = keras.Input((3,))
    model = keras.Model(
        inp,
        [layers.Activation("linear", name="a")(inp), layers.Activation("linear", name="b")(inp)],
    )
    model.compile(optimizer="sgd", loss="mse", metrics={"a": ["auc"], "b": ["recall"]})
    logs = model.evaluate(p, [y, y], batch_size=BATCH, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["a_auc"], BINARY["AUC()"], rtol=1e-6)
    np.testing.assert_allclose(logs["b_recall"], BINARY["Recall()"], rtol=1e-6)


def test_metrics_reset_between_epochs_and_evaluations():
    p, y, _ = binary_data()
    model = _passthrough(3)
    model.compile(optimizer="sgd", loss="mse", metrics=["auc", "precision"])
    for _ in range(2):
        logs = model.evaluate(p, y, batch_size=BATCH, verbose=0, return_dict=True)
        np.testing.assert_allclose(logs["auc"], BINARY["AUC()"], rtol=1e-6)
        np.testing.assert_allclose(logs["precision"], BINARY["Precision()"], rtol=1e-6)


def _fit_history(threads):
    previous = keras.config.num_threads()
    keras.config.set_num_threads(threads)
    try:
        keras.utils.set_random_seed(5)
        r = np.random.default_rng(3)
        x = r.standard_normal((300, 10)).astype(np.float32)
        y = (r.random((300, 4)) > 0.5).astype(np.float32)
        model = keras.Sequential(
            [
                keras.Input((10,)),
                layers.Dense(32, activation="relu"),
                layers.Dense(4, activation="sigmoid"),
            ]
        )
        model.compile(optimizer="adam", loss="binary_crossentropy",
                      metrics=["auc", metrics.AUC(curve="PR", name="pr"), "precision", "recall",
                               "root_mean_squared_error", "binary_crossentropy",
                               metrics.Recall(top_k=2, name="top2")])  # fmt: skip
        return model.fit(x, y, batch_size=37, epochs=2, verbose=0, validation_split=0.2).history
    finally:
        keras.config.set_num_threads(previous)


def test_metrics_bit_identical_on_1_and_2_threads():
    one, two = _fit_history(1), _fit_history(2)
    assert one.keys() == two.keys()
    for key in one:
        assert one[key] == two[key], key


METRIC_CASES = [
    metrics.Precision(),
    metrics.Precision(thresholds=0.3, class_id=2, name="p3"),
    metrics.Recall(top_k=2),
    metrics.AUC(),
    metrics.AUC(num_thresholds=11, curve="PR", summation_method="minoring", from_logits=True),
    metrics.AUC(thresholds=[0.2, 0.7]),
    metrics.RootMeanSquaredError(),
    metrics.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
    metrics.CategoricalCrossentropy(label_smoothing=0.2),
    metrics.SparseCategoricalCrossentropy(from_logits=True),
]


@pytest.mark.parametrize("metric", METRIC_CASES, ids=lambda m: m.name)
def test_config_round_trip(metric):
    config = metric.get_config()
    assert type(metric).from_config(config).get_config() == config
    assert metrics.deserialize(metrics.serialize(metric)).get_config() == config
    assert type(metric).from_config(config).engine_spec() == metric.engine_spec()


def test_configs_are_keras_configs():
    # Keras 3.15.1's get_config() of the same objects.
    assert metrics.Precision(name="precision").get_config() == {
        "name": "precision", "dtype": "float32", "thresholds": None, "top_k": None,
        "class_id": None}  # fmt: skip
    assert metrics.Recall(thresholds=0.3, class_id=1, name="recall").get_config() == {
        "name": "recall",
        "dtype": "float32",
        "thresholds": 0.3,
        "top_k": None,
        "class_id": 1,
    }
    assert metrics.AUC(name="auc").get_config() == {
        "name": "auc", "dtype": "float32", "num_thresholds": 200, "curve": "ROC",
        "summation_method": "interpolation", "multi_label": False, "num_labels": None,
        "label_weights": None, "from_logits": False}  # fmt: skip
    assert metrics.AUC(thresholds=[0.7, 0.2], name="a").get_config()["thresholds"] == [0.2, 0.7]
    assert metrics.AUC(thresholds=[0.7, 0.2], name="a").get_config()["num_thresholds"] == 4
    assert metrics.RootMeanSquaredError().get_config() == {
        "name": "root_mean_squared_error",
        "dtype": "float32",
    }
    assert metrics.BinaryCrossentropy().get_config() == {
        "name": "binary_crossentropy", "dtype": "float32", "from_logits": False,
        "label_smoothing": 0}  # fmt: skip
    assert metrics.CategoricalCrossentropy().get_config() == {
        "name": "categorical_crossentropy", "dtype": "float32", "from_logits": False,
        "label_smoothing": 0, "axis": -1}  # fmt: skip
    assert metrics.SparseCategoricalCrossentropy().get_config() == {
        "name": "sparse_categorical_crossentropy", "dtype": "float32", "from_logits": False,
        "ignore_class": None, "axis": -1}  # fmt: skip


@pytest.mark.parametrize("name, cls", [
    ("precision", metrics.Precision), ("recall", metrics.Recall), ("auc", metrics.AUC),
    ("AUC", metrics.AUC), ("root_mean_squared_error", metrics.RootMeanSquaredError),
    ("binary_crossentropy", metrics.BinaryCrossentropy), ("bce", metrics.BinaryCrossentropy),
    ("BCE", metrics.BinaryCrossentropy), ("MSE", metrics.MeanSquaredError),
    ("MAE", metrics.MeanAbsoluteError), ("categorical_crossentropy", metrics.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", metrics.SparseCategoricalCrossentropy),
])  # fmt: skip
def test_get_by_name(name, cls):
    metric = metrics.get(name)
    assert type(metric) is cls and metric.name == name


def test_get_functions():
    assert type(metrics.get(metrics.binary_crossentropy)) is metrics.BinaryCrossentropy
    assert metrics.get(metrics.sparse_categorical_crossentropy).name == (
        "sparse_categorical_crossentropy"
    )


def test_argument_errors():
    with pytest.raises(ValueError, match=r"must be in \[0, 1\]"):
        metrics.Precision(thresholds=1.5)
    with pytest.raises(ValueError, match=r"must be in \[0, 1\]. Received: \[nan\]"):
        metrics.Precision(thresholds=float("nan"))  # used to count nothing as positive: 0.0
    with pytest.raises(NotImplementedError, match="single threshold"):
        metrics.Recall(thresholds=[0.3, 0.6])
    with pytest.raises(ValueError, match="`top_k`"):
        metrics.Precision(top_k=0)
    with pytest.raises(ValueError, match="num_thresholds"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="Invalid AUC curve"):
        metrics.AUC(curve="XY")
    with pytest.raises(ValueError, match="summation method"):
        metrics.AUC(summation_method="trapezoid")
    with pytest.raises(NotImplementedError, match="multi_label"):
        metrics.AUC(multi_label=True)
    for bad in (2.0, None):  # as the losses of the same names check it
        with pytest.raises(ValueError, match="label_smoothing"):
            metrics.BinaryCrossentropy(label_smoothing=bad)
        with pytest.raises(ValueError, match="label_smoothing"):
            metrics.CategoricalCrossentropy(label_smoothing=bad)
    p, y, _ = binary_data()
    with pytest.raises(ValueError, match="class_id"):
        _evaluate([metrics.Precision(class_id=3)], p, y)


def test_save_and_load_keeps_the_metrics(tmp_path):
    p, y, _ = binary_data()
    model = _passthrough(3)
    model.compile(
        optimizer="sgd",
        loss="mse",
        metrics=["precision", metrics.AUC(name="auc"), "binary_crossentropy"],
    )
    before = model.evaluate(p, y, batch_size=BATCH, verbose=0, return_dict=True)
    model.save(tmp_path / "m.h5")
    loaded = keras.models.load_model(tmp_path / "m.h5")
    after = loaded.evaluate(p, y, batch_size=BATCH, verbose=0, return_dict=True)
    assert after == before


def test_stateful_update_state_result_reset_state_match_keras():
    # Keras 3.15 on the same calls: two update_state batches, result(), reset_state(), and
    # per-sample weights for the mean metrics.
    m = keras.metrics
    y1 = np.array([0, 1, 2, 1])
    p1 = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    sca = m.SparseCategoricalAccuracy()
    sca.update_state(y1, p1)
    sca.update_state(np.array([2, 0]), np.array([[0.1, 0.2, 0.7], [0.3, 0.6, 0.1]]))
    assert sca.result() == np.float32(0.5) and sca.result().dtype == np.float32
    sca.reset_state()
    assert sca.result() == 0.0
    sca.update_state(y1, p1, sample_weight=[1, 2, 0, 1])
    assert sca.result() == pytest.approx(0.75)
    b_t, b_p = np.array([[1], [0], [1], [1]]), np.array([[0.9], [0.6], [0.4], [0.7]])
    expected = {"BinaryAccuracy": 0.666667, "Precision": 0.75, "Recall": 0.75, "AUC": 0.75,
                "MeanSquaredError": 0.177083, "RootMeanSquaredError": 0.420813,
                "MeanAbsoluteError": 0.375, "BinaryCrossentropy": 0.519266}
    for name, value in expected.items():
        metric = getattr(m, name)()
        metric.update_state(b_t, b_p)
        assert metric(np.array([[0], [1]]), np.array([[0.2], [0.55]])) == pytest.approx(
            value, abs=1e-6), name
    mse = m.MeanSquaredError()
    mse.update_state([[1.0, 2.0], [3.0, 4.0]], [[1.5, 2.0], [2.0, 4.0]], sample_weight=[1.0, 3.0])
    assert mse.result() == pytest.approx(0.40625)
    acc = m.BinaryAccuracy()
    acc.update_state(b_t, b_p, sample_weight=np.array([1, 1, 3, 1]))
    assert acc.result() == pytest.approx(1 / 3, abs=1e-6)
    with pytest.raises(NotImplementedError, match="sample_weight"):
        m.Precision().update_state(b_t, b_p, sample_weight=[1, 1, 1, 1])


def test_metric_repr_as_keras():
    # Keras 3.15 prints `[<Precision name=precision_1>]` when a script prints compile's metrics.
    assert repr(metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")) == (
        "<SparseTopKCategoricalAccuracy name=top2>")
