"""The Keras 3 losses beyond MSE/MAE/Huber/cross-entropy: MAPE, MSLE, KLDivergence, Poisson,
LogCosh, CosineSimilarity and the hinge losses.

Each is checked three ways: its NumPy reference and the engine against values recorded from Keras 3
(keras 3.15.1, float32; sample weights and every reduction), the engine's gradient against float64
finite differences of the reference, and a `.h5` round trip of a model compiled with it.
"""

import json

import h5py
import kerasette as keras
import numpy as np
import pytest
from gradcheck import check_gradients
from kerasette import layers

D1 = (np.array([[0., 1., 0., 0.], [0., 0., 1., 0.], [1., 0., 0., 0.]], "float32"),
      np.array([[0.1, 0.6, 0.2, 0.1], [0.3, 0.3, 0.3, 0.1], [0.7, 0.1, 0.1, 0.1]], "float32"))
D2 = (np.array([[1.5, -2., 0.5, 3.], [-1., 2., -0.5, 0.25], [2., 1., -3., 0.75]], "float32"),
      np.array([[1., -1., 0., 2.], [0.5, 1.5, -1., 0.], [2.5, 0., -2., 1.]], "float32"))
DATA = {"d1": D1, "d2": D2}
SW = np.array([1.0, 0.5, 2.0], "float32")

# Recorded from keras.losses.<Class>(reduction=...)(y_true, y_pred, sample_weight=SW) in Keras 3;
# "mean" is the default reduction without sample weights, "none" the per-sample values.
KERAS3 = {
    ("MeanAbsolutePercentageError", "d1"): {
        "none": [1e+08, 1.75e+08, 7.500001e+07],
        "mean": 1.166667e+08,
        "sum_over_batch_size": 1.125e+08,
        "sum": 3.375e+08,
        "mean_with_sample_weight": 9.642858e+07,
    },
    ("MeanAbsolutePercentageError", "d2"): {
        "none": [54.16667, 93.75, 47.91667],
        "mean": 65.27778,
        "sum_over_batch_size": 65.625,
        "sum": 196.875,
        "mean_with_sample_weight": 56.25,
    },
    ("MeanSquaredLogarithmicError", "d1"): {
        "none": [0.02530055, 0.08308195, 0.01341611],
        "mean": 0.04059954,
        "sum_over_batch_size": 0.03122458,
        "sum": 0.09367375,
        "mean_with_sample_weight": 0.02676393,
    },
    ("MeanSquaredLogarithmicError", "d2"): {
        "none": [0.07423896, 0.06185899, 0.1305115],
        "mean": 0.08886981,
        "sum_over_batch_size": 0.1220638,
        "sum": 0.3661914,
        "mean_with_sample_weight": 0.1046261,
    },
    ("KLDivergence", "d1"): {
        "none": [0.5108215, 1.203968, 0.3566709],
        "mean": 0.6904869,
        "sum_over_batch_size": 0.6087158,
        "sum": 1.826147,
        "mean_with_sample_weight": 0.5217564,
    },
    ("KLDivergence", "d2"): {
        "none": [7.712474, 3.682949, 15.90233],
        "mean": 9.099253,
        "sum_over_batch_size": 13.78621,
        "sum": 41.35862,
        "mean_with_sample_weight": 11.81675,
    },
    ("Poisson", "d1"): {
        "none": [0.3777064, 0.5509931, 0.3391687],
        "mean": 0.4226227,
        "sum_over_batch_size": 0.4438468,
        "sum": 1.33154,
        "mean_with_sample_weight": 0.3804401,
    },
    ("LogCosh", "d1"): {
        "none": [0.02695124, 0.08023584, 0.01482898],
        "mean": 0.04067202,
        "sum_over_batch_size": 0.03224237,
        "sum": 0.09672712,
        "mean_with_sample_weight": 0.02763632,
    },
    ("LogCosh", "d2"): {
        "none": [0.2769476, 0.2816497, 0.2546515],
        "mean": 0.2710829,
        "sum_over_batch_size": 0.3090252,
        "sum": 0.9270755,
        "mean_with_sample_weight": 0.2648787,
    },
    ("CosineSimilarity", "d1"): {
        "none": [-0.9258202, -0.5669467, -0.9707254],
        "mean": -0.8211641,
        "sum_over_batch_size": -1.050248,
        "sum": -3.150744,
        "mean_with_sample_weight": -0.9002127,
    },
    ("CosineSimilarity", "d2"): {
        "none": [-0.9851041, -0.6957252, -0.9180021],
        "mean": -0.8662772,
        "sum_over_batch_size": -1.056324,
        "sum": -3.168971,
        "mean_with_sample_weight": -0.9054203,
    },
    ("Hinge", "d1"): {
        "none": [0.95, 1.1, 0.9],
        "mean": 0.9833334,
        "sum_over_batch_size": 1.1,
        "sum": 3.3,
        "mean_with_sample_weight": 0.9428571,
    },
    ("Hinge", "d2"): {
        "none": [0.25, 0.75, 0.3125],
        "mean": 0.4375,
        "sum_over_batch_size": 0.4166667,
        "sum": 1.25,
        "mean_with_sample_weight": 0.3571429,
    },
    ("SquaredHinge", "d1"): {
        "none": [1.005, 1.27, 0.9300001],
        "mean": 1.068333,
        "sum_over_batch_size": 1.166667,
        "sum": 3.5,
        "mean_with_sample_weight": 1,
    },
    ("SquaredHinge", "d2"): {
        "none": [0.25, 0.875, 0.265625],
        "mean": 0.4635417,
        "sum_over_batch_size": 0.40625,
        "sum": 1.21875,
        "mean_with_sample_weight": 0.3482143,
    },
    ("CategoricalHinge", "d1"): {
        "none": [0.6, 1, 0.4],
        "mean": 0.6666667,
        "sum_over_batch_size": 0.6333333,
        "sum": 1.9,
        "mean_with_sample_weight": 0.5428571,
    },
    ("CategoricalHinge", "d2"): {
        "none": [0, 0, 0],
        "mean": 0,
        "sum_over_batch_size": 0,
        "sum": 0,
        "mean_with_sample_weight": 0,
    },
}

