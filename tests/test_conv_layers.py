"""Convolution, pooling, spatial reshaping and BatchNormalization layers.

Forward outputs are compared with float64 NumPy references written here (on every ISA), backward
passes with float64 finite differences (tests/gradcheck.py), output shapes with Keras's formulas,
and one deep convnet must learn MNIST.
"""

import time

import numpy as np
import pytest

import kerasette as keras
from kerasette import layers
from conftest import load_example, load_mnist_split
from gradcheck import check_gradients, engine_gradients


# ---------------------------------------------------------------- float64 references
def _axis(n, k, s, d, padding):
    span = (k - 1) * d + 1
    if padding == "same":
        out = -(-n // s)
        total = max((out - 1) * s + span - n, 0)
        return out, total // 2, total - total // 2
    if padding == "causal":
        return (n - 1) // s + 1, span - 1, 0
    return (n - span) // s + 1, 0, 0


def conv2d_ref(x, kernel, bias, strides, padding, dilation, groups=1):
    x = x.astype(np.float64)
    kernel = kernel.astype(np.float64)
    n, h, w, c = x.shape
    kh, kw, cg, o = kernel.shape
    oh, pt, pb = _axis(h, kh, strides[0], dilation[0], padding)
    ow, pl, pr = _axis(w, kw, strides[1], dilation[1], padding)
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    out = np.zeros((n, oh, ow, o))
    og = o // groups
    for a in range(kh):
        for b in range(kw):
            y0, x0 = a * dilation[0], b * dilation[1]
            patch = xp[:, y0:y0 + (oh - 1) * strides[0] + 1:strides[0],
                       x0:x0 + (ow - 1) * strides[1] + 1:strides[1], :]
            for g in range(groups):
                out[..., g * og:(g + 1) * og] += np.einsum(
                    "nhwc,co->nhwo", patch[..., g * cg:(g + 1) * cg],
                    kernel[a, b, :, g * og:(g + 1) * og])
    return out + (0 if bias is None else bias.astype(np.float64))


def pool2d_ref(x, pool, strides, padding, mode):
    x = x.astype(np.float64)
    n, h, w, c = x.shape
    oh, pt, _ = _axis(h, pool[0], strides[0], 1, padding)
    ow, pl, _ = _axis(w, pool[1], strides[1], 1, padding)
    out = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            y0, x0 = i * strides[0] - pt, j * strides[1] - pl
            win = x[:, max(y0, 0):min(y0 + pool[0], h), max(x0, 0):min(x0 + pool[1], w), :]
            out[:, i, j] = win.max(axis=(1, 2)) if mode == "max" else win.mean(axis=(1, 2))
    return out


# ---------------------------------------------------------------- forward vs references
def test_uneven_same_padding_matches_keras():
    layer = layers.Conv2D(1, 2, padding="same", use_bias=False, kernel_initializer="ones")
    out = layer(np.ones((1, 3, 3, 1), "float32"))[0, :, :, 0]
    np.testing.assert_array_equal(out, [[4, 4, 2], [4, 4, 2], [2, 2, 1]])
    pool = layers.AveragePooling2D(3, strides=2, padding="same")
    out = pool(np.arange(16, dtype="float32").reshape(1, 4, 4, 1))[0, :, :, 0]
    np.testing.assert_array_equal(out, [[5, 6.5], [11, 12.5]])
    out = pool(np.ones((1, 4, 4, 1), "float32"))
    np.testing.assert_array_equal(out, np.ones((1, 2, 2, 1)))


FORWARD_CASES = [
    # kernel, strides, padding, dilation, (H, W), cin, cout, groups
    (1, 1, "valid", 1, (7, 9), 3, 4, 1),
    (2, 1, "same", 1, (5, 5), 1, 3, 1),
    (3, 2, "same", 1, (7, 9), 5, 3, 1),
    (5, 1, "same", 1, (7, 9), 3, 17, 1),
    (3, 1, "valid", 2, (7, 9), 3, 2, 1),
    ((2, 3), (2, 1), "same", 1, (7, 9), 3, 2, 1),
    (3, 1, "same", 1, (7, 9), 4, 6, 2),
    (1, 2, "valid", 1, (7, 9), 6, 3, 3),
]


@pytest.mark.parametrize("case", FORWARD_CASES, ids=lambda c: "-".join(map(str, c)))
def test_conv2d_forward_matches_numpy(case, each_isa, rng):
    k, s, padding, d, hw, cin, cout, groups = case
    layer = layers.Conv2D(cout, k, strides=s, padding=padding, dilation_rate=d, groups=groups,
                          bias_initializer="random_normal")
    x = rng.normal(size=(3,) + hw + (cin,)).astype("float32")
    out = layer(x)
    kernel, bias = layer.get_weights()
    ref = conv2d_ref(x, kernel, bias, layer.strides, padding, layer.dilation_rate, groups)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)


