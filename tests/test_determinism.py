"""Same seed and data: the same bits whatever the thread count (weights, history, predictions,
evaluation), for each layer, loss, metric and optimizer family."""

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


# A sweep over the layers, losses, metrics and optimizers: each model trains with shuffling and a
# validation split on 1 and 3 threads, and weights, history, predictions and evaluation must be
# the same bits. Sizes put more than one fixed chunk in the loops that reduce: conv bias sums
# (1024 rows), normalization column sums (256 rows), Winograd weight gradients (256 tiles),
# per-sample losses (16384 values), optimizer updates (32768 elements).
def _fit_everything(build, x, y, threads, loss, metrics=(), optimizer="adam", batch_size=64):
    previous = keras.config.num_threads()
    keras.config.set_num_threads(threads)
    try:
        keras.utils.set_random_seed(5)
        model = build()
        model.compile(optimizer=optimizer() if callable(optimizer) else optimizer, loss=loss,
                      metrics=[m() if callable(m) else m for m in metrics])
        history = model.fit(x, y, epochs=2, batch_size=batch_size, shuffle=True,
                            validation_split=0.25, verbose=0)
        # Metric names carry a per-instance suffix (precision_3): compare the values in order.
        out = model.get_weights() + [np.asarray(v) for v in history.history.values()]
        out.append(model.predict(x, batch_size=2 * batch_size, verbose=0))
        out.append(np.asarray(model.evaluate(x, y, batch_size=batch_size, verbose=0)))
        return out
    finally:
        keras.config.set_num_threads(previous)


def _sequential(input_shape, *stack):
    return lambda: keras.Sequential([keras.Input(input_shape), *[make() for make in stack]])


def _merges():
    inputs = keras.Input((48,))
    a = layers.Dense(64, activation="tanh")(inputs)
    b = layers.Dense(64, activation="sigmoid")(inputs)
    merged = [layers.Add()([a, b]), layers.Subtract()([a, b]), layers.Multiply()([a, b]),
              layers.Average()([a, b]), layers.Maximum()([a, b]), layers.Minimum()([a, b]),
              layers.Dot(axes=1)([a, b])]
    outputs = layers.Dense(10, activation="softmax")(layers.Concatenate()(merged))
    return keras.Model(inputs, outputs)


def _normalized(x):
    def build():
        norm = layers.Normalization()
        norm.adapt(x)
        return keras.Sequential([
            keras.Input(x.shape[1:]), norm, layers.Rescaling(0.5, offset=0.1),
            layers.Reshape((32, 16)), layers.Permute((2, 1)), layers.Flatten(),
            layers.Dense(64), layers.ELU(), layers.Dense(64), layers.LeakyReLU(),
            layers.Dense(64), layers.ReLU(max_value=2.0), layers.ActivityRegularization(l2=1e-3),
            layers.Dense(10), layers.Softmax(),
        ])
    return build


_images = ((64, 16, 16, 16), 10)
_LAYER_CASES = {
    "conv2d_batchnorm_pooling": (_images, _sequential(
        (16, 16, 16),
        lambda: layers.Conv2D(16, 3, padding="same", activation="relu"),  # Winograd
        lambda: layers.BatchNormalization(),
        lambda: layers.MaxPooling2D(2),
        lambda: layers.Conv2D(16, 3, padding="same", groups=2, dilation_rate=2),
        lambda: layers.Conv2D(16, 1, strides=2, activation="gelu"),
        lambda: layers.SpatialDropout2D(0.2, seed=3),
        lambda: layers.GlobalAveragePooling2D(),
        lambda: layers.Dense(10, activation="softmax"))),
    "conv2d_transpose_reshaping": (_images, _sequential(
        (16, 16, 16),
        lambda: layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="tanh"),
        lambda: layers.AveragePooling2D(2),
        lambda: layers.UpSampling2D(2),
        lambda: layers.ZeroPadding2D(1),
        lambda: layers.Cropping2D(((2, 1), (0, 3))),
        lambda: layers.GaussianDropout(0.2, seed=4),
        lambda: layers.GlobalMaxPooling2D(),
        lambda: layers.Dense(10, activation="softmax"))),
    "conv1d_layernorm": (((64, 128, 16), 10), _sequential(
        (128, 16),
        lambda: layers.Conv1D(16, 3, padding="causal", dilation_rate=2, activation="swish"),
        lambda: layers.MaxPooling1D(2),
        lambda: layers.Conv1DTranspose(16, 4, strides=2, padding="same"),
        lambda: layers.LayerNormalization(),
        lambda: layers.GaussianNoise(0.1, seed=5),
        lambda: layers.SpatialDropout1D(0.2, seed=6),
        lambda: layers.AveragePooling1D(3, strides=2, padding="same"),
        lambda: layers.GlobalAveragePooling1D(),
        lambda: layers.Dense(10, activation="softmax"))),
    "embedding": (None, _sequential(
        (40,),
        lambda: layers.Embedding(300, 32),
        lambda: layers.Dropout(0.3, seed=7),
        lambda: layers.GlobalMaxPooling1D(),
        lambda: layers.Dense(10, activation="softmax"))),
    "merges": (((512, 48), 10), _merges),
}