def test_binary_crossentropy_aliases():  # Keras 3's "bce" and "BCE"
    for alias in ("bce", "BCE"):
        assert type(keras.losses.get(alias)) is keras.losses.BinaryCrossentropy


LOSS_NAMES = {  # class -> (function name, Keras 3 alias strings)
    "MeanAbsolutePercentageError": ("mean_absolute_percentage_error", ["mape", "MAPE"]),
    "MeanSquaredLogarithmicError": ("mean_squared_logarithmic_error", ["msle", "MSLE"]),
    "KLDivergence": ("kl_divergence", ["kld", "KLD", "kullback_leibler_divergence"]),
    "Poisson": ("poisson", []),
    "LogCosh": ("log_cosh", ["logcosh"]),
    "CosineSimilarity": ("cosine_similarity", []),
    "Hinge": ("hinge", []),
    "SquaredHinge": ("squared_hinge", []),
    "CategoricalHinge": ("categorical_hinge", []),
}
CASES = sorted(KERAS3)


@pytest.mark.parametrize("name,data", CASES, ids=[f"{n}-{d}" for n, d in CASES])
def test_reference_matches_keras3(name, data):
    y_true, y_pred = DATA[data]
    expected = KERAS3[(name, data)]
    cls = getattr(keras.losses, name)
    np.testing.assert_allclose(cls(reduction=None)(y_true, y_pred), expected["none"], rtol=1e-5)
    np.testing.assert_allclose(cls()(y_true, y_pred), expected["mean"], rtol=1e-5)
    for reduction in ("sum_over_batch_size", "sum", "mean_with_sample_weight"):
        np.testing.assert_allclose(cls(reduction=reduction)(y_true, y_pred, sample_weight=SW),
                                   expected[reduction], rtol=1e-5, err_msg=reduction)
    fn = getattr(keras.losses, LOSS_NAMES[name][0])
    np.testing.assert_allclose(fn(y_true, y_pred), expected["none"], rtol=1e-5)


