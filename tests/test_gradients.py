"""Gradient checks of every layer, activation and loss of the MLP family, on every ISA."""

import numpy as np
import pytest

import kerasette as keras
from kerasette import layers
from gradcheck import check_gradients

ACTIVATIONS = ["linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "leaky_relu",
               "softplus", "softsign", "swish", "silu", "gelu", "hard_sigmoid", "exponential",
               "relu6", "mish", "hard_swish"]


def _data(rng, n=7, d=13, out=5):
    x = rng.normal(size=(n, d)).astype("float32")
    y = rng.normal(size=(n, out)).astype("float32")
    return x, y


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_dense_activation_gradients(activation, rng):
    keras.utils.set_random_seed(1)
    x, y = _data(rng)
    # Scale weights so that pre-activations avoid the kinks of relu-like functions mostly, and
    # exponential stays tame.
    model = keras.Sequential([keras.Input((13,)),
                              layers.Dense(9, activation="tanh"),
                              layers.Dense(5, activation=activation)])
    # atol: the float32 forward's rounding, ~1e-7 of the loss, becomes ~5e-5 after dividing by
    # 2h; without FMA (the generic kernels) it reaches that on the smallest weight gradients.
    check_gradients(model, x * 0.5, y, atol=5e-5)


def test_dense_gradients_every_isa(each_isa, rng):
    keras.utils.set_random_seed(2)
    x, y = _data(rng, n=17, d=33, out=19)
    model = keras.Sequential([keras.Input((33,)), layers.Dense(31, activation="sigmoid"),
                              layers.Dense(19, use_bias=False)])
    check_gradients(model, x, y)


def test_dense_on_rank3_inputs(rng):
    keras.utils.set_random_seed(3)
    x = rng.normal(size=(4, 3, 6)).astype("float32")
    y = rng.normal(size=(4, 3, 2)).astype("float32")
    model = keras.Sequential([keras.Input((3, 6)), layers.Dense(5, activation="tanh"),
                              layers.Dense(2)])
    assert model.output_shape == (None, 3, 2)
    check_gradients(model, x, y)


@pytest.mark.parametrize("layer_factory", [
    lambda: layers.Activation("tanh"),
    lambda: layers.LeakyReLU(negative_slope=0.2),
    lambda: layers.ELU(alpha=0.7),
    lambda: layers.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.2),
    lambda: layers.Softmax(),
    lambda: layers.Reshape((3, 3)),
    lambda: layers.Flatten(),
], ids=["activation", "leaky_relu", "elu", "relu_params", "softmax", "reshape", "flatten"])
def test_weightless_layer_gradients(layer_factory, rng):
    # A Dense layer before the layer under test: its kernel gradient passes through the layer's
    # backward, so a wrong input gradient shows up there.
    keras.utils.set_random_seed(4)
    x = rng.normal(size=(6, 7)).astype("float32")
    model = keras.Sequential([keras.Input((7,)), layers.Dense(9), layer_factory(),
                              layers.Flatten(), layers.Dense(4)])
    y = rng.normal(size=(6, 4)).astype("float32")
    check_gradients(model, x, y)


def _ce64(pred, y):
    p = pred.astype(np.float64)
    p = np.clip(p / p.sum(-1, keepdims=True), 1e-7, 1 - 1e-7)  # Keras normalizes, then clips
    return float(np.mean(-np.sum(y * np.log(p), axis=-1)))


def _sparse_ce64(pred, y):
    p = np.clip(pred.astype(np.float64), 1e-7, 1 - 1e-7)  # integer labels: clip, then normalize
    p = p / p.sum(-1, keepdims=True)
    return float(np.mean(-np.log(p[np.arange(len(y)), y.astype(int).ravel()])))


def _bce64(pred, y):
    p = np.clip(pred.astype(np.float64), 1e-7, 1 - 1e-7)
    return float(np.mean(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)), axis=-1)))


