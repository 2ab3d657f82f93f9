"""Keras 3's native `.keras` format: fixtures written by real Keras 3, round trips, resuming
training, `ModelCheckpoint`, and every bad-archive case.

Fixtures (tests/fixtures/keras3_native, written by `generate.py` there with Keras 3.15.1): each
CASE.keras is a compiled model trained 2 steps; CASE.npz holds the inputs, Keras's predictions,
and Keras's loss and predictions after one more `train_on_batch`. Tolerance 1e-5: kerasette's
float32 kernels sum in another order than TensorFlow's, so bit equality is only expected in
kerasette-to-kerasette round trips.
"""

import io
import json
import os
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

import kerasette as keras
from kerasette import layers, optimizers

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "keras3_native"
CASES = sorted(p.stem for p in FIXTURES.glob("*.keras"))
TOL = 1e-5


def _predict(model, x):
    return model.predict(x, batch_size=len(x), verbose=0)


def _opt_state(model):
    g = model._graph()
    return (int(g.iterations), float(g.learning_rate),
            [[np.asarray(s) for s in per_var] for per_var in g.get_optimizer_slots()])


def _assert_same_opt_state(a, b):
    sa, sb = _opt_state(a), _opt_state(b)
    assert sa[:2] == sb[:2]
    for va, vb in zip(sa[2], sb[2], strict=True):
        for x, y in zip(va, vb, strict=True):
            np.testing.assert_array_equal(x, y)


def _members(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _write_zip(path, members: dict) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _functional():
    inputs = keras.Input((6,))
    sub = keras.Sequential([layers.Dense(4, activation="relu"), layers.Dense(3)], name="sub")
    a = layers.Dense(5, activation="tanh")(inputs)
    merged = layers.Concatenate()([layers.Add()([sub(a), layers.Dense(3)(inputs)]), a])
    model = keras.Model(inputs, layers.Dense(2, activation="softmax")(merged))
    model.compile(optimizer=optimizers.Adam(0.01, amsgrad=True),
                  loss="categorical_crossentropy", metrics=["accuracy", "mae"])
    return model


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(8, 6)).astype("float32")
    return x, np.eye(2, dtype="float32")[rng.integers(0, 2, 8)]


@pytest.fixture
def trained(tmp_path):
    model = _functional()
    x, y = _data()
    for _ in range(2):
        model.train_on_batch(x, y)
    return model, x, y


# ---- files written by Keras 3 ----
@pytest.mark.parametrize("case", CASES)
def test_keras3_file_predicts_and_resumes_training_as_keras(case):
    data = np.load(FIXTURES / f"{case}.npz")
    model = keras.models.load_model(FIXTURES / f"{case}.keras")
    np.testing.assert_allclose(_predict(model, data["x"]), data["expected"], atol=TOL)
    assert model.compiled and model._graph().iterations == 2
    loss = model.train_on_batch(data["x"], data["y"])
    loss = loss[0] if isinstance(loss, list) else loss
    np.testing.assert_allclose(loss, data["next_loss"], rtol=1e-5)
    np.testing.assert_allclose(_predict(model, data["x"]), data["next_expected"], atol=TOL)


def test_keras3_file_restores_compile_arguments():
    model = keras.models.load_model(FIXTURES / "conv1d_rmsprop.keras")
    opt = model.optimizer
    assert isinstance(opt, optimizers.RMSprop)
    assert (opt.momentum, opt.centered, opt.rho) == (0.5, True, 0.9)
    np.testing.assert_allclose(model._graph().learning_rate, 0.01, rtol=1e-6)
    assert model._compile_args["loss"] == "mse"
    assert model._compile_args["metrics"] == ["mae"]
    cnn = keras.models.load_model(FIXTURES / "cnn_sgd.keras")
    assert (cnn.optimizer.momentum, cnn.optimizer.nesterov) == (0.9, True)
    assert type(cnn._compile_args["loss"]).__name__ == "SparseCategoricalCrossentropy"
    assert cnn._compile_args["loss"].from_logits


