"""Normalization, LayerNormalization, the noise layers (GaussianNoise, GaussianDropout,
SpatialDropout1D/2D), ActivityRegularization and Identity.

Reference outputs were recorded in Keras 3.15.1 (TensorFlow 2.21) on the inputs built below; the
tests never import TensorFlow. Tolerances: Keras computes in float32 with its own reduction order,
kerasette sums statistics in float64, so results agree to a few float32 ulps (rtol 1e-5).
"""

import re
from pathlib import Path

import h5py
import kerasette as keras
import numpy as np
import pytest
from gradcheck import check_gradients, engine_gradients
from kerasette import layers


def _x_five():
    return (np.sin(np.arange(20.0) * 1.7) * 3 + 1).reshape(4, 5).astype("float32")


def _x_two_axes():
    return np.cos(np.arange(24.0) * 0.9).reshape(2, 3, 4).astype("float32")


def _adapt_data():
    # float64, as a DataFrame's values in the basic regression tutorial.
    return np.sin(np.arange(150.0) * 0.37).reshape(50, 3) * [1, 10, 100] + [0, 5, -50]


# Keras 3.15.1 outputs on the inputs above.
NORM_MEAN = np.array([1.6752580e-02, 5.1237626e00, -4.9367516e01], dtype=np.float32)
NORM_VARIANCE = np.array([4.943526e-01, 5.013133e01, 5.074926e03], dtype=np.float32)
NORM_OUT = np.array([[1.3984418, -0.16224742, 0.69626516],
                     [4.8054314, -0.8789662, 0.68099546],
                     [-2.7036543, -0.6455558, 0.74912983],
                     [2.9304743, -0.20986868, 0.6823641]], dtype=np.float32)
NORM_INVERT = np.array([[0.7198547, 33.26811, -32.742107],
                        [2.4041085, -2.6619582, -110.23451],
                        [-1.3080271, 9.039215, 235.54227],
                        [1.4772189, 30.880789, -103.2888]], dtype=np.float32)
NORM_NONE_BATCHES = (-14.742334, 2312.316)  # axis=None, adapted on two batches
NORM_TWO_AXES_MEAN_ROW0 = np.array([0.40283504, 0.63460314, 0.38611627, -0.15457577])
LN_FIVE = np.array([[-0.24661952, 0.96905404, -0.48457694, -1.7888, 1.195176],
                    [0.28037548, -1.0373685, -1.129235, 1.4128326, 0.7520644],
                    [-0.6996095, -0.007556379, 1.7105247, 0.32378283, -1.3203847],
                    [-0.037339628, 0.72217894, -1.0746449, -1.5076876, 1.608854]],
                   dtype=np.float32)
LN_TWO_AXES = np.array([[[1.3888624, 0.88102794, -0.2581564, -1.1665787],
                         [-1.156763, -0.23613766, 0.8985864, 1.3886726],
                         [0.86323357, -0.28008896, -1.1760513, -1.1466069]],
                        [[-0.51824784, 0.7566285, 1.2893952, 0.6768649],
                         [-0.6174114, -1.6139513, -1.5585935, -0.49323136],
                         [0.7758901, 1.2883252, 0.6562731, -0.64194167]]], dtype=np.float32)