def _logits_ce64(z, y):
    z = z.astype(np.float64)
    lse = np.log(np.exp(z - z.max(-1, keepdims=True)).sum(-1)) + z.max(-1)
    return float(np.mean(lse - np.sum(y * z, axis=-1)))


def _logits_bce64(z, y):
    z = z.astype(np.float64)
    return float(np.mean(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))), -1)))


def _mae64(p, y):
    return float(np.mean(np.abs(p.astype(np.float64) - y)))


def _huber64(p, y, delta=1.0):
    e = np.abs(p.astype(np.float64) - y)
    return float(np.mean(np.where(e <= delta, 0.5 * e**2, delta * e - 0.5 * delta**2)))


@pytest.mark.parametrize("loss,loss64,activation,target", [
    ("categorical_crossentropy", _ce64, "softmax", "onehot"),
    ("sparse_categorical_crossentropy", _sparse_ce64, "softmax", "sparse"),
    ("binary_crossentropy", _bce64, "sigmoid", "binary"),
    (keras.losses.CategoricalCrossentropy(from_logits=True), _logits_ce64, None, "onehot"),
    (keras.losses.BinaryCrossentropy(from_logits=True), _logits_bce64, None, "binary"),
    ("mean_absolute_error", _mae64, None, "real"),
    ("huber", _huber64, None, "real"),
    # A cross-entropy on an output that is not a fused softmax: the clipped, normalized form.
    ("categorical_crossentropy", _ce64, "sigmoid", "onehot"),
    ("binary_crossentropy", _bce64, "hard_sigmoid", "binary"),
    ("sparse_categorical_crossentropy", _sparse_ce64, "sigmoid", "sparse"),
], ids=["cce", "sparse_cce", "bce", "cce_logits", "bce_logits", "mae", "huber", "cce_unfused",
        "bce_unfused", "sparse_cce_unfused"])
def test_loss_gradients(loss, loss64, activation, target, rng):
    keras.utils.set_random_seed(5)
    n, c = 8, 4
    x = rng.normal(size=(n, 6)).astype("float32")
    labels = rng.integers(0, c, size=n)
    y = {"onehot": np.eye(c, dtype="float32")[labels],
         "sparse": labels.astype("float32"),
         "binary": (rng.random((n, c)) > 0.5).astype("float32"),
         "real": rng.normal(size=(n, c)).astype("float32") * 2}[target]
    model = keras.Sequential([keras.Input((6,)), layers.Dense(c, activation=activation)])
    check_gradients(model, x, y, loss=loss, loss64=loss64)


@pytest.mark.parametrize("reg", [keras.regularizers.L2(0.05), keras.regularizers.L1(0.03),
                                 keras.regularizers.L1L2(l1=0.01, l2=0.02)],
                         ids=["l2", "l1", "l1_l2"])
def test_regularizer_gradients(reg, rng):
    keras.utils.set_random_seed(6)
    x, y = _data(rng)
    model = keras.Sequential([keras.Input((13,)),
                              layers.Dense(5, kernel_regularizer=reg, bias_regularizer=reg)])

    def loss64(pred, target):
        penalty = sum(float(reg(w.numpy().astype(np.float64))) for w in model.weights)
        return _mse(pred, target) + penalty

    check_gradients(model, x, y, loss64=loss64)


def test_activity_regularizer_gradients(rng):
    keras.utils.set_random_seed(7)
    x, y = _data(rng)
    reg = keras.regularizers.L2(0.01)
    hidden = layers.Dense(6, activation="tanh", activity_regularizer=reg)
    model = keras.Sequential([keras.Input((13,)), hidden, layers.Dense(5)])

    def loss64(pred, target):
        sub = keras.Sequential([keras.Input((13,)), hidden])
        # Keras divides an activity penalty by the batch size.
        return _mse(pred, target) + float(reg(sub.predict_on_batch(x).astype(np.float64))) / len(x)

    check_gradients(model, x, y, loss64=loss64)


def _mse(pred, target):
    d = pred.astype(np.float64) - target
    return float(np.mean(np.mean(d**2, axis=-1)))