# Stride-1 3x3 and 5x5 kernels with 16+ channels on both sides run as Winograd convolutions
# (F(4x4, 3x3) and F(2x2, 5x5) on 6x6 tiles): a different rounding, the same values.
WINOGRAD_CASES = [
    # kernel, padding, (H, W), cin, cout
    (3, "same", (7, 9), 16, 16),
    (5, "same", (14, 14), 32, 64),
    (3, "valid", (13, 13), 32, 64),
    (5, "valid", (9, 8), 17, 33),
    (3, "same", (5, 6), 40, 20),
    (5, "same", (3, 4), 16, 16),
]


@pytest.mark.parametrize("case", WINOGRAD_CASES, ids=lambda c: "-".join(map(str, c)))
def test_conv2d_winograd_forward_matches_numpy(case, each_isa, rng):
    k, padding, hw, cin, cout = case
    layer = layers.Conv2D(cout, k, padding=padding, activation="relu",
                          bias_initializer="random_normal")
    x = rng.normal(size=(3,) + hw + (cin,)).astype("float32")
    out = layer(x)
    kernel, bias = layer.get_weights()
    ref = np.maximum(conv2d_ref(x, kernel, bias, (1, 1), padding, (1, 1)), 0)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=5e-5)


def test_conv2d_winograd_same_bits_any_thread_count(rng):
    layer = layers.Conv2D(32, 5, padding="same")
    x = rng.normal(size=(8, 14, 14, 32)).astype("float32")
    threads = keras.config.num_threads()
    try:
        keras.config.set_num_threads(1)
        one = layer(x)
        keras.config.set_num_threads(2)
        two = layer(x)
    finally:
        keras.config.set_num_threads(threads)
    np.testing.assert_array_equal(one, two)


def _kernel_gradient_ref(x, dy, k, padding):
    """dL/dkernel = sum over images and output pixels of input patch (x) dy, in float64."""
    x = x.astype(np.float64)
    n, h, w, c = x.shape
    oh, pt, pb = _axis(h, k, 1, 1, padding)
    ow, pl, pr = _axis(w, k, 1, 1, padding)
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    grad = np.zeros((k, k, c, dy.shape[-1]))
    for a in range(k):
        for b in range(k):
            grad[a, b] = np.einsum("nhwc,nhwo->co", xp[:, a:a + oh, b:b + ow, :], dy)
    return grad


@pytest.mark.parametrize("case", [(3, "same", (7, 9), 16, 20), (5, "same", (14, 14), 32, 64),
                                  (3, "valid", (13, 13), 32, 64), (5, "valid", (9, 8), 17, 33)],
                         ids=lambda c: "-".join(map(str, c)))
def test_conv2d_winograd_kernel_gradient_matches_numpy(case, each_isa, rng):
    # Loss = mean over samples of mean((y - t)^2), so dL/dy = 2 (y - t) / (N * y.size / N).
    k, padding, hw, cin, cout = case
    model = keras.Sequential([keras.Input(hw + (cin,)),
                              layers.Conv2D(cout, k, padding=padding, use_bias=False),
                              layers.Flatten()])
    x = rng.normal(size=(3,) + hw + (cin,)).astype("float32")
    target = rng.normal(size=(3, model.output_shape[1])).astype("float32")
    (grad,) = engine_gradients(model, x, target)
    y = model.predict_on_batch(x).astype(np.float64)
    dy = (2.0 * (y - target) / y.size).reshape((3,) + model.layers[0].output.shape[1:])
    ref = _kernel_gradient_ref(x, dy, k, padding)
    np.testing.assert_allclose(grad, ref, rtol=1e-3, atol=1e-5 * np.abs(ref).max())


