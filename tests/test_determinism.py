"""Same seed and data: bit-identical weights whatever the thread count (MLP and convnet)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import kerasette as keras
from kerasette import layers


def _train(build, x, y, threads, epochs=2, batch_size=16):
    previous = keras.config.num_threads()
    keras.config.set_num_threads(threads)
    try:
        keras.utils.set_random_seed(21)
        model = build()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
        return model.get_weights()
    finally:
        keras.config.set_num_threads(previous)


def _assert_same(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_convnet_bit_identical_on_1_and_2_threads(rng):
    x = rng.random((96, 14, 14, 1), dtype=np.float32)
    y = rng.integers(0, 10, 96)

    def build():
        return keras.Sequential([
            keras.Input((14, 14, 1)),
            layers.Conv2D(8, 5, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ])

    _assert_same(_train(build, x, y, 1), _train(build, x, y, 2))


def test_mlp_bit_identical_on_1_and_2_threads(rng):
    x = rng.random((256, 784), dtype=np.float32)
    y = rng.integers(0, 10, 256)

    def build():
        return keras.Sequential([keras.Input((784,)), layers.Dense(512, activation="relu"),
                                 layers.Dropout(0.2), layers.Dense(512, activation="relu"),
                                 layers.Dense(10, activation="softmax")])

    _assert_same(_train(build, x, y, 1, batch_size=128), _train(build, x, y, 2, batch_size=128))


@pytest.mark.parametrize("optimizer", ["adamax", "lion", "ftrl"])
def test_optimizer_updates_bit_identical_on_1_and_2_threads(optimizer, rng):
    # 300 x 200 weights: more than one update chunk (32768 elements), so both threads update.
    x = rng.random((64, 300), dtype=np.float32)
    y = rng.integers(0, 200, 64)

    def train(threads):
        previous = keras.config.num_threads()
        keras.config.set_num_threads(threads)
        try:
            keras.utils.set_random_seed(21)
            model = keras.Sequential([keras.Input((300,)), layers.Dense(200, activation="softmax")])
            model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
            model.fit(x, y, epochs=2, batch_size=16, verbose=0)
            return model.get_weights()
        finally:
            keras.config.set_num_threads(previous)

    _assert_same(train(1), train(2))


def test_matmul_complete_when_openmp_starts_fewer_threads_than_asked():
    # OMP_THREAD_LIMIT (like OMP_DYNAMIC on a busy machine) gives a team fewer threads than its
    # num_threads clause asks for. The GEMM's thread grid still has to cover all of C, with the
    # bits of a single thread. Only a fresh process reads the variable.
    code = (
        "import numpy as np, kerasette as keras\n"
        "rng = np.random.default_rng(0)\n"
        "a = rng.normal(size=(256, 300)).astype('float32')\n"
        "b = rng.normal(size=(300, 512)).astype('float32')\n"
        "keras.config.set_num_threads(1)\n"
        "one = keras.ops.matmul(a, b)\n"
        "np.testing.assert_allclose(one, a.astype('float64') @ b, rtol=1e-4, atol=1e-3)\n"
        "for threads in (2, 3, 4):\n"
        "    keras.config.set_num_threads(threads)\n"
        "    np.testing.assert_array_equal(keras.ops.matmul(a, b), one)\n"
    )
    package_root = str(Path(keras.__file__).resolve().parents[1])
    env = dict(os.environ, OMP_THREAD_LIMIT="1",
               PYTHONPATH=os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
