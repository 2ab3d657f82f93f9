"""Conv2DTranspose and Conv1DTranspose.

Forward outputs are compared with Keras 3.15's (recorded as literals in conv_transpose_refs.py),
backward passes with float64 finite differences (tests/gradcheck.py), output lengths with Keras's
formula, and files written by real Keras (tests/fixtures/conv_transpose, from generate.py there)
must load and predict as Keras did.
"""

import re
from pathlib import Path

import numpy as np
import pytest

import kerasette as keras
from kerasette import layers
from conv_transpose_refs import REFS
from gradcheck import check_gradients

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "conv_transpose"


def _ramp(shape, scale, shift, fn):
    n = int(np.prod(shape))
    return fn(np.arange(n, dtype=np.float64) * scale + shift).reshape(shape).astype("float32")


def _keras_length(n, k, s, d, padding, op):
    """Keras's deconv_output_length (its TensorFlow backend's)."""
    span = (k - 1) * d + 1
    if padding == "valid":
        return (n - 1) * s + span + (max(span, s) - span if op is None else op)
    return n * s if op is None else (n - 1) * s + span % 2 + op


# ---------------------------------------------------------------- forward vs Keras
@pytest.mark.parametrize("key", list(REFS), ids=lambda k: "-".join(map(str, k)))
def test_forward_matches_keras(key, each_isa):
    cls_name, k, s, padding, op, d, spatial = key
    layer = getattr(layers, cls_name)(2, k, strides=s, padding=padding, output_padding=op,
                                      dilation_rate=d)
    shape = (1, *spatial, 2)
    layer.build(shape)
    assert tuple(layer.kernel.shape) == layer.kernel_size + (2, 2)
    layer.set_weights([_ramp(layer.kernel.shape, 0.53, -0.2, np.cos),
                       np.array([0.1, -0.2], "float32")])
    out = layer(_ramp(shape, 0.37, 0.1, np.sin))
    # Keras printed 7 significant digits of float32 sums of a few taps.
    np.testing.assert_allclose(out, REFS[key], rtol=1e-5, atol=2e-6)


def test_kernel_is_keras_layout_and_the_adjoint_of_conv2d(rng):
    # <conv2d_transpose(x, K), y> == <x, conv2d(y, K)>: the kernel (kh, kw, filters, channels)
    # is Conv2D's (kh, kw, cin, cout) read backwards.
    x = rng.normal(size=(2, 4, 5, 3)).astype("float32")
    convt = layers.Conv2DTranspose(6, 3, strides=2, padding="same", use_bias=False)
    y = convt(x)
    assert y.shape == (2, 8, 10, 6) and tuple(convt.kernel.shape) == (3, 3, 6, 3)
    conv = layers.Conv2D(3, 3, strides=2, padding="same", use_bias=False)
    conv.build((None, 8, 10, 6))
    conv.set_weights([convt.kernel.numpy()])
    z = rng.normal(size=y.shape).astype("float32")
    lhs = np.sum(np.asarray(y, np.float64) * z)
    rhs = np.sum(x.astype(np.float64) * np.asarray(conv(z), np.float64))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-5)


@pytest.mark.parametrize("hw", [(1, 1), (5, 7), (4, 4)])
@pytest.mark.parametrize("k,s,d", [(1, 1, 1), (2, 2, 1), (3, 1, 2), (5, 2, 1), (3, 3, 1),
                                   (1, 3, 1)])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("op", [None, 0, 1, 2])
def test_output_shapes_follow_keras(hw, k, s, d, padding, op):
    if op is not None and op >= s:
        with pytest.raises(ValueError, match="`output_padding` must be strictly less than"):
            layers.Conv2DTranspose(4, k, strides=s, padding=padding, output_padding=op)
        return
    expect = tuple(_keras_length(n, k, s, d, padding, op) for n in hw)
    layer = layers.Conv2DTranspose(4, k, strides=s, dilation_rate=d, padding=padding,
                                   output_padding=op)
    if padding == "same" and op == 0 and k % 2 == 0:
        # (n - 1) * s: a convolution of that size does not map back to n, and TensorFlow (so
        # Keras) refuses to run these.
        with pytest.raises(ValueError, match="does not map back"):
            layer(keras.Input(hw + (3,)))
        return
    assert layer(keras.Input(hw + (3,))).shape == (None,) + expect + (4,)
    assert layers.Conv1DTranspose(2, k, strides=s, dilation_rate=d, padding=padding,
                                  output_padding=op)(keras.Input((hw[1], 3))).shape == (
        None, expect[1], 2)