@pytest.mark.parametrize("k,padding", [(3, "same"), (5, "valid")])
def test_conv2d_winograd_gradients(k, padding, rng):
    # Forward and the input gradient (a stride-1 convolution of dy with the flipped kernel, itself
    # Winograd once dy has 16+ channels) against finite differences.
    keras.utils.set_random_seed(9)
    layer = layers.Conv2D(16, k, padding=padding, activation="tanh")
    model = _grad_model((7, 6, 2), layer, 16)
    x = rng.normal(size=(2, 7, 6, 2)).astype("float32")
    y = rng.normal(size=(2, 3)).astype("float32")
    check_gradients(model, x, y, samples=8, h=3e-3, atol=1e-4)


def test_conv2d_winograd_shared_layer_gradients(rng):
    # One 3x3 conv applied twice: its kernel gradient is the sum of two Winograd weight
    # gradients (the second accumulates into the first).
    keras.utils.set_random_seed(10)
    inp = keras.Input((6, 5, 2))
    h = layers.Conv2D(16, 2, padding="same", activation="tanh")(inp)
    shared = layers.Conv2D(16, 3, padding="same", activation="tanh")
    out = layers.Dense(3)(layers.Flatten()(shared(shared(h))))
    model = keras.Model(inp, out)
    x = rng.normal(size=(2, 6, 5, 2)).astype("float32")
    y = rng.normal(size=(2, 3)).astype("float32")
    check_gradients(model, x, y, samples=8, h=3e-3, atol=1e-4)


def test_conv2d_big_batch_is_sliced(rng):
    # 120 images of 32x32x8 with a 3x3 kernel: more pixels than an im2col slice would hold.
    layer = layers.Conv2D(4, 3, padding="same", activation="relu")
    x = rng.normal(size=(120, 32, 32, 8)).astype("float32")
    layer.build(x.shape)
    kernel, bias = layer.get_weights()
    ref = np.maximum(conv2d_ref(x, kernel, bias, (1, 1), "same", (1, 1)), 0)
    np.testing.assert_allclose(layer(x), ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("case", [(2, None, "valid"), (3, 2, "same"), (3, 1, "valid"),
                                  ((2, 3), (1, 2), "same"), (5, 3, "same")])
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pooling_forward_matches_numpy(case, mode, each_isa, rng):
    pool, strides, padding = case
    cls = layers.MaxPooling2D if mode == "max" else layers.AveragePooling2D
    layer = cls(pool, strides=strides, padding=padding)
    x = rng.normal(size=(2, 7, 9, 3)).astype("float32")
    ref = pool2d_ref(x, layer.pool_size, layer.strides, padding, mode)
    np.testing.assert_allclose(layer(x), ref, rtol=1e-5, atol=1e-6)


def test_max_pooling_padded_cells_never_win():
    x = -np.ones((1, 3, 3, 1), "float32")
    out = layers.MaxPooling2D(2, padding="same")(x)
    np.testing.assert_array_equal(out, -np.ones((1, 2, 2, 1)))


def test_global_pooling_and_1d_layers(rng):
    x = rng.normal(size=(2, 5, 7, 3)).astype("float32")
    np.testing.assert_allclose(layers.GlobalAveragePooling2D()(x), x.mean(axis=(1, 2)), rtol=1e-5)
    np.testing.assert_array_equal(layers.GlobalMaxPooling2D(keepdims=True)(x),
                                  x.max(axis=(1, 2), keepdims=True))
    seq = rng.normal(size=(2, 9, 3)).astype("float32")
    np.testing.assert_array_equal(layers.MaxPooling1D(2)(seq),
                                  pool2d_ref(seq[:, None], (1, 2), (1, 2), "valid", "max")[:, 0])
    np.testing.assert_allclose(layers.GlobalAveragePooling1D()(seq), seq.mean(axis=1), rtol=1e-5)
    conv = layers.Conv1D(4, 3, padding="causal", dilation_rate=2)
    out = conv(seq)
    kernel, bias = conv.get_weights()
    xp = np.pad(seq, ((0, 0), (4, 0), (0, 0)))
    ref = conv2d_ref(xp[:, None], kernel[None], bias, (1, 1), "valid", (1, 2))[:, 0]
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)


