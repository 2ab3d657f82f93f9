"""Saving and loading Keras `.h5` files: real Keras 2/3 fixtures, round trips, optimizer state,
resuming, and every bad-file case.

Fixtures (tests/fixtures/keras_h5, copied from shared/fixtures/keras_h5) were written by tf_keras
2.21 (`_k2`) and Keras 3.15 (`_k3`); `*.expected.npy` is Keras's `predict` output. The tolerance
1e-5 is the fixtures' own (MANIFEST.json); kerasette's float32 kernels sum in another order than
TensorFlow's, so bit equality is not expected there, only in kerasette-to-kerasette round trips.
"""

import glob
import json
import os
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

import kerasette as keras
from kerasette import layers, optimizers
from kerasette.saving import h5_io, h5_weights

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "keras_h5"
TOL = 1e-5


def _needs(*class_names):
    missing = [c for c in class_names if c not in layers.registry()]
    if missing:
        pytest.skip(f"layers {missing} are not in kerasette yet")


def _predict(model, x):
    return model.predict(x, batch_size=len(x), verbose=0)


def _opt_state(model):
    g = model._graph()
    return (int(g.iterations), float(g.learning_rate),
            [[np.array(a) for a in s] for s in g.get_optimizer_slots()],
            list(g.get_optimizer_extra_state()))


def _assert_same_state(a, b):
    assert a[0] == b[0] and a[1] == b[1] and a[3] == b[3]
    assert len(a[2]) == len(b[2])
    for sa, sb in zip(a[2], b[2]):
        assert len(sa) == len(sb)
        for x, y in zip(sa, sb):
            np.testing.assert_array_equal(x, y)


