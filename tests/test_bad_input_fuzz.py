"""Cases a randomized structural fuzzer found: each once crashed, or raised an unclear error."""

import numpy as np
import pytest

import kerasette as keras
from kerasette import layers


def test_permute_of_a_per_sample_scalar_passes_it_through():
    # Used to segfault: the stride loop ran from rank - 1 down with an unsigned rank of 0.
    inp = keras.Input(shape=())
    model = keras.Model(inp, layers.Permute(())(inp))
    x = np.arange(5, dtype="float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)


def test_model_with_an_undefined_input_size_raises_when_run():
    inp = keras.Input(shape=(1, None))
    model = keras.Model(inp, inp)
    x = np.zeros((2, 1, 3), "float32")
    for run in (lambda: model.predict(x, verbose=0), lambda: model(x),
                lambda: model.predict_on_batch(x)):
        with pytest.raises(ValueError, match=r"fully defined input shapes.*\(None, 1, None\)"):
            run()


def test_sparse_categorical_crossentropy_needs_a_class_axis():
    inp = keras.Input(shape=())
    model = keras.Model(inp, layers.ReLU()(inp))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"class axis.*output of shape \(None,\)"):
        model.train_on_batch(np.zeros(2, "float32"), np.zeros(2))


def test_one_target_array_for_a_two_output_model():
    inp = keras.Input(shape=(3,))
    model = keras.Model(inp, [layers.Dense(2)(inp), layers.Dense(1)(inp)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.zeros((2, 3), "float32"), np.zeros((2, 1), "float32")
    for run in (lambda: model.fit(x, y, verbose=0), lambda: model.evaluate(x, y, verbose=0),
                lambda: model.train_on_batch(x, y)):
        with pytest.raises(ValueError, match="expects 2 target arrays, but received 1"):
            run()


def test_one_target_array_for_the_one_output_with_a_loss():
    # Keras 3 takes a single array when only one output has a loss (or metrics).
    inp = keras.Input(shape=(3,))
    a, b = layers.Dense(2, name="a")(inp), layers.Dense(1, name="b")(inp)
    x, y = np.ones((4, 3), "float32"), np.ones((4, 2), "float32")
    for loss, metrics in ((["mse", None], None), ({"a": "mse"}, {"a": ["mae"]})):
        model = keras.Model(inp, [a, b])
        model.compile(optimizer="sgd", loss=loss, metrics=metrics)
        keras.utils.set_random_seed(0)
        history = model.fit(x, y, epochs=2, verbose=0).history
        assert history["loss"][1] < history["loss"][0]
        assert np.isfinite(model.evaluate(x, y, verbose=0)).all()
    model = keras.Model(inp, [a, b])
    model.compile(optimizer="sgd", loss=["mse", "mse"])
    with pytest.raises(ValueError, match="expects 2 target arrays, but received 1"):
        model.fit(x, y, verbose=0)


def test_engine_shape_messages_show_the_batch_axis_as_none():
    with pytest.raises(ValueError, match=r"\(None, 2\) and \(None, 3\)"):
        layers.Add()([keras.Input(shape=(2,)), keras.Input(shape=(3,))])


def test_sequential_add_that_fails_to_build_leaves_no_stale_output_shape():
    # The rejected layer stays in the model (as in Keras); the model is then unbuilt, and its
    # outputs must not keep describing the model as it was before the add.
    model = keras.Sequential([keras.Input(shape=(4,))])
    model.add(layers.Dense(3))
    assert model.output_shape == (None, 3)
    with pytest.raises(ValueError, match="Axis 2 is out of bounds"):
        model.add(layers.LayerNormalization(axis=2))
    assert not model.built
    assert model.outputs == [] and model.output is None


@pytest.mark.parametrize("fmt", ["keras", "h5", "json"])
def test_dict_inputs_and_outputs_survive_a_save_load_round_trip(tmp_path, fmt):
    # Used to reload with list inputs and outputs: predict returned a list, not the dict.
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    h = layers.Concatenate()([layers.Dense(4)(a), b])
    model = keras.Model({"b": b, "a": a}, {"o2": layers.Dense(1, name="o2")(h),
                                           "o1": layers.Dense(2, name="o1")(h)})
    x = {"a": np.random.rand(5, 3).astype("float32"), "b": np.random.rand(5, 2).astype("float32")}
    if fmt == "json":
        loaded = keras.models.model_from_json(model.to_json())
        loaded.set_weights(model.get_weights())
    else:
        model.save(tmp_path / f"m.{fmt}")
        loaded = keras.models.load_model(tmp_path / f"m.{fmt}")
    assert isinstance(loaded.input, dict) and list(loaded.input) == ["b", "a"]
    want, got = model.predict(x, verbose=0), loaded.predict(x, verbose=0)
    assert isinstance(got, dict) and list(got) == ["o2", "o1"]
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-6)



def test_h5_file_with_a_corrupted_weight_name_raises_a_clear_error(tmp_path):
    # Used to leak a UnicodeEncodeError: h5py reads invalid UTF-8 as lone surrogates.
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="d")])
    path = tmp_path / "m.h5"
    model.save(path)
    raw = bytearray(path.read_bytes())
    raw[raw.index(b"d/kernel:0")] = 0xFF
    path.write_bytes(bytes(raw))
    for load in (lambda: keras.models.load_model(path), lambda: model.load_weights(path)):
        with pytest.raises(ValueError, match="not valid UTF-8"):
            load()