def test_channels_first_is_channels_last_transposed(rng):
    x = rng.normal(size=(2, 3, 5, 4)).astype("float32")
    last = layers.Conv2DTranspose(5, (3, 2), strides=(2, 3), output_padding=(1, 0))
    first = layers.Conv2DTranspose(5, (3, 2), strides=(2, 3), output_padding=(1, 0),
                                   data_format="channels_first")
    last.build((None, 3, 5, 4))
    first.build((None, 4, 3, 5))
    first.set_weights(last.get_weights())
    np.testing.assert_allclose(first(x.transpose(0, 3, 1, 2)),
                               np.asarray(last(x)).transpose(0, 3, 1, 2), rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- gradients
def _grad_model(input_shape, layer, channels):
    """A conv in front of `layer`, so its kernel gradient passes through the layer's input
    gradient, and a Dense behind it."""
    conv = layers.Conv2D if len(input_shape) == 3 else layers.Conv1D
    return keras.Sequential([keras.Input(input_shape),
                             conv(channels, 2, padding="same", activation="tanh"), layer,
                             layers.Flatten(), layers.Dense(3)])


GRAD_CASES_2D = [
    # kernel, strides, padding, output_padding, dilation, (H, W), channels, filters, activation
    (3, 1, "valid", None, 1, (3, 4), 2, 3, "linear"),
    (3, 2, "same", None, 1, (3, 4), 3, 2, "tanh"),
    ((3, 2), (2, 3), "valid", (1, 2), 1, (3, 2), 2, 3, "linear"),
    (4, 2, "same", 1, 1, (2, 3), 3, 2, "sigmoid"),
    (2, 3, "valid", None, 1, (2, 3), 2, 2, "linear"),
    (3, 1, "same", None, 2, (3, 4), 2, 3, "linear"),
    (1, 2, "valid", None, 1, (3, 3), 3, 2, "linear"),
]


@pytest.mark.parametrize("case", GRAD_CASES_2D, ids=lambda c: "-".join(map(str, c)))
def test_conv2d_transpose_gradients(case, rng):
    k, s, padding, op, d, hw, cin, filters, act = case
    keras.utils.set_random_seed(5)
    layer = layers.Conv2DTranspose(filters, k, strides=s, padding=padding, output_padding=op,
                                   dilation_rate=d, activation=act)
    model = _grad_model(hw + (2,), layer, cin)
    x = rng.normal(size=(3,) + hw + (2,)).astype("float32")
    y = rng.normal(size=(3, 3)).astype("float32")
    check_gradients(model, x, y, samples=6, h=3e-3, atol=1e-4)


# Many channels: the layer's forward (a conv's input gradient) takes the flipped-kernel
# convolution path at stride 1 and GEMM + col2im otherwise; its input gradient (a conv's forward)
# runs Winograd (3x3 stride 1, 16+ channels both sides) or the implicit GEMM.
MANY_CHANNEL_CASES = [
    (3, 1, "same", None, (5, 6), 16, 16),
    (3, 2, "same", None, (3, 4), 17, 5),
    (4, 2, "same", 1, (3, 3), 16, 20),
    (5, 1, "valid", None, (3, 4), 20, 3),
]


@pytest.mark.parametrize("case", MANY_CHANNEL_CASES, ids=lambda c: "-".join(map(str, c)))
def test_conv2d_transpose_gradients_many_channels(case, each_isa, rng):
    k, s, padding, op, hw, cin, filters = case
    keras.utils.set_random_seed(7)
    # tanh, not relu: with this many terms per output, finite differences cross relu's kink.
    layer = layers.Conv2DTranspose(filters, k, strides=s, padding=padding, output_padding=op,
                                   activation="tanh")
    model = _grad_model(hw + (2,), layer, cin)
    x = rng.normal(size=(2,) + hw + (2,)).astype("float32")
    y = rng.normal(size=(2, 3)).astype("float32")
    check_gradients(model, x, y, samples=8, h=3e-3, atol=1e-4)


@pytest.mark.parametrize("case", [(3, 2, "same", None, 1, 5), (4, 3, "valid", 2, 1, 3),
                                  (3, 1, "valid", None, 2, 4), (2, 2, "same", 1, 1, 4)])
def test_conv1d_transpose_gradients(case, rng):
    k, s, padding, op, d, steps = case
    keras.utils.set_random_seed(6)
    layer = layers.Conv1DTranspose(3, k, strides=s, padding=padding, output_padding=op,
                                   dilation_rate=d)
    model = _grad_model((steps, 2), layer, 3)
    x = rng.normal(size=(3, steps, 2)).astype("float32")
    y = rng.normal(size=(3, 3)).astype("float32")
    check_gradients(model, x, y, samples=6, h=3e-3, atol=1e-4)


def test_shared_layer_accumulates_gradients(rng):
    keras.utils.set_random_seed(8)
    shared = layers.Conv2DTranspose(2, 3, strides=2, padding="same", activation="tanh")
    inp = keras.Input((3, 3, 2))
    a = shared(layers.Conv2D(2, 1)(inp))
    b = shared(layers.Conv2D(2, 1)(inp))
    out = layers.Dense(2)(layers.Flatten()(layers.Add()([a, b])))
    model = keras.Model(inp, out)
    x = rng.normal(size=(2, 3, 3, 2)).astype("float32")
    y = rng.normal(size=(2, 2)).astype("float32")
    check_gradients(model, x, y, samples=6, h=3e-3, atol=1e-4)


# ---------------------------------------------------------------- arguments and errors
def test_argument_errors_are_value_errors():
    with pytest.raises(ValueError, match=r"`output_padding` must be strictly less than `strides`"):
        layers.Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="strides > 1"):
        layers.Conv2DTranspose(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="filters"):
        layers.Conv2DTranspose(0, 3)
    with pytest.raises(ValueError, match="kernel_size"):
        layers.Conv1DTranspose(2, (3, 3))
    with pytest.raises(ValueError, match="padding"):
        layers.Conv1DTranspose(2, 3, padding="causal")
    with pytest.raises(ValueError, match=re.escape(  # Keras's message, verbatim
            "The `strides` argument must be a tuple of 2 integers. Received strides=0, "
            "including values {0} that do not satisfy `value > 0`")):
        layers.Conv2DTranspose(2, 3, strides=0)
    with pytest.raises(ValueError, match="Unrecognized keyword arguments.*groups"):
        layers.Conv2DTranspose(2, 3, groups=2)  # not an argument of Keras's Conv2DTranspose