def _load_quietly(path, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return keras.models.load_model(path, **kwargs)


# ---- real Keras files ----
MODEL_CASES = ["mlp_k2", "mlp_k3", "dropout_sigmoid_k2", "dropout_sigmoid_k3", "cnn_k2", "cnn_k3"]


@pytest.mark.parametrize("case", MODEL_CASES)
def test_keras_fixture_loads_and_predicts(case):
    if case.startswith("cnn"):
        _needs("Conv2D", "MaxPooling2D")
    model = keras.models.load_model(FIXTURES / f"{case}.h5")
    x = np.load(FIXTURES / f"{case}.input.npy")
    expected = np.load(FIXTURES / f"{case}.expected.npy")
    assert np.max(np.abs(_predict(model, x) - expected)) <= TOL
    assert model.compiled and model.metrics_names == ["loss", "accuracy"]


def _mlp(names=("dense", "dense_1", "dense_2")):
    return keras.Sequential([
        keras.Input((20,)),
        layers.Dense(32, activation="relu", name=names[0]),
        layers.Dense(16, activation="tanh", name=names[1]),
        layers.Dense(3, activation="softmax", name=names[2]),
    ])  # fmt: skip


@pytest.mark.parametrize("filename", ["mlp_weights_k2.h5", "mlp_weights_k3.weights.h5"])
def test_keras_weights_files_load_into_rebuilt_model(filename):
    case = filename.split(".")[0]
    model = _mlp(("first", "second", "third"))  # both layouts ignore the layers' own names
    model.load_weights(FIXTURES / filename)
    x = np.load(FIXTURES / f"{case}.input.npy")
    expected = np.load(FIXTURES / f"{case}.expected.npy")
    assert np.max(np.abs(_predict(model, x) - expected)) <= TOL


@pytest.mark.parametrize("path", sorted(glob.glob(str(FIXTURES / "synthetic" / "*.h5"))),
                         ids=lambda p: Path(p).stem)
def test_synthetic_minimal_files_load(path):
    model = _load_quietly(path)
    x = np.load(FIXTURES / "mlp_k2.input.npy")
    expected = np.load(FIXTURES / "mlp_k2.expected.npy")
    assert np.max(np.abs(_predict(model, x) - expected)) <= TOL
    if "compiled" in path:  # the optimizer state comes back whatever the class spelling
        assert model.optimizer.iterations == 8


@pytest.mark.parametrize("case", ["mlp_k2", "mlp_k3", "cnn_k2", "cnn_k3"])
def test_optimizer_state_restored_from_keras_files(case):
    if case.startswith("cnn"):
        _needs("Conv2D", "MaxPooling2D")
    model = keras.models.load_model(FIXTURES / f"{case}.h5")
    assert isinstance(model.optimizer, optimizers.Adam)
    # Keras 3 itself falls back to a default Adam (lr 0.001) for a Keras 2 file.
    assert model.optimizer.learning_rate == pytest.approx(0.005, rel=1e-6)
    iterations, _, slots, _ = _opt_state(model)
    with h5py.File(FIXTURES / f"{case}.h5", "r") as f:
        og = f["optimizer_weights"]
        names = h5_io.read_str_list_attr(og, "weight_names")
        saved = {n: np.asarray(og[n]) for n in names}
    assert iterations == 8 == int(saved[names[0]])
    k2 = case.endswith("k2")
    for var, (m, v) in zip(model.trainable_weights, slots):
        # Keras 3 names omit the model prefix in this check: match on the layer/weight tail.
        tail = var.path
        if k2:
            m_name, v_name = f"Adam/m/{tail}:0", f"Adam/v/{tail}:0"
        else:
            flat = "sequential_" + tail.replace("/", "_")
            m_name, v_name = f"adam/{flat}_momentum", f"adam/{flat}_velocity"
        np.testing.assert_array_equal(m, saved[m_name])
        np.testing.assert_array_equal(v, saved[v_name])


OPTIMIZER_FIXTURES = FIXTURES.parent / "keras_h5_optimizers"
_OPTIMIZER_FIXTURE_CLASSES = {"adamax": optimizers.Adamax, "lion": optimizers.Lion,
                              "ftrl": optimizers.Ftrl}


@pytest.mark.parametrize("case", [f"{o}_{k}" for o in ("adamax", "lion", "ftrl")
                                  for k in ("k2", "k3")])
def test_adamax_lion_ftrl_state_restored_and_resumed_from_keras_files(case):
    # Written by generate.py beside them: 3 steps in Keras, then the weights after a 4th.
    x = np.sin(np.arange(16) * 0.7).reshape(8, 2).astype("float32")
    y = np.cos(np.arange(8) * 0.4).reshape(8, 1).astype("float32")
    path = OPTIMIZER_FIXTURES / f"{case}.h5"
    model = keras.models.load_model(path)
    assert type(model.optimizer) is _OPTIMIZER_FIXTURE_CLASSES[case.split("_")[0]]
    iterations, _, slots, _ = _opt_state(model)
    with h5py.File(path, "r") as f:
        og = f["optimizer_weights"]
        arrays = [np.asarray(og[n]) for n in h5_io.read_str_list_attr(og, "weight_names")
                  if n.split("/")[-1] not in ("iteration", "iteration:0", "learning_rate")]
    assert iterations == 3
    n_slots = len(slots[0])
    # Keras 2 and Keras 3 both write each variable's slots together, in the engine's slot order.
    assert len(arrays) == n_slots * len(slots)
    for i, var_slots in enumerate(slots):
        for j, value in enumerate(var_slots):
            np.testing.assert_array_equal(value.ravel(), arrays[i * n_slots + j].ravel())
    model.train_on_batch(x, y)
    after = np.concatenate([w.ravel() for w in model.get_weights()])
    np.testing.assert_allclose(after, np.load(OPTIMIZER_FIXTURES / f"{case}.next.npy"),
                               rtol=1e-5, atol=1e-6)


def test_keras_file_compile_false_skips_training_config():
    model = keras.models.load_model(FIXTURES / "mlp_k2.h5", compile=False)
    assert not model.compiled


# ---- round trips ----
def _roundtrip(model, tmp_path, name="m.h5", **load_kwargs):
    path = tmp_path / name
    model.save(path)
    return keras.models.load_model(path, **load_kwargs)


def _trained(model, x, y, optimizer="adam", loss="mse", metrics=None, epochs=2):
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    model.fit(x, y, batch_size=8, epochs=epochs, shuffle=False, verbose=0)
    return model


def _layer_models():
    yield "dense_variants", keras.Sequential([
        keras.Input((6,)), layers.Dense(5, activation="elu", kernel_regularizer="l2"),
        layers.Dense(4, use_bias=False), layers.Activation("tanh"), layers.Dropout(0.2, seed=1),
        layers.Dense(3)])
    yield "activation_layers", keras.Sequential([
        keras.Input((6,)), layers.Dense(8), layers.LeakyReLU(0.2), layers.Dense(8),
        layers.ReLU(max_value=3.0), layers.Dense(8), layers.ELU(0.5), layers.Dense(3),
        layers.Softmax()])
    yield "reshape_flatten", keras.Sequential([
        keras.Input((6,)), layers.Reshape((2, 3)), layers.Flatten(), layers.Dense(3)])
    inputs = keras.Input((6,), name="in")
    a = layers.Dense(4, activation="relu")(inputs)
    b = layers.Dense(4, activation="sigmoid")(inputs)
    merged = layers.Concatenate()([layers.Add()([a, b]), layers.Multiply()([a, b])])
    yield "functional_merge", keras.Model(inputs, layers.Dense(3)(merged))
    if {"Conv2D", "MaxPooling2D", "BatchNormalization"} <= set(layers.registry()):
        yield "cnn_bn", keras.Sequential([
            keras.Input((6, 6, 2)), layers.Conv2D(3, 3, padding="same", activation="relu"),
            layers.BatchNormalization(), layers.MaxPooling2D(2), layers.Flatten(),
            layers.Dense(3)])


@pytest.mark.parametrize("name", [n for n, _ in _layer_models()])
def test_roundtrip_every_layer_type(name, tmp_path, rng):
    model = dict(_layer_models())[name]
    x = rng.normal(size=(16,) + tuple(model.input_shape[1:])).astype("float32")
    y = rng.normal(size=(16, 3)).astype("float32")
    _trained(model, x, y)
    loaded = _roundtrip(model, tmp_path)
    assert type(loaded) is type(model)
    assert [l.name for l in loaded.layers] == [l.name for l in model.layers]
    np.testing.assert_array_equal(_predict(loaded, x), _predict(model, x))
    _assert_same_state(_opt_state(loaded), _opt_state(model))


OPTIMIZERS = {
    "sgd": lambda: optimizers.SGD(0.05),
    "sgd_nesterov": lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "rmsprop": lambda: optimizers.RMSprop(0.01),
    "rmsprop_centered_momentum": lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "adagrad": lambda: optimizers.Adagrad(0.05),
    "adadelta": lambda: optimizers.Adadelta(1.0),
    "adam": lambda: optimizers.Adam(0.005),
    "adam_amsgrad": lambda: optimizers.Adam(0.005, amsgrad=True),
    "adamw": lambda: optimizers.AdamW(0.005, weight_decay=0.01),
    "nadam": lambda: optimizers.Nadam(0.005, beta_1=0.85),
    "adamax": lambda: optimizers.Adamax(0.01, beta_1=0.8, weight_decay=0.01),
    "lion": lambda: optimizers.Lion(0.002, beta_2=0.95, clipnorm=1.0),
    "ftrl": lambda: optimizers.Ftrl(0.1, learning_rate_power=-0.6, l1_regularization_strength=0.001,
                                    l2_shrinkage_regularization_strength=0.01, beta=0.1),
}


@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_resume_after_reload_is_bit_identical(opt, tmp_path, rng):
    x = rng.normal(size=(40, 6)).astype("float32")
    y = rng.normal(size=(40, 2)).astype("float32")

    def fresh():
        keras.utils.set_random_seed(7)
        return keras.Sequential([keras.Input((6,)), layers.Dense(8, activation="tanh"),
                                 layers.Dense(2)])

    uninterrupted = _trained(fresh(), x, y, OPTIMIZERS[opt](), epochs=4)
    first_half = _trained(fresh(), x, y, OPTIMIZERS[opt](), epochs=2)
    resumed = _roundtrip(first_half, tmp_path)
    _assert_same_state(_opt_state(resumed), _opt_state(first_half))
    resumed.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(resumed.get_weights(), uninterrupted.get_weights()):
        np.testing.assert_array_equal(a, b)
    _assert_same_state(_opt_state(resumed), _opt_state(uninterrupted))


def test_resume_with_seeded_dropout_and_shuffle(tmp_path, rng):
    x = rng.normal(size=(32, 5)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32")

    def fresh():
        keras.utils.set_random_seed(3)
        return keras.Sequential([keras.Input((5,)), layers.Dense(8, activation="relu"),
                                 layers.Dropout(0.3, seed=11), layers.Dense(1)])

    a = _trained(fresh(), x, y, optimizers.Adam(0.01), epochs=1)
    keras.utils.set_random_seed(5)
    a.fit(x, y, batch_size=8, epochs=1, verbose=0)
    b = _trained(fresh(), x, y, optimizers.Adam(0.01), epochs=1)
    b = _roundtrip(b, tmp_path)
    keras.utils.set_random_seed(5)
    b.fit(x, y, batch_size=8, epochs=1, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_nadam_product_recomputed_for_keras2_files(tmp_path, rng):
    x = rng.normal(size=(24, 6)).astype("float32")
    y = rng.normal(size=(24, 2)).astype("float32")
    model = _trained(keras.Sequential([keras.Input((6,)), layers.Dense(2)]), x, y,
                     optimizers.Nadam(0.01, beta_1=0.8), epochs=3)
    path = tmp_path / "nadam.h5"
    model.save(path)
    with h5py.File(path, "a") as f:  # what tf_keras writes: no u_product anywhere
        del f["optimizer_weights"].attrs["kerasette_nadam_u_product"]
    _assert_same_state(_opt_state(keras.models.load_model(path)), _opt_state(model))


def test_loss_alias_metrics_and_loss_objects_roundtrip(tmp_path, rng):
    x = rng.normal(size=(16, 4)).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")
    model = _trained(keras.Sequential([keras.Input((4,)), layers.Dense(1)]), x, y, "rmsprop",
                     loss="mse", metrics=["mae", keras.metrics.MeanSquaredError(name="m2")])
    loaded = _roundtrip(model, tmp_path)
    assert loaded.metrics_names == model.metrics_names == ["loss", "mae", "m2"]
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    model.compile(optimizer="sgd", loss=keras.losses.Huber(delta=0.5))
    assert isinstance(_roundtrip(model, tmp_path, "h.h5").optimizer, optimizers.SGD)



@pytest.mark.parametrize("alias, written", [
    ("mse", "mean_squared_error"), ("MAE", "mean_absolute_error"), ("huber_loss", "huber"),
    ("bce", "binary_crossentropy")])
def test_loss_aliases_written_as_function_names(alias, written, tmp_path, rng):
    # Keras 3's `.h5` loader raises on "mse"/"mae"/"huber_loss" (even in its own files) and
    # tf_keras on "huber_loss"; both read the function names.
    x = rng.normal(size=(8, 4)).astype("float32")
    model = _trained(keras.Sequential([keras.Input((4,)), layers.Dense(1)]), x, x[:, :1],
                     loss=alias)
    loaded = _roundtrip(model, tmp_path)
    with h5py.File(tmp_path / "m.h5", "r") as f:
        assert json.loads(f.attrs["training_config"])["loss"] == written
    assert loaded.evaluate(x, x[:, :1], verbose=0) == model.evaluate(x, x[:, :1], verbose=0)

# ---- the written layout ----
def test_written_file_uses_the_keras2_layout(tmp_path, rng):
    x = rng.normal(size=(16, 20)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 3, 16), 3)
    model = _trained(_mlp(), x, y, optimizers.Adam(0.005), "categorical_crossentropy",
                     ["accuracy"])
    path = tmp_path / "mlp.h5"
    model.save(path)
    with h5py.File(path, "r") as f:
        assert f.attrs["keras_version"] == "2.21.0" and f.attrs["backend"] == "tensorflow"
        assert h5py.check_string_dtype(f.attrs.get_id("keras_version").dtype).encoding == "utf-8"
        mc = json.loads(f.attrs["model_config"])
        assert mc["class_name"] == "Sequential"
        assert mc["config"]["layers"][0]["config"]["batch_input_shape"] == [None, 20]
        tc = json.loads(f.attrs["training_config"])
        assert tc["loss"] == "categorical_crossentropy"
        assert tc["metrics"] == [[{"class_name": "MeanMetricWrapper", "config": {
            "name": "accuracy", "dtype": "float32", "fn": "categorical_accuracy"}}]]
        opt = tc["optimizer_config"]
        assert opt["class_name"] == "Custom>Adam" and opt["config"]["name"] == "Adam"
        assert opt["config"]["is_legacy_optimizer"] is False
        assert "loss_scale_factor" not in opt["config"]
        mw = f["model_weights"]
        assert h5_io.read_str_list_attr(mw, "layer_names") == ["dense", "dense_1", "dense_2"]
        assert h5_io.read_str_list_attr(mw["dense"], "weight_names") == [
            "dense/kernel:0", "dense/bias:0"]
        assert mw["dense/dense/kernel:0"].dtype == np.dtype("<f4")
        empty = mw["top_level_model_weights"].attrs["weight_names"]
        assert empty.dtype == np.float64 and empty.shape == (0,)
        names = h5_io.read_str_list_attr(f["optimizer_weights"], "weight_names")
        assert names[:3] == ["iteration:0", "Adam/m/dense/kernel:0", "Adam/v/dense/kernel:0"]
        assert f["optimizer_weights/iteration:0"].dtype == np.dtype("<i8")



@pytest.mark.parametrize("name, written", [("ftrl", "Ftrl"), ("ftrl_6", "Ftrl"),
                                           ("my_ftrl", "my_ftrl")])
def test_h5_writes_keras2_default_optimizer_names(tmp_path, name, written):
    # An automatic name, also one read back from a .keras file ("ftrl_6"), is written as Keras 2's
    # default: Keras 3 finds the file's "Custom>Ftrl" optimizer by this name.
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=optimizers.Ftrl(name=name), loss="mse")
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        opt = json.loads(f.attrs["training_config"])["optimizer_config"]
    assert opt["class_name"] == "Custom>Ftrl" and opt["config"]["name"] == written

def test_long_attribute_lists_are_chunked_and_read_back(tmp_path):
    names = [f"layer_with_a_long_name_{i:05d}" for i in range(3000)]  # > 64512 bytes
    with h5py.File(tmp_path / "a.h5", "w") as f:
        h5_io.write_str_list_attr(f, "layer_names", names)
        assert "layer_names" not in f.attrs and "layer_names1" in f.attrs
        assert f.attrs["layer_names0"].dtype.kind == "S"  # fixed-length, as Keras writes them
        assert h5_io.read_str_list_attr(f, "layer_names") == names


def test_save_weights_layouts_and_reload(tmp_path, rng):
    model = _mlp(("a", "b", "c"))
    x = rng.normal(size=(4, 20)).astype("float32")
    for name in ("w.h5", "w.weights.h5"):
        model.save_weights(tmp_path / name)
        other = _mlp(("a", "b", "c"))
        other.load_weights(tmp_path / name)
        np.testing.assert_array_equal(_predict(other, x), _predict(model, x))
    with h5py.File(tmp_path / "w.h5", "r") as f:
        assert "model_config" not in f.attrs and "layer_names" in f.attrs
    with h5py.File(tmp_path / "w.weights.h5", "r") as f:
        # Keras 3 names the groups by class and position, whatever the layers are called.
        assert sorted(f["layers"].keys()) == ["dense", "dense_1", "dense_2"]
        assert sorted(f["layers/dense/vars"].keys()) == ["0", "1"]


def test_load_weights_by_name_and_skip_mismatch(tmp_path):
    source = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="x"),
                               layers.Dense(2, name="y")])
    source.save_weights(tmp_path / "w.h5")
    target = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="x"),
                               layers.Dense(4, name="y"), layers.Dense(2, name="z")])
    with pytest.raises(ValueError, match="Shape mismatch in layer 'y'"):
        target.load_weights(tmp_path / "w.h5", by_name=True)
    with pytest.warns(UserWarning, match="Skipping loading weights for layer 'y'"):
        target.load_weights(tmp_path / "w.h5", by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(target.get_layer("x").get_weights()[0],
                                  source.get_layer("x").get_weights()[0])
    with pytest.raises(ValueError, match="Layer count mismatch"):
        target.load_weights(tmp_path / "w.h5")


def test_load_weights_reads_a_keras_archive(tmp_path, rng):
    # Keras 3's `load_weights` takes a whole `.keras` file; it was opened as HDF5 and failed.
    model = _mlp()
    x = rng.normal(size=(4, 20)).astype("float32")
    model.save(tmp_path / "m.keras")
    other = _mlp()
    other.load_weights(tmp_path / "m.keras")
    np.testing.assert_array_equal(_predict(other, x), _predict(model, x))
    wrong = keras.Sequential([keras.Input((20,)), layers.Dense(5), layers.Dense(16),
                              layers.Dense(3)])
    with pytest.raises(ValueError, match=r"Shape mismatch .*m\.keras.*\(20, 5\).*\(20, 32\)"):
        wrong.load_weights(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="`by_name` is only supported"):
        other.load_weights(tmp_path / "m.keras", by_name=True)


# ---- safety ----
def test_saving_an_unbuilt_model_keeps_the_existing_file(tmp_path, saved_mlp):
    # `save_weights` of a model without weights wrote an empty file over the saved one.
    model, path, _ = saved_mlp
    weights = tmp_path / "good.weights.h5"
    model.save_weights(weights)
    files = {p: p.read_bytes() for p in (path, weights)}
    unbuilt = keras.Sequential([layers.Dense(3)])
    for save in (unbuilt.save_weights, unbuilt.save):
        for target in files:
            with pytest.raises(ValueError, match="has not been built yet"):
                save(target)
    assert {p: p.read_bytes() for p in files} == files


def test_load_model_from_a_directory_raises_value_error(tmp_path):
    # Keras 3 raises ValueError ("File format not supported"); h5py's OSError told of a file
    # descriptor and errno 21.
    for name in ("saved_model", "folder.h5", "folder.keras"):
        (tmp_path / name).mkdir()
        with pytest.raises(ValueError, match=f"{name}.*directory"):
            keras.models.load_model(tmp_path / name)
    with pytest.raises(ValueError, match="saved_model.*directory"):
        _mlp().load_weights(tmp_path / "saved_model")

def _write_config(path, layer_entry):
    with h5py.File(FIXTURES / "synthetic" / "min_seq_vlen.h5", "r") as src:
        config = json.loads(src.attrs["model_config"])
    config["config"]["layers"].insert(1, layer_entry)
    with h5py.File(path, "w") as f:
        h5_io.write_str_attr(f, "model_config", json.dumps(config))
        f.create_group("model_weights")


def test_keras3_only_layer_keys_are_read():
    # Keras 3 writes ZeroPadding1D's `data_format`; Keras 2 (and kerasette) have none.
    from kerasette.saving.legacy_h5 import model_from_config

    config = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 6, 3], "name": "in"}},
        {"class_name": "ZeroPadding1D", "config": {"name": "zp", "padding": [2, 1],
                                                   "data_format": "channels_last"}},
    ]}}  # fmt: skip
    model = model_from_config(config, None, "k3.h5")
    assert model.output_shape == (None, 9, 3)
    config["config"]["layers"][1]["config"]["data_format"] = "channels_first"
    with pytest.raises(ValueError, match="data_format"):
        model_from_config(config, None, "k3.h5")

