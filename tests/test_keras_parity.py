"""Numbers kerasette must share with Keras 3 for layer, loss, metric and optimizer arguments
other than the defaults.

Each reference is a closed form or a value recorded from Keras 3.15 (TensorFlow backend), written
here as a literal so the tests run without Keras.
"""

import numpy as np
import pytest

import kerasette as keras
from kerasette import layers


# ---------------------------------------------------------------- activations named by string
X_ACT = np.array([[-2.0, -1.0, -0.5, 0.0, 0.5, 2.0]], dtype=np.float32)


def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def _leaky_relu(x, slope=0.2):
    return np.where(x >= 0, x, slope * x)


@pytest.mark.parametrize("name, ref", [("elu", _elu), ("leaky_relu", _leaky_relu)])
def test_string_activation_uses_keras_default_parameter(name, ref):
    # Keras's elu has alpha=1.0 and leaky_relu negative_slope=0.2 when named by string.
    out = layers.Activation(name)(X_ACT)
    np.testing.assert_allclose(out, ref(X_ACT), rtol=1e-6, atol=1e-7)

    dense = layers.Dense(6, activation=name, kernel_initializer="identity")
    np.testing.assert_allclose(dense(X_ACT), ref(X_ACT), rtol=1e-6, atol=1e-7)

    conv = layers.Conv1D(1, 1, activation=name, kernel_initializer="ones")
    x = X_ACT.reshape(1, 6, 1)
    np.testing.assert_allclose(conv(x), ref(x), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name, slope", [("elu", 1.0), ("leaky_relu", 0.2)])
def test_string_activation_gradient_uses_keras_default_parameter(name, slope):
    # One SGD step (lr=1) on sum(act(w * x)) with w = 1 and x = -1: dw = x * act'(-1).
    model = keras.Sequential([keras.Input((1,)),
                              layers.Dense(1, activation=name, use_bias=False,
                                           kernel_initializer="ones")])
    model.compile(keras.optimizers.SGD(1.0), "mae")
    model.train_on_batch(np.array([[-1.0]], np.float32), np.array([[10.0]], np.float32))
    d_act = slope * np.exp(-1.0) if name == "elu" else slope
    # mae with target above the output: d(loss)/d(out) = -1, so dw = -1 * act'(-1) * x.
    np.testing.assert_allclose(model.get_weights()[0], [[1.0 - d_act]], rtol=1e-6)


def test_relu_rejects_negative_threshold():
    # Keras 2 and 3 both refuse a negative threshold.
    with pytest.raises(ValueError, match="threshold"):
        layers.ReLU(threshold=-0.2)


# ---------------------------------------------------------------- reported numbers
def test_train_on_batch_reports_its_batch_alone():
    # Keras resets the metrics at each train_on_batch: the result is this batch's loss, never a
    # mean with an earlier train_on_batch or test_on_batch call.
    model = keras.Sequential([keras.Input((1,)),
                              layers.Dense(1, use_bias=False, kernel_initializer="ones")])
    model.compile(keras.optimizers.SGD(0.0), "mse")
    x = np.array([[1.0]], np.float32)
    assert model.test_on_batch(x, np.array([[1.0]], np.float32)) == pytest.approx(0.0)
    assert model.train_on_batch(x, np.array([[3.0]], np.float32)) == pytest.approx(4.0)
    assert model.train_on_batch(x, np.array([[2.0]], np.float32)) == pytest.approx(1.0)


def _input_gradient(layer, x):
    """d sum(layer(x)) / dx, from the bias gradient of an identity Dense placed before the layer."""
    n = x.shape[1]
    model = keras.Sequential([keras.Input((n,)),
                              layers.Dense(n, kernel_initializer="identity"), layer])
    out = model.predict(x, verbose=0)
    # mse against out - size / 2 has d(loss)/d(out) = 1 everywhere.
    model.compile(keras.optimizers.SGD(0.0), "mse")
    model.train_on_batch(x, out - out.size / 2.0)
    return model.layers[0]._core.get_grad(1)


X_KINKS = np.array([[-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 6.0, 7.0]], dtype=np.float32)


# Recorded from Keras 3.15's ReLU layer (TensorFlow backend) on X_KINKS: outputs and gradients.
@pytest.mark.parametrize("kwargs, out, grad", [
    ({}, [0, 0, 0.5, 1, 1.5, 2, 6, 7], [0, 0, 1, 1, 1, 1, 1, 1]),
    ({"threshold": 1.0}, [0, 0, 0, 0, 1.5, 2, 6, 7], [0, 0, 0, 0, 1, 1, 1, 1]),
    ({"threshold": 1.0, "negative_slope": 0.3}, [-0.6, -0.3, -0.15, 0, 1.5, 2, 6, 7],
     [0.3, 0.3, 0.3, 0, 1, 1, 1, 1]),
    ({"max_value": 6.0}, [0, 0, 0.5, 1, 1.5, 2, 6, 6], [0, 0, 1, 1, 1, 1, 0, 0]),
    ({"max_value": 1.5}, [0, 0, 0.5, 1, 1.5, 1.5, 1.5, 1.5], [0, 0, 1, 1, 1, 0, 0, 0]),
    ({"max_value": 6.0, "threshold": 0.5}, [0, 0, 0, 1, 1.5, 2, 6, 6], [0, 0, 0, 1, 1, 1, 1, 0]),
    ({"max_value": 2.0, "negative_slope": 0.1}, [-0.1, 0, 0.5, 1, 1.5, 2, 2, 2],
     [0.1, 0, 1, 1, 1, 1, 0, 0]),
])
def test_relu_layer_values_and_gradients_at_the_kinks(kwargs, out, grad):
    np.testing.assert_allclose(layers.ReLU(**kwargs)(X_KINKS), [out], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(keras.activations.relu(X_KINKS, **kwargs), [out], rtol=1e-6,
                               atol=1e-7)
    np.testing.assert_allclose(_input_gradient(layers.ReLU(**kwargs), X_KINKS), grad,
                               rtol=1e-6, atol=1e-7)


def test_activity_regularizer_is_divided_by_the_batch_size():
    # Keras adds activity_regularizer(outputs) / batch_size to the loss: here 0.5 * sum(y^2) / 4
    # with y = x (identity kernel), and the penalty's gradient scales alike.
    x = np.arange(8, dtype=np.float32).reshape(4, 2)
    model = keras.Sequential([keras.Input((2,)),
                              layers.Dense(2, kernel_initializer="identity",
                                           activity_regularizer=keras.regularizers.L2(0.5))])
    model.compile(keras.optimizers.SGD(0.0), "mse")
    penalty = 0.5 * float(np.sum(x**2)) / 4
    assert model.evaluate(x, x, verbose=0) == pytest.approx(penalty, rel=1e-6)
    assert model.train_on_batch(x, x) == pytest.approx(penalty, rel=1e-6)
    bias_grad = model.layers[0]._core.get_grad(1)
    np.testing.assert_allclose(bias_grad, 2 * 0.5 * x.sum(axis=0) / 4, rtol=1e-6)


def test_top_k_accuracy_with_k_1_counts_ties_as_keras_in_top_k():
    # Keras: TopKCategoricalAccuracy(k=1) = 0.25 here (row 3 ties, its label counts as in the top
    # 1); CategoricalAccuracy takes the first argmax and gets 0.
    y_pred = np.array([[0.2, 0.2, 0.2, 0.4], [0.1, 0.3, 0.3, 0.3],
                       [0.25, 0.25, 0.25, 0.25], [0.5, 0.1, 0.1, 0.3]], np.float32)
    labels = np.array([2, 0, 3, 1])
    y_true = np.eye(4, dtype=np.float32)[labels]
    model = keras.Sequential([keras.Input((4,)),
                              layers.Dense(4, use_bias=False, kernel_initializer="identity")])
    model.compile("sgd", "mse", metrics=[keras.metrics.TopKCategoricalAccuracy(k=1),
                                         "categorical_accuracy"])
    logs = model.evaluate(y_pred, y_true, verbose=0, return_dict=True)
    assert logs["top_k_categorical_accuracy"] == pytest.approx(0.25)
    assert logs["categorical_accuracy"] == pytest.approx(0.0)
    model.compile("sgd", "sparse_categorical_crossentropy",
                  metrics=[keras.metrics.SparseTopKCategoricalAccuracy(k=1)])
    logs = model.evaluate(y_pred, labels, verbose=0, return_dict=True)
    assert logs["sparse_top_k_categorical_accuracy"] == pytest.approx(0.25)


def test_misspelled_layer_argument_is_a_value_error():
    # Keras 3.15: ValueError, with this message, for every layer.
    with pytest.raises(ValueError, match=r"Unrecognized keyword arguments passed to Dense: "
                                         r"\{'activaton': 'relu'\}"):
        layers.Dense(3, activaton="relu")


def test_relu_layer_gives_positive_zero_below_the_threshold():
    # Keras computes `relu part - slope * relu(threshold - x)`: +0 where the slope is 0, which
    # NumPy prints as "0." (a product slope * (x - threshold) gave -0, printed "-0.").
    x = np.array([[-1.0, -3.0, 0.5]], dtype=np.float32)
    for layer in (layers.ReLU(), layers.ReLU(max_value=6.0), layers.ReLU(threshold=1.0)):
        out = np.asarray(layer(x))
        assert not np.signbit(out[out == 0]).any(), layer.get_config()