@pytest.mark.parametrize("name,data", CASES, ids=[f"{n}-{d}" for n, d in CASES])
def test_engine_matches_keras3(name, data):
    """The engine's loss (and the metric of the same name) on a model that outputs its input."""
    y_true, y_pred = DATA[data]
    expected = KERAS3[(name, data)]
    fn_name = LOSS_NAMES[name][0]
    metric = "logcosh" if name == "LogCosh" else fn_name
    model = keras.Sequential([keras.Input((4,)), layers.Activation("linear")])
    model.compile(optimizer="sgd", loss=getattr(keras.losses, name)(), metrics=[metric])
    logs = model.evaluate(y_pred, y_true, batch_size=3, verbose=0, return_dict=True)
    # Keras's metric CosineSimilarity is the similarity; its loss the negative of it.
    sign = -1.0 if name == "CosineSimilarity" else 1.0
    np.testing.assert_allclose(logs["loss"], expected["mean"], rtol=2e-6)
    np.testing.assert_allclose(logs[metric], sign * expected["mean"], rtol=2e-6)
    logs = model.evaluate(y_pred, y_true, sample_weight=SW, batch_size=3, verbose=0,
                          return_dict=True)
    np.testing.assert_allclose(logs["loss"], expected["sum_over_batch_size"], rtol=2e-6)


def _target(kind, rng, n, c):
    labels = rng.integers(0, c, size=n)
    return {"onehot": np.eye(c, dtype="float32")[labels],
            "binary": (rng.random((n, c)) > 0.5).astype("float32"),
            "pm1": np.where(rng.random((n, c)) > 0.5, 1.0, -1.0).astype("float32"),
            "probs": rng.dirichlet(np.ones(c), size=n).astype("float32"),
            "counts": rng.poisson(2.0, size=(n, c)).astype("float32"),
            "positive": rng.uniform(0.0, 3.0, size=(n, c)).astype("float32"),
            "away_from_zero": (rng.uniform(0.5, 2.0, size=(n, c))
                               * np.where(rng.random((n, c)) > 0.5, 1, -1)).astype("float32"),
            "real": rng.normal(size=(n, c)).astype("float32") * 2}[kind]


@pytest.mark.parametrize("name,activation,target", [
    ("MeanAbsolutePercentageError", None, "away_from_zero"),
    ("MeanSquaredLogarithmicError", "softplus", "positive"),
    ("KLDivergence", "softmax", "probs"),
    ("Poisson", "softplus", "counts"),
    ("LogCosh", None, "real"),
    ("CosineSimilarity", None, "real"),
    ("Hinge", None, "binary"),  # 0/1 targets, mapped to -1/+1
    ("SquaredHinge", None, "pm1"),
    ("CategoricalHinge", None, "onehot"),
])
def test_gradients(name, activation, target, rng):
    keras.utils.set_random_seed(5)
    n, c = 8, 4
    x = rng.normal(size=(n, 6)).astype("float32")
    y = _target(target, rng, n, c)
    fn = getattr(keras.losses, LOSS_NAMES[name][0])

    def loss64(pred, y_true):
        return float(np.mean(fn(y_true, pred.astype(np.float64))))

    model = keras.Sequential([keras.Input((6,)), layers.Dense(c, activation=activation)])
    check_gradients(model, x, y, loss=getattr(keras.losses, name)(), loss64=loss64)


def test_gradients_of_rank3_outputs(rng):
    """Losses over the last axis of (N, 3, 4) outputs: the rows' values are averaged per sample."""
    keras.utils.set_random_seed(6)
    x = rng.normal(size=(5, 3, 6)).astype("float32")
    for name, target in (("CosineSimilarity", "real"), ("CategoricalHinge", "onehot"),
                         ("KLDivergence", "probs")):
        y = _target(target, rng, 15, 4).reshape(5, 3, 4)
        fn = getattr(keras.losses, LOSS_NAMES[name][0])
        activation = "softmax" if name == "KLDivergence" else None
        model = keras.Sequential([keras.Input((3, 6)), layers.Dense(4, activation=activation)])
        check_gradients(model, x, y, loss=getattr(keras.losses, name)(),
                        loss64=lambda p, t, fn=fn: float(np.mean(fn(t, p.astype(np.float64)))))