def test_lambda_layer_is_refused_with_a_clear_message(tmp_path):
    _write_config(tmp_path / "l.h5", {"class_name": "Lambda", "config": {
        "name": "evil", "function": ["4wEAAAAAAAAA", None, None], "function_type": "lambda"}})
    with pytest.raises(ValueError, match=r"Layer 'evil' is a Lambda layer.*custom_objects"):
        keras.models.load_model(tmp_path / "l.h5")


def test_unknown_class_names_layer_and_custom_objects(tmp_path):
    _write_config(tmp_path / "u.h5", {"class_name": "MyScale", "config": {"name": "scale"}})
    with pytest.raises(ValueError, match=r"'MyScale' \(layer 'scale'\).*custom_objects"):
        keras.models.load_model(tmp_path / "u.h5")


def test_custom_objects_supply_a_class(tmp_path, rng):
    class MyDense(layers.Dense):
        pass

    model = keras.Sequential([keras.Input((3,)), MyDense(2, name="mine")])
    model.save(tmp_path / "c.h5")
    with pytest.raises(ValueError, match="MyDense"):
        keras.models.load_model(tmp_path / "c.h5")
    loaded = keras.models.load_model(tmp_path / "c.h5", custom_objects={"MyDense": MyDense})
    assert isinstance(loaded.layers[0], MyDense)
    x = rng.normal(size=(2, 3)).astype("float32")
    np.testing.assert_array_equal(_predict(loaded, x), _predict(model, x))