def test_shape_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"Layer 'up'.*expected an input of rank 4.*"
                                         r"\(None, 5, 3\)"):
        layers.Conv2DTranspose(2, 3, name="up")(keras.Input((5, 3)))
    with pytest.raises(ValueError, match=r"Layer 'even'.*output length of 4 on spatial axis 0.*"
                                         r"does not map back to 3"):
        layers.Conv2DTranspose(2, 2, strides=2, padding="same", output_padding=0,
                               name="even")(keras.Input((3, 3, 1)))
    layer = layers.Conv2DTranspose(2, 3)
    layer(keras.Input((4, 4, 3)))
    with pytest.raises(ValueError, match=r"needs a kernel of shape \(3, 3, 2, 5\) but the layer "
                                         r"was built with \(3, 3, 2, 3\)"):
        layer(keras.Input((4, 4, 5)))


def test_names_aliases_and_config():
    assert layers.Convolution2DTranspose is layers.Conv2DTranspose
    assert layers.Convolution1DTranspose is layers.Conv1DTranspose
    assert layers.Conv2DTranspose(1, 1).name.startswith("conv2d_transpose")
    assert layers.Conv1DTranspose(1, 1).name.startswith("conv1d_transpose")
    config = layers.Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=1,
                                    activation="relu").get_config()
    # Keras 3.15's keys, in its order.
    assert list(config) == [
        "name", "trainable", "dtype", "filters", "kernel_size", "strides", "padding",
        "output_padding", "data_format", "dilation_rate", "activation", "use_bias",
        "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
        "activity_regularizer", "kernel_constraint", "bias_constraint"]
    assert config["output_padding"] == (1, 1) and config["kernel_size"] == (3, 3)
    assert layers.Conv1DTranspose(4, 3).get_config()["output_padding"] is None
    for layer in [layers.Conv2DTranspose(5, (2, 3), output_padding=(0, 1), strides=(1, 2),
                                         data_format="channels_first", use_bias=False),
                  layers.Conv1DTranspose(4, 3, dilation_rate=2, kernel_regularizer="l2")]:
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config