@pytest.mark.parametrize("name", sorted(LOSS_NAMES))
def test_names_and_config(name):
    cls = getattr(keras.losses, name)
    fn_name, aliases = LOSS_NAMES[name]
    for identifier in [name, fn_name, getattr(keras.losses, fn_name), *aliases]:
        loss = keras.losses.get(identifier)
        assert isinstance(loss, cls), identifier
        assert loss.engine_spec()[0] == fn_name
    loss = cls(reduction="sum", name="custom")
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(again) is cls and again.get_config() == loss.get_config()
    assert again.name == "custom" and again.reduction == "sum"
    assert cls().name == (fn_name if name != "LogCosh" else "log_cosh")


@pytest.mark.parametrize("labels, shown", [([0, -1], "-1"), ([0, 3], "3"), ([0.5, 1], "0.5"),
                                           ([np.nan, 1], "nan")])
def test_sparse_reference_rejects_labels_outside_the_classes(labels, shown):
    # The engine refuses these; the loss called directly read -1 as the last class (a silent
    # wrong value) and raised numpy's IndexError for 3.
    loss = keras.losses.SparseCategoricalCrossentropy()
    with pytest.raises(ValueError, match=f"label value of {shown} which is outside the valid "
                                         r"range of \[0, 3\)"):
        loss(np.array(labels), np.full((2, 3), 1 / 3))


# Outputs that are not probabilities (a linear layer without from_logits=True, a common slip):
# for integer labels Keras clips each value to [1e-7, 1 - 1e-7] and then normalizes, where for
# one-hot labels it normalizes first. Values and gradients (of the summed loss) from Keras 3.15.1.
SPARSE_P = np.array([[2.0, -1.0, 0.5], [0.2, 0.3, 0.1], [0.0, 1.0, 0.0], [-0.5, 0.2, 0.9],
                     [1e-9, 0.5, 0.5]], "float32")
SPARSE_Y = np.array([0, 1, 2, 2, 0])
SPARSE_KERAS3 = [0.4054652750492096, 0.6931471824645996, 16.11809539794922, 0.2006707787513733,
                 16.11809539794922]
SPARSE_KERAS3_GRAD = [[0.0, 0.0, 0.666666567325592],
                      [1.6666665077209473, -1.6666666269302368, 1.6666665077209473],
                      [0.0, 0.0, 0.0], [0.0, 0.9090907573699951, -0.2020202875137329],
                      [0.0, 0.9999998807907104, 0.9999998807907104]]


def test_sparse_crossentropy_clips_before_normalizing():
    np.testing.assert_allclose(keras.losses.sparse_categorical_crossentropy(SPARSE_Y, SPARSE_P),
                               SPARSE_KERAS3, rtol=1e-6)
    np.testing.assert_allclose(keras.metrics.SparseCategoricalCrossentropy()(SPARSE_Y, SPARSE_P),
                               np.mean(SPARSE_KERAS3), rtol=1e-6)
    # The engine, on a model whose output is its input (an identity kernel, no bias).
    model = keras.Sequential([keras.Input((3,)), layers.Dense(3, use_bias=False)])
    model.set_weights([np.eye(3, dtype="float32")])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy",
                  metrics=["sparse_categorical_crossentropy"])
    logs = model.evaluate(SPARSE_P, SPARSE_Y.astype("float32"), verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], np.mean(SPARSE_KERAS3), rtol=1e-6)
    np.testing.assert_allclose(logs["sparse_categorical_crossentropy"], np.mean(SPARSE_KERAS3),
                               rtol=1e-6)
    model.train_on_batch(SPARSE_P, SPARSE_Y.astype("float32"))
    kernel_grad = model.trainable_weights[0]._layer._core.get_grad(0)
    expected = SPARSE_P.T.astype(np.float64) @ np.array(SPARSE_KERAS3_GRAD) / len(SPARSE_Y)
    np.testing.assert_allclose(kernel_grad, expected, rtol=1e-5, atol=1e-7)


def test_non_finite_loss_weights_are_refused():
    # A NaN weight trained to a NaN loss; a string failed in float() with no argument named.
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    for bad in (float("nan"), float("inf"), "a"):
        with pytest.raises(ValueError, match="`loss_weights` to be a finite number"):
            model.compile("sgd", "mse", loss_weights=[bad])
        assert not model.compiled