# ---- bad files ----
@pytest.fixture
def saved_mlp(tmp_path, rng):
    x = rng.normal(size=(16, 20)).astype("float32")
    y = rng.normal(size=(16, 3)).astype("float32")
    model = _trained(_mlp(), x, y)
    path = tmp_path / "good.h5"
    model.save(path)
    return model, path, x


@pytest.mark.parametrize("config, message", [
    ({"class_name": "Sequential", "config": {"name": "s"}}, "missing entry 'layers'"),
    ({"class_name": "Functional", "config": {
        "name": "f", "input_layers": [["i", 0, 0]], "output_layers": [["nowhere", 0, 0]],
        "layers": [{"class_name": "InputLayer", "name": "i", "inbound_nodes": [],
                    "config": {"batch_input_shape": [None, 3], "name": "i"}}]}},
     r"The model config.s `output_layers` refers to \['nowhere', 0, 0\], which no layer of the "
     "config produces"),
    ({"class_name": "Functional", "config": {
        "name": "f", "layers": [5], "input_layers": [], "output_layers": []}},
     "'int' object has no attribute"),
])  # fmt: skip
def test_malformed_model_configs_raise_value_errors_naming_the_file(config, message, tmp_path):
    path = tmp_path / "bad.h5"
    with h5py.File(path, "w") as f:
        h5_io.write_str_attr(f, "model_config", json.dumps(config))
    expected = f"Could not rebuild the model saved in .*bad.h5': {message}"
    with pytest.raises(ValueError, match=expected):
        keras.models.load_model(path)