def test_summary_counts_parameters():
    model = keras.Sequential([keras.Input((7, 7, 8)),
                              layers.Conv2DTranspose(4, 3, strides=2, padding="same"),
                              layers.Conv2DTranspose(1, 2, use_bias=False)])
    assert model.output_shape == (None, 15, 15, 1)
    assert model.count_params() == 3 * 3 * 4 * 8 + 4 + 2 * 2 * 1 * 4
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(Conv2DTranspose)" in text and "292" in text and "(None, 14, 14, 4)" in text


# ---------------------------------------------------------------- saving
@pytest.mark.parametrize("case,ext", [("convt_k3", "keras"), ("convt_k2", "h5")])
def test_files_written_by_keras_predict_and_resume_as_keras(case, ext):
    # tf_keras's configs of these layers carry Conv's `groups: 1`, which loading drops.
    data = np.load(FIXTURES / f"{case}.npz")
    model = keras.models.load_model(FIXTURES / f"{case}.{ext}")
    assert [type(layer).__name__ for layer in model.layers[1:]] == [
        "Conv2DTranspose", "Conv2DTranspose", "Reshape", "Conv1DTranspose"]
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["expected"], atol=1e-5)
    loss = model.train_on_batch(data["x"], data["y"])
    np.testing.assert_allclose(loss, data["next_loss"], rtol=1e-5)
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["next_expected"],
                               atol=1e-5)


@pytest.mark.parametrize("ext", ["h5", "keras"])
def test_save_and_reload(ext, tmp_path, rng):
    keras.utils.set_random_seed(12)
    model = keras.Sequential([
        keras.Input((6, 5, 2)),
        layers.Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=(1, 0),
                               activation="relu"),
        layers.Conv2DTranspose(2, (2, 3), dilation_rate=2, use_bias=False),
        layers.Reshape((14 * 13, 2)),
        layers.Convolution1DTranspose(2, 4, strides=3, padding="same", output_padding=1),
    ])
    model.compile(optimizer="adam", loss="mse")
    x = rng.normal(size=(8, 6, 5, 2)).astype("float32")
    y = rng.normal(size=(8,) + model.output_shape[1:]).astype("float32")
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    path = tmp_path / f"convt.{ext}"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert [tuple(w.shape) for w in loaded.weights] == [
        (3, 3, 3, 2), (3,), (2, 3, 2, 3), (4, 2, 2), (2,)]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    np.testing.assert_allclose(loaded.train_on_batch(x, y), model.train_on_batch(x, y),
                               rtol=1e-6)


# ---------------------------------------------------------------- training
def test_autoencoder_learns(rng):
    # Blobs on a 12x12 grid: the encoder halves it twice, the transposed convs bring it back.
    keras.utils.set_random_seed(0)
    yy, xx = np.mgrid[:12, :12]
    centers = rng.uniform(2, 10, size=(256, 2))
    x = np.exp(-((yy - centers[:, :1, None]) ** 2 + (xx - centers[:, 1:, None]) ** 2) / 6.0)
    x = x[..., None].astype("float32")
    model = keras.Sequential([
        keras.Input((12, 12, 1)),
        layers.Conv2D(8, 3, strides=2, padding="same", activation="relu"),
        layers.Conv2D(8, 3, strides=2, padding="same", activation="relu"),
        layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu"),
        layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy")
    history = model.fit(x, x, epochs=8, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.8 * losses[0], losses