def test_class_weight_with_no_samples_fits_nothing_as_without_it():
    # Used to leak numpy's "cannot reshape array of size 0" from the class-weight lookup.
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile("adam", "categorical_crossentropy")
    x, y = np.zeros((0, 4), "float32"), np.zeros((0, 3), "float32")
    for class_weight in ({0: 1.0}, {}):
        assert model.fit(x, y, epochs=2, verbose=0, class_weight=class_weight).history == {}


@pytest.mark.parametrize("fmt", ["keras", "h5", "json"])
def test_model_whose_shared_layer_was_first_called_by_another_model_reloads(tmp_path, fmt):
    # Used to fail to reload: the config referred to the shared layer's second call ("sh", 1),
    # but rebuilding the model makes only the one call that is in it.
    shared = layers.Dense(4, activation="relu", name="sh")
    first = keras.Input((4,))
    keras.Model(first, layers.Dense(2, name="h1")(shared(first)))
    inp = keras.Input((4,))
    model = keras.Model(inp, layers.Dense(2, name="h2")(shared(inp)))
    if fmt == "json":
        loaded = keras.models.model_from_json(model.to_json())
        loaded.set_weights(model.get_weights())
    else:
        model.save(tmp_path / f"m.{fmt}")
        loaded = keras.models.load_model(tmp_path / f"m.{fmt}", compile=False)
    x = np.random.rand(3, 4).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_rejected_call_on_a_wider_input_leaves_a_built_dense_layer_intact():
    # Used to corrupt the heap: the failed build stored the new width (9) before checking it,
    # and the next fit ran the gradient with it.
    model = keras.Sequential([keras.Input((4,)), layers.Dense(5, activation="relu"),
                              layers.Dense(3, activation="softmax")])
    x, y = np.random.rand(8, 4).astype("float32"), np.eye(3)[np.arange(8) % 3]
    before = model.predict(x, verbose=0)
    with pytest.raises(ValueError, match="input has 9 features but the layer was built for 5"):
        model.get_layer(index=1)(keras.Input((9,)))
    np.testing.assert_allclose(model.predict(x, verbose=0), before, rtol=1e-6)
    model.compile(optimizer="adadelta", loss="categorical_crossentropy")
    assert np.isfinite(model.fit(x, y, epochs=3, batch_size=4, verbose=0).history["loss"]).all()


def test_rejected_call_leaves_a_concatenate_layer_intact():
    a, b = keras.Input((3,)), keras.Input((2,))
    concat = layers.Concatenate()
    model = keras.Model([a, b], layers.Dense(2)(concat([a, b])))
    x = [np.random.rand(8, 3).astype("float32"), np.random.rand(8, 2).astype("float32")]
    before = model.predict(x, verbose=0)
    with pytest.raises(ValueError, match="matching shapes except for the concatenation axis"):
        concat([keras.Input((3,)), keras.Input((4, 5))])
    np.testing.assert_allclose(model.predict(x, verbose=0), before, rtol=1e-6)


def test_sequential_model_cannot_be_added_to_itself():
    # Used to leave the model inside itself: setting `trainable` then recursed without end.
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    with pytest.raises(ValueError, match="Cannot add the Sequential model 'sequential.*' to itself"):
        model.add(model)
    assert len(model.layers) == 1
    model.trainable = False


@pytest.mark.parametrize("make, first, second", [
    (lambda: layers.Concatenate(), [(3,), (2,)], [(3,), (5,)]),
    (lambda: layers.Flatten(), [(2, 3)], [(4, 1)]),
    (lambda: layers.Reshape((-1,)), [(5, 2)], [(4, 3)]),
    (lambda: layers.Permute((2, 1)), [(5, 2)], [(4, 3)]),
])  # fmt: skip
def test_layers_sized_once_refuse_a_second_call_on_other_shapes(make, first, second):
    # The engine sizes these layers from their first call; a Concatenate called again on other
    # shapes used to make the first model predict wrong values without an error.
    layer = make()
    ins = [keras.Input(s) for s in first]
    out = layer(ins if len(ins) > 1 else ins[0])
    again = [keras.Input(s) for s in first]  # the same shapes: a shared layer, as in Keras
    layer(again if len(again) > 1 else again[0])
    with pytest.raises(NotImplementedError, match="cannot be called again on"):
        other = [keras.Input(s) for s in second]
        layer(other if len(other) > 1 else other[0])
    model = keras.Model(ins, layers.Flatten()(out))
    x = [np.ones((2,) + s, "float32") for s in first]
    assert model.predict(x if len(x) > 1 else x[0], verbose=0).shape[0] == 2
