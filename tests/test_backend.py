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


def test_ops_numpy_functions_with_keras_dtypes():
    # Keras 3.15 (TensorFlow backend) on the same calls: the dtypes and shapes below are its.
    import numpy as np

    ops = keras.ops
    p = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]], dtype="float32")
    assert ops.argmax(p, axis=-1).tolist() == [1, 0] and ops.argmax(p).dtype == np.int32
    assert ops.argmin(p, axis=1).dtype == np.int32 and ops.argsort(p).dtype == np.int32
    values, indices = ops.top_k(p, 2)
    assert indices.tolist() == [[1, 2], [0, 1]] and indices.dtype == np.int32
    np.testing.assert_allclose(values, [[0.7, 0.2], [0.5, 0.3]])
    assert ops.convert_to_tensor([1, 2]).dtype == np.int32
    assert ops.convert_to_tensor([1.0, 2.0]).dtype == np.float32
    assert ops.convert_to_numpy(p) is p
    for out in (ops.add(p, 1), ops.multiply(p, 2), ops.power(p, 2), ops.where(p > 0.3, p, 0.0),
                ops.mean(p), ops.sum(p, axis=1, keepdims=True), ops.norm(p), ops.logsumexp(p)):
        assert out.dtype == np.float32
    assert ops.sum(p, axis=1, keepdims=True).shape == (2, 1)
    assert ops.one_hot(np.array([0, 2]), 3).tolist() == [[1, 0, 0], [0, 0, 1]]
    assert ops.count_nonzero(p > 0.25).dtype == np.int32 and ops.arange(3).dtype == np.int32
    assert ops.equal(ops.argmax(p, -1), np.array([1, 0])).all()
    np.testing.assert_allclose(ops.softmax(p).sum(axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(ops.log_softmax(p), np.log(ops.softmax(p)), rtol=1e-5)


def test_ops_keep_32_bit_results_of_32_bit_inputs():
    # Keras 3.15 (TensorFlow backend): an accuracy from int32 labels is float32, a mask's sum int32;
    # NumPy alone widens both to 64 bits. A float64 or int64 input keeps its width.
    import numpy as np

    ops = keras.ops
    labels = np.array([[1, 2], [3, 4]], dtype="int32")
    for out in (ops.mean(labels), ops.mean(ops.equal(labels, 1)), ops.std(labels),
                ops.sqrt(labels), ops.divide(labels, 2), ops.add(labels, 1.5),
                ops.where(labels > 1, labels, 0.5), ops.norm(labels), ops.full((2,), 1)):
        assert out.dtype == np.float32
    for out in (ops.sum(labels > 1), ops.cumsum(np.array([True, False])), ops.prod(labels)):
        assert out.dtype == np.int32
    assert float(ops.mean(ops.equal(labels, 1))) == 0.25
    assert ops.mean(np.array([1.0, 2.0], "float64")).dtype == np.float64
    assert ops.sum(np.array([1, 2], "int64")).dtype == np.int64
