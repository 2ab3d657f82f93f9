"""Rescaling and Embedding: Keras parity, gradients, training, determinism, saving.

Reference values were printed by real Keras 3.15 (tests/fixtures/embedding/make_fixtures.py,
`references()`); the .h5 fixtures there were written by Keras 3 and by tf_keras (Keras 2).
"""

import warnings
from pathlib import Path

import kerasette as keras
import numpy as np
import pytest
from gradcheck import check_gradients
from kerasette import layers

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "embedding"


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ---- Rescaling ----
def test_rescaling_matches_keras():
    r = layers.Rescaling([0.5, -2.0, 3.0], offset=[1.0, 0.0, -1.0])
    y = r(np.array([[1.0, 2.0, 3.0], [-1.5, 0.25, 7.0]], np.float32))
    np.testing.assert_array_equal(y, [[1.5, -4.0, 8.0], [0.25, -0.5, 20.0]])
    np.testing.assert_allclose(layers.Rescaling(1 / 255)(np.full((2, 2), 255.0, np.float32)), 1.0)


def test_rescaling_config_round_trip():
    r = layers.Rescaling([0.5, -2.0, 3.0], offset=[1.0, 0.0, -1.0], name="r")
    config = r.get_config()
    assert config["scale"] == [0.5, -2.0, 3.0] and config["offset"] == [1.0, 0.0, -1.0]
    assert layers.Rescaling.from_config(config).get_config() == config
    assert layers.deserialize(layers.serialize(layers.Rescaling(2.0))).scale == 2.0
    assert layers.Rescaling(0.5).get_config()["offset"] == 0.0


def test_rescaling_rejects_mismatched_channels():
    with pytest.raises(ValueError, match="last axis"):
        keras.Sequential([keras.Input((4,)), layers.Rescaling([1.0, 2.0])])
    with pytest.raises(ValueError, match="scale"):
        layers.Rescaling([])


def test_rescaling_gradients(rng):
    model = keras.Sequential(
        [
            keras.Input((3, 4)),
            layers.Dense(3),
            layers.Rescaling([0.5, -2.0, 3.0], offset=0.25),
            layers.Flatten(),
            layers.Dense(2),
        ]
    )
    check_gradients(
        model,
        rng.standard_normal((5, 3, 4)).astype(np.float32),
        rng.standard_normal((5, 2)).astype(np.float32),
    )


# ---- Embedding ----
def _table():
    return np.arange(20, dtype=np.float32).reshape(5, 4) / 10 - 1


def test_embedding_matches_keras():
    emb = layers.Embedding(5, 4)
    emb.build((None, 2))
    emb.set_weights([_table()])
    assert emb.weights[0].name == "embeddings"
    expected = [
        [[0.6, 0.7, 0.8, 0.9], [-1.0, -0.9, -0.8, -0.7]],
        [[-0.2, -0.1, 0.0, 0.1], [-0.2, -0.1, 0.0, 0.1]],
    ]
    np.testing.assert_allclose(emb(np.array([[4, 0], [2, 2]], np.float32)), expected, atol=1e-6)


def test_embedding_any_rank_and_output_shape():
    model = keras.Sequential([keras.Input((2, 3)), layers.Embedding(9, 5)])
    assert model.output_shape == (None, 2, 3, 5)
    x = np.arange(12, dtype=np.float32).reshape(2, 2, 3) % 9
    y = model.predict(x, verbose=0)
    np.testing.assert_array_equal(y, model.layers[0].get_weights()[0][x.astype(int)])


def test_embedding_config_matches_keras():
    config = layers.Embedding(7, 3, name="e").get_config()
    assert config["embeddings_initializer"]["class_name"] == "RandomUniform"
    assert config["embeddings_initializer"]["config"]["minval"] == -0.05
    for key, value in {
        "input_dim": 7,
        "output_dim": 3,
        "embeddings_regularizer": None,
        "activity_regularizer": None,
        "embeddings_constraint": None,
        "mask_zero": False,
    }.items():
        assert config[key] == value
    assert "quantization_config" not in config  # tf_keras refuses the key
    assert layers.Embedding.from_config(config).get_config() == config
    with pytest.warns(UserWarning, match="input_length"):
        assert layers.Embedding(7, 3, input_length=10).input_dim == 7  # Keras 2 configs