def test_not_hdf5_missing_and_truncated_files(tmp_path, saved_mlp):
    _, path, _ = saved_mlp
    with pytest.raises(FileNotFoundError):
        keras.models.load_model(tmp_path / "nope.h5")
    (tmp_path / "text.h5").write_text("not an HDF5 file")
    with pytest.raises(OSError, match="text.h5"):
        keras.models.load_model(tmp_path / "text.h5")
    data = path.read_bytes()
    for cut in (100, len(data) // 2, len(data) - 100):
        (tmp_path / "cut.h5").write_bytes(data[:cut])
        with pytest.raises((OSError, ValueError), match="cut.h5"):
            keras.models.load_model(tmp_path / "cut.h5")


def test_corrupted_bytes_raise_python_errors(tmp_path, saved_mlp):
    _, path, _ = saved_mlp
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(0)
    for trial in range(20):
        bad = bytearray(data)
        start = int(rng.integers(0, len(bad) - 64))
        bad[start:start + 64] = bytes(rng.integers(0, 256, 64, dtype=np.uint8))
        (tmp_path / "bad.h5").write_bytes(bytes(bad))
        try:
            _load_quietly(tmp_path / "bad.h5")
        except (OSError, ValueError):
            pass  # loading garbage may also succeed when only weight values were hit


def test_missing_weight_wrong_shape_and_dtype(tmp_path, saved_mlp):
    _, path, _ = saved_mlp
    cases = {
        "missing": lambda f: f.__delitem__("model_weights/dense_1/dense_1/bias:0"),
        "shape": lambda f: (f.__delitem__("model_weights/dense_1/dense_1/bias:0"),
                            f.create_dataset("model_weights/dense_1/dense_1/bias:0",
                                             data=np.zeros(7, "f4"))),
        "dtype": lambda f: (f.__delitem__("model_weights/dense_1/dense_1/bias:0"),
                            f.create_dataset("model_weights/dense_1/dense_1/bias:0",
                                             data=np.array([b"x"] * 16))),
        "no_config": lambda f: f.attrs.__delitem__("model_config"),
        "bad_json": lambda f: f.attrs.__setitem__("model_config", "{not json"),
        "optimizer": lambda f: f.__delitem__("optimizer_weights/Adam/v/dense_2/bias:0"),
    }
    messages = {"missing": "dense_1/bias:0", "shape": "layer 'dense_1'", "dtype": "dense_1",
                "no_config": "No model config", "bad_json": "not valid JSON",
                "optimizer": "Adam/v/dense_2/bias:0"}
    for case, edit in cases.items():
        target = tmp_path / f"{case}.h5"
        target.write_bytes(path.read_bytes())
        with h5py.File(target, "a") as f:
            edit(f)
        with pytest.raises(ValueError, match=messages[case]) as info:
            keras.models.load_model(target)
        assert str(target) in str(info.value)


def test_optimizer_state_mismatch_is_an_error_not_a_reset(tmp_path, saved_mlp):
    _, path, _ = saved_mlp
    with h5py.File(path, "a") as f:
        tc = json.loads(f.attrs["training_config"])
        tc["optimizer_config"] = {"class_name": "Custom>RMSprop",
                                  "config": {"name": "RMSprop", "learning_rate": 0.01}}
        f.attrs["training_config"] = json.dumps(tc)
    with pytest.raises(ValueError, match="compile=False"):
        keras.models.load_model(path)
    assert not keras.models.load_model(path, compile=False).compiled


def test_overwrite_false_and_bad_extension(tmp_path, saved_mlp):
    model, path, _ = saved_mlp
    with pytest.raises(FileExistsError, match="overwrite=True"):
        model.save(path, overwrite=False)
    with pytest.raises(ValueError, match="extension"):
        model.save(tmp_path / "model.tf")
    model.save(tmp_path / "model.bin", save_format="h5")
    keras.models.load_model(tmp_path / "model.bin")


def test_interrupted_save_leaves_the_old_file(tmp_path, saved_mlp, monkeypatch):
    model, path, x = saved_mlp
    before = _predict(keras.models.load_model(path), x)
    model.layers[0].set_weights([w * 0 for w in model.layers[0].get_weights()])

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(h5_weights, "write_weights", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        model.save(path)
    np.testing.assert_array_equal(_predict(keras.models.load_model(path), x), before)
    assert sorted(os.listdir(tmp_path)) == ["good.h5"]  # no temporary file left behind


def test_functional_layers_written_in_keras_order(tmp_path, rng):
    # Keras pairs weights by position with its own layer order (deepest first); a Dense called
    # first but nearer the output must come after the deeper one, or Keras swaps their weights.
    inputs = keras.Input((8,), name="in")
    near = layers.Dense(6, name="near")(inputs)
    far = layers.LeakyReLU(0.1, name="leaky")(layers.Dense(6, name="far")(inputs))
    merged = layers.Concatenate(name="cat")([layers.Add(name="add")([near, far]), far])
    model = keras.Model(inputs, layers.Dense(3, name="out")(merged))
    x = rng.normal(size=(16, 8)).astype("float32")
    _trained(model, x, rng.normal(size=(16, 3)).astype("float32"))
    model.save(tmp_path / "f.h5")
    with h5py.File(tmp_path / "f.h5", "r") as f:
        assert h5_io.read_str_list_attr(f["model_weights"], "layer_names") == [
            "in", "far", "near", "leaky", "add", "cat", "out"]
        names = h5_io.read_str_list_attr(f["optimizer_weights"], "weight_names")
        assert names[1] == "Adam/m/far/kernel:0"
    loaded = keras.models.load_model(tmp_path / "f.h5")
    np.testing.assert_array_equal(_predict(loaded, x), _predict(model, x))
    _assert_same_state(_opt_state(loaded), _opt_state(model))



def _nested_model():
    """A functional model calling a Sequential and (twice) a functional model, each built from
    its own Input."""
    seq = keras.Sequential([keras.Input((6,)), layers.Dense(4, activation="relu")], name="seq")
    i = keras.Input((6,))
    func = keras.Model(i, layers.Dense(4)(i), name="func")
    a, b = keras.Input((6,), name="a"), keras.Input((6,), name="b")
    out = layers.Dense(2, name="out")(layers.Concatenate()([seq(a), func(a)]))
    return keras.Model([a, b], [out, func(b)])


def _refs(config, name):
    """The `[layer, node, tensor, ...]` references to layer `name` in a functional config."""
    inbound = [ref for entry in config["config"]["layers"] for node in entry["inbound_nodes"]
               for ref in node]
    return [ref for ref in inbound + config["config"]["output_layers"] if ref[0] == name]


def _save_edited(model, path, edit):
    model.save(path)
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        edit(config)
        h5_io.write_str_attr(f, "model_config", json.dumps(config))
    return config


def _assert_same_outputs(path, model, x):
    for a, b in zip(_predict(_load_quietly(path), x), _predict(model, x)):
        np.testing.assert_array_equal(a, b)


def test_nested_models_use_keras2_node_numbers(tmp_path, rng):
    # Keras 2 numbers the calls of a nested model built from an Input from 1 (it skips the
    # Input-to-output node) and loops forever on a 0; Keras 3 counts from 0. A nested Sequential
    # is written without its InputLayer, which both count from 0.
    model = _nested_model()
    x = [rng.normal(size=(4, 6)).astype("float32") for _ in range(2)]
    config = _save_edited(model, tmp_path / "nested.h5", lambda config: None)
    seq_entry = next(e for e in config["config"]["layers"] if e["name"] == "seq")
    assert [e["class_name"] for e in seq_entry["config"]["layers"]] == ["Dense"]
    assert [r[:3] for r in _refs(config, "seq")] == [["seq", 0, 0]]
    assert [r[:3] for r in _refs(config, "func")] == [["func", 1, 0], ["func", 2, 0]]
    _assert_same_outputs(tmp_path / "nested.h5", model, x)

    def as_keras2(config):  # what tf_keras writes: the Sequential keeps its InputLayer
        entry = next(e for e in config["config"]["layers"] if e["name"] == "seq")
        entry["config"]["layers"].insert(0, {"class_name": "InputLayer", "config": {
            "batch_input_shape": [None, 6], "dtype": "float32", "name": "seq_input"}})
        for ref in _refs(config, "seq"):
            ref[1] += 1

    _save_edited(model, tmp_path / "k2.h5", as_keras2)
    _assert_same_outputs(tmp_path / "k2.h5", model, x)


def test_nested_models_from_earlier_kerasette_files_load(tmp_path, rng):
    # kerasette once wrote Keras 3's numbers (from 0), nested Sequential InputLayer included.
    model = _nested_model()
    x = [rng.normal(size=(4, 6)).astype("float32") for _ in range(2)]

    def as_before(config):
        entry = next(e for e in config["config"]["layers"] if e["name"] == "seq")
        entry["config"] = model.get_layer("seq").get_config()
        for ref in _refs(config, "func"):
            ref[1] -= 1

    _save_edited(model, tmp_path / "old.h5", as_before)
    _assert_same_outputs(tmp_path / "old.h5", model, x)


def test_keras3_weights_layout_of_nested_models(tmp_path, rng):
    # Keras 3 keeps a nested model's weights under `<its group>/layers/<class path>/vars`,
    # numbering classes afresh inside it; the model's own `vars` group is empty.
    model = _nested_model()
    model.save_weights(tmp_path / "n.weights.h5")
    with h5py.File(tmp_path / "n.weights.h5", "r") as f:
        datasets = []
        f.visititems(lambda name, obj: datasets.append(name)
                     if isinstance(obj, h5py.Dataset) else None)
        assert len(f["layers/sequential/vars"]) == len(f["layers/functional/vars"]) == 0
    assert sorted(datasets) == [
        f"layers/{path}/vars/{i}" for path in ("dense", "functional/layers/dense",
                                               "sequential/layers/dense") for i in (0, 1)]
    clone = _nested_model()
    clone.load_weights(tmp_path / "n.weights.h5")
    x = [rng.normal(size=(4, 6)).astype("float32") for _ in range(2)]
    for a, b in zip(_predict(clone, x), _predict(model, x)):
        np.testing.assert_array_equal(a, b)


def test_saved_file_permissions_follow_umask_or_the_replaced_file(tmp_path, saved_mlp):
    # The temporary file used to be created 0600, so every saved model was private.
    model, _, _ = saved_mlp
    umask = os.umask(0o022)
    try:
        model.save(tmp_path / "new.h5")
        assert (tmp_path / "new.h5").stat().st_mode & 0o777 == 0o644
        os.chmod(tmp_path / "new.h5", 0o640)
        model.save(tmp_path / "new.h5")
        assert (tmp_path / "new.h5").stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(umask)


def test_saving_through_a_symlink_writes_its_target(tmp_path, saved_mlp):
    model, path, x = saved_mlp
    (tmp_path / "store").mkdir()
    target = tmp_path / "store" / "model.h5"
    target.write_bytes(b"")
    (tmp_path / "link.h5").symlink_to(target)
    model.save(tmp_path / "link.h5")
    assert (tmp_path / "link.h5").is_symlink()
    np.testing.assert_array_equal(_predict(keras.models.load_model(target), x), _predict(model, x))


def test_unwritable_destinations_name_the_requested_path(tmp_path, saved_mlp):
    model, path, _ = saved_mlp
    with pytest.raises(FileNotFoundError, match=r"missing/m\.h5'.*does not exist"):
        model.save(tmp_path / "missing" / "m.h5")
    with pytest.raises(NotADirectoryError, match=r"good\.h5/m\.h5'"):
        model.save_weights(path / "m.h5")
    (tmp_path / "folder.h5").mkdir()
    with pytest.raises(IsADirectoryError, match=r"folder\.h5'.*is a directory"):
        model.save(tmp_path / "folder.h5")
    assert sorted(os.listdir(tmp_path)) == ["folder.h5", "good.h5"]


# ---------------------------------------------------------------- JSON architectures
JSON_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "keras_json"


def _two_branch_model():
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    merged = layers.concatenate([layers.Dense(2, activation="relu")(a), b])
    return keras.Model([a, b], layers.Dense(1, activation="sigmoid")(merged), name="two_branch")


@pytest.mark.parametrize("factory", [
    lambda: keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="relu"),
                              layers.Dropout(0.1), layers.Dense(1)], name="mlp"),
    _two_branch_model,
], ids=["sequential", "functional"])
def test_to_json_round_trip(factory):
    model = factory()
    clone = keras.models.model_from_json(model.to_json())
    assert type(clone) is type(model)
    assert clone.get_config() == model.get_config()
    assert clone.count_params() == model.count_params()