def test_cosine_similarity_axis():
    assert keras.losses.CosineSimilarity().get_config()["axis"] == -1
    with pytest.raises(NotImplementedError, match="axis"):
        keras.losses.CosineSimilarity(axis=0)


@pytest.mark.parametrize("metric,cls,name", [
    ("mape", "MeanAbsolutePercentageError", "mean_absolute_percentage_error"),
    ("msle", "MeanSquaredLogarithmicError", "mean_squared_logarithmic_error"),
    ("kl_divergence", "KLDivergence", "kl_divergence"),
    ("poisson", "Poisson", "poisson"),
    ("logcosh", "LogCoshError", "logcosh"),
    ("cosine_similarity", "CosineSimilarity", "cosine_similarity"),
    ("hinge", "Hinge", "hinge"),
    ("squared_hinge", "SquaredHinge", "squared_hinge"),
    ("categorical_hinge", "CategoricalHinge", "categorical_hinge"),
])
def test_metrics(metric, cls, name):
    # Keras 3: keras.metrics.<cls>() after update_state(*D1), and its default name.
    keras3 = {"MeanAbsolutePercentageError": 116666680.0, "MeanSquaredLogarithmicError":
              0.04059953615069389, "KLDivergence": 0.6904869079589844, "Poisson":
              0.4226227104663849, "LogCoshError": 0.04067201912403107, "CosineSimilarity":
              0.8211641311645508, "Hinge": 0.98333340883255, "SquaredHinge": 1.068333387374878,
              "CategoricalHinge": 0.6666666865348816}
    m = keras.metrics.get(metric)
    assert type(m) is getattr(keras.metrics, cls)
    obj = getattr(keras.metrics, cls)()
    assert obj.name == name
    np.testing.assert_allclose(obj(*D1), keras3[cls], rtol=1e-6)
    again = keras.metrics.deserialize(keras.metrics.serialize(obj))
    assert type(again) is type(obj) and again.get_config() == obj.get_config()


def test_fit_with_log_cosh_reduces_the_loss(rng):
    keras.utils.set_random_seed(7)
    x = rng.normal(size=(256, 5)).astype("float32")
    y = (x @ rng.normal(size=(5, 2)) + 0.5).astype("float32")
    model = keras.Sequential([keras.Input((5,)), layers.Dense(16, activation="relu"),
                              layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="log_cosh", metrics=["mape"])
    history = model.fit(x, y, epochs=20, batch_size=32, verbose=0).history
    assert history["loss"][-1] < 0.2 * history["loss"][0]
    assert set(history) == {"loss", "mape"}


@pytest.mark.parametrize("loss", ["mape", "msle", "kld", "poisson", "log_cosh", "logcosh",
                                  "cosine_similarity", "hinge", "squared_hinge",
                                  "categorical_hinge", keras.losses.KLDivergence(name="kl"),
                                  keras.losses.CosineSimilarity(reduction="sum_over_batch_size")])
def test_h5_round_trip(loss, tmp_path, rng):
    keras.utils.set_random_seed(8)
    x = rng.random((16, 3)).astype("float32")
    y = rng.dirichlet(np.ones(4), size=16).astype("float32")
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="softmax")])
    metric = loss if isinstance(loss, str) else "kl_divergence"
    model.compile(optimizer="adam", loss=loss, metrics=[metric])
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "m.h5"
    model.save(path)
    with h5py.File(path) as f:
        written = json.loads(f.attrs["training_config"])["loss"]
    # Keras 3's loader resolves the function names, not the short aliases.
    assert written not in ("mape", "msle", "kld", "KLD", "logcosh")
    restored = keras.models.load_model(path)
    assert type(restored.loss if not isinstance(restored.loss, str)
                else keras.losses.get(restored.loss)) is type(keras.losses.get(loss))
    before = model.evaluate(x, y, verbose=0, return_dict=True)
    after = restored.evaluate(x, y, verbose=0, return_dict=True)
    assert before.keys() == after.keys()
    for key in before:
        np.testing.assert_allclose(after[key], before[key], rtol=1e-6)
