"""Functional models over DAGs: merges, shared layers, several inputs and outputs."""

import numpy as np
import pytest

import kerasette as keras
from kerasette import layers
from gradcheck import check_gradients


def test_gradients_through_add_concatenate_and_shared_layer(rng):
    keras.utils.set_random_seed(11)
    inp = keras.Input((6,))
    shared = layers.Dense(5, activation="tanh", name="shared")
    a = shared(inp)
    b = layers.Dense(6, activation="sigmoid")(inp)
    c = shared(b)  # second call of the same layer: its weights get both gradients
    s = layers.Add()([a, c])
    m = layers.Concatenate()([s, b, layers.Multiply()([a, c])])
    out = layers.Dense(3)(m)
    model = keras.Model(inp, out)
    assert len(model.trainable_weights) == 6
    x = rng.normal(size=(7, 6)).astype("float32")
    y = rng.normal(size=(7, 3)).astype("float32")
    check_gradients(model, x, y, samples=10)


@pytest.mark.parametrize("merge", [layers.Subtract, layers.Average, layers.Maximum,
                                   layers.Minimum])
def test_merge_gradients(merge, rng):
    keras.utils.set_random_seed(12)
    inp = keras.Input((4,))
    a = layers.Dense(5)(inp)
    b = layers.Dense(5)(inp)
    out = layers.Dense(2)(merge()([a, b]))
    model = keras.Model(inp, out)
    x = rng.normal(size=(6, 4)).astype("float32")
    y = rng.normal(size=(6, 2)).astype("float32")
    check_gradients(model, x, y)


def test_two_inputs_two_outputs(rng):
    keras.utils.set_random_seed(13)
    img = keras.Input((8,), name="image")
    meta = keras.Input((3,), name="meta")
    h = layers.Concatenate()([layers.Dense(8, activation="relu")(img), meta])
    cls = layers.Dense(4, activation="softmax", name="cls")(h)
    reg = layers.Dense(1, name="reg")(h)
    model = keras.Model(inputs=[img, meta], outputs=[cls, reg])
    model.compile(optimizer="adam", loss={"cls": "sparse_categorical_crossentropy",
                                          "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"]})
    xi = rng.normal(size=(32, 8)).astype("float32")
    xm = rng.normal(size=(32, 3)).astype("float32")
    yc = rng.integers(0, 4, 32)
    yr = rng.normal(size=(32, 1)).astype("float32")
    hist = model.fit({"image": xi, "meta": xm}, {"cls": yc, "reg": yr}, epochs=2,
                     batch_size=8, verbose=0)
    assert set(hist.history) == {"loss", "cls_loss", "reg_loss", "cls_accuracy"}
    logs = model.evaluate([xi, xm], [yc, yr], verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["cls_loss"] + 0.5 * logs["reg_loss"], rel=1e-5)
    p_cls, p_reg = model.predict([xi, xm], verbose=0)
    assert p_cls.shape == (32, 4) and p_reg.shape == (32, 1)