def test_padding_cropping_upsampling(rng):
    x = rng.normal(size=(2, 4, 5, 3)).astype("float32")
    pad = layers.ZeroPadding2D(((1, 2), (0, 3)))(x)
    np.testing.assert_array_equal(pad, np.pad(x, ((0, 0), (1, 2), (0, 3), (0, 0))))
    crop = layers.Cropping2D(((1, 0), (2, 1)))(x)
    np.testing.assert_array_equal(crop, x[:, 1:, 2:4])
    up = layers.UpSampling2D((2, 3))(x)
    np.testing.assert_array_equal(up, x.repeat(2, axis=1).repeat(3, axis=2))
    seq = x[:, 0]
    np.testing.assert_array_equal(layers.UpSampling1D(2)(seq), seq.repeat(2, axis=1))
    np.testing.assert_array_equal(layers.ZeroPadding1D((2, 1))(seq),
                                  np.pad(seq, ((0, 0), (2, 1), (0, 0))))
    np.testing.assert_array_equal(layers.Cropping1D((1, 2))(seq), seq[:, 1:-2])


# ---------------------------------------------------------------- gradients
GRAD_CASES = [
    # kernel, strides, padding, dilation, (H, W), cin, cout, groups, activation
    (1, 1, "valid", 1, (7, 9), 3, 4, 1, "linear"),
    (1, 2, "same", 1, (7, 9), 3, 2, 1, "tanh"),
    (2, 1, "same", 1, (5, 5), 1, 3, 1, "linear"),
    (2, 2, "valid", 1, (7, 9), 5, 2, 1, "linear"),
    (3, 1, "same", 2, (7, 9), 3, 2, 1, "linear"),
    (3, 2, "same", 1, (7, 9), 5, 3, 1, "sigmoid"),
    (3, 1, "valid", 1, (5, 5), 1, 2, 1, "linear"),
    (5, 1, "same", 1, (5, 5), 3, 2, 1, "linear"),
    (5, 2, "same", 1, (7, 9), 1, 2, 1, "linear"),
    (2, 1, "valid", 2, (7, 9), 3, 2, 1, "linear"),
    (5, 1, "valid", 1, (7, 9), 3, 2, 1, "tanh"),
    ((2, 3), (2, 1), "same", 1, (7, 9), 3, 2, 1, "linear"),
    (3, 1, "same", 1, (7, 9), 4, 6, 2, "linear"),
    (1, 1, "same", 1, (5, 5), 6, 3, 3, "linear"),
]


def _grad_model(input_shape, layer, pre_channels, monotone=False):
    """A conv in front of `layer`: its kernel gradient passes through the layer's input gradient.

    With `monotone`, the front conv is 1x1 from one channel with positive weights, so each output
    channel is an increasing function of the input: perturbing its weights never changes which
    cell wins a max, and finite differences see no kink (inputs must have distinct values).
    """
    conv = layers.Conv2D if len(input_shape) == 3 else layers.Conv1D
    if monotone:
        front = conv(pre_channels, 1, kernel_initializer=keras.initializers.RandomUniform(0.5, 1.5))
    else:
        front = conv(pre_channels, 2, padding="same", activation="tanh")
    return keras.Sequential([keras.Input(input_shape), front, layer, layers.Flatten(),
                             layers.Dense(3)])


@pytest.mark.parametrize("case", GRAD_CASES, ids=lambda c: "-".join(map(str, c)))
def test_conv2d_gradients(case, rng):
    k, s, padding, d, hw, cin, cout, groups, act = case
    keras.utils.set_random_seed(5)
    layer = layers.Conv2D(cout, k, strides=s, padding=padding, dilation_rate=d, groups=groups,
                          activation=act)
    model = _grad_model(hw + (2,), layer, cin)
    x = rng.normal(size=(3,) + hw + (2,)).astype("float32")
    y = rng.normal(size=(3, 3)).astype("float32")
    check_gradients(model, x, y, samples=6, h=3e-3, atol=1e-4)