def test_to_json_has_the_keys_keras3_finds_the_class_by():
    # Keras 3's model_from_json imports the class from `module`; tf_keras ignores the key.
    sequential = json.loads(keras.Sequential([keras.Input((2,)), layers.Dense(1)]).to_json())
    functional = json.loads(_two_branch_model().to_json(indent=2))
    assert (sequential["module"], sequential["class_name"]) == ("keras", "Sequential")
    assert (functional["module"], functional["class_name"]) == (
        "keras.src.models.functional", "Functional")
    assert functional["config"]["layers"][0]["config"]["batch_input_shape"] == [None, 4]


def test_to_json_carries_build_and_compile_config_and_model_from_json_compiles(rng):
    # Keras 3.15 writes both keys (compile_config {} when uncompiled), and its model_from_json
    # compiles a model whose JSON has compile arguments: load_weights then evaluate just works.
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    config = json.loads(model.to_json())
    assert config["build_config"] == {"input_shape": [None, 3]} and config["compile_config"] == {}
    assert not keras.models.model_from_json(model.to_json()).compiled
    model.compile("adam", "mse", metrics=["mae"])
    compile_config = json.loads(model.to_json())["compile_config"]
    assert compile_config["optimizer"]["class_name"] == "Adam"
    assert {k: compile_config[k] for k in ("loss", "metrics", "loss_weights")} == {
        "loss": "mse", "metrics": ["mae"], "loss_weights": None}
    clone = keras.models.model_from_json(model.to_json())
    assert clone.compiled and type(clone.optimizer).__name__ == "Adam"
    clone.set_weights(model.get_weights())
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    assert clone.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))
    functional = json.loads(_two_branch_model().to_json())
    assert functional["build_config"] == {"input_shape": None}


