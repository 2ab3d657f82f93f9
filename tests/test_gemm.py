"""kerasette.ops.matmul (the engine's GEMM) against numpy in float64, on every ISA."""

import numpy as np
import pytest

import kerasette as keras

SHAPES = [(1, 1, 1), (7, 13, 5), (1, 784, 512), (2, 300, 70), (3, 64, 65), (4, 17, 130),
          (5, 33, 200), (12, 256, 32), (13, 257, 33), (50, 31, 100), (128, 784, 10),
          (129, 100, 513), (300, 1030, 70)]


@pytest.mark.parametrize("m,k,n", SHAPES)
def test_matmul_matches_float64(m, k, n, each_isa, rng):
    a = rng.normal(size=(m, k)).astype("float32")
    b = rng.normal(size=(k, n)).astype("float32")
    c = keras.ops.matmul(a, b)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)
    assert c.shape == (m, n) and c.dtype == np.float32
    assert np.all(np.abs(c - ref) <= 1e-6 * np.sqrt(k) * scale + 1e-6)


def test_matmul_batched_and_vectors(rng):
    a = rng.normal(size=(3, 4, 5)).astype("float32")
    b = rng.normal(size=(5, 6)).astype("float32")
    np.testing.assert_allclose(keras.ops.matmul(a, b), a @ b, rtol=1e-5, atol=1e-5)
    v = rng.normal(size=5).astype("float32")
    np.testing.assert_allclose(keras.ops.matmul(b.T, v), b.T @ v, rtol=1e-5, atol=1e-5)


def test_matmul_bad_shapes():
    with pytest.raises(ValueError, match="inner dimensions"):
        keras.ops.matmul(np.ones((2, 3), "float32"), np.ones((4, 5), "float32"))


def test_matmul_same_bits_any_thread_count(rng):
    a = rng.normal(size=(200, 300)).astype("float32")
    b = rng.normal(size=(300, 500)).astype("float32")
    threads = keras.config.num_threads()
    try:
        keras.config.set_num_threads(1)
        one = keras.ops.matmul(a, b)
        small_one = keras.ops.matmul(a[:2], b)
        keras.config.set_num_threads(2)
        two = keras.ops.matmul(a, b)
        small_two = keras.ops.matmul(a[:2], b)
    finally:
        keras.config.set_num_threads(threads)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(small_one, small_two)


@pytest.mark.parametrize("m,k,n", [(1, 784, 512), (1, 100, 10), (2, 300, 70), (4, 37, 130)])
@pytest.mark.parametrize("zeros", [0.5, 0.95, 1.0])
def test_few_row_matmul_with_zero_columns_of_a(m, k, n, zeros, each_isa, rng):
    # Few-row products skip the rows of B that meet an all-zero column of A (ReLU outputs, blank
    # pixels): the result must be the full sum.
    a = rng.normal(size=(m, k)).astype("float32")
    a[:, rng.random(k) < zeros] = 0.0
    a[0, 3] = 0.0  # a column zero in one row only is still summed
    b = rng.normal(size=(k, n)).astype("float32")
    c = keras.ops.matmul(a, b)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)
    assert np.all(np.abs(c - ref) <= 1e-6 * np.sqrt(k) * scale + 1e-6)
    if zeros == 1.0:
        assert not np.any(c[1:])
    # Kept columns still bring their values, NaN included.
    a[-1, k // 2] = np.nan
    c = keras.ops.matmul(a, b)
    assert np.all(np.isnan(c[-1])) and np.all(np.isfinite(c[:-1]))


def test_few_row_matmul_matches_its_rows_of_a_larger_product(each_isa, rng):
    # An MLP's single-sample prediction equals the corresponding row of a batch prediction.
    a = np.maximum(rng.normal(size=(64, 512)), 0).astype("float32")
    b = rng.normal(size=(512, 10)).astype("float32")
    full = keras.ops.matmul(a, b)
    for i in (0, 5, 63):
        np.testing.assert_allclose(keras.ops.matmul(a[i:i + 1], b), full[i:i + 1], rtol=1e-5,
                                   atol=1e-5)


def test_long_k_under_few_tiles_same_bits_any_thread_count(rng):
    # (taps x pixels) @ (pixels x channels), a convolution's kernel gradient: K is cut into fixed
    # chunks summed in order, whatever the thread count.
    a = rng.normal(size=(25, 20000)).astype("float32")
    b = rng.normal(size=(20000, 32)).astype("float32")
    threads = keras.config.num_threads()
    try:
        keras.config.set_num_threads(1)
        one = keras.ops.matmul(a, b)
        keras.config.set_num_threads(2)
        two = keras.ops.matmul(a, b)
    finally:
        keras.config.set_num_threads(threads)
    np.testing.assert_array_equal(one, two)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)
    assert np.all(np.abs(one - ref) <= 1e-6 * np.sqrt(20000) * scale)