def test_keras3_file_loads_uncompiled():
    model = keras.models.load_model(FIXTURES / "mlp_adam.keras", compile=False)
    assert not model.compiled
    data = np.load(FIXTURES / "mlp_adam.npz")
    np.testing.assert_allclose(_predict(model, data["x"]), data["expected"], atol=TOL)


# ---- kerasette round trips ----
def test_round_trip_keeps_predictions_compile_and_optimizer_state(trained, tmp_path):
    model, x, y = trained
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(_predict(loaded, x), _predict(model, x))
    _assert_same_opt_state(loaded, model)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded._compile_args["metrics"] == ["accuracy", "mae"]
    model.train_on_batch(x, y)
    loaded.train_on_batch(x, y)
    for a, b in zip(loaded.weights, model.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_saved_archive_has_keras3_layout(trained, tmp_path):
    model, _, _ = trained
    model.save(tmp_path / "m.keras")
    members = _members(tmp_path / "m.keras")
    assert list(members) == ["metadata.json", "config.json", "model.weights.h5"]
    assert json.loads(members["metadata.json"])["keras_version"].startswith("3.")
    config = json.loads(members["config.json"])
    assert config["class_name"] == "Functional"
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"
    with h5py.File(io.BytesIO(members["model.weights.h5"]), "r") as f:
        names = sorted(f["optimizer/vars"].keys(), key=int)
        # step, learning rate, then (m, v) per weight, then v_hat per weight (amsgrad).
        assert len(names) == 2 + 3 * len(model.trainable_weights)
        assert f["optimizer/vars/0"][()] == 2


@pytest.mark.parametrize("optimizer", [
    optimizers.SGD(0.1), optimizers.SGD(0.1, momentum=0.9), optimizers.RMSprop(momentum=0.3),
    optimizers.Nadam(), optimizers.Adadelta(), optimizers.Adagrad(), optimizers.AdamW(),
    optimizers.Adam(optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)),
], ids=lambda o: type(o).__name__)
def test_round_trip_every_optimizer(optimizer, tmp_path):
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse")
    x, y = np.ones((4, 4), "float32"), np.zeros((4, 1), "float32")
    model.train_on_batch(x, y)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    _assert_same_opt_state(loaded, model)
    model.train_on_batch(x, y)
    loaded.train_on_batch(x, y)
    np.testing.assert_array_equal(_predict(loaded, x), _predict(model, x))


def test_compiled_but_untrained_model_saves_fresh_optimizer(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.compiled and loaded._graph().iterations == 0


def test_include_optimizer_false_and_uncompiled_model(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    model.save(tmp_path / "plain.keras")
    with pytest.warns(UserWarning, match="No training configuration"):
        assert not keras.models.load_model(tmp_path / "plain.keras").compiled
    model.compile(optimizer="sgd", loss="mse")
    model.save(tmp_path / "noopt.keras", include_optimizer=False)
    config = json.loads(_members(tmp_path / "noopt.keras")["config.json"])
    assert "compile_config" not in config


def test_save_format_keras_for_any_name(trained, tmp_path):
    model, x, _ = trained
    model.save(tmp_path / "model.bin", save_format="keras")
    assert zipfile.is_zipfile(tmp_path / "model.bin")
    loaded = keras.models.load_model(tmp_path / "model.bin")  # recognized as an archive
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match="Invalid filepath extension"):
        model.save(tmp_path / "model.bin")


def test_model_checkpoint_writes_loadable_keras_files(tmp_path):
    model = _functional()
    x, y = _data()
    path = str(tmp_path / "ckpt-{epoch:02d}.keras")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0,
              callbacks=[keras.callbacks.ModelCheckpoint(path, save_weights_only=False)])
    loaded = keras.models.load_model(tmp_path / "ckpt-02.keras")
    np.testing.assert_array_equal(_predict(loaded, x), _predict(model, x))
    _assert_same_opt_state(loaded, model)
    assert (tmp_path / "ckpt-01.keras").exists()


# ---- bad input ----
def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="File not found"):
        keras.models.load_model(tmp_path / "nope.keras")


