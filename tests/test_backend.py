"""`kerasette.backend`: Keras 3's `keras.backend` names for settings and session state."""

import kerasette as keras
from kerasette import backend as K
from kerasette import layers


def test_settings_are_keras_defaults():
    assert K.image_data_format() == "channels_last"
    assert K.floatx() == "float32"
    assert K.epsilon() == 1e-7
    assert K.backend() == "kerasette"


def test_clear_session_restarts_automatic_names():
    layers.Dense(1)
    keras.Sequential()
    K.clear_session()
    assert layers.Dense(1).name == "dense"
    assert layers.Dense(1).name == "dense_1"
    assert keras.Sequential().name == "sequential"


def test_get_uid_counts_per_prefix_from_one():
    K.clear_session()
    assert [K.get_uid("x"), K.get_uid("x"), K.get_uid()] == [1, 2, 1]
    K.clear_session()
    assert K.get_uid("x") == 1


def test_is_keras_tensor():
    assert K.is_keras_tensor(keras.Input((2,)))
    assert not K.is_keras_tensor([1.0, 2.0])


def test_layers_report_float32_dtypes():
    layer = layers.Dense(2)
    assert (layer.dtype, layer.compute_dtype, layer.variable_dtype) == ("float32",) * 3
    assert keras.Sequential([keras.Input((3,)), layer]).dtype == "float32"