# Many input channels: the weight gradient gathers its GEMM panels straight from x (no im2col
# matrix), and with stride 1 and one group the input gradient is a convolution of dy with the
# flipped kernel rather than a col2im.
MANY_CHANNEL_CASES = [
    # kernel, strides, padding, dilation, (H, W), cin, cout, groups
    (5, 1, "same", 1, (6, 7), 32, 4, 1),
    (3, 1, "valid", 1, (6, 5), 16, 3, 1),
    ((2, 3), 1, "same", 1, (5, 6), 17, 2, 1),
    (3, 1, "same", 2, (7, 6), 16, 2, 1),
    ((3, 2), 1, "valid", (1, 2), (6, 7), 20, 3, 1),
    (3, 2, "same", 1, (7, 6), 16, 3, 1),
    (3, 1, "same", 1, (5, 6), 16, 4, 2),
]


@pytest.mark.parametrize("case", MANY_CHANNEL_CASES, ids=lambda c: "-".join(map(str, c)))
def test_conv2d_gradients_many_channels(case, each_isa, rng):
    k, s, padding, d, hw, cin, cout, groups = case
    keras.utils.set_random_seed(7)
    layer = layers.Conv2D(cout, k, strides=s, padding=padding, dilation_rate=d, groups=groups,
                          activation="tanh")
    model = _grad_model(hw + (2,), layer, cin)
    x = rng.normal(size=(2,) + hw + (2,)).astype("float32")
    y = rng.normal(size=(2, 3)).astype("float32")
    check_gradients(model, x, y, samples=8, h=3e-3, atol=1e-4)


def test_conv1d_causal_gradients_many_channels(rng):
    keras.utils.set_random_seed(8)
    layer = layers.Conv1D(3, 3, padding="causal", dilation_rate=2)
    model = _grad_model((9, 2), layer, 24)
    x = rng.normal(size=(2, 9, 2)).astype("float32")
    y = rng.normal(size=(2, 3)).astype("float32")
    check_gradients(model, x, y, samples=8, h=3e-3, atol=1e-4)


@pytest.mark.parametrize("case", [(3, 1, "causal", 2, 9), (2, 2, "same", 1, 7),
                                  (5, 1, "valid", 1, 9), (1, 1, "valid", 1, 5)])
def test_conv1d_gradients(case, rng):
    k, s, padding, d, steps = case
    keras.utils.set_random_seed(6)
    layer = layers.Conv1D(3, k, strides=s, padding=padding, dilation_rate=d)
    model = _grad_model((steps, 2), layer, 3)
    x = rng.normal(size=(3, steps, 2)).astype("float32")
    y = rng.normal(size=(3, 3)).astype("float32")
    check_gradients(model, x, y, samples=6, h=3e-3, atol=1e-4)


POOL_GRAD_CASES = [
    (2, None, "valid", (7, 9), 3), (2, 1, "same", (5, 5), 1), (3, 2, "same", (7, 9), 5),
    (3, 1, "valid", (5, 5), 3), ((2, 3), (2, 1), "same", (7, 9), 1), (5, 2, "same", (7, 9), 3),
]


@pytest.mark.parametrize("case", POOL_GRAD_CASES, ids=lambda c: "-".join(map(str, c)))
@pytest.mark.parametrize("cls", [layers.MaxPooling2D, layers.AveragePooling2D],
                         ids=["max", "avg"])
def test_pooling_gradients(case, cls, rng):
    pool, strides, padding, hw, c = case
    keras.utils.set_random_seed(3)
    model = _grad_model(hw + (1,), cls(pool, strides=strides, padding=padding), c, monotone=True)
    x = rng.permutation(np.linspace(-2, 2, 3 * hw[0] * hw[1])).reshape((3,) + hw + (1,))
    y = rng.normal(size=(3, 3)).astype("float32")
    check_gradients(model, x.astype("float32"), y, samples=6, h=3e-3, atol=1e-4)


@pytest.mark.parametrize("factory,shape", [
    (lambda: layers.GlobalAveragePooling2D(), (5, 7, 2)),
    (lambda: layers.GlobalMaxPooling2D(keepdims=True), (5, 7, 2)),
    (lambda: layers.ZeroPadding2D(((1, 2), (0, 1))), (5, 7, 2)),
    (lambda: layers.Cropping2D(((1, 0), (2, 1))), (5, 7, 2)),
    (lambda: layers.UpSampling2D((2, 3)), (5, 7, 2)),
    (lambda: layers.MaxPooling1D(2, padding="same"), (9, 2)),
    (lambda: layers.AveragePooling1D(3, strides=2), (9, 2)),
    (lambda: layers.GlobalMaxPooling1D(), (9, 2)),
    (lambda: layers.UpSampling1D(3), (5, 2)),
    (lambda: layers.ZeroPadding1D(2), (5, 2)),
    (lambda: layers.Cropping1D((1, 2)), (7, 2)),
], ids=["gap2d", "gmp2d", "zeropad2d", "crop2d", "upsample2d", "maxpool1d", "avgpool1d", "gmp1d",
        "upsample1d", "zeropad1d", "crop1d"])