def test_cut_pretrained_model_and_freeze(rng):
    keras.utils.set_random_seed(14)
    base = keras.Sequential([keras.Input((10,)), layers.Dense(16, activation="relu"),
                             layers.Dense(8, activation="relu"), layers.Dense(3)])
    features = keras.Model(inputs=base.input, outputs=base.layers[-2].output)
    np.testing.assert_allclose(features.predict(np.ones((2, 10)), verbose=0).shape, (2, 8))
    features.trainable = False
    head = layers.Dense(2, activation="softmax")(features.output)
    model = keras.Model(features.input, head)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    frozen = [w.copy() for w in features.get_weights()]
    x = rng.normal(size=(20, 10)).astype("float32")
    model.fit(x, rng.integers(0, 2, 20), epochs=2, verbose=0)
    for a, b in zip(frozen, features.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert len(model.trainable_weights) == 2


def test_nested_model_as_layer(rng):
    keras.utils.set_random_seed(15)
    encoder = keras.Sequential([keras.Input((6,)), layers.Dense(4, activation="tanh")])
    inp = keras.Input((6,))
    out = layers.Dense(2)(encoder(inp))
    model = keras.Model(inp, out)
    x = rng.normal(size=(5, 6)).astype("float32")
    expected = x @ encoder.get_weights()[0] + encoder.get_weights()[1]
    expected = np.tanh(expected) @ model.layers[-1].get_weights()[0] + model.layers[-1].get_weights()[1]
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    check_gradients(model, x, rng.normal(size=(5, 2)).astype("float32"))


def test_functional_config_round_trip(rng):
    inp = keras.Input((6,), name="in")
    a = layers.Dense(4, name="a")(inp)
    b = layers.Dense(4, name="b")(inp)
    out = layers.Dense(2, name="out")(layers.Add(name="sum")([a, b]))
    model = keras.Model(inp, out, name="two_branch")
    config = model.get_config()
    assert config["input_layers"] == [["in", 0, 0]]
    assert config["output_layers"] == [["out", 0, 0]]
    clone = keras.Model.from_config(config)
    assert [l.name for l in clone.layers] == [l.name for l in model.layers]
    clone.set_weights(model.get_weights())
    x = rng.normal(size=(3, 6)).astype("float32")
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))


def test_merge_shape_errors():
    a = keras.Input((4,))
    b = keras.Input((5,))
    with pytest.raises(ValueError, match="same shape"):
        layers.Add()([a, b])
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Add()(a)
    c = keras.Input((2, 3))
    with pytest.raises(ValueError, match="matching shapes"):
        layers.Concatenate()([keras.Input((3, 3)), keras.Input((2, 4))])
    assert layers.Concatenate(axis=1)([c, keras.Input((5, 3))]).shape == (None, 7, 3)


def test_disconnected_graph_error():
    a = keras.Input((3,))
    b = keras.Input((3,))
    out = layers.Add()([a, b])
    with pytest.raises(ValueError, match="disconnected"):
        keras.Model(a, out)


def test_duplicate_layer_names_are_refused():
    # Weights are saved and matched by layer name: two layers of one name reloaded with each
    # other's weights (a `.keras` round trip changed the predictions). Keras 3's messages.
    inp = keras.Input((3,))
    hidden = layers.Dense(2, name="d")(inp)
    with pytest.raises(ValueError, match='The name "d" is used 2 times in the model'):
        keras.Model(inp, layers.Dense(2, name="d")(hidden))
    a, b = keras.Input((3,), name="x"), keras.Input((3,), name="x")
    with pytest.raises(ValueError, match='The name "x" is used 2 times'):
        keras.Model([a, b], layers.Subtract()([a, b]))
    with pytest.raises(ValueError, match="Name 'd' is already the name of a layer"):
        keras.Sequential([keras.Input((3,)), layers.Dense(2, name="d"), layers.Dense(2, name="d")])
    # A layer called twice is one layer, not two of the same name.
    shared = layers.Dense(3, name="shared")
    model = keras.Model(inp, shared(shared(inp)))
    assert [layer.name for layer in model.layers].count("shared") == 1


@pytest.mark.parametrize("shape, message", [
    ((0,), r"positive.*shape=\(0,\)"),  # used to crash the engine with SIGFPE
    ((3, 0), r"positive.*shape=\(3, 0\)"),
    ((3.5,), r"tuple of integers. Received: shape=\(3.5,\)"),  # used to become (3,)
    (("4",), "tuple of integers"),
])
def test_input_shapes_that_cannot_work(shape, message):
    with pytest.raises(ValueError, match=message):
        keras.Input(shape)


def test_sequential_built_from_zero_feature_data_raises():
    model = keras.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="positive"):
        model.predict(np.ones((2, 0)), verbose=0)