def test_get_compile_config_build_config_and_compile_from_config():
    # Keras 3.15's values for the same model (the keras.io getting-started guide's calls).
    model = keras.Sequential([keras.Input((8, 8, 1)), layers.Flatten(), layers.Dense(10)])
    assert model.get_compile_config() is None
    assert model.get_build_config() == {"input_shape": (None, 8, 8, 1)}
    assert keras.Sequential([layers.Dense(1)]).get_build_config() is None
    assert _two_branch_model().get_build_config() == {"input_shape": None}
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy())
    config = model.get_compile_config()
    assert config["loss"] == {
        "module": "keras.losses", "class_name": "SparseCategoricalCrossentropy",
        "config": {"name": "sparse_categorical_crossentropy", "reduction": "sum_over_batch_size",
                   "from_logits": False, "ignore_class": None},
        "registered_name": None}
    clone = keras.models.clone_model(model)
    clone.compile_from_config(config)
    assert clone.compiled and type(clone.optimizer).__name__ == "Adam"
    assert clone.get_compile_config()["loss"] == config["loss"]


def test_model_from_json_reads_keras3_and_tf_keras():
    convnet = keras.models.model_from_json((JSON_FIXTURES / "functional_keras3.json").read_text())
    assert [layer.name for layer in convnet.layers] == ["image", "conv", "pool", "flatten", "probs"]
    assert convnet.output_shape == (None, 3) and convnet.count_params() == 20 + 57
    mlp = keras.models.model_from_json((JSON_FIXTURES / "sequential_tf_keras.json").read_text())
    assert mlp.name == "mlp" and [layer.name for layer in mlp.layers] == ["hidden", "drop", "out"]
    assert mlp.layers[1].rate == 0.2 and mlp.count_params() == 25 + 6


def test_model_from_json_errors():
    with pytest.raises(ValueError, match="is not a Keras model config"):
        keras.models.model_from_json("[1, 2]")
    with pytest.raises(ValueError, match="Could not rebuild the model: missing entry 'layers'"):
        keras.models.model_from_json('{"class_name": "Sequential", "config": {"name": "m"}}')


def test_models_save_model_and_layer_serialization(tmp_path):
    model = keras.Sequential([keras.Input((2,)), layers.Dense(3, activation="relu")])
    keras.models.save_model(model, tmp_path / "m.h5")
    assert keras.models.load_model(tmp_path / "m.h5", compile=False).count_params() == 9
    entry = layers.serialize(model.layers[0])
    assert (entry["module"], entry["class_name"]) == ("keras.layers", "Dense")
    clone = layers.deserialize(entry)
    assert isinstance(clone, layers.Dense) and clone.get_config() == model.layers[0].get_config()