def test_shape_layer_gradients(factory, shape, rng):
    keras.utils.set_random_seed(8)
    shape = shape[:-1] + (1,)
    model = _grad_model(shape, factory(), 3, monotone=True)
    x = rng.permutation(np.linspace(-2, 2, 3 * int(np.prod(shape)))).reshape((3,) + shape)
    x = x.astype("float32")
    y = rng.normal(size=(3, 3)).astype("float32")
    check_gradients(model, x, y, samples=6, h=3e-3, atol=1e-4)


class _TrainingForward:
    """A model whose predict_on_batch runs in training mode (batch statistics), for BN checks."""

    def __init__(self, model):
        self._model = model

    def __getattr__(self, name):
        return getattr(self._model, name)

    def predict_on_batch(self, x):
        out = np.empty((x.shape[0],) + self._model.output_shape[1:], "float32")
        self._model._graph().predict([x], x.shape[0], [out], True)
        return out


@pytest.mark.parametrize("center,scale", [(True, True), (False, True), (True, False)])
def test_batch_normalization_gradients_training_mode(center, scale, rng):
    keras.utils.set_random_seed(9)
    model = _grad_model((5, 7, 2), layers.BatchNormalization(center=center, scale=scale,
                                                             beta_initializer="random_normal",
                                                             gamma_initializer="random_normal"),
                        3)
    x = rng.normal(size=(4, 5, 7, 2)).astype("float32")
    y = rng.normal(size=(4, 3)).astype("float32")
    check_gradients(_TrainingForward(model), x, y, samples=6, h=3e-3, atol=1e-4)


def test_batch_normalization_axis_1_gradients(rng):
    keras.utils.set_random_seed(9)
    model = _grad_model((2, 5, 7), layers.BatchNormalization(axis=1,
                                                             beta_initializer="random_normal",
                                                             gamma_initializer="random_normal"),
                        3)
    x = rng.normal(size=(4, 2, 5, 7)).astype("float32")
    y = rng.normal(size=(4, 3)).astype("float32")
    check_gradients(_TrainingForward(model), x, y, samples=6, h=3e-3, atol=1e-4)


def test_frozen_batch_normalization_runs_in_inference_mode(rng):
    keras.utils.set_random_seed(10)
    bn = layers.BatchNormalization()
    model = _grad_model((5, 7, 2), bn, 3)
    x = rng.normal(size=(4, 5, 7, 2)).astype("float32")
    y = rng.normal(size=(4, 3)).astype("float32")
    bn.trainable = False
    bn.set_weights([np.full(3, 1.5), np.full(3, 0.2), np.full(3, 0.1), np.full(3, 2.0)])
    check_gradients(model, x, y, samples=6, h=3e-3, atol=1e-4)  # finite differences in inference mode
    np.testing.assert_array_equal(bn.moving_variance.numpy(), np.full(3, 2.0, "float32"))


# ---------------------------------------------------------------- BatchNormalization
def test_batch_normalization_statistics(rng):
    x = (rng.normal(size=(8, 3, 4, 5)) * 3 + 2).astype("float32")
    bn = layers.BatchNormalization()
    out = bn(x, training=True)
    assert [w.name for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.name for w in bn.trainable_weights] == ["gamma", "beta"]
    x64 = x.astype(np.float64).reshape(-1, 5)
    mean, var = x64.mean(0), x64.var(0)
    flat = out.reshape(-1, 5).astype(np.float64)
    np.testing.assert_allclose(flat.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(flat.var(0), var / (var + 1e-3), rtol=1e-4)
    # One step: moving = moving * 0.99 + batch * 0.01, with the biased batch variance.
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.01 * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.99 + 0.01 * var, rtol=1e-5)
    # Inference uses the moving statistics.
    mm, mv = bn.moving_mean.numpy(), bn.moving_variance.numpy()
    np.testing.assert_allclose(bn(x), (x - mm) / np.sqrt(mv + 1e-3), rtol=1e-4, atol=1e-5)
    with pytest.raises(NotImplementedError, match="last axis or axis 1"):
        layers.BatchNormalization(axis=2)(keras.Input((3, 4, 5)))