def test_not_a_zip(tmp_path):
    (tmp_path / "m.keras").write_bytes(b"this is not a zip archive" * 10)
    with pytest.raises(ValueError, match="not a zip archive"):
        keras.models.load_model(tmp_path / "m.keras")


def test_zip_without_config(tmp_path):
    _write_zip(tmp_path / "m.keras", {"metadata.json": b"{}", "other.txt": b"x"})
    with pytest.raises(ValueError, match="has no `config.json`"):
        keras.models.load_model(tmp_path / "m.keras")


def test_zip_without_weights(tmp_path):
    members = _members(FIXTURES / "mlp_adam.keras")
    del members["model.weights.h5"]
    _write_zip(tmp_path / "m.keras", members)
    with pytest.raises(ValueError, match="has no `model.weights.h5`"):
        keras.models.load_model(tmp_path / "m.keras")


@pytest.mark.parametrize("keep", [0.3, 0.9])
def test_truncated_archive(keep, tmp_path):
    data = (FIXTURES / "functional_nested_nadam.keras").read_bytes()
    (tmp_path / "m.keras").write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match="truncated or corrupted"):
        keras.models.load_model(tmp_path / "m.keras")


def test_corrupted_weights_member(tmp_path):
    members = _members(FIXTURES / "mlp_adam.keras")
    members["model.weights.h5"] = members["model.weights.h5"][:500]
    _write_zip(tmp_path / "m.keras", members)
    with pytest.raises(ValueError, match="not a readable HDF5 file"):
        keras.models.load_model(tmp_path / "m.keras")


def test_config_not_json(tmp_path):
    members = _members(FIXTURES / "mlp_adam.keras")
    members["config.json"] = b"{not json"
    _write_zip(tmp_path / "m.keras", members)
    with pytest.raises(ValueError, match="not valid JSON"):
        keras.models.load_model(tmp_path / "m.keras")


def _with_layer_class(tmp_path, class_name, extra=None):
    members = _members(FIXTURES / "mlp_adam.keras")
    config = json.loads(members["config.json"])
    layer = config["config"]["layers"][1]
    layer["class_name"] = class_name
    layer["module"] = "os"
    layer["config"].update(extra or {})
    members["config.json"] = json.dumps(config).encode()
    _write_zip(tmp_path / "m.keras", members)
    return tmp_path / "m.keras"


def test_unknown_layer_class(tmp_path):
    path = _with_layer_class(tmp_path, "MyFancyLayer")
    with pytest.raises(ValueError, match="Unknown layer class 'MyFancyLayer'"):
        keras.models.load_model(path)


@pytest.mark.parametrize("safe_mode", [True, False])
def test_lambda_is_refused_whatever_safe_mode(safe_mode, tmp_path):
    path = _with_layer_class(tmp_path, "Lambda", {"function": {"class_name": "__lambda__"}})
    with pytest.raises(ValueError, match="Lambda layer"):
        keras.models.load_model(path, safe_mode=safe_mode)


def test_optimizer_state_that_does_not_fit(tmp_path):
    members = _members(FIXTURES / "mlp_adam.keras")
    buffer = io.BytesIO(members["model.weights.h5"])
    with h5py.File(buffer, "a") as f:
        del f["optimizer/vars/3"]
    members["model.weights.h5"] = buffer.getvalue()
    _write_zip(tmp_path / "m.keras", members)
    with pytest.raises(ValueError, match="compile=False"):
        keras.models.load_model(tmp_path / "m.keras")
    assert keras.models.load_model(tmp_path / "m.keras", compile=False).built


def test_failed_zip_write_keeps_the_existing_file(trained, tmp_path, monkeypatch):
    model, _, _ = trained
    path = tmp_path / "m.keras"
    model.save(path)
    before = path.read_bytes()

    def fail(self, name, data, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", fail)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.keras"]


def test_overwrite_false(trained, tmp_path):
    model, _, _ = trained
    model.save(tmp_path / "m.keras")
    with pytest.raises(FileExistsError):
        model.save(tmp_path / "m.keras", overwrite=False)