def _roundtrip_config(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    return clone


def _save_and_reload(model, tmp_path, x):
    expected = model.predict(x, verbose=0)
    for name in ("m.h5", "m.keras"):
        model.save(tmp_path / name)
        loaded = keras.models.load_model(tmp_path / name)
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
        for a, b in zip(loaded.get_weights(), model.get_weights()):
            np.testing.assert_array_equal(a, b)
            assert a.dtype == b.dtype
    return loaded


# ---- Normalization ----
def test_normalization_adapt_matches_keras():
    layer = layers.Normalization(axis=-1)
    layer.adapt(_adapt_data())
    mean, variance, count = layer.get_weights()
    np.testing.assert_allclose(mean, NORM_MEAN, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(variance, NORM_VARIANCE, rtol=1e-5)
    assert count.dtype == np.int64 and count == 0  # Keras 3's adapt leaves count at 0
    np.testing.assert_allclose(layer(_x_five()[:, :3]), NORM_OUT, rtol=1e-5, atol=1e-6)
    assert layer.mean.numpy().shape == (1, 3)


def test_normalization_invert_matches_keras():
    layer = layers.Normalization(invert=True)
    layer.adapt(_adapt_data())
    np.testing.assert_allclose(layer(_x_five()[:, :3]), NORM_INVERT, rtol=1e-5)


def test_normalization_keras_docstring_examples():
    data = np.array([[0.0, 7.0, 4.0], [2.0, 9.0, 6.0], [0.0, 7.0, 4.0], [2.0, 9.0, 6.0]])
    layer = layers.Normalization(axis=-1)
    layer.adapt(data)
    np.testing.assert_allclose(layer(np.array([[0.0, 7.0, 4.0]])), [[-1.0, -1.0, -1.0]])
    layer = layers.Normalization(mean=3.0, variance=2.0)
    np.testing.assert_allclose(layer(np.array([[1.0], [2.0], [3.0]]))[:, 0],
                               [-1.4142135, -0.70710677, 0.0], rtol=1e-6)
    assert layer.weights == []
    layer = layers.Normalization(axis=None)
    layer.adapt(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    np.testing.assert_allclose(layer(np.array([1.0, 2.0, 3.0])),
                               [-1.4142135, -0.70710677, 0.0], rtol=1e-6)


def test_normalization_batches_generator_and_pydataset():
    data = _adapt_data()
    for source in ([data[:20], data[20:]], (b for b in (data[:20], data[20:]))):
        layer = layers.Normalization(axis=None)
        layer.adapt(source)
        mean, variance, _ = layer.get_weights()
        np.testing.assert_allclose([mean, variance], NORM_NONE_BATCHES, rtol=1e-5)

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return data[i * 10:(i + 1) * 10], np.zeros(10)

    layer = layers.Normalization()
    layer.adapt(Batches())
    np.testing.assert_allclose(layer.get_weights()[0], NORM_MEAN, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(layer.get_weights()[1], NORM_VARIANCE, rtol=1e-5)


def test_normalization_trailing_axes_and_unsupported_axes():
    layer = layers.Normalization(axis=(1, 2))
    layer.adapt(_x_two_axes())
    assert layer.get_weights()[0].shape == (3, 4)
    np.testing.assert_allclose(layer.get_weights()[0][0], NORM_TWO_AXES_MEAN_ROW0, rtol=1e-5)
    with pytest.raises(NotImplementedError, match="trailing"):
        layers.Normalization(axis=1).adapt(_x_two_axes())


def test_normalization_before_adapt_is_the_identity_and_clips_small_variance():
    # Keras 3 builds mean 0 and variance 1: an unadapted layer passes values through.
    x = _x_five()
    np.testing.assert_array_equal(layers.Normalization()(x), x)
    layer = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 0.0])
    np.testing.assert_allclose(layer(np.array([[3.0, 3.0]])), [[1.0, 1e7]], rtol=1e-6)


def test_normalization_errors():
    with pytest.raises(ValueError, match="both `mean` and `variance` must be set"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="must have the same shape"):
        layers.Normalization(mean=[1.0, 2.0], variance=[1.0])
    with pytest.raises(ValueError, match="range"):
        layers.Normalization(axis=3).build((None, 4))
    layer = layers.Normalization()
    layer.adapt(np.ones((4, 3)))
    with pytest.raises(ValueError, match="incompatible shape"):
        layer.adapt(np.ones((4, 5)))
    with pytest.raises(ValueError, match="empty iterable"):
        layers.Normalization().adapt([])


def test_normalization_bad_inputs_fail_clearly():
    # Where Keras 3.15.1 fails, with its messages; where it fails by accident (a crash deep in
    # TensorFlow, NaN statistics), a ValueError that says why.
    with pytest.raises(TypeError, match=r"Expected `axis`.*Received: axis=1.5"):
        layers.Normalization(axis=1.5)  # Keras: TypeError ('float' object is not iterable)
    with pytest.raises(ValueError, match="must have a known shape"):
        layers.Normalization(axis=0).build((None, 3))
    with pytest.raises(ValueError, match=r"Expected `mean` to broadcast to the shape of the kept "
                                         r"axes \(2,\).*mean of shape \(3,\)"):
        layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 9.0, 1.0])(np.ones((2, 2)))
    fixed = layers.Normalization(mean=1.0, variance=2.0)
    with pytest.raises(ValueError, match="fixed `mean` and `variance`"):
        fixed.adapt(np.ones((4, 2)))  # Keras: AttributeError; kerasette used to ignore the data
    with pytest.raises(ValueError, match=r"no samples.*data.shape=\(0, 2\)"):
        layers.Normalization().adapt(np.zeros((0, 2)))  # Keras: NaN statistics
    # Keras's messages, verbatim.
    with pytest.raises(ValueError, match=re.escape(
            "adapt() received an empty iterable (no batches). Expected at least one batch. "
            "Pass a non-empty iterable of arrays or tensors, e.g. layer.adapt([x]) or "
            "layer.adapt(list_of_batches).")):
        layers.Normalization().adapt([])
    for data, kind in (([[1.0, 2.0], [3.0, 4.0]], "list"), ("abc", "str")):
        with pytest.raises(TypeError, match=re.escape(
                "adapt() expects an iterable that yields arrays or tensors with a `.shape` "
                "attribute (e.g. numpy arrays or backend tensors). Got an element of type "
                f"{kind}.")):
            layers.Normalization().adapt(data)


