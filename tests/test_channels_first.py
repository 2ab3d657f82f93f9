"""data_format="channels_first": the spatial layers take and give NCHW, converted at the edges
(a transpose before and after the channels_last engine computation), and Keras's Permute layer."""

import numpy as np
import pytest

import kerasette as keras
from kerasette import layers
from gradcheck import check_gradients

NCHW_TO_NHWC = (0, 2, 3, 1)
NHWC_TO_NCHW = (0, 3, 1, 2)


def _pair(factory, x_nchw):
    """The same layer (same weights) run channels_first on NCHW and channels_last on NHWC."""
    first = factory("channels_first")
    last = factory("channels_last")
    y_first = keras.Sequential([keras.Input(x_nchw.shape[1:]), first])
    y_last = keras.Sequential([keras.Input(np.transpose(x_nchw, NCHW_TO_NHWC).shape[1:]), last])
    if first.weights:
        last.set_weights(first.get_weights())
    return (y_first.predict(x_nchw, verbose=0),
            y_last.predict(np.transpose(x_nchw, NCHW_TO_NHWC), verbose=0), y_first)


@pytest.mark.parametrize("factory", [
    lambda f: layers.Conv2D(5, 3, padding="same", strides=2, data_format=f),
    lambda f: layers.Conv2D(4, (2, 3), data_format=f, activation="relu"),
    lambda f: layers.MaxPooling2D(2, data_format=f),
    lambda f: layers.AveragePooling2D(3, strides=2, padding="same", data_format=f),
    lambda f: layers.ZeroPadding2D(((1, 0), (2, 1)), data_format=f),
    lambda f: layers.Cropping2D(((1, 0), (0, 2)), data_format=f),
    lambda f: layers.UpSampling2D(2, data_format=f),
], ids=["conv_same", "conv_valid", "maxpool", "avgpool", "zeropad", "crop", "upsample"])
def test_spatial_layer_matches_channels_last(factory, rng):
    x = rng.normal(size=(2, 3, 7, 9)).astype("float32")
    y_first, y_last, _ = _pair(factory, x)
    np.testing.assert_allclose(y_first, np.transpose(y_last, NHWC_TO_NCHW), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_channels_first(keepdims, rng):
    x = rng.normal(size=(2, 3, 5, 4)).astype("float32")
    y_first, y_last, model = _pair(
        lambda f: layers.GlobalAveragePooling2D(data_format=f, keepdims=keepdims), x)
    expected = np.transpose(y_last, NHWC_TO_NCHW) if keepdims else y_last
    np.testing.assert_allclose(y_first, expected, rtol=1e-6, atol=1e-6)
    assert model.output_shape == ((None, 3, 1, 1) if keepdims else (None, 3))


def test_flatten_channels_first_flattens_in_channels_last_order(rng):
    x = rng.normal(size=(2, 3, 4, 5)).astype("float32")
    y_first, y_last, _ = _pair(lambda f: layers.Flatten(data_format=f), x)
    np.testing.assert_array_equal(y_first, y_last)


def test_output_shapes_are_keras_shapes():
    model = keras.Sequential([
        keras.Input((3, 10, 12)),
        layers.Conv2D(8, 3, data_format="channels_first"),
        layers.MaxPooling2D(2, data_format="channels_first"),
    ])
    assert model.layers[0].output.shape == (None, 8, 8, 10)
    assert model.output_shape == (None, 8, 4, 5)


def test_channels_first_convnet_gradients(rng):
    keras.utils.set_random_seed(3)
    model = keras.Sequential([
        keras.Input((2, 6, 7)),
        layers.Conv2D(3, 3, padding="same", activation="tanh", data_format="channels_first"),
        layers.AveragePooling2D(2, data_format="channels_first"),
        layers.Flatten(data_format="channels_first"),
        layers.Dense(4),
    ])
    x = rng.normal(size=(3, 2, 6, 7)).astype("float32")
    y = rng.normal(size=(3, 4)).astype("float32")
    check_gradients(model, x, y, h=3e-3, atol=1e-4)


def test_permute_layer(rng):
    keras.utils.set_random_seed(4)
    x = rng.normal(size=(2, 3, 4, 5)).astype("float32")
    model = keras.Sequential([keras.Input((3, 4, 5)), layers.Permute((3, 1, 2))])
    np.testing.assert_array_equal(model.predict(x, verbose=0), np.transpose(x, (0, 3, 1, 2)))
    assert model.output_shape == (None, 5, 3, 4)
    grad_model = keras.Sequential([keras.Input((3, 4)), layers.Dense(6), layers.Permute((2, 1)),
                                   layers.Flatten(), layers.Dense(2)])
    check_gradients(grad_model, rng.normal(size=(2, 3, 4)).astype("float32"),
                    rng.normal(size=(2, 2)).astype("float32"))
    with pytest.raises(ValueError, match="consecutive"):
        layers.Permute((0, 1))


@pytest.fixture
def channels_first_default():
    keras.config.set_image_data_format("channels_first")
    yield
    keras.config.set_image_data_format("channels_last")


def test_image_data_format_is_the_default_of_spatial_layers(channels_first_default):
    # Classic Keras scripts branch on `K.image_data_format()` and build their input shape from it.
    assert keras.backend.image_data_format() == "channels_first"
    model = keras.Sequential([
        keras.Input((1, 8, 8)),
        layers.Conv2D(4, 3),
        layers.MaxPooling2D(),
        layers.Flatten(),
    ])
    assert [layer.data_format for layer in model.layers] == ["channels_first"] * 3
    assert model.output_shape == (None, 36)
    # An explicit argument still wins over the global default.
    assert layers.Conv2D(4, 3, data_format="channels_last").data_format == "channels_last"


def test_set_image_data_format_rejects_unknown_formats():
    with pytest.raises(ValueError, match=r"Received: data_format=nhwc"):
        keras.config.set_image_data_format("nhwc")
    assert keras.config.image_data_format() == "channels_last"