def test_batch_normalization_axis_1_normalizes_channels_first_maps(rng):
    # Keras's channels_first BatchNormalization: statistics per index of axis 1.
    x = (rng.normal(size=(8, 3, 4, 5)) * 3 + 2).astype("float32")
    bn = layers.BatchNormalization(axis=1)
    out = bn(x, training=True)
    assert [w.shape for w in bn.weights] == [(3,)] * 4 and out.shape == x.shape
    x64 = x.astype(np.float64)
    mean, var = x64.mean((0, 2, 3)), x64.var((0, 2, 3))
    np.testing.assert_allclose(out.mean((0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(out.var((0, 2, 3)), var / (var + 1e-3), rtol=1e-4)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.01 * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.99 + 0.01 * var, rtol=1e-5)
    mm, mv = bn.moving_mean.numpy()[:, None, None], bn.moving_variance.numpy()[:, None, None]
    np.testing.assert_allclose(bn(x), (x - mm) / np.sqrt(mv + 1e-3), rtol=1e-4, atol=1e-5)
    model = keras.Sequential([keras.Input((3, 6)), layers.BatchNormalization(axis=1)])
    assert model.output_shape == (None, 3, 6) and model.count_params() == 12


def test_batch_normalization_fit_updates_moving_stats(rng):
    keras.utils.set_random_seed(11)
    model = keras.Sequential([keras.Input((4,)), layers.BatchNormalization(momentum=0.5),
                              layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = (rng.normal(size=(64, 4)) + 3).astype("float32")
    model.fit(x, x[:, :1], batch_size=64, epochs=5, verbose=0)
    assert np.all(model.layers[0].moving_mean.numpy() > 2.5)


# ---------------------------------------------------------------- shapes, errors, configs
def _keras_len(n, k, s, d, padding):
    return -(-n // s) if padding == "same" else (n - (k - 1) * d - 1) // s + 1


@pytest.mark.parametrize("hw", [(7, 9), (5, 5), (28, 28)])
@pytest.mark.parametrize("k,s,d", [(1, 1, 1), (2, 2, 1), (3, 1, 2), (5, 2, 1), (3, 3, 1)])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_output_shapes_match_keras(hw, k, s, d, padding):
    expect = tuple(_keras_len(n, k, s, d, padding) for n in hw)
    inp = keras.Input(hw + (3,))
    if min(expect) <= 0:
        with pytest.raises(ValueError, match="too small for kernel_size"):
            layers.Conv2D(4, k, strides=s, dilation_rate=d, padding=padding)(inp)
        return
    out = layers.Conv2D(4, k, strides=s, dilation_rate=d, padding=padding)(inp)
    assert out.shape == (None,) + expect + (4,)
    pool_expect = tuple(_keras_len(n, k, s, 1, padding) for n in hw)
    if min(pool_expect) > 0:
        assert layers.MaxPooling2D(k, s, padding)(inp).shape == (None,) + pool_expect + (3,)


def test_too_small_inputs_raise_naming_the_layer():
    with pytest.raises(ValueError, match=r"Layer 'c5': computed output size would be negative: "
                       r"input of shape \(None, 3, 3, 1\) is too small for kernel_size=\(5, 5\)"):
        layers.Conv2D(2, 5, name="c5")(keras.Input((3, 3, 1)))
    with pytest.raises(ValueError, match=r"Layer 'p': .*\(None, 2, 2, 1\) is too small for "
                       r"pool_size=\(3, 3\)"):
        layers.MaxPooling2D(3, name="p")(keras.Input((2, 2, 1)))
    with pytest.raises(ValueError, match="strides > 1"):
        layers.Conv2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="evenly divisible"):
        layers.Conv2D(3, 3, groups=2)
    with pytest.raises(ValueError, match="kernel_size"):
        layers.Conv2D(3, (3, 0))
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(3, 3, padding="full")
    # Keras takes pooling strides of 0 and divides by them when called (the engine did too:
    # SIGFPE); a negative int padding would crop instead of pad.
    with pytest.raises(ValueError, match=r"`strides`.*strides=0.*`value > 0`"):
        layers.MaxPooling2D(2, strides=0)
    with pytest.raises(ValueError, match=r"`strides`.*strides=\(1, 0\)"):
        layers.AveragePooling2D(2, strides=(1, 0))
    with pytest.raises(ValueError, match=r"`padding`.*padding=-1.*`value >= 0`"):
        layers.ZeroPadding2D(-1)
    with pytest.raises(ValueError, match=r"`cropping`.*cropping=-2"):
        layers.Cropping2D(-2)
    # channels_first is converted at the edges (tests/test_channels_first.py): it builds.
    assert layers.Conv2D(3, 3, data_format="channels_first")(keras.Input((1, 5, 5))).shape == (
        None, 3, 3, 3)


def test_default_names_follow_keras():
    assert layers.Conv2D(1, 1).name.startswith("conv2d")
    assert layers.MaxPooling2D().name.startswith("max_pooling2d")
    assert layers.GlobalAveragePooling2D().name.startswith("global_average_pooling2d")
    assert layers.BatchNormalization().name.startswith("batch_normalization")


def test_short_pooling_names_are_the_same_classes():
    # Keras's aliases: a MaxPool2D is a MaxPooling2D, named and serialized as one.
    assert layers.MaxPool2D is layers.MaxPooling2D and layers.AvgPool1D is layers.AveragePooling1D
    assert layers.GlobalAvgPool2D is layers.GlobalAveragePooling2D
    assert layers.GlobalMaxPool1D is layers.GlobalMaxPooling1D
    model = keras.Sequential([keras.Input((4, 4, 2)), layers.MaxPool2D(), layers.GlobalAvgPool2D()])
    assert model.output_shape == (None, 2)
    assert [entry["class_name"] for entry in model.get_config()["layers"][1:]] == [
        "MaxPooling2D", "GlobalAveragePooling2D"]


CONFIG_LAYERS = [
    lambda: layers.Conv2D(5, (2, 2), padding="same", activation="relu", dilation_rate=2),
    lambda: layers.Conv1D(4, 3, padding="causal", groups=2),
    lambda: layers.MaxPooling2D((2, 2)),
    lambda: layers.AveragePooling2D(3, 2, "same"),
    lambda: layers.GlobalAveragePooling2D(keepdims=True),
    lambda: layers.GlobalMaxPooling2D(),
    lambda: layers.MaxPooling1D(),
    lambda: layers.ZeroPadding2D(((1, 2), (3, 4))),
    lambda: layers.Cropping2D(1),
    lambda: layers.UpSampling2D(3),
    lambda: layers.BatchNormalization(momentum=0.9, center=False),
]


@pytest.mark.parametrize("factory", CONFIG_LAYERS)
def test_config_round_trip(factory):
    layer = factory()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    if isinstance(layer, layers.MaxPooling2D):
        assert config["strides"] == (2, 2) and config["data_format"] == "channels_last"


def test_model_save_and_reload(tmp_path, rng):
    keras.utils.set_random_seed(12)
    model = keras.Sequential([
        keras.Input((8, 8, 2)), layers.Conv2D(4, 3, padding="same", activation="relu"),
        layers.BatchNormalization(), layers.MaxPooling2D(2), layers.ZeroPadding2D(1),
        layers.UpSampling2D(2), layers.Cropping2D(1), layers.AveragePooling2D(2),
        layers.GlobalAveragePooling2D(), layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    x = rng.normal(size=(16, 8, 8, 2)).astype("float32")
    y = np.eye(3)[rng.integers(0, 3, 16)].astype("float32")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    path = tmp_path / "cnn.h5"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- acceptance
def test_deep_mnist_convnet_learns():
    (x_train, y_train), (x_test, y_test) = load_mnist_split()
    keras.utils.set_random_seed(0)
    model = load_example("deep_mnist_convnet").build_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train[..., None], y_train, batch_size=50, epochs=3, verbose=0)
    _, acc = model.evaluate(x_test[..., None], y_test, verbose=0)
    print(f"deep MNIST convnet: accuracy {acc:.4f} in {time.perf_counter() - start:.1f} s")
    assert acc >= 0.975