def test_normalization_config_roundtrip():
    layer = layers.Normalization(axis=-1, invert=True)
    config = layer.get_config()
    assert {k: config[k] for k in ("axis", "invert", "mean", "variance")} == {
        "axis": (-1,), "invert": True, "mean": None, "variance": None}
    _roundtrip_config(layer)
    fixed = _roundtrip_config(layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 1.0]))
    np.testing.assert_allclose(fixed(np.array([[3.0, 3.0]])), [[1.0, 1.0]])


def test_normalization_tutorial_model_trains_saves_and_reloads(tmp_path):
    keras.utils.set_random_seed(0)
    data = _adapt_data()
    normalizer = layers.Normalization(axis=-1)
    normalizer.adapt(np.array(data))
    model = keras.Sequential([normalizer, layers.Dense(16, activation="relu"), layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mean_absolute_error")
    target = data[:, :1] * 2 + 1
    history = model.fit(data, target, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    np.testing.assert_allclose(normalizer.get_weights()[0], NORM_MEAN, rtol=1e-5, atol=1e-7)
    loaded = _save_and_reload(model, tmp_path, data)
    assert loaded.layers[0].get_weights()[2].dtype == np.int64
    with h5py.File(tmp_path / "m.h5") as f:
        group = f["model_weights"][normalizer.name]
        names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
        assert names == [f"{normalizer.name}/{w}:0" for w in ("mean", "variance", "count")]
        assert group[names[2]].dtype == np.int64


def test_normalization_gradients_pass_through():
    keras.utils.set_random_seed(4)
    x = _x_five()
    y = np.cos(np.arange(12.0)).reshape(4, 3).astype("float32")
    for invert in (False, True):
        model = keras.Sequential([
            keras.Input((5,)), layers.Dense(7, activation="tanh"),
            layers.Normalization(mean=np.linspace(-0.5, 0.5, 7), variance=np.linspace(0.2, 3, 7),
                                 invert=invert),
            layers.Dense(3)])
        check_gradients(model, x, y)


# ---- LayerNormalization ----
def test_layer_normalization_matches_keras():
    layer = layers.LayerNormalization()
    layer.build((None, 5))
    layer.set_weights([np.linspace(0.5, 1.5, 5), np.linspace(-0.2, 0.2, 5)])
    np.testing.assert_allclose(layer(_x_five()), LN_FIVE, rtol=1e-5, atol=2e-6)
    layer = layers.LayerNormalization(axis=[1, 2], epsilon=0.01, center=False)
    np.testing.assert_allclose(layer(_x_two_axes()), LN_TWO_AXES, rtol=1e-5, atol=2e-6)
    assert [(w.name, w.shape) for w in layer.weights] == [("gamma", (3, 4))]


@pytest.mark.parametrize("shape,axis", [((13,), -1), ((7, 5), -1), ((3, 4, 5), [2, 3])])
def test_layer_normalization_gradients(shape, axis, rng):
    keras.utils.set_random_seed(5)
    x = rng.normal(size=(6,) + shape).astype("float32")
    y = rng.normal(size=(6,) + shape[:-1] + (3,)).astype("float32")
    ln = layers.LayerNormalization(axis=axis)
    model = keras.Sequential([keras.Input(shape), layers.Dense(shape[-1], activation="tanh"), ln,
                              layers.Dense(3)])
    ln.set_weights([rng.uniform(0.5, 1.5, w.shape) for w in ln.weights])
    # atol: LayerNormalization divides by each row's deviation, which scales the float32 rounding
    # of the loss (~1e-7, over 2h) up to ~1e-4 on some kernel entries; a wrong term is >1e-2 off.
    check_gradients(model, x, y, atol=2e-4)


def test_layer_normalization_gradients_match_float64_reference(rng):
    keras.utils.set_random_seed(5)
    x = rng.normal(size=(6, 13)).astype("float32")
    y = rng.normal(size=(6, 3)).astype("float32")
    ln = layers.LayerNormalization()
    model = keras.Sequential([keras.Input((13,)), layers.Dense(13, activation="tanh"), ln,
                              layers.Dense(3)])
    ln.set_weights([rng.uniform(0.5, 1.5, (13,)), rng.uniform(-0.5, 0.5, (13,))])
    w1, b1, gamma, beta, w2, b2 = (w.astype(np.float64) for w in model.get_weights())

    def loss(w1, gamma, beta):
        h = np.tanh(x @ w1 + b1)
        xhat = (h - h.mean(-1, keepdims=True)) / np.sqrt(h.var(-1, keepdims=True) + 1e-3)
        return np.mean(((xhat * gamma + beta) @ w2 + b2 - y) ** 2)

    # Central differences in float64 (step 1e-6): exact to ~1e-9, far below float32 rounding.
    args = [w1, gamma, beta]
    expected = []
    for k, arg in enumerate(args):
        grad = np.zeros_like(arg)
        for i in range(arg.size):
            step = np.zeros(arg.size)
            step[i] = 1e-6
            up = [a + step.reshape(a.shape) if j == k else a for j, a in enumerate(args)]
            down = [a - step.reshape(a.shape) if j == k else a for j, a in enumerate(args)]
            grad.flat[i] = (loss(*up) - loss(*down)) / 2e-6
        expected.append(grad)
    grads = engine_gradients(model, x, y)
    for got, want in zip([grads[0], grads[2], grads[3]], expected):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_layer_normalization_without_gamma_or_beta(rng):
    keras.utils.set_random_seed(6)
    x = rng.normal(size=(5, 9)).astype("float32")
    y = rng.normal(size=(5, 2)).astype("float32")
    for center, scale in ((False, True), (True, False), (False, False)):
        ln = layers.LayerNormalization(center=center, scale=scale)
        model = keras.Sequential([keras.Input((9,)), layers.Dense(8, activation="tanh"), ln,
                                  layers.Dense(2)])
        assert len(ln.weights) == int(center) + int(scale)
        check_gradients(model, x, y)


def test_layer_normalization_config_errors_and_saving(tmp_path):
    layer = layers.LayerNormalization(axis=[1, 2], epsilon=0.01)
    config = layer.get_config()
    assert config["axis"] == [1, 2] and config["epsilon"] == 0.01
    assert config["rms_scaling"] is False
    _roundtrip_config(layer)
    with pytest.raises(TypeError, match="int or a list"):
        layers.LayerNormalization(axis="x")
    for epsilon in (-1e-3, None, "a"):
        with pytest.raises(ValueError, match=r"Expected `epsilon` to be a non-negative float"):
            layers.LayerNormalization(epsilon=epsilon)
    with pytest.raises(NotImplementedError, match="rms_scaling"):
        layers.LayerNormalization(rms_scaling=True)
    with pytest.raises(NotImplementedError, match="trailing"):
        keras.Sequential([keras.Input((3, 4)), layers.LayerNormalization(axis=1)])
    with pytest.raises(ValueError, match="out of bounds"):
        keras.Sequential([keras.Input((3, 4)), layers.LayerNormalization(axis=3)])
    keras.utils.set_random_seed(7)
    ln = layers.LayerNormalization()
    model = keras.Sequential([keras.Input((5,)), layers.Dense(4), ln, layers.Dense(2)])
    ln.set_weights([np.linspace(0.5, 1.5, 4), np.linspace(-1, 1, 4)])
    model.compile(optimizer="adam", loss="mse")
    _save_and_reload(model, tmp_path, _x_five())


def test_layer_normalization_axis_after_build_is_keras_sorted_list():
    # Keras 3.15.1's build turns `axis` into a sorted list, which get_config (and the saved
    # config) then holds: -1 -> [-1], (2, 1) -> [1, 2], (-1, -2) -> [-2, -1].
    for axis, shape, expected in ((-1, (None, 3), [-1]), ((2, 1), (None, 3, 4), [1, 2]),
                                  ((-1, -2), (None, 3, 4), [-2, -1])):
        layer = layers.LayerNormalization(axis=axis)
        # as given before build (a tuple as a list, as Keras's __init__)
        assert layer.get_config()["axis"] == (list(axis) if isinstance(axis, tuple) else axis)
        layer.build(shape)
        assert layer.axis == expected and layer.get_config()["axis"] == expected
        assert layer.gamma.shape == shape[-len(expected):]
    model = keras.Sequential([keras.Input((3,)), layers.LayerNormalization()])
    assert model.get_config()["layers"][1]["config"]["axis"] == [-1]


# ---- noise layers ----
def _with_threads(threads, fn):
    previous = keras.config.num_threads()
    keras.config.set_num_threads(threads)
    try:
        return fn()
    finally:
        keras.config.set_num_threads(previous)


NOISE_LAYERS = [
    lambda: layers.GaussianNoise(0.5, seed=3),
    lambda: layers.GaussianDropout(0.3, seed=3),
    lambda: layers.SpatialDropout1D(0.4, seed=3),
]


@pytest.mark.parametrize("make", NOISE_LAYERS)
def test_noise_layers_identity_at_inference_and_seeded(make):
    x = np.ones((64, 50, 40), dtype=np.float32) * 2
    np.testing.assert_array_equal(make()(x), x)
    one = _with_threads(1, lambda: make()(x, training=True))
    two = _with_threads(2, lambda: make()(x, training=True))
    np.testing.assert_array_equal(one, two)
    assert not np.array_equal(one, x)


def test_noise_statistics():
    x = np.full((200, 100, 50), 2.0, dtype=np.float32)  # 1e6 values
    noisy = layers.GaussianNoise(0.5, seed=1)(x, training=True) - x
    # The mean of 1e6 draws of N(0, 0.25) is within 5 standard errors (5 * 0.5e-3).
    assert abs(noisy.mean()) < 2.5e-3
    assert abs(noisy.std() - 0.5) < 5e-3
    rate = 0.3
    factors = layers.GaussianDropout(rate, seed=1)(x, training=True) / x
    assert abs(factors.mean() - 1.0) < 5e-3
    assert abs(factors.std() - np.sqrt(rate / (1 - rate))) < 5e-3
    y = layers.SpatialDropout1D(rate, seed=1)(x, training=True)
    kept = y[:, 0, :] != 0
    # Whole channels: every step of a (sample, channel) is kept or dropped together.
    np.testing.assert_array_equal(y != 0, np.broadcast_to(kept[:, None, :], y.shape))
    np.testing.assert_allclose(y[y != 0], 2.0 / (1 - rate), rtol=1e-6)
    assert abs(kept.mean() - (1 - rate)) < 0.03  # 1e4 channels: std 0.0046


def test_spatial_dropout2d_data_formats():
    x = np.ones((8, 5, 6, 7), dtype=np.float32)
    last = layers.SpatialDropout2D(0.5, seed=2)(x, training=True)
    np.testing.assert_array_equal(last, np.broadcast_to(last[:, :1, :1, :], x.shape))
    first = layers.SpatialDropout2D(0.5, data_format="channels_first", seed=2)(x, training=True)
    np.testing.assert_array_equal(first, np.broadcast_to(first[:, :, :1, :1], x.shape))
    with pytest.raises(ValueError, match="expected ndim=4"):
        layers.SpatialDropout2D(0.5)(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="expected ndim=3"):
        layers.SpatialDropout1D(0.5)(np.ones((2, 3)))


@pytest.mark.parametrize("make", NOISE_LAYERS)
def test_noise_layer_gradients(make, rng):
    # The first training step (step 0) draws the same noise as an eager call in training, so the
    # float64 gradient of mse(noise(x @ W)) is known exactly once that noise is read off.
    x = rng.normal(size=(6, 4, 5)).astype("float32")
    t = rng.normal(size=(6, 4, 3)).astype("float32")
    keras.utils.set_random_seed(8)
    model = keras.Sequential([keras.Input((4, 5)), layers.Dense(3, use_bias=False), make()])
    w = model.get_weights()[0].astype(np.float64)
    z = x.astype(np.float64) @ w
    noisy = make()(z.astype(np.float32), training=True).astype(np.float64)
    additive = isinstance(model.layers[-1], layers.GaussianNoise)
    factor = np.ones_like(z) if additive else noisy / np.where(z == 0, 1, z)
    dy = 2 * (noisy - t) / noisy[0].size / len(x)
    expected = np.einsum("nti,ntj->ij", x.astype(np.float64), dy * factor)
    (grad,) = engine_gradients(model, x, t)
    np.testing.assert_allclose(grad, expected, rtol=1e-4, atol=1e-6)


def test_noise_layer_errors_and_configs():
    for cls in (layers.GaussianDropout, layers.SpatialDropout1D, layers.SpatialDropout2D):
        with pytest.raises(ValueError, match="Expected a float value between 0 and 1"):
            cls(rate=1.5)
    with pytest.raises(ValueError, match=r"Received: stddev=-1"):
        layers.GaussianNoise(-1)
    with pytest.raises(ValueError, match="seed"):
        layers.GaussianNoise(0.1, seed="a")
    with pytest.raises(ValueError, match="non-negative"):
        layers.ActivityRegularization(l1=-1)
    # Keras compares None or a string with 0 (a TypeError) and takes NumPy scalars.
    with pytest.raises(TypeError, match=r"Expected `rate` to be a float.*Received: rate=None"):
        layers.GaussianDropout(None)
    with pytest.raises(TypeError, match="Received: stddev='a'"):
        layers.GaussianNoise("a")
    assert layers.GaussianNoise(np.float32(0.5)).stddev == 0.5
    assert layers.SpatialDropout1D(np.float32(0.25)).rate == 0.25
    assert layers.SpatialDropout2D(0.1, data_format="CHANNELS_FIRST").data_format == (
        "channels_first")
    with pytest.raises(ValueError, match="data_format"):
        layers.SpatialDropout2D(0.1, data_format="nhwc")
    # ActivityRegularization: None means 0 (kept as None in the config), inf and NaN are refused.
    none = layers.ActivityRegularization(l1=None, l2=0.5)
    assert (none.get_config()["l1"], none.get_config()["l2"]) == (None, 0.5)
    assert none.activity_regularizer.l1 == 0.0
    _roundtrip_config(none)
    for bad in (float("inf"), float("nan")):
        with pytest.raises(ValueError, match="non-negative"):
            layers.ActivityRegularization(l2=bad)
    assert layers.GaussianNoise(0.1, seed=4).get_config()["stddev"] == 0.1
    assert set(layers.SpatialDropout1D(0.1).get_config()) == {"rate", "seed", "name", "dtype"}
    assert layers.SpatialDropout2D(0.1).get_config()["data_format"] == "channels_last"
    for layer in (layers.GaussianNoise(0.1, seed=4), layers.GaussianDropout(0.2),
                  layers.SpatialDropout1D(0.3), layers.SpatialDropout2D(0.3, seed=1),
                  layers.ActivityRegularization(l1=0.1, l2=0.2), layers.Identity()):
        _roundtrip_config(layer)


def test_gaussian_dropout_rate_one_fails_in_training_only():
    # Keras accepts rate=1 and predicts the identity, but divides by 1 - rate in training
    # (ZeroDivisionError); kerasette used to pass values through there.
    x = np.ones((2, 3), dtype=np.float32)
    layer = layers.GaussianDropout(1.0)
    np.testing.assert_array_equal(layer(x), x)
    with pytest.raises(ValueError, match="rate=1 cannot run in training"):
        layer(x, training=True)
    model = keras.Sequential([keras.Input((3,)), layers.GaussianDropout(1.0), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="rate=1 cannot run in training"):
        model.fit(x, np.ones((2, 1)), verbose=0)


def test_noise_models_save_and_reload(tmp_path, rng):
    keras.utils.set_random_seed(9)
    model = keras.Sequential([
        keras.Input((6, 4)), layers.GaussianNoise(0.1), layers.SpatialDropout1D(0.2),
        layers.Dense(5), layers.GaussianDropout(0.2), layers.ActivityRegularization(l2=0.01),
        layers.Identity(), layers.Dense(2)])
    x = rng.normal(size=(3, 6, 4)).astype("float32")
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, rng.normal(size=(3, 6, 2)), epochs=2, verbose=0)
    loaded = _save_and_reload(model, tmp_path, x)
    assert [type(layer).__name__ for layer in loaded.layers] == [
        type(layer).__name__ for layer in model.layers]


# ---- ActivityRegularization and Identity ----
def test_activity_regularization_adds_its_penalty(rng):
    x = rng.normal(size=(8, 3)).astype("float32")
    keras.utils.set_random_seed(10)
    dense = layers.Dense(4)
    model = keras.Sequential([keras.Input((3,)), dense,
                              layers.ActivityRegularization(l1=0.01, l2=0.1)])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    y = np.zeros((8, 4), dtype=np.float32)
    out = model.predict(x, verbose=0).astype(np.float64)
    loss = model.train_on_batch(x, y)
    # Keras 3 adds l1 * sum|out| + l2 * sum(out^2) over the batch, divided by the batch size.
    penalty = (0.01 * np.abs(out).sum() + 0.1 * (out ** 2).sum()) / len(x)
    np.testing.assert_allclose(loss, (out ** 2).mean() + penalty, rtol=1e-5)
    np.testing.assert_array_equal(out, model.layers[0](x))


def test_identity_layer(rng):
    x = rng.normal(size=(3, 4)).astype("float32")
    np.testing.assert_array_equal(layers.Identity()(x), x)
    keras.utils.set_random_seed(11)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(5, activation="tanh"),
                              layers.Identity(), layers.Dense(2)])
    check_gradients(model, x, rng.normal(size=(3, 2)).astype("float32"))


# ---- files saved by real Keras ----
FIXTURES = Path(__file__).parent / "fixtures" / "norm_noise"


@pytest.mark.parametrize("name", ["keras3_dense.keras", "keras3_dense.h5", "tf_keras_dense.h5",
                                  "keras3_image.keras", "keras3_image.h5", "tf_keras_image.h5"])
def test_models_saved_by_keras_load_and_predict_the_same(name):
    expected = np.load(FIXTURES / "expected.npz")
    model = keras.models.load_model(FIXTURES / name, compile=False)
    stem = name.split(".")[0]
    x = expected["dense_x" if "dense" in stem else "image_x"]
    # float32 through two normalizations and three Dense layers: a few ulps of values ~1.
    np.testing.assert_allclose(model.predict(x, verbose=0), expected[stem], rtol=1e-5, atol=5e-6)
    norm = next(layer for layer in model.layers if isinstance(layer, layers.Normalization))
    assert norm.get_weights()[-1].dtype == np.int64


def test_keras2_configs_of_the_new_layers():
    # As tf_keras writes them: resolved axes as lists, `noise_shape` on the spatial dropouts.
    ln = layers.deserialize({"class_name": "LayerNormalization", "config": {
        "name": "ln", "trainable": True, "dtype": "float32", "axis": [1], "epsilon": 0.001,
        "center": True, "scale": True}})
    assert ln.compute_output_shape((None, 5)) == (None, 5)
    drop = layers.deserialize({"class_name": "SpatialDropout1D", "config": {
        "name": "sd", "trainable": True, "dtype": "float32", "rate": 0.2, "noise_shape": None,
        "seed": None}})
    assert drop.rate == 0.2
    norm = layers.deserialize({"class_name": "Normalization", "config": {
        "name": "n", "trainable": True, "dtype": "float32", "axis": [-1], "invert": False,
        "mean": None, "variance": None}})
    assert norm.axis == (-1,)


def test_summary_counts_the_int64_count_as_keras():
    normalizer = layers.Normalization()
    normalizer.adapt(np.ones((4, 3)))
    model = keras.Sequential([keras.Input((3,)), normalizer, layers.Dense(2)])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    # As Keras 3.15 prints it: mean and variance (3 float32 each) and count (one int64).
    assert "Total params: 15 (64.00 B)" in text
    assert "Non-trainable params: 7 (32.00 B)" in text