def test_embedding_argument_errors():
    # A vocabulary size computed with numpy (`int(np.max(x)) + 1` without the int) is accepted.
    assert layers.Embedding(np.int64(10), np.int32(4)).get_config()["input_dim"] == 10
    with pytest.raises(ValueError, match="input_dim"):
        layers.Embedding(0, 3)
    with pytest.raises(ValueError, match="output_dim"):
        layers.Embedding(3, 2.5)
    with pytest.raises(NotImplementedError, match="mask_zero"):
        layers.Embedding(3, 2, mask_zero=True)
    with pytest.raises(NotImplementedError, match="embeddings_constraint"):
        layers.Embedding(3, 2, embeddings_constraint="non_neg")


@pytest.mark.parametrize("bad", [5, -1, 1.5, np.nan])
def test_embedding_rejects_bad_indices(bad):
    model = keras.Sequential([keras.Input((3,)), layers.Embedding(5, 2)])
    x = np.array([[0, bad, 4]], np.float32)
    with pytest.raises(ValueError, match="Embedding"):
        model.predict(x, verbose=0)
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="Embedding|NaN"):  # fit checks NaN before the engine
        model.train_on_batch(x, np.zeros((1, 3, 2), np.float32))


def test_embedding_table_gradients(rng):
    # Repeated indices within and across samples: the scatter-add must sum them.
    x = np.array([[1, 1, 3, 0], [3, 2, 1, 1], [4, 4, 4, 0]], np.float32)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            layers.Embedding(6, 3),
            layers.Conv1D(2, 2),
            layers.Flatten(),
            layers.Dense(2),
        ]
    )
    check_gradients(model, x, rng.standard_normal((3, 2)).astype(np.float32), samples=18)
    grad = model.layers[0]._core.get_grad(0)
    np.testing.assert_array_equal(grad[5], 0)  # never looked up


def _toy_tokens(rng, n=384, steps=10, vocab=30):
    x = rng.integers(0, vocab, (n, steps)).astype(np.float32)
    y = ((x < vocab // 2).sum(axis=1) > steps // 2).astype(np.float32)
    return x, y


def test_embedding_classifier_learns(rng):
    x, y = _toy_tokens(rng)
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [
            keras.Input((10,)),
            layers.Embedding(30, 16),
            layers.GlobalAveragePooling1D(),
            layers.Dense(2, "softmax"),
        ]
    )
    model.compile(
        keras.optimizers.Adam(0.02), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    hist = model.fit(x, y, epochs=25, batch_size=32, verbose=0).history
    assert hist["loss"][-1] < 0.6 * hist["loss"][0]
    assert hist["accuracy"][-1] > 0.85


def test_embedding_bit_identical_on_1_and_2_threads(rng):
    # A small vocabulary makes every batch repeat indices many times.
    x, y = _toy_tokens(rng, n=256, vocab=7)

    def train(threads):
        previous = keras.config.num_threads()
        keras.config.set_num_threads(threads)
        try:
            keras.utils.set_random_seed(3)
            inp = keras.Input((10,))
            h = layers.Embedding(7, 64)(inp)
            h = layers.Dense(32, activation="relu")(h)
            out = layers.Dense(1, activation="sigmoid")(layers.GlobalAveragePooling1D()(h))
            model = keras.Model(inp, out)
            model.compile("adam", "binary_crossentropy")
            model.fit(x, y, epochs=2, batch_size=64, verbose=0)
            return model.get_weights()
        finally:
            keras.config.set_num_threads(previous)

    for a, b in zip(train(1), train(2)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("ext", ["h5", "keras"])
def test_save_load_round_trip(tmp_path, rng, ext):
    model = keras.Sequential(
        [
            keras.Input((6,)),
            layers.Rescaling(1.0, offset=0.0),
            layers.Embedding(8, 4, embeddings_regularizer="l2"),
            layers.Flatten(),
            layers.Dense(3),
        ]
    )
    model.compile("adam", "mse")
    x = rng.integers(0, 8, (10, 6)).astype(np.float32)
    model.fit(x, rng.standard_normal((10, 3)).astype(np.float32), epochs=1, verbose=0)
    path = tmp_path / f"m.{ext}"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[1].get_config() == model.layers[1].get_config()


@pytest.mark.parametrize("stem", ["emb_conv_k3", "emb_conv_k2"])
def test_loads_keras_h5(stem):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = keras.models.load_model(FIXTURES / f"{stem}.h5", compile=False)
    x = np.load(FIXTURES / f"{stem}.input.npy")
    np.testing.assert_allclose(
        model.predict(x, verbose=0),
        np.load(FIXTURES / f"{stem}.expected.npy"),
        rtol=1e-5,
        atol=1e-6,
    )
    assert [w.name for w in model.get_layer("emb").weights] == ["embeddings"]