@pytest.mark.parametrize("case", sorted(_LAYER_CASES))
def test_layers_bit_identical_on_1_and_3_threads(case, rng):
    shape, build = _LAYER_CASES[case]
    if shape is None:  # token ids
        x = rng.integers(0, 300, (512, 40)).astype("float32")
        y = rng.integers(0, 10, 512)
    else:
        x = rng.random(shape[0], dtype=np.float32)
        y = rng.integers(0, shape[1], shape[0][0])
    args = (build, x, y)
    loss = "sparse_categorical_crossentropy"
    _assert_same(_fit_everything(*args, 1, loss, ["accuracy"]),
                 _fit_everything(*args, 3, loss, ["accuracy"]))


def test_preprocessing_and_activation_layers_bit_identical_on_1_and_3_threads(rng):
    x = rng.normal(size=(512, 512)).astype("float32")
    y = rng.integers(0, 10, 512)
    args = (_normalized(x), x, y)
    loss = "sparse_categorical_crossentropy"
    _assert_same(_fit_everything(*args, 1, loss), _fit_everything(*args, 3, loss))


_LOSS_CASES = {
    "binary_crossentropy": ("sigmoid", "binary", [
        lambda: keras.metrics.AUC(), lambda: keras.metrics.AUC(curve="PR", num_thresholds=50),
        lambda: keras.metrics.Precision(thresholds=0.3), lambda: keras.metrics.Recall(),
        "binary_accuracy"]),
    "categorical_crossentropy": ("softmax", "onehot", [
        lambda: keras.metrics.TopKCategoricalAccuracy(k=3),
        lambda: keras.metrics.Precision(top_k=2), lambda: keras.metrics.Recall(class_id=1),
        "kl_divergence", "categorical_hinge"]),
    "sparse_categorical_crossentropy": ("softmax", "sparse", [
        lambda: keras.metrics.SparseTopKCategoricalAccuracy(k=3), "accuracy"]),
    "huber": (None, "real", ["mse", "mae", "RootMeanSquaredError", "cosine_similarity"]),
    "poisson": ("softplus", "positive", ["msle", "mape", "LogCoshError"]),
    "squared_hinge": ("tanh", "binary", ["hinge"]),
}


@pytest.mark.parametrize("loss", sorted(_LOSS_CASES))
def test_losses_and_metrics_bit_identical_on_1_and_3_threads(loss, rng):
    activation, target, metrics = _LOSS_CASES[loss]
    n, c = 2560, 16  # 1280-sample batches of 16 values: two chunks of 1024 samples
    x = rng.normal(size=(n, 24)).astype("float32")
    labels = rng.integers(0, c, n)
    y = {"binary": (rng.random((n, c)) > 0.5).astype("float32"),
         "onehot": np.eye(c, dtype="float32")[labels], "sparse": labels,
         "real": rng.normal(size=(n, c)).astype("float32"),
         "positive": rng.random((n, c), dtype=np.float32) + 0.1}[target]
    build = _sequential((24,), lambda: layers.Dense(32, activation="relu"),
                        lambda: layers.Dense(c, activation=activation))
    args = (build, x, y)
    _assert_same(_fit_everything(*args, 1, loss, metrics, batch_size=1280),
                 _fit_everything(*args, 3, loss, metrics, batch_size=1280))


_OPTIMIZERS = {
    "sgd_nesterov": lambda: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "rmsprop_centered": lambda: keras.optimizers.RMSprop(centered=True, momentum=0.5),
    "adagrad": lambda: keras.optimizers.Adagrad(),
    "adadelta": lambda: keras.optimizers.Adadelta(1.0),
    "amsgrad": lambda: keras.optimizers.Adam(amsgrad=True, clipnorm=0.5),
    "adamw": lambda: keras.optimizers.AdamW(weight_decay=0.05, global_clipnorm=0.5),
    "nadam": lambda: keras.optimizers.Nadam(clipvalue=0.01),
}


@pytest.mark.parametrize("optimizer", sorted(_OPTIMIZERS))
def test_more_optimizers_bit_identical_on_1_and_3_threads(optimizer, rng):
    # 300 x 200 weights: two update chunks (32768 elements).
    x = rng.random((256, 300), dtype=np.float32)
    y = rng.integers(0, 200, 256)
    build = _sequential((300,), lambda: layers.Dense(200, activation="softmax"))
    args = (build, x, y, 1, "sparse_categorical_crossentropy", (), _OPTIMIZERS[optimizer], 32)
    _assert_same(_fit_everything(*args), _fit_everything(*args[:3], 3, *args[4:]))
